"""Inhibition is decided again only when an alert moved: on a healthy stack with many
endpoints the agent probes far more often than it recomputes inhibition (it used to do it
on every job: O(n^2) a cycle, 80 % of the CPU at 2000 endpoints)."""

from __future__ import annotations

from remediation_helpers import wait_for

from agent.config import parse_config
from agent.service import AgentService
from rules.dependencies import Inhibition


async def test_a_healthy_agent_decides_inhibition_far_less_often_than_it_probes(
        simulator, tmp_path, monkeypatch):
    calls = []
    original = Inhibition.update

    def counted(self, states, now):
        calls.append(now)
        return original(self, states, now)

    monkeypatch.setattr(Inhibition, "update", counted)
    backend = simulator.urls["backend"]
    names = [f"tool-{i:02d}" for i in range(30)]
    endpoints = "".join(f'\n    - {{name: {n}, url: "{backend}/tools/{n}/health"}}'
                        for n in names)
    per_component = ", ".join(f"{n}: 0.2" for n in names)
    config = parse_config(f"""
targets:
  backend: {{url: "{backend}"}}
  endpoints:{endpoints}
agent:
  listen: "127.0.0.1:0"
  data_path: "{tmp_path / 'state.db'}"
  intervals: {{per_component: {{{per_component}}}}}
""", "<test>")
    service = await AgentService.start(config)
    try:
        def jobs() -> int:
            snap = service.runtime.snapshot
            return sum(snap.stats.cycles_total.values()) if snap is not None else 0

        async def enough() -> bool:
            return jobs() >= 300

        await wait_for(enough, timeout_s=60)
        done = jobs()
        states = dict(service.runtime.states)
    finally:
        await service.stop()
    assert calls, "inhibition was never decided"
    # the first job decides; after it only a job whose alert moved (first evaluation of
    # each alert: None -> inactive) does; a healthy stack moves nothing more
    assert len(calls) <= len(states) + 1 < done, f"{len(calls)} decisions for {done} jobs"
