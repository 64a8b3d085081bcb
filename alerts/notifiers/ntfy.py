"""ntfy notifier: one push message per notification, published as JSON to an ntfy server.

ntfy's JSON publishing (`POST <server>/` with `topic`, `title`, `message`, `priority`,
`tags`, `click`) carries UTF-8 safely, unlike its header form. Priority follows the worst
firing severity (critical 5, warning 4, resolved 2); tags become emoji on the phone.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import httpx

from vocab.redact import redact
from alerts.notifiers.http import JsonPoster, safe_url
from alerts.notifiers.grouping import Group
from alerts.notifiers.notice import FIRING, Notice
from alerts.notifiers.wire import (NO_OPTIONS, WireOptions, body_text, headline, runbook_url,
                                   worst_severity)

PRIORITY = {"critical": 5, "warning": 4, "info": 3, "none": 3}
RESOLVED_PRIORITY = 2
TAGS = {"critical": "rotating_light", "warning": "warning", "resolved": "white_check_mark"}
_MESSAGE_LIMIT = 4000  # ntfy turns longer messages into attachments


def ntfy_payload(notices: Sequence[Notice], topic: str,
                 opts: WireOptions = NO_OPTIONS) -> dict[str, Any]:
    """The JSON body publishing one notification to `topic` (pure)."""
    firing = any(n.status == FIRING for n in notices)
    worst = worst_severity(notices)
    message = redact(body_text(notices, opts)).strip()
    if len(message) > _MESSAGE_LIMIT:
        message = message[:_MESSAGE_LIMIT - 3] + "..."
    body: dict[str, Any] = {
        "topic": topic, "title": redact(headline(notices, opts)), "message": message,
        "priority": PRIORITY.get(worst, 3) if firing else RESOLVED_PRIORITY,
        "tags": [TAGS.get(worst, "bell") if firing else TAGS["resolved"],
                 *list(dict.fromkeys(n.alertname for n in notices))[:5]],
    }
    click = runbook_url(notices[0].alertname, opts) if notices else None
    if click:
        body["click"] = click
    return body


class NtfyNotifier:
    """Publishes a group of notices as one ntfy message.

    Args:
        name: Receiver name.
        url: The ntfy server's base URL, e.g. `https://ntfy.sh` (a path prefix is kept).
        topic: The topic to publish to.
        token: Optional access token (str or SecretStr), sent as `Authorization: Bearer`.
        headers: Extra request headers (values treated as secrets in errors).
        timeout_s: Whole-request timeout.
        client / transport: As for the webhook notifier.
        opts: External labels and runbook annotations.
    """

    resend_interval_s: float | None = None
    group_notices = True
    """Told one group at a time (`alerts.notifiers.grouping`); `group` names it."""

    def __init__(self, name: str, url: str, topic: str, *, token: Any = None,
                 headers: Mapping[str, str] | None = None, timeout_s: float = 10.0,
                 client: httpx.AsyncClient | None = None,
                 transport: httpx.AsyncBaseTransport | None = None,
                 opts: WireOptions = NO_OPTIONS) -> None:
        self.name, self.topic, self.opts = name, topic, opts
        self._poster = JsonPoster(url.rstrip("/") + "/", token=token, headers=headers,
                                  timeout_s=timeout_s, client=client, transport=transport)

    def __repr__(self) -> str:
        return f"NtfyNotifier(name={self.name!r}, url={safe_url(self._poster.url)!r})"

    async def send(self, notices: Sequence[Notice], group: Group | None = None) -> None:
        """Publish the notices as one message; 2xx is success.

        Raises:
            NotifyError: one redacted line naming the server and what went wrong.
        """
        if not notices:
            return
        await self._poster.post(ntfy_payload(notices, self.topic, self.opts))

    async def aclose(self) -> None:
        """Close the HTTP client if this notifier created it."""
        await self._poster.aclose()
