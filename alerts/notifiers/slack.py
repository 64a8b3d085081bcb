"""Slack-compatible incoming-webhook notifier (Slack, Mattermost, Rocket.Chat).

All three accept `{"text": ..., "attachments": [{"color", "title", "text", "fields"}]}`
on an incoming-webhook URL, so one shape serves them: `text` is the headline, one
attachment per alert (red critical, orange warning, green resolved). The URL holds the
secret (Slack's `/services/T../B../xxx`): errors show only scheme, host and port.
"""

from __future__ import annotations

from typing import Any, Sequence

import httpx

from vocab.redact import redact
from alerts.notifiers.http import JsonPoster, safe_url
from alerts.notifiers.grouping import Group
from alerts.notifiers.notice import FIRING, Notice
from alerts.notifiers.wire import (NO_OPTIONS, WireOptions, headline, identity_labels,
                                   wire_annotations)

COLORS = {"critical": "#d00000", "warning": "#e69500", "resolved": "#2eb67d"}
_MAX_ATTACHMENTS = 20  # Slack's limit is 100; a chat message should stay readable


def _attachment(notice: Notice, opts: WireOptions) -> dict[str, Any]:
    ann = wire_annotations(notice, opts)
    firing = notice.status == FIRING
    status = "FIRING" if firing else "RESOLVED"
    text = "\n".join(redact(ann[k]) for k in ("summary", "cause", "description") if ann.get(k))
    labels = {k: v for k, v in identity_labels(notice, opts).items() if k != "alertname"}
    fields = [{"title": "severity", "value": ann["severity"], "short": True}]
    fields += [{"title": k, "value": v, "short": True} for k, v in sorted(labels.items())]
    if ann.get("runbook"):
        fields.append({"title": "runbook", "value": ann["runbook"], "short": False})
    out: dict[str, Any] = {
        "color": COLORS.get(notice.severity, COLORS["warning"]) if firing else COLORS["resolved"],
        "title": f"{status} {notice.alertname} [{ann['severity']}]",
        "text": text, "fields": fields,
        "fallback": f"{status} {notice.alertname} [{ann['severity']}]: {ann.get('summary', '')}",
    }
    if ann.get("runbook_url"):
        out["title_link"] = ann["runbook_url"]
    return out


def slack_payload(notices: Sequence[Notice], opts: WireOptions = NO_OPTIONS, *,
                  channel: str | None = None, username: str | None = None,
                  icon_emoji: str | None = None) -> dict[str, Any]:
    """The incoming-webhook body for one notification (pure)."""
    ordered = sorted(notices, key=lambda n: (n.status != FIRING, n.starts_at))
    attachments = [_attachment(n, opts) for n in ordered[:_MAX_ATTACHMENTS]]
    if len(ordered) > _MAX_ATTACHMENTS:
        attachments.append({"color": "#888888", "text": f"... and "
                            f"{len(ordered) - _MAX_ATTACHMENTS} more"})
    body: dict[str, Any] = {"text": redact(headline(notices, opts)), "attachments": attachments}
    for key, value in (("channel", channel), ("username", username),
                       ("icon_emoji", icon_emoji)):
        if value:
            body[key] = value
    return body


class SlackNotifier:
    """Posts a group of notices as one message to a Slack-compatible incoming webhook.

    Args:
        name: Receiver name.
        url: The incoming-webhook URL (str or SecretStr: it is the credential).
        channel / username / icon_emoji: Optional overrides (Mattermost honours them
            when the webhook allows it).
        timeout_s: Whole-request timeout.
        client / transport: As for the webhook notifier.
        opts: External labels and runbook annotations.
    """

    resend_interval_s: float | None = None
    group_notices = True
    """Told one group at a time (`alerts.notifiers.grouping`); `group` names it."""

    def __init__(self, name: str, url: Any, *, channel: str | None = None,
                 username: str | None = None, icon_emoji: str | None = None,
                 timeout_s: float = 10.0, client: httpx.AsyncClient | None = None,
                 transport: httpx.AsyncBaseTransport | None = None,
                 opts: WireOptions = NO_OPTIONS) -> None:
        getter = getattr(url, "get_secret_value", None)
        plain = str(getter() if callable(getter) else url)
        self.name, self.opts = name, opts
        self.channel, self.username, self.icon_emoji = channel, username, icon_emoji
        self._poster = JsonPoster(plain, timeout_s=timeout_s, client=client,
                                  transport=transport, secret_path=True)

    def __repr__(self) -> str:
        return f"SlackNotifier(name={self.name!r}, url={safe_url(self._poster.url)!r})"

    async def send(self, notices: Sequence[Notice], group: Group | None = None) -> None:
        """Post the notices as one message; 2xx is success.

        Raises:
            NotifyError: one line naming scheme://host:port (never the URL's path).
        """
        if not notices:
            return
        await self._poster.post(slack_payload(notices, self.opts, channel=self.channel,
                                              username=self.username,
                                              icon_emoji=self.icon_emoji))

    async def aclose(self) -> None:
        """Close the HTTP client if this notifier created it."""
        await self._poster.aclose()
