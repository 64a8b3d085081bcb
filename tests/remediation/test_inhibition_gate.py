"""Inhibition is decided again only when an alert moved: on a healthy stack with many
endpoints the agent probes far more often than it recomputes inhibition (it used to do it
on every job: O(n^2) a cycle, 80 % of the CPU at 2000 endpoints)."""

from __future__ import annotations

from remediation_helpers import run_healthy_agent_with_endpoints

from rules.dependencies import Inhibition


async def test_a_healthy_agent_decides_inhibition_far_less_often_than_it_probes(
        simulator, tmp_path, monkeypatch):
    calls = []
    original = Inhibition.update

    def counted(self, states, now):
        calls.append(now)
        return original(self, states, now)

    monkeypatch.setattr(Inhibition, "update", counted)
    done, states = await run_healthy_agent_with_endpoints(simulator, tmp_path)
    assert calls, "inhibition was never decided"
    # the first job decides; after it only a job whose alert moved (first evaluation of
    # each alert: None -> inactive) does; a healthy stack moves nothing more
    assert len(calls) <= len(states) + 1 < done, f"{len(calls)} decisions for {done} jobs"
