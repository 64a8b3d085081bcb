"""Maintenance windows in the agent: their silences each cycle, their start and end notices.

The pure part is `alerts.maintenance`; this controller keeps which runs were announced and
queues the notices with the next commit through `Runtime.defer_outbox`, to every receiver.
With a store, which runs were announced is committed in that same commit
(`Runtime.defer_write`) and read back at start: an agent that was down when a run ended
tells its end once when it starts, and a restart inside a run does not tell its start again.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Sequence
from zoneinfo import ZoneInfo

from alerts import maintenance
from alerts.notifiers import outbox_entries

log = logging.getLogger("alice_ops.agent.maintenance")
WRITE_KEY = "maintenance:announced"


def windows_from(settings: Sequence[Any]) -> list[maintenance.Window]:
    """`alerts.maintenance` entries as windows (the config already validated them)."""
    return [maintenance.Window(name=w.name, cron=maintenance.parse_cron(w.cron),
                               duration_s=w.duration_s, matchers=w.matchers, reason=w.reason,
                               tz=ZoneInfo(w.timezone))
            for w in settings]


class MaintenanceController:
    """`tick(now)` -> the silences in force; start/end notices go to `defer(items, audit)`.

    Args:
        windows: The configured windows.
        receivers: Names of every receiver (the notices go to all of them).
        defer: Queues outbox items and audit records with the next commit.
        write: Queues a keyed write (`write(key, fn(conn))`) with the same commit; the
            announced runs are saved through it. None: kept in memory only.
        load: Reads the announced runs saved before (an awaitable's result). Until it has
            answered, `tick` returns the silences but tells nothing (so a restart inside
            a run does not announce it again); a failed read is retried on the next tick.
        previous: The controller this one replaces (a reload): its announced runs are kept
            and nothing is loaded again.
    """

    def __init__(self, windows: Sequence[maintenance.Window], receivers: Sequence[str],
                 defer: Callable[..., None], *,
                 write: Callable[[str, Callable[[Any], None]], None] | None = None,
                 load: Callable[[], Awaitable[dict[str, float]]] | None = None,
                 previous: MaintenanceController | None = None) -> None:
        self.windows = list(windows)
        self.receivers = list(receivers)
        self._defer, self._write = defer, write
        self.announced: dict[str, float] = dict(previous.announced) if previous else {}
        self._load = None if previous is not None and previous.loaded else load
        self._loading: asyncio.Task[dict[str, float]] | None = None

    @property
    def loaded(self) -> bool:
        """Whether the announced runs are known (loaded, or nothing to load)."""
        return self._load is None

    def _poll_load(self) -> bool:
        """Start or finish the load; True once the announced runs are known."""
        if self._load is None:
            return True
        if self._loading is None:
            self._loading = asyncio.ensure_future(self._load())
            return False
        if not self._loading.done():
            return False
        task, self._loading = self._loading, None
        if task.cancelled() or task.exception() is not None:
            log.warning("maintenance runs not read (retried): %s",
                        "cancelled" if task.cancelled() else task.exception())
            return False
        saved = task.result()
        self.announced = {**saved, **self.announced}
        self._load = None
        log.debug("maintenance runs announced before: %s", saved)
        return True

    def tick(self, now: float) -> list:
        from agent.store import AuditRecord, OutboxItem

        if not self._poll_load():
            return maintenance.silences(self.windows, now)
        notices, runs = maintenance.changes(self.windows, self.announced, now)
        changed, self.announced = runs != self.announced, runs
        if notices:
            items = [OutboxItem(**e) for e in outbox_entries(notices, self.receivers)]
            audit = [AuditRecord(now, "agent", "maintenance.start" if n.status == "firing"
                                 else "maintenance.end", n.labels["window"], "ok",
                                 {"summary": n.annotations["summary"]})
                     for n in notices]
            self._defer(items, audit)
            for n in notices:
                log.info("%s", n.annotations["summary"])
        if (changed or notices) and self._write is not None:
            from agent.store.maintenance_runs import write_announced

            saved = dict(runs)
            self._write(WRITE_KEY, lambda conn: write_announced(conn, saved))
        return maintenance.silences(self.windows, now)
