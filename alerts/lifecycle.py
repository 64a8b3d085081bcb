"""The alert state machine: inactive -> pending -> firing -> resolved, one cycle at a time.

Pure: `transition(state, status, value, rule, now)` returns the new state and the
events the dispatcher should act on; `restore` re-arms saved states after a restart.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from vocab.model import Status
from alerts.rule import AlertRule, worse_severity
from alerts.silence import fingerprint


class Phase(enum.StrEnum):
    """Where an alert is in its lifecycle.

    RESOLVED behaves like INACTIVE (a new breach starts a new episode) but still
    shows the finished episode; it decays to INACTIVE once `flap_window_s` has
    passed since `resolved_at`, when the flip it recorded is forgotten too.
    """

    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"


class EventKind(enum.StrEnum):
    """What happened to an alert during one evaluation."""

    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"
    SEVERITY_CHANGED = "severity_changed"
    FLAPPING = "flapping"


@dataclass(frozen=True)
class AlertState:
    """Everything remembered about one alert between cycles.

    Timestamps are unix seconds on the machine's effective clock, which never
    runs backwards (see `transition`), so `active_since <= fired_at <=
    resolved_at` and `since <= last_eval` always hold.

    Attributes:
        phase: Current phase.
        since: When the current phase started.
        last_eval: Latest evaluation time seen.
        active_since: When the current (or, if resolved, last) episode went pending.
        fired_at: When the episode started firing; None if it has not fired.
        resolved_at: When the last episode resolved; None while an episode runs.
        consecutive_bad: Bad results in a row (a neutral result keeps the count).
        consecutive_good: Good results in a row.
        value: Value of the latest result.
        status: Status of the latest result; None before the first evaluation.
        severity: Worst severity of the episode ("warning"/"critical"); None if inactive.
        transitions: Times of firing/resolved flips inside the flap window.
        flapping: Held firing by flap damping.
        last_bad_at: Time of the latest bad result.
        last_good_at: Time of the latest good result.
    """

    phase: Phase
    since: float
    last_eval: float
    active_since: float | None = None
    fired_at: float | None = None
    resolved_at: float | None = None
    consecutive_bad: int = 0
    consecutive_good: int = 0
    value: float | None = None
    status: Status | None = None
    severity: str | None = None
    transitions: tuple[float, ...] = ()
    flapping: bool = False
    last_bad_at: float | None = None
    last_good_at: float | None = None

    @classmethod
    def initial(cls, now: float) -> AlertState:
        """A never-evaluated alert, inactive as of `now`."""
        return cls(phase=Phase.INACTIVE, since=now, last_eval=now)


@dataclass(frozen=True)
class AlertEvent:
    """Something the dispatcher may notify about or the store may record.

    Attributes:
        kind: What happened.
        rule: The rule (alert) name.
        labels: The rule's labels.
        severity: Severity of the episode at this point.
        started_at: When the episode started (its `active_since`); constant for
            all events of one episode.
        at: Evaluation time that produced the event.
        value: Value of the result that produced the event.
        status: Status of that result.
        summary: One human line.
        flapping: Whether the alert is held firing by flap damping.
    """

    kind: EventKind
    rule: str
    labels: Mapping[str, str]
    severity: str
    started_at: float
    at: float
    value: float | None
    status: Status
    summary: str
    flapping: bool = False
    cause: str = ""
    """The fault in words, made where it was seen (`HTTP 503 from GET /v1/models`,
    `p95 2725 ms > 500 ms`); empty when the source gave none."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", dict(self.labels))

    def __hash__(self) -> int:
        return hash((self.kind, self.rule, tuple(sorted(self.labels.items())), self.severity,
                     self.started_at, self.at, self.value, self.status, self.summary,
                     self.flapping, self.cause))

    @property
    def fingerprint(self) -> str:
        """Identity of the alert, shared by all its events and episodes."""
        return fingerprint(self.rule, self.labels)

    @property
    def match_labels(self) -> dict[str, str]:
        """Labels silences are matched against: alertname, the rule's labels, severity."""
        return {"alertname": self.rule, **self.labels, "severity": self.severity}


def _describe(status: Status, value: float | None) -> str:
    if status is Status.UNKNOWN:
        return "unknown (no data)"
    return status.word if value is None else f"{status.word}, value {value:g}"


def _elapsed(t: float, anchor: float | None) -> float:
    """Seconds from `anchor` to `t`; 0 when there is no anchor."""
    return 0.0 if anchor is None else t - anchor


def _summary(kind: EventKind, s: AlertState, status: Status, rule: AlertRule, t: float,
             note: str) -> str:
    where = ", ".join(f"{k}={v}" for k, v in sorted(rule.labels.items()))
    what = _describe(status, s.value) + (f" ({where})" if where else "")
    if kind is EventKind.PENDING:
        return f"{rule.name} pending: {what}; fires if it lasts {rule.for_s:g}s"
    if kind is EventKind.FIRING:
        return f"{rule.name} firing [{s.severity}]: {what}"
    if kind is EventKind.RESOLVED:
        return f"{rule.name} resolved after {_elapsed(t, s.fired_at):g}s firing: {what}"
    if kind is EventKind.SEVERITY_CHANGED:
        return f"{rule.name} severity {note} -> {s.severity}: {what}"
    return (f"{rule.name} flapping: {note} firing/resolved flips within "
            f"{rule.flap_window_s:g}s; held firing until clear for {flap_hold_s(s, rule):g}s")


def _event(kind: EventKind, s: AlertState, status: Status, rule: AlertRule, t: float,
           note: str = "") -> AlertEvent:
    # Events only exist inside an episode, where both are always set.
    assert s.severity is not None and s.active_since is not None
    return AlertEvent(kind=kind, rule=rule.name, labels=rule.labels, severity=s.severity,
                      started_at=s.active_since, at=t, value=s.value, status=status,
                      summary=_summary(kind, s, status, rule, t, note), flapping=s.flapping)


Step = tuple[AlertState, tuple[AlertEvent, ...]]


def _observe(prev: AlertState, status: Status, value: float | None, rule: AlertRule,
             t: float) -> AlertState:
    """Record the result: counters, last value, and flips still inside the flap window."""
    s = replace(prev, last_eval=t, value=value, status=status,
                transitions=tuple(x for x in prev.transitions if t - x < rule.flap_window_s))
    if rule.is_breach(status):
        return replace(s, consecutive_bad=s.consecutive_bad + 1, consecutive_good=0,
                       last_bad_at=t)
    if rule.is_clear(status):
        return replace(s, consecutive_good=s.consecutive_good + 1, consecutive_bad=0,
                       last_good_at=t)
    return s


def _fire(s: AlertState, status: Status, rule: AlertRule, t: float) -> Step:
    flips = (*s.transitions, t)
    flapping = len(flips) > rule.flap_max_transitions
    s = replace(s, phase=Phase.FIRING, since=t, fired_at=t, transitions=flips, flapping=flapping)
    fired = _event(EventKind.FIRING, s, status, rule, t)
    if flapping:
        return s, (fired, _event(EventKind.FLAPPING, s, status, rule, t, str(len(flips))))
    return s, (fired,)


def _from_quiet(s: AlertState, status: Status, rule: AlertRule, t: float) -> Step:
    """INACTIVE or RESOLVED: start an episode once failure_threshold bad results are in."""
    if rule.is_breach(status) and s.consecutive_bad >= rule.failure_threshold:
        s = replace(s, phase=Phase.PENDING, since=t, active_since=t, fired_at=None,
                    resolved_at=None, severity=rule.severity_of(status), flapping=False)
        if rule.for_s <= 0:
            return _fire(s, status, rule, t)
        return s, (_event(EventKind.PENDING, s, status, rule, t),)
    if s.phase is Phase.RESOLVED and _elapsed(t, s.resolved_at) >= rule.flap_window_s:
        return replace(s, phase=Phase.INACTIVE, since=t, active_since=None, fired_at=None,
                       severity=None), ()
    return s, ()


def _from_pending(s: AlertState, status: Status, rule: AlertRule, t: float) -> Step:
    """PENDING: fire once bad for `for_s`; one good result cancels the episode silently."""
    if rule.is_clear(status):
        return replace(s, phase=Phase.INACTIVE, since=t, active_since=None,
                       severity=None), ()
    if not rule.is_breach(status):
        return s, ()
    s = replace(s, severity=worse_severity(s.severity, rule.severity_of(status)))
    if _elapsed(t, s.active_since) >= rule.for_s:
        return _fire(s, status, rule, t)
    return s, ()


def flap_hold_s(s: AlertState, rule: AlertRule) -> float:
    """How long a flapping alert must stay clear before its flapping counts as stopped:
    twice the widest spacing of the flips inside the window, at most the window itself
    (flips every 15 s: clear for 30 s is no longer flapping; the mark clears then)."""
    flips = s.transitions
    widest = max((b - a for a, b in zip(flips, flips[1:])), default=rule.flap_window_s / 2)
    return min(rule.flap_window_s, 2 * widest)


def _may_resolve(s: AlertState, rule: AlertRule, t: float) -> bool:
    needed = max(rule.keep_firing_for_s, flap_hold_s(s, rule) if s.flapping else 0.0)
    return (s.consecutive_good >= rule.success_threshold
            and _elapsed(t, s.last_bad_at) >= needed)


def _from_firing(s: AlertState, status: Status, rule: AlertRule, t: float) -> Step:
    """FIRING: escalate severity while bad; resolve after hysteresis unless flapping."""
    if rule.is_breach(status):
        events: tuple[AlertEvent, ...] = ()
        severity = worse_severity(s.severity, rule.severity_of(status))
        if severity != s.severity:
            old, s = s.severity, replace(s, severity=severity)
            events = (_event(EventKind.SEVERITY_CHANGED, s, status, rule, t, str(old)),)
        if s.flapping and (s.last_good_at is None
                           or t - s.last_good_at >= rule.flap_window_s):
            s = replace(s, flapping=False)  # steadily bad for a whole window: a plain firing
        return s, events
    if not (rule.is_clear(status) and _may_resolve(s, rule, t)):
        return s, ()
    if not s.flapping and len(s.transitions) + 1 > rule.flap_max_transitions:
        s = replace(s, flapping=True)
        note = str(len(s.transitions) + 1)
        return s, (_event(EventKind.FLAPPING, s, status, rule, t, note),)
    s = replace(s, phase=Phase.RESOLVED, since=t, resolved_at=t, flapping=False,
                transitions=(*s.transitions, t))
    return s, (_event(EventKind.RESOLVED, s, status, rule, t),)


def current_severity(state: AlertState, rule: AlertRule) -> str | None:
    """The severity the alert has now: its latest result's while that breaches, else the
    episode's (the worst seen, which is what identifies its notices)."""
    if state.phase in (Phase.PENDING, Phase.FIRING) and state.status is not None:
        return rule.severity_of(state.status) or state.severity
    return state.severity


_HANDLERS = {Phase.INACTIVE: _from_quiet, Phase.RESOLVED: _from_quiet,
             Phase.PENDING: _from_pending, Phase.FIRING: _from_firing}


def transition(state: AlertState | None, status: Status, value: float | None,
               rule: AlertRule, now: float) -> Step:
    """Advance one alert by one evaluated result.

    The machine's clock never runs backwards: it uses `t = max(now,
    state.last_eval)`, so a clock stepped back counts as no time passing. Timers
    (`for_s`, `keep_firing_for_s`, the flap window) then pause until the wall
    clock catches up; nothing fires or resolves early, and events carry `at=t`.

    Args:
        state: The alert's previous state, or None for a never-evaluated alert.
        status: This cycle's Status for the rule's (component, metric).
        value: The measured value, if any (carried into events).
        rule: The alert rule.
        now: Evaluation time, unix seconds.

    Returns:
        The new state and the events to act on, in order (possibly none).

    Raises:
        ValueError: if `now` is not a finite number.
    """
    if isinstance(now, bool) or not isinstance(now, (int, float)) or not math.isfinite(now):
        raise ValueError(f"transition: now must be a finite unix timestamp, got {now!r}")
    prev = state if state is not None else AlertState.initial(now)
    t = max(float(now), prev.last_eval)
    status = Status(status)
    return _HANDLERS[prev.phase](_observe(prev, status, value, rule, t), status, rule, t)


def restore(state: AlertState, now: float, *, last_seen: float | None = None,
            downtime_tolerance_s: float = 3600.0) -> AlertState:
    """Re-arm a saved state when the agent starts again.

    Downtime is `now - max(last_seen, state.last_eval)` (never negative). A
    firing alert stays firing with its original `active_since`/`fired_at`. A
    pending alert keeps the `for` time it had already served if the downtime is
    below the tolerance, but the downtime itself does not count: `active_since`
    moves forward by the downtime. After a longer outage, a pending alert starts
    over as inactive, and in every phase the consecutive good/bad counts reset
    (a run of results does not span a long outage).

    Args:
        state: The state saved before the restart.
        now: Current time, unix seconds.
        last_seen: When the agent was last known alive (e.g. its last commit);
            defaults to `state.last_eval`.
        downtime_tolerance_s: Longest outage a pending alert survives.
    """
    if not math.isfinite(now):
        raise ValueError(f"restore: now must be a finite unix timestamp, got {now!r}")
    alive = state.last_eval if last_seen is None else max(last_seen, state.last_eval)
    downtime = max(0.0, now - alive)
    if downtime >= downtime_tolerance_s:
        state = replace(state, consecutive_bad=0, consecutive_good=0)
        if state.phase is Phase.PENDING:
            return replace(state, phase=Phase.INACTIVE, since=max(now, state.last_eval),
                           last_eval=max(now, state.last_eval), active_since=None,
                           severity=None)
        return state
    if state.phase is Phase.PENDING and downtime > 0:
        # while pending, since == active_since: both move on by the downtime
        return replace(state, active_since=state.since + downtime,
                       since=state.since + downtime, last_eval=max(now, state.last_eval))
    return state
