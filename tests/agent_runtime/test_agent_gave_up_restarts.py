"""remediation_gave_up is stored like the metric alerts: across three restarts of a
suspended playbook's agent the receiver hears one firing notice (same start) and,
after `resume`, one resolved notice."""

from __future__ import annotations


import httpx
from agentproc import SIM_KEY
from remediation.remediation_helpers import docker_that_succeeds, storm_config
from webhooks import Receivers

from agent.service import AgentService
from waiting import until



def _gave_up(receiver, status: str | None = None) -> list[dict]:
    return [a for r in receiver.requests if isinstance(r.body, dict)
            for a in r.body.get("alerts", [])
            if a["labels"].get("alertname") == "remediation_gave_up"
            and (status is None or a["status"] == status)]


def _shown(service) -> dict | None:
    snap = service.runtime.snapshot
    alerts = snap.to_json()["alerts"] if snap else []
    return next((a for a in alerts if a["name"] == "remediation_gave_up"), None)


async def test_gave_up_across_three_restarts_one_firing_one_resolved(tmp_path, sim,
                                                                     monkeypatch):
    docker_that_succeeds(tmp_path, monkeypatch)
    receivers = Receivers()
    hook = await receivers()
    try:
        config = storm_config(sim, tmp_path, hook.url, key=SIM_KEY)
        service = await AgentService.start(config)
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                r = await client.post(f"{sim.urls['backend']}/_sim/flap",
                                      json={"scenario": "openai-outage", "period_s": 0.7})
                assert r.status_code == 200, r.text
            await until(lambda: _gave_up(hook, "firing"), "the gave-up notice")
            started = _shown(service)["started_at"]
        finally:
            await service.stop()
        for restart in range(3):
            service = await AgentService.start(config)
            try:
                # a few cycles of the restarted agent: still firing, same episode, silent
                cycles = dict(service.runtime.cycles)
                await until(lambda service=service, cycles=cycles:
                            sum(service.runtime.cycles.values()) >= sum(cycles.values()) + 10,
                            "ten cycles after a restart")
                shown = _shown(service)
                assert shown and shown["state"] == "firing", (restart, shown)
                assert shown["started_at"] == started
                await until(lambda service=service: service.runtime.outbox_pending == 0,
                            "outbox drained")
                if restart == 2:
                    await service.runtime.remediation_resume("openai-outage", "tester")
                    await until(lambda: _gave_up(hook, "resolved"), "the resolved notice")
            finally:
                await service.stop()
        assert len(_gave_up(hook, "firing")) == 1, _gave_up(hook)
        assert len(_gave_up(hook, "resolved")) == 1, _gave_up(hook)
        assert _gave_up(hook, "resolved")[0]["startsAt"] == _gave_up(hook, "firing")[0][
            "startsAt"]
    finally:
        await receivers.close()
