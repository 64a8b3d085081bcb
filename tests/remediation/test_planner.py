"""The pure planner: rails as tables, a storm on a simulated clock, hypothesis properties."""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from rules.remediation import Kind, Ledger, Policy, Signal, Spec, finish, next_backoff, plan, resume

POLICY = Policy()
SPEC = Spec("openai-outage", "openai", ("openai_health",), ("critical",), mode="execute")


def firing(on: bool, severity: str = "critical") -> list[Signal]:
    return [Signal("openai_health", "firing" if on else "resolved", severity)]


def drive(pattern, specs=(SPEC,), step_s: float = 1.0, run_s: float = 2.0, start: float = 0.0):
    """Feed `pattern(t) -> bool` each step; runs take run_s. Returns (decisions, ledgers)."""
    ledgers: dict[str, Ledger] = {}
    log: list[tuple[float, str, Kind]] = []
    ends: dict[str, float] = {}
    t = start
    for _ in range(int(300 / step_s)):  # 5 minutes of simulated time
        for name, end in list(ends.items()):
            if t >= end:
                ledgers[name] = finish(ledgers[name], ok=True, now=end)
                del ends[name]
        p = plan(firing(pattern(t)), specs, ledgers, t)
        ledgers = dict(p.ledgers)
        for d in p.decisions:
            log.append((t, d.playbook, d.kind))
            if d.kind in (Kind.RUN, Kind.REVERT):
                assert not ends, "two runs overlap"
                ends[d.playbook] = t + run_s
        t += step_s
    return log, ledgers


def test_storm_flapping_for_five_minutes_runs_at_most_the_limit_then_gives_up():
    log, ledgers = drive(lambda t: int(t // 7) % 2 == 0)  # flaps every 7 s
    runs = [t for t, _, k in log if k is Kind.RUN]
    assert len(runs) == POLICY.limit
    assert [k for _, _, k in log].count(Kind.GIVE_UP) == 1
    assert ledgers["openai-outage"].suspended
    gaps = [b - a for a, b in zip(runs, runs[1:])]
    assert gaps == sorted(gaps) and all(g >= 10 for g in gaps)  # backoff keeps growing


def test_cooldown_backoff_doubles_to_the_cap_and_resets_after_healthy():
    b, seen = 0.0, []
    for _ in range(8):
        b = next_backoff(b, POLICY)
        seen.append(b)
    assert seen == [10, 20, 40, 80, 160, 300, 300, 300]
    led = Ledger(backoff_s=160.0)
    p = plan(firing(False), [SPEC], {"openai-outage": led}, 1000.0)
    p = plan(firing(False), [SPEC], p.ledgers, 1000.0 + 599)
    assert p.ledgers["openai-outage"].backoff_s == 160.0
    p = plan(firing(False), [SPEC], p.ledgers, 1000.0 + 600)
    assert p.ledgers["openai-outage"].backoff_s == 0.0


def test_modes_severity_and_revert_on_resolve():
    off = Spec("x", "t", ("a",), mode="off")
    dry = Spec("x", "t", ("a",), mode="dry-run")
    sig = [Signal("a", "firing", "warning")]
    assert plan(sig, [off], {}, 0).decisions == ()
    first = plan(sig, [dry], {}, 0)
    assert [d.kind for d in first.decisions] == [Kind.DRY_RUN]
    assert plan(sig, [dry], first.ledgers, 1).decisions == ()  # once per episode
    crit_only = Spec("x", "t", ("a",), ("critical",), mode="execute")
    assert plan(sig, [crit_only], {}, 0).decisions == ()
    rev = Spec("cost-warning", "cost", ("a",), ("warning",), revert_on_resolve=True,
               mode="execute")
    p = plan(sig, [rev], {}, 0)
    assert [d.kind for d in p.decisions] == [Kind.RUN]
    led = finish(p.ledgers["cost-warning"], ok=True, now=1, revert_on_resolve=True)
    assert led.applied
    p = plan([Signal("a", "resolved", "warning")], [rev], {"cost-warning": led}, 2)
    assert [d.kind for d in p.decisions] == [Kind.REVERT]
    led = finish(p.ledgers["cost-warning"], ok=True, now=3)
    assert not led.applied and led.running is None


def test_limit_counts_every_playbook_of_a_target_and_one_runs_at_a_time():
    a = Spec("a", "openai", ("x",), mode="execute")
    b = Spec("b", "openai", ("x",), mode="execute")
    p = plan([Signal("x", "firing", "critical")], [a, b], {}, 0)
    assert [(d.playbook, d.kind) for d in p.decisions] == [("a", Kind.RUN), ("b", Kind.HOLD)]


@settings(max_examples=60, deadline=None)
@given(flips=st.lists(st.booleans(), min_size=10, max_size=200),
       step_s=st.floats(min_value=0.5, max_value=20), run_s=st.floats(min_value=0.1, max_value=5),
       limit=st.integers(min_value=1, max_value=5))
def test_properties_limit_backoff_and_sticky_suspension(flips, step_s, run_s, limit):
    policy = Policy(limit=limit)
    spec = Spec("p", "t", ("a",), mode="execute", policy=policy)
    ledgers: dict[str, Ledger] = {}
    runs: list[float] = []
    backoffs: list[float] = []
    end = None
    suspended_seen = False
    for i, on in enumerate(flips):
        t = i * step_s
        if end is not None and t >= end:
            ledgers["p"] = finish(ledgers["p"], ok=False, now=end)
            end = None
        p = plan([Signal("a", "firing" if on else "resolved", "critical")], [spec], ledgers, t)
        ledgers = dict(p.ledgers)
        led = ledgers["p"]
        if suspended_seen:
            assert led.suspended  # sticky until resume
            assert all(d.kind is not Kind.RUN for d in p.decisions)
        suspended_seen = led.suspended
        for d in p.decisions:
            if d.kind is Kind.RUN:
                assert end is None  # no overlap
                runs.append(t)
                backoffs.append(led.backoff_s)
                end = t + run_s
        assert len([r for r in runs if t - r < policy.window_s]) <= limit
        assert led.backoff_s <= policy.cooldown_max_s
    # backoff grows run after run, capped; it only drops back to the first step after a
    # healthy reset
    for prev, cur in zip(backoffs, backoffs[1:]):
        assert cur >= prev or cur == policy.cooldown_s
        assert cur <= policy.cooldown_max_s
    if suspended_seen:
        assert not resume(ledgers["p"]).suspended and resume(ledgers["p"]).runs == ()


@given(current=st.floats(min_value=0, max_value=1e6),
       cooldown=st.floats(min_value=0.1, max_value=100),
       cap=st.floats(min_value=0.1, max_value=1e4))
def test_backoff_is_monotonic_and_capped(current, cooldown, cap):
    policy = Policy(cooldown_s=cooldown, cooldown_max_s=cap)
    nxt = next_backoff(current, policy)
    assert nxt <= cap
    assert nxt >= min(current, cap) or current <= 0


def test_lock_is_exclusive_across_holders(tmp_path):
    from agent.remediation.lock import LockBusy, RemediationLock

    first, second = RemediationLock(tmp_path / "r.lock"), RemediationLock(tmp_path / "r.lock")
    first.acquire()
    try:
        try:
            second.acquire()
        except LockBusy as exc:
            assert str(os.getpid()) in str(exc)
        else:
            raise AssertionError("a second holder got the lock")
    finally:
        first.release()
    with second:
        assert second.held


def test_default_cost_playbooks_follow_severity_and_revert_on_resolve():
    from agent.config import parse_config
    from agent.remediation.render import playbooks_for, spec_of

    config = parse_config("remediation: {playbooks: {cost-warning: {mode: execute}, "
                          "cost-critical: {mode: execute}}}", "<t>")
    specs = [spec_of(p, config) for p in playbooks_for(config)]
    warn = [Signal("cost_daily_budget", "firing", "warning")]
    p = plan(warn, specs, {}, 0)
    assert [(d.playbook, d.kind) for d in p.decisions] == [("cost-warning", Kind.RUN)]
    ledgers = dict(p.ledgers)
    ledgers["cost-warning"] = finish(ledgers["cost-warning"], ok=True, now=1,
                                     revert_on_resolve=True)
    crit = [Signal("cost_hourly_budget", "firing", "critical")]
    p = plan(crit, specs, ledgers, 2)  # the warning playbook reverts first, one at a time
    assert [(d.playbook, d.kind) for d in p.decisions] == [("cost-warning", Kind.REVERT),
                                                           ("cost-critical", Kind.HOLD)]
    ledgers = dict(p.ledgers)
    ledgers["cost-warning"] = finish(ledgers["cost-warning"], ok=True, now=3)
    p = plan(crit, specs, ledgers, 4)
    assert [(d.playbook, d.kind) for d in p.decisions] == [("cost-critical", Kind.RUN)]
    ledgers = dict(p.ledgers)
    ledgers["cost-critical"] = finish(ledgers["cost-critical"], ok=True, now=5,
                                      revert_on_resolve=True)
    p = plan([Signal("cost_hourly_budget", "resolved", "critical")], specs, ledgers, 6)
    assert [(d.playbook, d.kind) for d in p.decisions] == [("cost-critical", Kind.REVERT)]
