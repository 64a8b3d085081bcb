"""A flapping OpenAI for a real agent: runs stop at the limit, the gave-up alert goes out
through a webhook, the suspension survives a restart and ends only with resume."""

from __future__ import annotations


import httpx
from remediation_helpers import cycles_pass, storm_config, wait_for
from webhooks import Receivers

from agent.remediation import ledger as ops
from agent.service import AgentService


def gave_up_notices(receiver) -> list[dict]:
    return [a for r in receiver.requests if isinstance(r.body, dict)
            for a in r.body.get("alerts", [])
            if a["labels"].get("alertname") == "remediation_gave_up"]


async def test_flapping_outage_stops_at_the_limit_and_gives_up(simulator, tmp_path,
                                                               fake_docker):
    receivers = Receivers()
    hook = await receivers()
    try:
        (tmp_path / "docker-compose.local-only.yml").write_text(  # verified before it runs
            "services:\n  alice-backend: {image: alice}\n  voice-gateway: {image: gw}\n")
        config = storm_config(simulator, tmp_path, hook.url)
        service = await AgentService.start(config)
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                r = await client.post(f"{simulator.urls['backend']}/_sim/flap",
                                      json={"scenario": "openai-outage", "period_s": 0.7})
                assert r.status_code == 200, r.text
            await wait_for(lambda: _async(gave_up_notices(hook)), timeout_s=20)
            runs = await service.runtime.db(ops.runs, service.store, 50)
            section = service.runtime.snapshot.remediation
            alerts = service.runtime.snapshot.to_json()["alerts"]
        finally:
            await service.stop()
        executed = sorted((r for r in runs if r.kind == "run"), key=lambda r: r.started_at)
        assert len(executed) == 2
        for a, b in zip(executed, executed[1:]):  # never two at once
            assert a.finished_at is not None and a.finished_at <= b.started_at
        notice = gave_up_notices(hook)[0]
        assert notice["labels"]["playbook"] == "openai-outage"
        assert notice["labels"]["severity"] == "critical" and notice["status"] == "firing"
        pb = next(p for p in section["playbooks"] if p["name"] == "openai-outage")
        assert pb["suspended"] and pb["state"] == "suspended"
        shown = [a for a in alerts if a["name"] == "remediation_gave_up"]
        assert shown and shown[0]["state"] == "firing" and shown[0]["severity"] == "critical"

        # a restart keeps the suspension: still no third run while the storm goes on
        service = await AgentService.start(config)
        try:
            await cycles_pass(service, "openai", 10)
            runs = await service.runtime.db(ops.runs, service.store, 50)
            assert len([r for r in runs if r.kind == "run"]) == 2
            assert service.runtime.snapshot.remediation["playbooks"][0]["suspended"]
            resumed = await service.runtime.remediation_resume("openai-outage", "tester")
            assert resumed["was_suspended"] is True

            async def third_run():
                rows = await service.runtime.db(ops.runs, service.store, 50)
                return len([r for r in rows if r.kind == "run"]) >= 3
            await wait_for(third_run, timeout_s=15)
        finally:
            await service.stop()
    finally:
        await receivers.close()


async def _async(value):
    return value
