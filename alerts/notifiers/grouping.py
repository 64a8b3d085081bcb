"""Grouping of notices into notifications, as Alertmanager groups alerts (pure).

A receiver is told about a *group* at a time: the notices whose `group_by` labels agree
(by default `component`: one group per component episode). `GroupPolicy` holds
`group_by`, `group_wait` and `group_interval`; `group_of` names a notice's group;
`ready` decides which groups go out now and when the next held one is due;
`after_send` is the group's state once a notification of it was delivered.

Rules (Alertmanager's):

* A new group (none of its alerts told, or every alert it told has been told resolved)
  sends its first notification `wait_s` after its earliest alert started, so what starts
  together goes out together.
* A group that has told something sends what changed since `interval_s` after its last
  notification.
* A repeat (a reminder, or an escalation of a told alert) is due when it is queued: the
  planner already spaced it by `repeat_interval_s`. What else of its group is due rides
  along.
* The end of an episode is due when it is queued: once the held rows would leave
  nothing of the group firing, the recovery is told at once (there is nothing left to
  wait for), so a component that heals is told so within a cycle.
* Nothing is dropped: a held row is only ever delayed, resolved ones too.

Outbox rows stay one per notice; grouping happens when they are delivered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from alerts.notifiers.notice import FIRING, Notice
from alerts.notifiers.payload import group_key

EVERY_LABEL = "..."
"""`group_by: ["..."]`: group by every label, i.e. each alert is its own group."""


@dataclass(frozen=True)
class GroupPolicy:
    """How a receiver's notices are grouped.

    Attributes:
        by: Label names whose values key a group (`alertname` counts as a label);
            `("...",)` groups by every identity label (no grouping across alerts).
        wait_s: A new group's first notification waits this long after its earliest
            alert started (Alertmanager's group_wait).
        interval_s: Later notifications of a group wait this long after its previous one
            (Alertmanager's group_interval).
    """

    by: tuple[str, ...] = ("component",)
    wait_s: float = 0.0
    interval_s: float = 0.0

    def __post_init__(self) -> None:
        if self.wait_s < 0 or self.interval_s < 0:
            raise ValueError("group policy: wait_s and interval_s must be >= 0")
        if EVERY_LABEL in self.by and len(self.by) > 1:
            raise ValueError('group policy: "..." must be the only group_by entry')


def policy_from(settings: Any) -> GroupPolicy:
    """The policy of an `alerts:` config section (`group_by`, `group_wait_s`,
    `group_interval_s`; the interval never exceeds `repeat_interval_s`, so a reminder
    is never held past its time)."""
    interval = float(settings.group_interval_s)
    repeat = getattr(settings, "repeat_interval_s", None)
    if repeat:
        interval = min(interval, float(repeat))
    return GroupPolicy(tuple(settings.group_by), float(settings.group_wait_s), interval)


@dataclass(frozen=True)
class Group:
    """One group: its key (Alertmanager's groupKey shape) and its labels."""

    key: str
    labels: Mapping[str, str]


@dataclass(frozen=True)
class GroupState:
    """What a receiver was told of one group.

    Attributes:
        last_sent: When its latest notification was delivered.
        firing: Fingerprints told firing and not told resolved since.
    """

    last_sent: float
    firing: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Pending:
    """An undelivered outbox row as grouping sees it: its notice and when it was queued."""

    notice: Notice
    created_at: float


def group_labels(notice: Notice, by: Sequence[str]) -> dict[str, str]:
    """The labels that key the notice's group: those of `by` it has (severity never
    counts under "...": it is not part of an alert's identity)."""
    labels = notice.all_labels
    if EVERY_LABEL in by:
        return {k: v for k, v in labels.items() if k != "severity"}
    return {k: labels[k] for k in by if k in labels}


def group_of(notice: Notice, policy: GroupPolicy) -> Group:
    """The group a notice belongs to under `policy`; its key is Alertmanager's groupKey
    for the agent's one route, e.g. `{}:{component="openai"}`."""
    labels = group_labels(notice, policy.by)
    return Group(group_key(labels), labels)


def due_at(rows: Sequence[Pending], state: GroupState | None, policy: GroupPolicy) -> float:
    """When a group holding `rows` (undelivered, at least one) may be sent.

    New group: its earliest alert's start + wait_s (a row queued later than that goes at
    once). Told group: its last notification + interval_s, or at once when the rows end
    its episode (nothing of it would be firing after them). A repeat (reminder > 0) makes
    the group due when it was queued, if that is sooner.
    """
    if not rows:
        raise ValueError("due_at: a group without rows is never due")
    if state is None:
        at = min(r.notice.starts_at for r in rows) + policy.wait_s
    elif after_send(state, [r.notice for r in rows], 0.0) is None:
        at = max(r.created_at for r in rows)  # the episode ends: tell it now
    else:
        at = state.last_sent + policy.interval_s
    repeats = [r.created_at for r in rows if r.notice.reminder > 0 and r.notice.status == FIRING]
    return min([at, *repeats])


def ready(pending: Mapping[str, Sequence[Pending]], states: Mapping[str, GroupState],
          policy: GroupPolicy, now: float) -> tuple[list[str], float | None]:
    """Which groups (by key) go out now, oldest first, and when the next held one is due.

    Args:
        pending: Undelivered rows by group key (one receiver's).
        states: That receiver's group states by key (absent: a new group).
        policy: The receiver's grouping.
        now: Unix seconds.

    Returns:
        The keys due at `now` (ordered by when they became due, then key), and the
        earliest due time of those held (None when none is held).
    """
    due: list[tuple[float, str]] = []
    held: list[float] = []
    for key, rows in pending.items():
        if not rows:
            continue
        at = due_at(rows, states.get(key), policy)
        if at <= now:
            due.append((at, key))
        else:
            held.append(at)
    return [key for _, key in sorted(due)], min(held, default=None)


def after_send(state: GroupState | None, notices: Sequence[Notice], now: float
               ) -> GroupState | None:
    """The group's state once `notices` were delivered at `now`; None when nothing of it
    is firing any more (the episode is over: the next alert starts a new group)."""
    firing = set(state.firing if state is not None else ())
    for notice in notices:
        if notice.status == FIRING:
            firing.add(notice.fingerprint)
        else:
            firing.discard(notice.fingerprint)
    if not firing:
        return None
    return GroupState(now, frozenset(firing))
