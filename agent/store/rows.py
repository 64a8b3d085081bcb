"""Plain values going into and coming out of state.db; nothing here touches the disk.

JSON columns come back as the dicts/lists that went in. Timestamps are float unix
seconds chosen by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple


@dataclass(frozen=True)
class OutboxItem:
    """A notification to queue. `dedupe_key` identifies one alert state change for one
    receiver, so the same change is queued once even across restarts."""

    dedupe_key: str
    receiver: str
    fingerprint: str
    kind: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class OutboxRow:
    """A queued notification and its delivery record."""

    id: int
    dedupe_key: str
    receiver: str
    fingerprint: str
    kind: str
    payload: dict[str, Any]
    created_at: float
    attempts: int
    next_attempt_at: float
    sent_at: float | None
    last_error: str | None


@dataclass(frozen=True)
class AuditRecord:
    """One line of the audit trail, as written (the store assigns the id)."""

    ts: float
    actor: str
    action: str
    target: str
    outcome: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class AuditRow:
    """One line of the audit trail, as read back."""

    id: int
    ts: float
    actor: str
    action: str
    target: str
    outcome: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class SilenceRow:
    """A silence. `matchers` is opaque JSON to the store (the alerts package owns its
    meaning); `expired_at` is set when someone ends it early."""

    id: str
    matchers: list[Any]
    starts_at: float
    ends_at: float
    created_by: str
    comment: str
    created_at: float
    expired_at: float | None = None


@dataclass(frozen=True)
class AckRow:
    """An acknowledgement of one alert (by fingerprint) until `expires_at`."""

    fingerprint: str
    comment: str
    expires_at: float
    by: str
    created_at: float


class AlertStateRow(NamedTuple):
    """A saved alert state; `state` is the agent's own serialization of AlertState.

    A tuple, so `rule, labels, state, updated_at = row` works as well as `row.state`.
    """

    rule: str
    labels: dict[str, str]
    state: dict[str, Any]
    updated_at: float


@dataclass(frozen=True)
class BucketRow:
    """One downsampled minute of one metric. `avg`/`min`/`max` are over the `count`
    samples that had a value (None when none had); `worst_status` is the highest
    status integer seen, which is "worst" given `vocab.model.Status`'s ordering."""

    ts: float
    avg: float | None
    min: float | None
    max: float | None
    count: int
    worst_status: int


class SamplePoint(NamedTuple):
    """One point of a metric's history: a raw sample, or a downsampled minute (its
    average and worst status, `ts` being the minute start)."""

    ts: float
    value: float | None
    status: int
