"""What every notifier is: a named edge with `async send(notices)` that fails as `NotifyError`.

The dispatcher only knows this protocol; log, webhook and Alertmanager notifiers
implement it.
"""

from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

from alerts.notifiers.notice import Notice


class NotifyError(Exception):
    """A send failed. `reason` is one line, safe to log and store: secrets are redacted."""

    def __init__(self, reason: str) -> None:
        self.reason = " ".join(str(reason).split()) or "unknown error"
        super().__init__(self.reason)


@runtime_checkable
class Notifier(Protocol):
    """A receiver of notifications.

    Attributes:
        name: Receiver name, unique among the configured receivers (outbox rows
            carry it).
        resend_interval_s: Optional. When not None, firing alerts delivered to this
            receiver are re-sent that often while they fire (Alertmanager needs it).
        group_notices: Optional. When true, the dispatcher (given a grouping policy)
            sends one group at a time as `send(notices, group=Group)`; receivers that
            group themselves (Alertmanager) or need no grouping (the log) leave it false.
    """

    name: str

    async def send(self, notices: Sequence[Notice]) -> None:
        """Deliver the notices as ONE notification.

        Raises:
            NotifyError: with a one-line, redacted reason.
        """
        ...
