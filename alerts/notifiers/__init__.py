"""Notifiers: the I/O edge that tells receivers about alerts (log, webhook, Alertmanager v2,
e-mail, ntfy, Slack-compatible webhooks).

`Notice` is what they send; `wire` what an alert looks like to a receiver (identity labels,
annotations, texts); `payload` holds the pure Alertmanager-format formatters; `outbox` the
contract with the store the dispatcher reads. The notifier classes are imported lazily, so
the pure modules never pull in httpx or smtplib.
"""

from importlib import import_module
from typing import Any

from alerts.notifiers.backoff import Backoff
from alerts.notifiers.notice import Notice, dedupe_key, notice_from_event
from alerts.notifiers.notifier import Notifier, NotifyError
from alerts.notifiers.outbox import Outbox, outbox_entries
from alerts.notifiers.payload import alertmanager_v2_alerts, alertmanager_webhook_payload, rfc3339

_LAZY = {"AlertmanagerNotifier": "alerts.notifiers.alertmanager",
         "EmailNotifier": "alerts.notifiers.email",
         "LogNotifier": "alerts.notifiers.log",
         "NtfyNotifier": "alerts.notifiers.ntfy",
         "SlackNotifier": "alerts.notifiers.slack",
         "WebhookNotifier": "alerts.notifiers.webhook"}

__all__ = [
    "AlertmanagerNotifier", "Backoff", "EmailNotifier", "LogNotifier", "Notice", "Notifier",
    "NotifyError", "NtfyNotifier", "Outbox", "SlackNotifier", "WebhookNotifier",
    "alertmanager_v2_alerts", "alertmanager_webhook_payload", "dedupe_key", "notice_from_event",
    "outbox_entries", "rfc3339",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
