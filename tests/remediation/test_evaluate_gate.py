"""The gate in front of remediation planning: it opens when an alert moved, an inhibition or
a ledger changed, or the heartbeat passed, and stays shut otherwise (issue 15: planning once
per job cost O(alerts) a job)."""

from __future__ import annotations

from agent.remediation.gate import EvaluateGate
from rules.remediation import Ledger

IDLE = {"restart-ollama": Ledger()}


def gate_after_one_evaluation(now: float = 100.0) -> EvaluateGate:
    gate = EvaluateGate(heartbeat_s=1.0)
    assert gate.due(now, alerts_moved=False, ledgers=IDLE, inhibited={})  # the first time
    gate.evaluated(now, ledgers=IDLE, inhibited={})
    return gate


def test_nothing_new_keeps_it_shut_until_the_heartbeat():
    gate = gate_after_one_evaluation()
    assert not gate.due(100.2, alerts_moved=False, ledgers=dict(IDLE), inhibited={})
    assert not gate.due(100.999, alerts_moved=False, ledgers=IDLE, inhibited={})
    assert gate.due(101.0, alerts_moved=False, ledgers=IDLE, inhibited={})


def test_an_alert_that_moved_opens_it_at_once():
    gate = gate_after_one_evaluation()
    assert gate.due(100.01, alerts_moved=True, ledgers=IDLE, inhibited={})


def test_a_ledger_changed_outside_planning_opens_it():
    gate = gate_after_one_evaluation()
    finished = {"restart-ollama": Ledger(runs=(95.0,), next_allowed_at=110.0)}
    assert gate.due(100.3, alerts_moved=False, ledgers=finished, inhibited={})
    gate.evaluated(100.3, ledgers=finished, inhibited={})  # what planning left is no news
    assert not gate.due(100.4, alerts_moved=False, ledgers=finished, inhibited={})


def test_an_inhibition_that_starts_or_ends_opens_it():
    gate = gate_after_one_evaluation()
    held = {"ollama_latency": "ollama_health"}
    assert gate.due(100.1, alerts_moved=False, ledgers=IDLE, inhibited=held)
    gate.evaluated(100.1, ledgers=IDLE, inhibited=held)
    assert not gate.due(100.2, alerts_moved=False, ledgers=IDLE, inhibited=dict(held))
    assert gate.due(100.3, alerts_moved=False, ledgers=IDLE, inhibited={})


def test_a_clock_stepped_back_counts_as_time_passed():
    gate = gate_after_one_evaluation()
    assert gate.due(50.0, alerts_moved=False, ledgers=IDLE, inhibited={})


# --- a real agent: planning follows the alerts, not the number of jobs --------------------

async def test_an_agent_with_many_endpoints_plans_far_less_often_than_it_probes(
        simulator, tmp_path, monkeypatch):
    from remediation_helpers import run_healthy_agent_with_endpoints

    from agent.remediation.controller import RemediationController

    calls = []
    original = RemediationController.evaluate

    async def counted(self, now):
        calls.append(now)
        return await original(self, now)

    monkeypatch.setattr(RemediationController, "evaluate", counted)
    done, _states = await run_healthy_agent_with_endpoints(simulator, tmp_path)
    assert calls, "planning never ran"
    # every job used to plan; now the first job, the jobs that moved an alert (a healthy
    # stack moves none) and one a second do
    assert len(calls) * 4 < done, f"{len(calls)} plans for {done} jobs"
