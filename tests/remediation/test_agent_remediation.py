"""The agent runs a playbook when its trigger fires: simulator, SQLite on disk, fake docker."""

from __future__ import annotations

import json

import httpx
from remediation_helpers import SIM_KEY, cycles_pass, wait_for

from agent.config import parse_config
from agent.remediation import ledger as ops
from agent.service import AgentService

ADMIN_TOKEN = "adm-TOKEN-9f8e7d6c5b4a"


def agent_config(sim, tmp_path, mode: str = "execute", extra: str = ""):
    text = f"""
targets:
  openai: {{base_url: "{sim.urls['openai']}", api_key: "{SIM_KEY}"}}
  backend: {{url: "{sim.urls['backend']}"}}
  gateway: {{url: "{sim.urls['gateway']}"}}
agent:
  listen: "127.0.0.1:0"
  token: "api-token-123456"
  data_path: "{tmp_path / 'state.db'}"
  intervals: {{fast_s: 0.3}}
alerts: {{success_threshold: 1}}
remediation:
  compose_dir: "{tmp_path}"
  secrets: {{ADMIN: "{ADMIN_TOKEN}"}}
  playbooks:
    openai-outage: {{mode: {mode}}}
{extra}
"""
    return parse_config(text, "<test>")


async def test_openai_outage_runs_the_playbook(simulator, tmp_path, fake_docker):
    (tmp_path / ".env").write_text(f"OPENAI_API_KEY={SIM_KEY}\nVOICE_ARCHITECTURE=hybrid\n")
    (tmp_path / "docker-compose.local-only.yml").write_text(  # verified before it may run
        "services:\n  alice-backend: {image: alice}\n  voice-gateway: {image: gateway}\n")
    service = await AgentService.start(agent_config(simulator, tmp_path))
    try:
        simulator.set_scenario("openai-outage")
        async with httpx.AsyncClient(timeout=5) as client:
            async def offline():
                r = await client.get(f"{simulator.urls['backend']}/api/admin/mode")
                return r.json()["mode"] == "offline"
            await wait_for(offline)
            async def finished():
                snap = service.runtime.snapshot
                runs = snap.remediation["history"] if snap else []
                return [r for r in runs if r["kind"] == "run" and r["outcome"] != "started"]
            runs = await wait_for(finished)
            state = (await client.get(f"{simulator.urls['backend']}/_sim/state")).json()
        assert runs[0]["outcome"] == "ok" and runs[0]["actor"] == "agent"
        assert state["broadcasts"][-1]["message"].startswith("Alice is running in offline mode")
        env = (tmp_path / ".env").read_text()
        assert "VOICE_ARCHITECTURE=local_only" in env and "FAST_PATH_ENABLED=false" in env
        assert fake_docker.calls() == [
            ["compose", "-f", "docker-compose.local-only.yml", "up", "-d", "--no-deps",
             "alice-backend"],
            ["compose", "-f", "docker-compose.local-only.yml", "up", "-d", "--no-deps",
             "voice-gateway"]]
        trail = await service.runtime.db(ops.audit_trail, service.store, 100)
        actions = [(a.action, a.outcome) for a in reversed(trail)]
        assert actions[:7] == [("remediation.start", "started")] + \
            [("remediation.step", "ok")] * 5 + [("remediation.outcome", "ok")]
        steps = [a.detail for a in reversed(trail) if a.action == "remediation.step"]
        assert [s["type"] for s in steps] == ["env", "compose", "compose", "http", "http"]
        assert all(a.actor == "agent" for a in trail)
        dumped = json.dumps([a.detail for a in trail])
        assert SIM_KEY not in dumped
        section = service.runtime.snapshot.remediation
        pb = next(p for p in section["playbooks"] if p["name"] == "openai-outage")
        assert pb["mode"] == "execute" and pb["runs_in_window"] == 1
    finally:
        await service.stop()


async def test_dry_run_mode_records_the_plan_only(simulator, tmp_path, fake_docker):
    service = await AgentService.start(agent_config(simulator, tmp_path, mode="dry-run"))
    try:
        simulator.set_scenario("openai-outage")

        async def planned():
            runs = await service.runtime.db(ops.runs, service.store, 10)
            return [r for r in runs if r.kind == "dry-run"]
        runs = await wait_for(planned)
        await cycles_pass(service, "openai", 3)  # the trigger still firing: no new dry-run
        again = await service.runtime.db(ops.runs, service.store, 10)
        async with httpx.AsyncClient(timeout=5) as client:
            mode = (await client.get(f"{simulator.urls['backend']}/api/admin/mode")).json()
    finally:
        await service.stop()
    assert len([r for r in again if r.kind == "dry-run"]) == 1
    assert runs[0].outcome == "planned" and runs[0].detail["steps"][0]["type"] == "env"
    assert mode["mode"] == "normal" and fake_docker.calls() == []


async def test_api_plan_run_resume_and_read_only(simulator, tmp_path, fake_docker):
    config = agent_config(simulator, tmp_path, mode="off")
    service = await AgentService.start(config)
    headers = {"Authorization": "Bearer api-token-123456"}
    try:
        async with httpx.AsyncClient(base_url=service.api_url, timeout=10) as client:
            state = (await client.get("/api/v1/remediation")).json()
            assert {p["name"] for p in state["playbooks"]} >= {"openai-outage", "full-recovery"}
            assert (await client.post("/api/v1/remediation/websocket-issues/run",
                                      json={"confirm": "websocket-issues"})).status_code == 401
            plan = await client.post("/api/v1/remediation/websocket-issues/plan",
                                     headers=headers)
            assert plan.status_code == 200 and plan.json()["steps"][0]["argv"][-1] == \
                "voice-gateway"
            wrong = await client.post("/api/v1/remediation/websocket-issues/run",
                                      headers=headers, json={"confirm": "nope"})
            assert wrong.status_code == 400 and fake_docker.calls() == []
            done = await client.post("/api/v1/remediation/websocket-issues/run",
                                     headers=headers, json={"confirm": "websocket-issues",
                                                            "by": "tui"})
            assert done.status_code == 200, done.text
            assert done.json()["outcome"] == "ok"
            assert fake_docker.calls() == [["compose", "restart", "voice-gateway"]]
            assert (await client.post("/api/v1/remediation/nope/plan",
                                      headers=headers)).status_code == 404
            resumed = await client.post("/api/v1/remediation/openai-outage/resume",
                                        headers=headers)
            assert resumed.json() == {"playbook": "openai-outage", "resumed": True,
                                      "was_suspended": False}
        trail = await service.runtime.db(ops.audit_trail, service.store, 50)
        assert {a.actor for a in trail if a.action == "remediation.step"} == {"tui"}
    finally:
        await service.stop()
    ro = config.model_copy(update={"read_only": True})
    service = await AgentService.start(ro)
    try:
        async with httpx.AsyncClient(base_url=service.api_url, timeout=10) as client:
            refused = await client.post("/api/v1/remediation/websocket-issues/run",
                                        headers=headers, json={"confirm": "websocket-issues"})
            assert refused.status_code == 403
            assert (await client.post("/api/v1/remediation/openai-outage/resume",
                                      headers=headers)).status_code == 403
    finally:
        await service.stop()
    assert fake_docker.calls() == [["compose", "restart", "voice-gateway"]]


async def test_revert_on_resolve_restores_the_setting(simulator, tmp_path):
    config = parse_config(f"""
targets:
  backend: {{url: "{simulator.urls['backend']}"}}
  prometheus: {{url: "{simulator.urls['prometheus']}"}}
agent:
  listen: "127.0.0.1:0"
  data_path: "{tmp_path / 'state.db'}"
  intervals: {{fast_s: 0.3}}
alerts: {{success_threshold: 1}}
remediation:
  playbooks: {{intent-accuracy-drop: {{mode: execute}}}}
""", "<test>")
    service = await AgentService.start(config)
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            async def threshold(value):
                r = await client.get(f"{simulator.urls['backend']}/api/admin/config")
                return r.json()["config"].get("fast_path_confidence_threshold") == value
            simulator.set_scenario("accuracy-drop")
            await wait_for(lambda: threshold(0.7), timeout_s=20)
            simulator.set_scenario("normal")
            await wait_for(lambda: threshold(0.85), timeout_s=20)

        async def reverted():
            rows = await service.runtime.db(ops.runs, service.store, 10)
            return [r for r in rows if r.kind == "revert" and r.outcome == "ok"]
        await wait_for(reverted)
        pb = next(p for p in service.runtime.snapshot.remediation["playbooks"]
                  if p["name"] == "intent-accuracy-drop")
        assert pb["state"] != "applied"
    finally:
        await service.stop()


def test_alice_agent_read_only_flag():
    import argparse

    from agent.cli.agent_main import _with_overrides

    args = argparse.Namespace(listen=None, data=None, read_only=True)
    assert _with_overrides(parse_config("targets: {}", "<t>"), args).read_only is True


async def test_read_only_agent_plans_instead_of_executing(simulator, tmp_path, fake_docker):
    config = agent_config(simulator, tmp_path).model_copy(update={"read_only": True})
    service = await AgentService.start(config)
    try:
        simulator.set_scenario("openai-outage")

        async def planned():
            rows = await service.runtime.db(ops.runs, service.store, 10)
            return [r for r in rows if r.kind == "dry-run"]
        await wait_for(planned)
        section = service.runtime.snapshot.remediation
    finally:
        await service.stop()
    assert section["read_only"] is True
    assert fake_docker.calls() == [] and not (tmp_path / ".env").exists()
