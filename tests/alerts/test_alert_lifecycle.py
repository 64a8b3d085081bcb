"""Step-through tests of the alert state machine on a fake clock, promtool style.

A case is a rule, a series of results ("C*7 O*2" = critical for 7 cycles, then ok
for 2; one cycle every 10 s unless the case gives another interval) and what to
expect at given times: "phase" or "phase|event,event" (the events of that step).
"""

from __future__ import annotations

import pytest

from vocab.model import Status
from alerts.lifecycle import AlertState, EventKind, Phase, transition
from alerts.rule import AlertRule

CODES = {"O": Status.OK, "W": Status.WARNING, "U": Status.UNKNOWN, "C": Status.CRITICAL}


def series(spec: str, every: float = 10.0, start: float = 0.0) -> list[tuple[float, Status]]:
    """Expand "C*3 O W" into [(0, C), (10, C), (20, C), (30, O), (40, W)]."""
    codes: list[str] = []
    for token in spec.split():
        code, _, times = token.partition("*")
        codes += [code] * int(times or 1)
    return [(start + i * every, CODES[c]) for i, c in enumerate(codes)]


def replay(rule: AlertRule, samples, state: AlertState | None = None):
    """Feed (t, status[, value]) samples; return [(t, state, events)] per step."""
    steps = []
    for sample in samples:
        t, status, value = (*sample, None)[:3]
        state, events = transition(state, status, value, rule, t)
        steps.append((t, state, events))
    return steps


def observed(step) -> str:
    _, state, events = step
    kinds = ",".join(e.kind.value for e in events)
    return f"{state.phase.value}|{kinds}" if kinds else state.phase.value


def rule(**kw) -> AlertRule:
    return AlertRule("openai_error_rate", {"component": "openai", "metric": "error_rate"}, **kw)


CASES = {
    "for 60s: pending, not yet firing, fires at 60, resolves on 2nd good": (
        rule(for_s=60), "C*7 O*2",
        {0: "pending|pending", 10: "pending", 50: "pending", 60: "firing|firing",
         70: "firing", 80: "resolved|resolved"}),
    "for 0 fires on the first breach": (
        rule(for_s=0), "W O O", {0: "firing|firing", 10: "firing", 20: "resolved|resolved"}),
    "one good result cancels pending without an event": (
        rule(for_s=60), "C C O C*7",
        {10: "pending", 20: "inactive", 30: "pending|pending", 80: "pending",
         90: "firing|firing"}),
    "failure threshold 3: third consecutive bad starts the episode": (
        rule(failure_threshold=3), "C C O C C C",
        {0: "inactive", 10: "inactive", 30: "inactive", 40: "inactive", 50: "firing|firing"}),
    "failure threshold then for: for counts from the threshold": (
        rule(failure_threshold=2, for_s=30), "C*6",
        {0: "inactive", 10: "pending|pending", 30: "pending", 40: "firing|firing"}),
    "success threshold 3": (
        rule(success_threshold=3), "C O O O",
        {10: "firing", 20: "firing", 30: "resolved|resolved"}),
    "a bad result restarts the success count": (
        rule(), "C O C O O", {10: "firing", 20: "firing", 30: "firing", 40: "resolved|resolved"}),
    "keep_firing_for holds after the condition clears": (
        rule(keep_firing_for_s=30, success_threshold=1), "C O O O O",
        {10: "firing", 20: "firing", 30: "resolved|resolved"}),
    "keep_firing_for counts from the last bad result": (
        rule(keep_firing_for_s=30, success_threshold=1), "C C C O O O O",
        {40: "firing", 50: "resolved|resolved"}),
    "severity escalates while firing and never drops": (
        rule(), "W C W C",
        {0: "firing|firing", 10: "firing|severity_changed", 20: "firing", 30: "firing"}),
    "unknown is a breach by default": (
        rule(), "U U O O", {0: "firing|firing", 30: "resolved|resolved"}),
    "unknown not a breach: blind spot neither fires": (
        rule(unknown_is_breach=False), "U*5", {0: "inactive", 40: "inactive"}),
    "unknown not a breach: blind spot neither resolves": (
        rule(unknown_is_breach=False), "C O U U O",
        {10: "firing", 30: "firing", 40: "resolved|resolved"}),
    "unknown not a breach: does not break a bad run": (
        rule(unknown_is_breach=False, failure_threshold=2), "C U C",
        {10: "inactive", 20: "firing|firing"}),
    "fire_on critical ignores warnings": (
        rule(fire_on=Status.CRITICAL), "W W C W W",
        {10: "inactive", 20: "firing|firing", 30: "firing", 40: "resolved|resolved"}),
    "resolved then a new breach is a new episode": (
        rule(), "C O O C", {20: "resolved|resolved", 30: "firing|firing"}),
    "resolved decays to inactive after the flap window": (
        rule(flap_window_s=100), "C O*13", {20: "resolved|resolved", 110: "resolved",
                                            120: "inactive"}),
    "flipping 10 times: held firing and flapping until clear for twice the flip spacing": (
        rule(success_threshold=1, flap_max_transitions=6, flap_window_s=600),
        "C O C O C O C O C O O*40",
        {0: "firing|firing", 15: "resolved|resolved", 75: "resolved|resolved",
         90: "firing|firing,flapping", 105: "firing", 120: "firing", 135: "firing",
         150: "resolved|resolved"}, 15.0),
    "flips 30 s apart: held until clear for 60 s": (
        rule(success_threshold=1, flap_max_transitions=2, flap_window_s=200),
        "C O*3 C O*3 C O*20",
        {0: "firing|firing", 10: "resolved|resolved", 40: "firing|firing,flapping",
         50: "firing", 80: "firing", 130: "firing", 140: "resolved|resolved"}),
    "the hold never passes the window": (
        rule(success_threshold=1, flap_max_transitions=2, flap_window_s=50),
        "C O*4 C O*3 C O*10",
        {0: "firing|firing", 10: "resolved|resolved", 50: "firing|firing",
         60: "resolved|resolved"}),
    "flapping detected on a resolve flip holds it firing": (
        rule(success_threshold=1, flap_max_transitions=5, flap_window_s=600),
        "C O C O C O O", {60: "firing|firing", 75: "firing|flapping",
                           90: "resolved|resolved"}, 15.0),
    "flips spread wider than the window are not flapping": (
        rule(success_threshold=1, flap_max_transitions=2, flap_window_s=20),
        "C O C O C O", {30: "resolved|resolved", 40: "firing|firing", 50: "resolved|resolved"}),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_step_through(case: str) -> None:
    alert_rule, spec, expected, *every = CASES[case]
    steps = {step[0]: observed(step) for step in replay(alert_rule, series(spec, *every))}
    assert {t: steps[t] for t in expected} == expected


def test_started_at_is_the_pending_start_for_every_event_of_an_episode() -> None:
    steps = replay(rule(for_s=30), series("W W W C C O O W W W", every=10))
    events = [e for _, _, evs in steps for e in evs]
    assert [(e.kind, e.started_at, e.at, e.severity) for e in events] == [
        (EventKind.PENDING, 0.0, 0.0, "warning"),
        (EventKind.FIRING, 0.0, 30.0, "critical"),
        (EventKind.RESOLVED, 0.0, 60.0, "critical"),
        (EventKind.PENDING, 70.0, 70.0, "warning"),
    ]
    firing = next(state for _, state, _ in steps if state.phase is Phase.FIRING)
    assert (firing.active_since, firing.fired_at) == (0.0, 30.0)


def test_event_content_and_identity() -> None:
    alert_rule = rule()
    _, events = transition(None, Status.UNKNOWN, None, alert_rule, 100.0)
    (event,) = events
    assert event.kind is EventKind.FIRING and event.severity == "warning"
    assert "no data" in event.summary and "component=openai" in event.summary
    assert event.fingerprint == alert_rule.fingerprint
    assert event.match_labels == {"alertname": "openai_error_rate", "component": "openai",
                                  "metric": "error_rate", "severity": "warning"}
    assert hash(event) == hash(transition(None, Status.UNKNOWN, None, alert_rule, 100.0)[1][0])


def test_value_is_carried_and_summary_names_it() -> None:
    _, events = transition(None, Status.CRITICAL, 0.125, rule(), 5.0)
    assert events[0].value == 0.125 and "value 0.125" in events[0].summary


def test_flapping_mark_clears_after_a_window_of_steady_breach() -> None:
    alert_rule = rule(success_threshold=1, flap_max_transitions=2, flap_window_s=100)
    steps = replay(alert_rule, series("C O C C*11 O", every=10))
    by_t = {t: state for t, state, _ in steps}
    assert by_t[20].flapping and by_t[100].flapping
    assert not by_t[110].flapping  # last good at 10: steady bad for 100 s
    assert by_t[140].phase is Phase.RESOLVED  # resolves normally, no extra window


def test_clock_going_backwards_does_not_fire_early() -> None:
    samples = [(0, Status.CRITICAL), (50, Status.CRITICAL), (-1000, Status.CRITICAL),
               (55, Status.CRITICAL), (60, Status.CRITICAL)]
    steps = replay(rule(for_s=60), samples)
    assert [observed(s) for s in steps] == [
        "pending|pending", "pending", "pending", "pending", "firing|firing"]
    assert steps[2][1].last_eval == 50  # a step back is no time passing
    assert steps[-1][2][0].at == 60


def test_clock_going_backwards_while_firing_keeps_resolved_after_fired() -> None:
    samples = [(100, Status.CRITICAL), (40, Status.OK), (30, Status.OK)]
    steps = replay(rule(), samples)
    state = steps[-1][1]
    assert state.phase is Phase.RESOLVED
    assert state.fired_at == 100 and state.resolved_at == 100


def test_transition_rejects_a_non_finite_clock() -> None:
    with pytest.raises(ValueError, match="finite"):
        transition(None, Status.OK, None, rule(), float("nan"))


def test_first_evaluation_of_a_good_result_is_inactive() -> None:
    state, events = transition(None, Status.OK, 1.0, rule(), 7.0)
    assert (state.phase, state.since, state.consecutive_good, events) == (
        Phase.INACTIVE, 7.0, 1, ())
