"""Hypothesis properties of the alert state machine over arbitrary rules and result streams."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vocab.model import Status
from alerts.lifecycle import AlertState, EventKind, Phase, transition
from alerts.rule import AlertRule

SETTINGS = settings(max_examples=300, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])

rules = st.builds(
    AlertRule,
    name=st.just("ollama_latency"),
    labels=st.just({"component": "ollama", "metric": "latency_ms"}),
    for_s=st.sampled_from([0.0, 15.0, 60.0]) | st.floats(0, 300),
    keep_firing_for_s=st.sampled_from([0.0, 30.0]) | st.floats(0, 300),
    failure_threshold=st.integers(1, 4),
    success_threshold=st.integers(1, 4),
    flap_window_s=st.sampled_from([0.0, 60.0, 600.0]),
    flap_max_transitions=st.integers(1, 8),
    fire_on=st.sampled_from([Status.WARNING, Status.CRITICAL]),
    unknown_is_breach=st.booleans(),
)
statuses = st.sampled_from(list(Status))
forward_steps = st.lists(st.tuples(st.sampled_from([0.0, 5.0, 15.0, 60.0]) | st.floats(0, 400),
                                   statuses), max_size=80)
any_steps = st.lists(st.tuples(st.floats(-1e6, 1e6) | st.sampled_from([-15.0, 0.0, 15.0]),
                               statuses), max_size=80)


def run(rule: AlertRule, steps, start: float = 1_700_000_000.0):
    """Replay (dt, status) steps; yield (index, prev state, new state, events)."""
    state: AlertState | None = None
    now = start
    for i, (dt, status) in enumerate(steps):
        now += dt
        new, events = transition(state, status, float(i), rule, now)
        yield i, state, new, events
        state = new


def check_state_invariants(s: AlertState) -> None:
    assert s.since <= s.last_eval
    assert s.consecutive_bad >= 0 and s.consecutive_good >= 0
    assert not (s.consecutive_bad and s.consecutive_good)
    assert all(x <= s.last_eval for x in s.transitions)
    if s.phase is Phase.INACTIVE:
        assert s.active_since is None and s.severity is None and not s.flapping
    if s.phase in (Phase.PENDING, Phase.FIRING):
        assert s.active_since is not None and s.severity in ("warning", "critical")
        assert s.resolved_at is None
    if s.phase is Phase.PENDING:
        assert s.fired_at is None and s.since == s.active_since
    if s.phase is Phase.FIRING:
        assert s.active_since <= s.fired_at == s.since <= s.last_eval
    if s.phase is Phase.RESOLVED:
        assert s.active_since <= s.fired_at <= s.resolved_at == s.since
        assert not s.flapping


@SETTINGS
@given(rules, forward_steps)
def test_never_fires_before_for_has_elapsed_since_the_episode_start(rule, steps) -> None:
    """(a) A firing event comes at least for_s after active_since, and the results in
    between (from the one that started the episode) were all non-good."""
    episode_start_index = None
    for i, prev, new, events in run(rule, steps):
        if new.phase is Phase.PENDING and (prev is None or prev.phase is not Phase.PENDING):
            episode_start_index = i
        for event in events:
            if event.kind is EventKind.FIRING:
                assert event.at - event.started_at >= rule.for_s
                assert event.started_at == new.active_since
                if prev is None or prev.phase is not Phase.PENDING:
                    episode_start_index = i  # fired on the result that started the episode
                window = [status for _, status in steps[episode_start_index:i + 1]]
                assert not any(rule.is_clear(status) for status in window)
                assert rule.is_breach(window[0]) and rule.is_breach(window[-1])


@SETTINGS
@given(rules, forward_steps)
def test_a_firing_alert_is_never_forgotten(rule, steps) -> None:
    """(b) Firing leaves only through a resolved event; events match the phase changes."""
    for _, prev, new, events in run(rule, steps):
        kinds = [e.kind for e in events]
        was_firing = prev is not None and prev.phase is Phase.FIRING
        if was_firing:
            assert new.phase in (Phase.FIRING, Phase.RESOLVED)
            assert (new.phase is Phase.RESOLVED) == (EventKind.RESOLVED in kinds)
        assert (EventKind.FIRING in kinds) == (not was_firing and new.phase is Phase.FIRING)
        assert EventKind.RESOLVED not in kinds or was_firing


@SETTINGS
@given(rules, forward_steps)
def test_started_at_never_changes_within_a_firing_episode(rule, steps) -> None:
    """(c) From the firing event to the resolved one, start and fire times are fixed."""
    episode = None
    for _, prev, new, events in run(rule, steps):
        for event in events:
            if event.kind is EventKind.FIRING:
                episode = (event.started_at, event.at)
            elif event.kind is not EventKind.PENDING:
                assert episode is not None and event.started_at == episode[0]
        if new.phase in (Phase.FIRING, Phase.RESOLVED) and episode is not None:
            assert (new.active_since, new.fired_at) == episode
        if new.phase is Phase.RESOLVED and prev.phase is not Phase.RESOLVED:
            episode = None


@SETTINGS
@given(rules, forward_steps)
def test_resolution_needs_success_threshold_and_keep_firing_for(rule, steps) -> None:
    """Resolved only after success_threshold good results in a row (neutral ones
    skipped) and keep_firing_for_s after the last bad one."""
    last_bad_at = None
    for i, _, new, events in run(rule, steps):
        if rule.is_breach(steps[i][1]):
            last_bad_at = new.last_eval
        if any(e.kind is EventKind.RESOLVED for e in events):
            decisive = [s for _, s in steps[:i + 1] if rule.is_breach(s) or rule.is_clear(s)]
            assert len(decisive) > rule.success_threshold
            assert all(rule.is_clear(s) for s in decisive[-rule.success_threshold:])
            assert new.last_eval - last_bad_at >= rule.keep_firing_for_s


@SETTINGS
@given(rules, any_steps)
def test_arbitrary_clock_steps_never_raise_and_keep_invariants(rule, steps) -> None:
    """(d) Backwards and forwards jumps: no exception, state stays consistent, and the
    machine's clock (event `at`) never runs backwards."""
    last_at = float("-inf")
    for _, _, new, events in run(rule, steps, start=0.0):
        check_state_invariants(new)
        for event in events:
            assert event.at >= last_at
            last_at = event.at
            if event.kind is EventKind.FIRING:
                assert event.at - event.started_at >= rule.for_s


@SETTINGS
@given(rules, forward_steps)
def test_state_invariants_hold_on_a_forward_clock(rule, steps) -> None:
    for _, _, new, _ in run(rule, steps):
        check_state_invariants(new)
