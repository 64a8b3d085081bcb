"""The dispatcher's view of the outbox, keeping delivery marks that could not be written.

A notice delivered while the store fails (disk full, damaged pages) cannot be marked
sent; read back as unsent, it would be delivered again once the fault clears. This
wrapper remembers those marks in memory, hides the rows from the next reads, and writes
the marks first thing when the store answers again. (A `kill -9` between a delivery and
its mark still repeats that one delivery after the restart: at least once, never lost.)
Every method runs on the store's own thread, like the `Store` it wraps.
"""

from __future__ import annotations

from collections.abc import Iterable

from agent.store.database import Store
from agent.store.errors import StoreError
from agent.store.rows import OutboxRow


class SentMarks:
    """`due_outbox`, `mark_sent`, `mark_failed` of a Store, with failed marks kept."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.kept: dict[int, float] = {}  # outbox id -> when it was delivered

    def _flush(self) -> None:
        by_time: dict[float, list[int]] = {}
        for row_id, at in self.kept.items():
            by_time.setdefault(at, []).append(row_id)
        for at, ids in by_time.items():
            self._store.mark_sent(ids, at)
            for row_id in ids:
                del self.kept[row_id]

    def due_outbox(self, now: float, limit: int = 100) -> list[OutboxRow]:
        if self.kept:
            try:
                self._flush()
            except StoreError:
                pass  # still failing: the rows stay hidden below
        rows = self._store.due_outbox(now, limit + len(self.kept))
        return [r for r in rows if r.id not in self.kept][:limit]

    def mark_sent(self, ids: Iterable[int], now: float) -> int:
        ids = list(ids)
        try:
            return self._store.mark_sent(ids, now)
        except StoreError:
            self.kept.update(dict.fromkeys(ids, now))
            raise

    def mark_failed(self, id: int, error: str, next_attempt_at: float) -> bool:
        return self._store.mark_failed(id, error, next_attempt_at)
