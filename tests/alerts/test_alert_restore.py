"""restore(): how saved alert states come back after the agent was down."""

from __future__ import annotations

import pytest

from vocab.model import Status
from alerts.lifecycle import AlertState, EventKind, Phase, restore, transition
from alerts.rule import AlertRule

RULE = AlertRule("gateway_down", {"component": "gateway"}, for_s=60, failure_threshold=1)
BAD, GOOD = Status.CRITICAL, Status.OK


def feed(state: AlertState | None, samples, rule: AlertRule = RULE):
    events = []
    for t, status in samples:
        state, evs = transition(state, status, None, rule, t)
        events += evs
    return state, events


def test_firing_alert_stays_firing_with_its_original_start_after_any_downtime() -> None:
    state, _ = feed(None, [(0, BAD), (60, BAD), (90, BAD)])
    back = restore(state, 90 + 86_400, last_seen=90)
    assert back.phase is Phase.FIRING
    assert (back.active_since, back.fired_at, back.severity) == (0, 60, "critical")
    state, events = feed(back, [(86_500, BAD)])
    assert state.phase is Phase.FIRING and events == []


def test_pending_keeps_served_time_but_downtime_does_not_count() -> None:
    state, _ = feed(None, [(0, BAD), (30, BAD)])  # 30 s of the 60 s served
    back = restore(state, 1030, last_seen=30)  # down 1000 s < 3600 s
    assert back.phase is Phase.PENDING and back.active_since == 1000 and back.since == 1000
    state, events = feed(back, [(1040, BAD)])
    assert state.phase is Phase.PENDING and events == []
    state, events = feed(state, [(1060, BAD)])
    assert [(e.kind, e.started_at, e.at) for e in events] == [(EventKind.FIRING, 1000, 1060)]


def test_pending_resets_to_inactive_after_a_long_downtime() -> None:
    state, _ = feed(None, [(0, BAD), (30, BAD)])
    back = restore(state, 30 + 3600, last_seen=30)
    assert back.phase is Phase.INACTIVE and back.active_since is None
    assert back.consecutive_bad == 0
    state, events = feed(back, [(3700, BAD)])
    assert [(e.kind, e.started_at) for e in events] == [(EventKind.PENDING, 3700)]


def test_downtime_tolerance_is_configurable() -> None:
    state, _ = feed(None, [(0, BAD)])
    assert restore(state, 100, last_seen=0, downtime_tolerance_s=50).phase is Phase.INACTIVE
    assert restore(state, 100, last_seen=0, downtime_tolerance_s=500).phase is Phase.PENDING


def test_last_seen_defaults_to_the_last_evaluation_and_never_precedes_it() -> None:
    state, _ = feed(None, [(0, BAD), (30, BAD)])
    assert restore(state, 130).active_since == 100
    # the agent was alive until 80 (e.g. a later heartbeat): only 50 s of downtime
    assert restore(state, 130, last_seen=80).active_since == 50
    # a last_seen older than the state's own last evaluation cannot add downtime
    assert restore(state, 130, last_seen=10).active_since == 100


def test_clock_behind_the_saved_state_means_no_downtime() -> None:
    state, _ = feed(None, [(0, BAD), (30, BAD)])
    assert restore(state, 5, last_seen=30) == state


def test_long_downtime_resets_partial_runs_in_every_phase() -> None:
    rule = AlertRule("gateway_down", {"component": "gateway"}, failure_threshold=3)
    state, _ = feed(None, [(0, BAD), (10, BAD)], rule)
    assert state.phase is Phase.INACTIVE and state.consecutive_bad == 2
    back = restore(state, 10 + 7200, last_seen=10)
    assert back.consecutive_bad == 0
    state, events = feed(back, [(7300, BAD)], rule)
    assert events == []  # one bad result after the outage is not the third in a row
    short = restore(feed(None, [(0, BAD), (10, BAD)], rule)[0], 20, last_seen=10)
    assert short.consecutive_bad == 2


@pytest.mark.parametrize("phase_samples", [
    [(0, GOOD)],                                      # inactive
    [(0, BAD), (60, BAD), (70, GOOD), (80, GOOD)],    # resolved
])
def test_quiet_states_come_back_unchanged_after_a_short_downtime(phase_samples) -> None:
    state, _ = feed(None, phase_samples)
    assert restore(state, 500, last_seen=state.last_eval) == state


def test_restore_rejects_a_non_finite_clock() -> None:
    with pytest.raises(ValueError, match="finite"):
        restore(AlertState.initial(0.0), float("inf"))
