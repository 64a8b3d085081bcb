"""The outbox contract between the store and the dispatcher, and the pure helpers around it.

The cycle commits planned notices as outbox rows (`outbox_entries`), in the same
transaction as the alert states; the dispatcher reads due rows, delivers them and
marks them sent or failed. Rows may be dicts, sqlite3.Row-like or objects with
attributes `id, dedupe_key, receiver, fingerprint, kind, payload, created_at,
attempts, next_attempt_at, sent_at, last_error`.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Protocol, Sequence

from alerts.notifiers.notice import RESOLVED, Notice


class Outbox(Protocol):
    """What the dispatcher needs from the store (plain synchronous methods)."""

    def due_outbox(self, now: float, limit: int) -> Sequence[Any]:
        """Unsent rows with `next_attempt_at <= now`, oldest first, at most `limit`."""
        ...

    def mark_sent(self, ids: Sequence[int], now: float) -> None:
        """Record that these rows were delivered at `now`."""
        ...

    def mark_failed(self, id: int, error: str, next_attempt_at: float) -> None:
        """Record a failed attempt (attempts += 1, last_error) and when to try again."""
        ...


def row_field(row: Any, name: str, default: Any = None) -> Any:
    """A field of an outbox row, whether the row is a mapping, sqlite3.Row or object."""
    if hasattr(row, "keys"):
        return row[name] if name in row.keys() else default
    return getattr(row, name, default)


def row_notice(row: Any) -> Notice:
    """The Notice stored in a row's payload (a dict or its JSON text).

    Raises:
        ValueError: if the payload is not a notice.
    """
    payload = row_field(row, "payload")
    if isinstance(payload, (str, bytes)):
        try:
            payload = json.loads(payload)
        except ValueError as err:
            raise ValueError(f"malformed notice payload: {err}") from None
    if not hasattr(payload, "keys"):
        raise ValueError(f"malformed notice payload: {type(payload).__name__}")
    return Notice.from_dict(payload)


def notice_kind(notice: Notice) -> str:
    """The outbox `kind` of a notice: "firing", "reminder" (a repeat) or "resolved"."""
    if notice.status == RESOLVED:
        return RESOLVED
    return "reminder" if notice.reminder else "firing"


def outbox_key(notice: Notice, receiver: str) -> str:
    """The outbox row's unique key: the notice's dedupe key for one receiver."""
    return f"{notice.dedupe_key}/{receiver}"


def outbox_entries(notices: Iterable[Notice], receivers: Iterable[str]) -> list[dict[str, Any]]:
    """The rows to queue for one cycle's planned notices: one per notice and receiver.

    Each entry has exactly the fields of the store's `OutboxItem` (`dedupe_key`,
    `receiver`, `fingerprint`, `kind`, `payload`); the store adds the times. The
    row key (`outbox_key`) is unique per notice and receiver, so the store can
    skip keys it has seen and a replayed cycle never queues a notice twice.
    """
    names = list(dict.fromkeys(receivers))
    return [{"dedupe_key": outbox_key(n, name), "receiver": name, "fingerprint": n.fingerprint,
             "kind": notice_kind(n), "payload": n.to_dict()}
            for n in notices for name in names]


def collapse(notices: Iterable[Notice]) -> list[Notice]:
    """One notice per alert episode, the latest news winning, in first-seen order.

    A batch may hold several notices of one episode (e.g. its firing notice was
    stuck behind a failing receiver when it resolved): resolved beats firing and a
    later repeat beats an earlier one, so a receiver never hears "firing" last.
    """
    best: dict[tuple[str, float], Notice] = {}
    for notice in notices:
        key = (notice.fingerprint, notice.starts_at)
        held = best.get(key)
        if held is None or _rank(notice) >= _rank(held):
            best[key] = notice
    return list(best.values())


def _rank(notice: Notice) -> tuple[int, int]:
    return (notice.status == RESOLVED, notice.reminder)
