"""Maintenance windows in the agent: their silences each cycle, their start and end notices.

The pure part is `alerts.maintenance`; this controller keeps which runs were announced and
queues the notices with the next commit through `Runtime.defer_outbox`, to every receiver.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Sequence
from zoneinfo import ZoneInfo

from alerts import maintenance
from alerts.notifiers import outbox_entries

log = logging.getLogger("alice_ops.agent.maintenance")


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
    """

    def __init__(self, windows: Sequence[maintenance.Window], receivers: Sequence[str],
                 defer: Callable[..., None]) -> None:
        self.windows = list(windows)
        self.receivers = list(receivers)
        self._defer = defer
        self.announced: dict[str, float] = {}

    def tick(self, now: float) -> list:
        from agent.store import AuditRecord, OutboxItem

        notices, self.announced = maintenance.changes(self.windows, self.announced, now)
        if notices:
            items = [OutboxItem(**e) for e in outbox_entries(notices, self.receivers)]
            audit = [AuditRecord(now, "agent", "maintenance.start" if n.status == "firing"
                                 else "maintenance.end", n.labels["window"], "ok",
                                 {"summary": n.annotations["summary"]})
                     for n in notices]
            self._defer(items, audit)
            for n in notices:
                log.info("%s", n.annotations["summary"])
        return maintenance.silences(self.windows, now)
