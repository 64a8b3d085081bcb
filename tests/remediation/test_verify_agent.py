"""The agent verifies its playbooks at start and after a reload (SIGHUP): one that cannot
work on this deployment is shown not applicable with the reason and never run, however long
its trigger fires; once the deployment fits (and the config is reloaded) it runs."""

from __future__ import annotations

import httpx
from remediation_helpers import agent_yaml, wait_for

from agent.config import parse_config
from agent.service import AgentService

COMPOSE = "services:\n  alice-backend: {image: alice}\n  voice-gateway: {image: gateway}\n"


def config_for(sim, tmp_path):
    return parse_config(agent_yaml(sim, tmp_path) + f"""\
alerts: {{success_threshold: 1}}
remediation:
  compose_dir: "{tmp_path}"
  playbooks: {{openai-outage: {{mode: execute}}}}
""", "<test>")


def outage(service) -> dict:
    snap = service.runtime.snapshot
    section = snap.remediation if snap else {"playbooks": []}
    return next((p for p in section["playbooks"] if p["name"] == "openai-outage"), {})


async def test_not_applicable_is_held_until_the_deployment_fits(simulator, tmp_path,
                                                                fake_docker):
    (tmp_path / ".env").write_text("VOICE_ARCHITECTURE=hybrid\n")
    config = config_for(simulator, tmp_path)
    service = await AgentService.start(config)
    try:
        assert outage(service)["applicable"] == "not_applicable"  # verified at start
        simulator.set_scenario("openai-outage")

        async def held():
            pb = outage(service)
            return pb if pb.get("trigger_active") else None
        pb = await wait_for(held)
        assert pb["not_applicable_reason"] == (
            "not applicable: step 2 (backend on the local-only compose file): "
            f"{tmp_path / 'docker-compose.local-only.yml'} does not exist (and 1 more)")
        seen = service.runtime.snapshot.seq

        async def cycles_later():  # the trigger kept firing for several more cycles
            snap = service.runtime.snapshot
            return snap.seq >= seen + 5 and outage(service)["trigger_active"]
        await wait_for(cycles_later)
        pb = outage(service)
        assert pb["runs_in_window"] == 0 and pb["last_run"] is None
        assert fake_docker.calls() == []
        assert "VOICE_ARCHITECTURE=hybrid" in (tmp_path / ".env").read_text()

        (tmp_path / "docker-compose.local-only.yml").write_text(COMPOSE)
        service.reload(config)  # what SIGHUP does: verified again, now it fits

        async with httpx.AsyncClient(timeout=5) as client:
            async def offline():
                r = await client.get(f"{simulator.urls['backend']}/api/admin/mode")
                return r.json()["mode"] == "offline"
            await wait_for(offline)
        assert outage(service)["applicable"] == "applicable"
        assert [c[-1] for c in fake_docker.calls()] == ["alice-backend", "voice-gateway"]
    finally:
        await service.stop()
