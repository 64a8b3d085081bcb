"""The planner's run limit is per target: runs of playbooks on one target count together,
and never use up another target's limit (a mutation counting across all playbooks, or
only the playbook's own runs, passed the suite, issue 11)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rules.remediation import Kind, Ledger, Policy, Signal, Spec, plan

NOW = 10_000.0
POLICY = Policy(limit=3, window_s=1800.0)


def spec(name: str, target: str, alert: str) -> Spec:
    return Spec(name, target, (alert,), mode="execute", policy=POLICY)


def fire(*alerts: str) -> list[Signal]:
    return [Signal(a, "firing", "critical") for a in alerts]


def recent(n: int) -> Ledger:
    """A ledger with `n` runs inside the window, cooled down and not running."""
    return Ledger(runs=tuple(NOW - 60.0 * (i + 1) for i in range(n)), backoff_s=10.0,
                  next_allowed_at=0.0)


def kinds(planning) -> dict[str, Kind]:
    return {d.playbook: d.kind for d in planning.decisions}


def test_another_targets_runs_do_not_use_up_this_targets_limit():
    ollama = spec("restart-ollama", "ollama", "ollama_down")
    openai = spec("openai-failover", "openai", "openai_health")
    p = plan(fire("openai_health"), [ollama, openai],
             {"restart-ollama": recent(3)}, NOW)
    assert kinds(p) == {"openai-failover": Kind.RUN}


def test_runs_of_other_playbooks_on_the_same_target_count():
    first = spec("openai-failover", "openai", "openai_health")
    second = spec("openai-key-rotate", "openai", "openai_auth")
    p = plan(fire("openai_auth"), [first, second], {"openai-failover": recent(3)}, NOW)
    assert kinds(p) == {"openai-key-rotate": Kind.GIVE_UP}
    assert "3 runs on openai" in p.decisions[0].reason
    assert p.ledgers["openai-key-rotate"].suspended


def test_runs_outside_the_window_do_not_count():
    first = spec("openai-failover", "openai", "openai_health")
    second = spec("openai-key-rotate", "openai", "openai_auth")
    old = Ledger(runs=(NOW - 1800.0, NOW - 2000.0, NOW - 5000.0), backoff_s=10.0)
    p = plan(fire("openai_auth"), [first, second], {"openai-failover": old}, NOW)
    assert kinds(p) == {"openai-key-rotate": Kind.RUN}


@settings(max_examples=100, deadline=None)
@given(runs=st.dictionaries(st.sampled_from(["a1", "a2", "b1", "b2"]),
                            st.integers(min_value=0, max_value=5)),
       firing=st.sampled_from(["a1", "a2", "b1", "b2"]))
def test_the_limit_is_the_sum_over_the_target_and_only_that(runs, firing):
    specs = [spec(name, "target-" + name[0], "alert-" + name) for name in ("a1", "a2", "b1", "b2")]
    ledgers = {name: recent(n) for name, n in runs.items()}
    p = plan(fire("alert-" + firing), specs, ledgers, NOW)
    same_target = sum(n for name, n in runs.items() if name[0] == firing[0])
    expected = Kind.RUN if same_target < POLICY.limit else Kind.GIVE_UP
    assert kinds(p) == {firing: expected}, (runs, firing)
