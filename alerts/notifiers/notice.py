"""The unit of notification: one alert in one state, to tell a receiver about.

Pure: `notice_from_event` turns a lifecycle event into a `Notice`; `dedupe_key`
names one notice of one episode so the outbox never holds it twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal, Mapping

from alerts.lifecycle import AlertEvent, EventKind

FIRING = "firing"
RESOLVED = "resolved"
NoticeStatus = Literal["firing", "resolved"]

# Events that mean "the alert is (still) firing": a severity escalation re-announces it.
_FIRING_KINDS = frozenset({EventKind.FIRING, EventKind.SEVERITY_CHANGED})


def dedupe_key(fingerprint: str, started_at: float, status: str, reminder: int) -> str:
    """Identity of one notice: alert, episode (its start, to the millisecond), status, repeat.

    >>> dedupe_key("0123456789abcdef", 1700000000.25, "firing", 0)
    '0123456789abcdef:1700000000250:firing:0'
    """
    if status not in (FIRING, RESOLVED):
        raise ValueError(f"dedupe_key: status must be 'firing' or 'resolved', got {status!r}")
    return f"{fingerprint}:{round(started_at * 1000)}:{status}:{int(reminder)}"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Notice:
    """One alert in one state to tell a receiver about.

    Attributes:
        fingerprint: Identity of the alert (`alerts.silence.fingerprint`), same for
            every episode and notice of it.
        alertname: The rule name (Alertmanager's `alertname` label).
        labels: The rule's labels plus `severity` (component, metric, ...), without
            `alertname`.
        annotations: `summary` (one human line), `description`, and `cause` (the
            fault in words, made where it was seen) when the event has one.
        status: "firing" or "resolved".
        starts_at: When the episode started (unix seconds); constant for the episode.
        ends_at: When it resolved; None while firing.
        dedupe_key: `dedupe_key(fingerprint, starts_at, status, reminder)`.
        reminder: 0 for the first firing notice of an episode, n for the n-th repeat
            (a reminder or a severity escalation); 0 for a resolved notice.
    """

    fingerprint: str
    alertname: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    status: NoticeStatus
    starts_at: float
    ends_at: float | None
    dedupe_key: str
    reminder: int = 0

    def __post_init__(self) -> None:
        if self.status not in (FIRING, RESOLVED):
            raise ValueError(f"notice status must be 'firing' or 'resolved', got {self.status!r}")
        if (self.status == RESOLVED) != (self.ends_at is not None):
            raise ValueError("notice: ends_at is set exactly when the status is 'resolved'")
        object.__setattr__(self, "labels", {str(k): str(v) for k, v in self.labels.items()})
        object.__setattr__(self, "annotations",
                           {str(k): str(v) for k, v in self.annotations.items()})

    def __hash__(self) -> int:
        return hash(self.dedupe_key)

    @property
    def all_labels(self) -> dict[str, str]:
        """`alertname` plus the labels: what silences match and Alertmanager sees."""
        return {"alertname": self.alertname, **self.labels}

    @property
    def severity(self) -> str:
        return self.labels.get("severity", "")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (the outbox payload)."""
        return {"fingerprint": self.fingerprint, "alertname": self.alertname,
                "labels": dict(self.labels), "annotations": dict(self.annotations),
                "status": self.status, "starts_at": self.starts_at, "ends_at": self.ends_at,
                "dedupe_key": self.dedupe_key, "reminder": self.reminder}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Notice:
        """Inverse of `to_dict`.

        Raises:
            ValueError: if a field is missing or malformed.
        """
        try:
            ends_at = data["ends_at"]
            return cls(fingerprint=str(data["fingerprint"]), alertname=str(data["alertname"]),
                       labels=dict(data["labels"]), annotations=dict(data["annotations"]),
                       status=data["status"], starts_at=float(data["starts_at"]),
                       ends_at=None if ends_at is None else float(ends_at),
                       dedupe_key=str(data["dedupe_key"]), reminder=int(data.get("reminder", 0)))
        except (KeyError, TypeError, AttributeError) as err:
            raise ValueError(f"malformed notice payload: {type(err).__name__}: {err}") from None

    def repeat(self, reminder: int, *, labels: Mapping[str, str] | None = None,
               annotations: Mapping[str, str] | None = None) -> Notice:
        """This firing notice again as repeat number `reminder` (new dedupe key)."""
        return Notice(fingerprint=self.fingerprint, alertname=self.alertname,
                      labels=self.labels if labels is None else labels,
                      annotations=self.annotations if annotations is None else annotations,
                      status=FIRING, starts_at=self.starts_at, ends_at=None,
                      dedupe_key=dedupe_key(self.fingerprint, self.starts_at, FIRING, reminder),
                      reminder=reminder)


def _description(event: AlertEvent) -> str:
    where = ", ".join(f"{k}={v}" for k, v in sorted(event.labels.items()))
    value = "no value" if event.value is None else f"value {event.value:g}"
    text = (f"{event.rule} ({where or 'no labels'}) is {event.status.word}, {value}; "
            f"severity {event.severity}; episode started {_iso(event.started_at)}")
    if event.kind is EventKind.RESOLVED:
        text += f"; resolved {_iso(event.at)}"
    if event.flapping:
        text += "; flapping (held firing by flap damping)"
    return text


def notice_from_event(event: AlertEvent, reminder: int = 0) -> Notice:
    """The notice telling a receiver about `event`.

    FIRING and SEVERITY_CHANGED events give a firing notice (an escalation should be
    given `reminder` > 0 so it gets its own dedupe key); RESOLVED gives a resolved
    notice with `ends_at` = the event time and reminder 0.

    Raises:
        ValueError: for PENDING or FLAPPING events, which are not notified.
    """
    if event.kind is EventKind.RESOLVED:
        status, ends_at, reminder = RESOLVED, event.at, 0
    elif event.kind in _FIRING_KINDS:
        status, ends_at = FIRING, None
    else:
        raise ValueError(f"notice_from_event: {event.kind.value} events are not notified")
    fp = event.fingerprint
    return Notice(fingerprint=fp, alertname=event.rule,
                  labels={**event.labels, "severity": event.severity},
                  annotations={"summary": event.summary, "description": _description(event),
                               **({"cause": event.cause} if event.cause else {})},
                  status=status, starts_at=event.started_at, ends_at=ends_at,
                  dedupe_key=dedupe_key(fp, event.started_at, status, reminder),
                  reminder=reminder)
