"""Log notifier: one structured JSON line per notice on the `alice_ops.alerts` logger.

Always configured, so every notification also lands in the journal even when no
remote receiver is set up.
"""

from __future__ import annotations

import json
import logging
from typing import Sequence

from alerts.notifiers.notice import FIRING, Notice
from alerts.notifiers.notifier import NotifyError
from alerts.notifiers.payload import rfc3339
from alerts.notifiers.wire import NO_OPTIONS, WireOptions

LOGGER_NAME = "alice_ops.alerts"


def log_record(notice: Notice, receiver: str,
               opts: WireOptions = NO_OPTIONS) -> dict[str, object]:
    """The JSON object logged for one notice (pure); labels include the external ones."""
    return {"event": "alert_notice", "receiver": receiver, "status": notice.status,
            "alertname": notice.alertname, "severity": notice.severity,
            "fingerprint": notice.fingerprint,
            "labels": {**opts.external_labels, **notice.labels},
            "summary": notice.annotations.get("summary", ""),
            "starts_at": rfc3339(notice.starts_at),
            "ends_at": None if notice.ends_at is None else rfc3339(notice.ends_at),
            "reminder": notice.reminder, "dedupe_key": notice.dedupe_key}


class LogNotifier:
    """Logs each notice as one line of JSON: WARNING while firing, INFO when resolved.

    Args:
        name: Receiver name.
        logger: Where to log (default: the `alice_ops.alerts` logger).
        opts: Wire options (the external labels go into each record's labels).
    """

    resend_interval_s: float | None = None
    group_notices = False
    """The journal gets each notice as it is due, ungrouped."""

    def __init__(self, name: str = "log", *, logger: logging.Logger | None = None,
                 opts: WireOptions = NO_OPTIONS) -> None:
        self.name = name
        self.opts = opts
        self.logger = logger if logger is not None else logging.getLogger(LOGGER_NAME)

    async def send(self, notices: Sequence[Notice]) -> None:
        """Log every notice.

        Raises:
            NotifyError: if a notice cannot be serialised or logged.
        """
        for notice in notices:
            try:
                line = json.dumps(log_record(notice, self.name, self.opts), ensure_ascii=False,
                                  sort_keys=True)
                level = logging.WARNING if notice.status == FIRING else logging.INFO
                self.logger.log(level, line)
            except Exception as err:  # a handler failing is this receiver's failure
                raise NotifyError(f"log: {type(err).__name__}: {err}") from None

    async def aclose(self) -> None:
        """Nothing to release."""
