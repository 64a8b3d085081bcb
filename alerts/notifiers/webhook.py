"""Webhook notifier: POST each notification as an Alertmanager-format webhook (version 4).

Anything that accepts Alertmanager's webhooks (chat bridges, incident tools)
accepts it. Any 2xx is success; everything else is a `NotifyError`.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import httpx

from alerts.notifiers.http import JsonPoster, safe_url
from alerts.notifiers.grouping import Group
from alerts.notifiers.notice import Notice
from alerts.notifiers.payload import alertmanager_webhook_payload
from alerts.notifiers.wire import NO_OPTIONS, WireOptions


class WebhookNotifier:
    """Sends a group of notices as one Alertmanager-format webhook POST.

    Args:
        name: Receiver name (also the payload's `receiver`).
        url: The webhook URL.
        token: Optional bearer token (str or SecretStr), sent as `Authorization: Bearer`.
        headers: Extra request headers (values are treated as secrets in errors).
        timeout_s: Whole-request timeout.
        external_url: The payload's `externalURL` (e.g. the agent's API URL).
        generator_url: Each alert's `generatorURL` (defaults to `external_url`).
        client: A shared `httpx.AsyncClient`; without one the notifier owns a client
            (built on `transport` if given) and `aclose` closes it.
        opts: External labels and runbook annotations.
    """

    resend_interval_s: float | None = None
    group_notices = True
    """Told one group at a time (`alerts.notifiers.grouping`); `group` names it."""

    def __init__(self, name: str, url: str, *, token: Any = None,
                 headers: Mapping[str, str] | None = None, timeout_s: float = 10.0,
                 external_url: str = "", generator_url: str = "",
                 client: httpx.AsyncClient | None = None,
                 transport: httpx.AsyncBaseTransport | None = None,
                 opts: WireOptions = NO_OPTIONS) -> None:
        self.name = name
        self.opts = opts
        self.external_url = external_url
        self.generator_url = generator_url
        self._poster = JsonPoster(url, token=token, headers=headers, timeout_s=timeout_s,
                                  client=client, transport=transport)

    def __repr__(self) -> str:
        return f"WebhookNotifier(name={self.name!r}, url={safe_url(self._poster.url)!r})"

    async def send(self, notices: Sequence[Notice], group: Group | None = None) -> None:
        """POST the notices as one webhook; 2xx is success. `group` gives the payload's
        `groupLabels` and `groupKey` (none: `{}` and `{}:{}`).

        Raises:
            NotifyError: one redacted line naming the URL and what went wrong.
        """
        if not notices:
            return
        body = alertmanager_webhook_payload(notices, self.name,
                                            {} if group is None else group.labels,
                                            self.external_url,
                                            generator_url=self.generator_url, opts=self.opts)
        await self._poster.post(body)

    async def aclose(self) -> None:
        """Close the HTTP client if this notifier created it."""
        await self._poster.aclose()

    async def __aenter__(self) -> WebhookNotifier:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
