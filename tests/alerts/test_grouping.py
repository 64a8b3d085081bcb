"""The pure grouping decision (alerts.notifiers.grouping): tables, and a property test of an
event-driven delivery loop built only from it: every row goes out exactly once, in one
notification with the rest of its group, no row waits past group_wait / group_interval,
a told group is never told again sooner than group_interval, and resolutions are never
dropped."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.notifiers.grouping import (
    GroupPolicy,
    GroupState,
    Pending,
    after_send,
    due_at,
    group_labels,
    group_of,
    policy_from,
    ready,
)
from alerts.notifiers.notice import FIRING, RESOLVED, Notice, dedupe_key

T0 = 1_700_000_000.0


def notice(component="openai", rule="openai_health", status=FIRING, starts_at=T0,
           severity="critical", reminder=0) -> Notice:
    fp = f"{rule}-{component}"
    reminder = reminder if status == FIRING else 0
    return Notice(fp, rule, {"component": component, "severity": severity}, {"summary": "s"},
                  status, starts_at, None if status == FIRING else starts_at + 1,
                  dedupe_key(fp, starts_at, status, reminder), reminder)


def test_group_labels_by_component_by_every_label_and_missing_labels():
    n = notice()
    assert group_labels(n, ("component",)) == {"component": "openai"}
    assert group_labels(n, ("alertname", "site")) == {"alertname": "openai_health"}
    assert group_labels(n, ("...",)) == {"alertname": "openai_health", "component": "openai"}
    assert group_of(n, GroupPolicy()).key == '{}:{component="openai"}'
    assert group_of(notice(rule="openai_latency"), GroupPolicy()) == group_of(n, GroupPolicy())
    every = GroupPolicy(by=("...",))
    assert group_of(notice(rule="openai_latency"), every) != group_of(n, every)


def test_policy_checks_and_the_interval_never_exceeds_the_repeat_interval():
    with pytest.raises(ValueError, match='"..." must be the only'):
        GroupPolicy(by=("...", "component"))
    with pytest.raises(ValueError, match=">= 0"):
        GroupPolicy(interval_s=-1)
    alerts = SimpleNamespace(group_by=["component"], group_wait_s=5, group_interval_s=60,
                             repeat_interval_s=1)
    assert policy_from(alerts) == GroupPolicy(("component",), 5.0, 1.0)


def test_a_new_group_waits_group_wait_from_its_first_alert_a_told_one_group_interval():
    policy = GroupPolicy(wait_s=5, interval_s=30)
    rows = [Pending(notice(starts_at=T0 + 2), T0 + 2), Pending(notice(starts_at=T0), T0 + 3)]
    assert due_at(rows, None, policy) == T0 + 5
    assert due_at(rows, GroupState(T0 + 100), policy) == T0 + 130
    keys, next_at = ready({"a": rows}, {}, policy, T0 + 4)
    assert keys == [] and next_at == T0 + 5
    keys, next_at = ready({"a": rows, "b": rows}, {"b": GroupState(T0)}, policy, T0 + 5)
    assert keys == ["a"] and next_at == T0 + 30
    # a repeat was spaced by repeat_interval already: due when queued, its group along
    repeat = Pending(notice(rule="openai_latency", reminder=3), T0 + 110)
    assert due_at([*rows, repeat], GroupState(T0 + 100), policy) == T0 + 110


def test_the_end_of_an_episode_is_told_at_once_a_partial_recovery_waits():
    policy = GroupPolicy(interval_s=30)
    told = GroupState(T0, frozenset({notice(rule="a").fingerprint, notice(rule="b").fingerprint}))
    a_ok = Pending(notice(rule="a", status=RESOLVED), T0 + 5)
    b_ok = Pending(notice(rule="b", status=RESOLVED), T0 + 7)
    assert due_at([a_ok], told, policy) == T0 + 30  # b still fires: rides in the next notice
    assert due_at([a_ok, b_ok], told, policy) == T0 + 7  # nothing left firing: now


def test_the_episode_ends_when_everything_told_firing_was_told_resolved():
    fire_a, fire_b = notice(rule="a"), notice(rule="b")
    state = after_send(None, [fire_a, fire_b], T0)
    assert state == GroupState(T0, frozenset({fire_a.fingerprint, fire_b.fingerprint}))
    state = after_send(state, [notice(rule="a", status=RESOLVED)], T0 + 10)
    assert state == GroupState(T0 + 10, frozenset({fire_b.fingerprint}))
    assert after_send(state, [notice(rule="b", status=RESOLVED)], T0 + 20) is None
    assert after_send(None, [notice(status=RESOLVED)], T0) is None


# --- property: a delivery loop made of the pure decision ---------------------------------


@dataclass
class Row:
    id: int
    notice: Notice
    created_at: float


COMPONENTS = ("openai", "ollama", "backend")
RULES = ("health", "latency")


@st.composite
def arrivals(draw):
    """Rows queued over time: (created_at offset, component, rule, status, started ago)."""
    n = draw(st.integers(1, 25))
    out = []
    for i in range(n):
        at = draw(st.floats(0, 300, allow_nan=False))
        out.append((at, draw(st.sampled_from(COMPONENTS)), draw(st.sampled_from(RULES)),
                    draw(st.sampled_from((FIRING, RESOLVED))),
                    draw(st.floats(0, 120, allow_nan=False)), draw(st.sampled_from((0, 0, 1))),
                    i))
    return sorted(out)


def simulate(policy: GroupPolicy, plan):
    """Run the loop: a pass at each arrival and at each held group's due time."""
    queue = [Row(i, notice(c, f"{c}_{r}", s, T0 + at - ago, reminder=rep), T0 + at)
             for at, c, r, s, ago, rep, i in plan]
    pending: list[Row] = []
    states: dict[str, GroupState] = {}
    sends: list[tuple[float, str, list[Row]]] = []
    next_due: float | None = None
    while queue or pending:
        wakes = ([queue[0].created_at] if queue else []) + \
            ([next_due] if next_due is not None else [])
        now = min(wakes)
        while queue and queue[0].created_at <= now:
            pending.append(queue.pop(0))
        by_key: dict[str, list[Row]] = {}
        for row in pending:
            by_key.setdefault(group_of(row.notice, policy).key, []).append(row)
        keys, next_due = ready({k: [Pending(r.notice, r.created_at) for r in rows]
                                for k, rows in by_key.items()}, states, policy, now)
        for key in keys:
            rows = by_key[key]
            sends.append((now, key, rows))
            state = after_send(states.get(key), [r.notice for r in rows], now)
            if state is None:
                states.pop(key, None)
            else:
                states[key] = state
            pending = [r for r in pending if r not in rows]
        assert next_due is None or next_due > now
        if not queue and next_due is None:
            assert not pending, "rows held with nothing left to wake the loop"
    return sends


@settings(max_examples=150, deadline=None)
@given(plan=arrivals(), wait=st.sampled_from((0.0, 5.0, 30.0)),
       interval=st.sampled_from((0.0, 10.0, 60.0)),
       by=st.sampled_from((("component",), ("...",), ("alertname",))))
def test_every_row_once_never_late_and_a_group_never_told_sooner_than_its_interval(
        plan, wait, interval, by):
    policy = GroupPolicy(by=by, wait_s=wait, interval_s=interval)
    sends = simulate(policy, plan)
    delivered = [r.id for _, _, rows in sends for r in rows]
    assert sorted(delivered) == sorted(i for *_, i in plan)  # exactly once, resolved too
    for at, key, rows in sends:
        assert {group_of(r.notice, policy).key for r in rows} == {key}  # one group a notice
        for r in rows:
            assert at >= r.created_at
            assert at - r.created_at <= max(wait, interval) + 1e-6, (at, r)
    # a group still in its episode is told again only group_interval after its last notice
    states: dict[str, GroupState] = {}
    for at, key, rows in sends:
        repeat = any(r.notice.reminder for r in rows)  # due when queued
        ends = after_send(states.get(key), [r.notice for r in rows], at) is None
        if key in states and not repeat and not ends:
            assert at - states[key].last_sent >= interval - 1e-6
        elif key not in states and not repeat:
            assert at >= min(r.notice.starts_at for r in rows) + wait - 1e-6
        state = after_send(states.get(key), [r.notice for r in rows], at)
        if state is None:
            states.pop(key, None)
        else:
            states[key] = state
