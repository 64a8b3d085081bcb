"""Commit first, then believe (in process, so the runtime's memory can be read): while
`commit_cycle` fails, `runtime.states`, the raised alerts and the snapshot keep the last
committed state, never a decided but uncommitted transition; once commits succeed the
transition appears and is notified exactly once. A metric alert and a remediation
give-up, each moved during the fault."""

from __future__ import annotations

import time

import httpx
from agentproc import SIM_KEY
from remediation.remediation_helpers import agent_yaml, docker_that_succeeds, storm_config
from webhooks import Receivers

from agent.config import parse_config
from agent.service import AgentService
from agent.store import StoreError
from alerts.lifecycle import Phase
from waiting import until



class CommitFault:
    """`commit_cycle` of one store fails as on a full disk while `on`."""

    def __init__(self, store) -> None:
        self.store, self.real, self.on, self.calls = store, store.commit_cycle, False, 0
        store.commit_cycle = self._commit

    def _commit(self, *args, **kwargs):
        if self.on:
            self.calls += 1
            raise StoreError(f"{self.store.path}: commit cycle: database or disk is full")
        return self.real(*args, **kwargs)


def _told(receiver, alertname: str, status: str) -> list[dict]:
    return [a for r in receiver.requests if isinstance(r.body, dict)
            for a in r.body.get("alerts", [])
            if a["labels"].get("alertname") == alertname and a["status"] == status]


def _shown(service, name: str) -> dict | None:
    snap = service.runtime.snapshot
    alerts = snap.to_json()["alerts"] if snap else []
    return next((a for a in alerts if a["name"] == name), None)


async def _cycles(service, job: str, n: int) -> None:
    start = service.runtime.cycles[job]
    await until(lambda: service.runtime.cycles[job] >= start + n, f"{n} {job} cycles")


def _decided(service, name: str):
    return service.runtime.port.alert_states().get(name)


async def test_a_metric_transition_waits_for_its_commit(tmp_path, sim):
    receivers = Receivers()
    hook = await receivers()
    config = parse_config(agent_yaml(sim, tmp_path, key=SIM_KEY) + f"""\
alerts: {{success_threshold: 1}}
notifiers:
  webhooks: [{{name: ops, url: "{hook.url}"}}]
""", "<test>")
    service = await AgentService.start(config)
    try:
        fault = CommitFault(service.store)
        await _cycles(service, "openai", 2)
        fault.on = True
        sim.set_scenario("openai-outage")
        await until(lambda: (s := _decided(service, "openai_health")) is not None
                    and s.phase is Phase.FIRING, "openai_health firing (decided)")
        await _cycles(service, "openai", 3)  # more cycles on top of the pending firing
        assert fault.calls >= 3
        committed = service.runtime.states.get("openai_health")
        assert committed is None or committed.phase is not Phase.FIRING, committed
        assert _shown(service, "openai_health") is None, _shown(service, "openai_health")
        assert (_shown(service, "agent_storage") or {}).get("state") == "firing"
        assert not _told(hook, "openai_health", "firing")
        started = _decided(service, "openai_health").active_since

        fault.on = False
        await until(lambda: _told(hook, "openai_health", "firing"), "the kept firing notice")
        assert service.runtime.states["openai_health"].phase is Phase.FIRING
        assert service.runtime.states["openai_health"].active_since == started
        assert (_shown(service, "openai_health") or {}).get("state") == "firing"
        await _cycles(service, "openai", 5)  # later cycles announce nothing more
        assert len(_told(hook, "openai_health", "firing")) == 1, _told(hook, "openai_health",
                                                                         "firing")
    finally:
        await service.stop()
        await receivers.close()


async def test_a_give_up_during_a_commit_fault_is_shown_and_told_after_it(tmp_path, sim,
                                                                          monkeypatch):
    docker_that_succeeds(tmp_path, monkeypatch)
    receivers = Receivers()
    hook = await receivers()
    service = await AgentService.start(storm_config(sim, tmp_path, hook.url, key=SIM_KEY))
    try:
        fault = CommitFault(service.store)
        await _cycles(service, "openai", 2)
        fault.on = True
        async with httpx.AsyncClient(timeout=5) as client:
            r = await client.post(f"{sim.urls['backend']}/_sim/flap",
                                  json={"scenario": "openai-outage", "period_s": 0.7})
            assert r.status_code == 200, r.text
        remediation = service.runtime.remediation
        await until(lambda: (led := remediation.decided.get("openai-outage")) is not None
                    and led.suspended, "the playbook gives up (decided)", timeout_s=30)
        await _cycles(service, "openai", 3)
        assert remediation.gave_up == {}, remediation.gave_up
        assert _shown(service, "remediation_gave_up") is None
        playbook = next(p for p in remediation.section(time.time())["playbooks"]
                        if p["name"] == "openai-outage")
        assert not playbook["suspended"], "an uncommitted suspension is shown"
        assert not _told(hook, "remediation_gave_up", "firing")

        fault.on = False
        await until(lambda: _told(hook, "remediation_gave_up", "firing"),
                    "the kept gave-up notice")
        assert (_shown(service, "remediation_gave_up") or {}).get("state") == "firing"
        assert remediation.gave_up["openai-outage"].phase is Phase.FIRING
        await _cycles(service, "openai", 5)
        assert len(_told(hook, "remediation_gave_up", "firing")) == 1
    finally:
        await service.stop()
        await receivers.close()


async def test_a_checklist_resolution_during_a_commit_fault_waits_for_its_commit(tmp_path,
                                                                                 sim):
    from checklists.test_checklist_agent import midday_zone

    receivers = Receivers()
    hook = await receivers()
    config = parse_config(agent_yaml(sim, tmp_path, key=SIM_KEY) + f"""\
notifiers:
  webhooks: [{{name: ops, url: "{hook.url}"}}]
checklists: {{daily_at: "00:00", deadline: "00:01", timezone: "{midday_zone()}"}}
""", "<test>")
    service = await AgentService.start(config)
    try:
        runtime = service.runtime
        await runtime.checklists.tick()
        await until(lambda: _told(hook, "checklist_overdue", "firing"), "overdue announced")
        fault = CommitFault(service.store)
        fault.on = True
        for item_id in runtime.checklists_state()["daily"]["open"]:  # answers: own writes
            await runtime.checklist_answer("daily", item_id, "skipped", "", "tester")
        overdue = runtime.checklists.rule
        await until(lambda: (d := runtime._w_raised.get(overdue.fingerprint)) is not None
                    and d.phase is Phase.RESOLVED, "checklist_overdue resolved (decided)")
        await _cycles(service, "openai", 3)
        assert fault.calls >= 3
        assert runtime.checklists.state.phase is Phase.FIRING, "an uncommitted resolution shown"
        assert (_shown(service, "checklist_overdue") or {}).get("state") == "firing"
        assert not _told(hook, "checklist_overdue", "resolved")

        fault.on = False
        await until(lambda: _told(hook, "checklist_overdue", "resolved"), "the kept resolution")
        # resolved (or, after a later tick, gone): no longer firing once committed
        assert (_shown(service, "checklist_overdue") or {}).get("state") != "firing"
        await _cycles(service, "openai", 5)
        assert len(_told(hook, "checklist_overdue", "resolved")) == 1
        assert len(_told(hook, "checklist_overdue", "firing")) == 1
    finally:
        await service.stop()
        await receivers.close()
