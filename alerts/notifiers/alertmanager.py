"""Alertmanager notifier: POST alerts to Alertmanager's v2 API (`/api/v2/alerts`).

Alertmanager then groups, silences, inhibits, deduplicates (also across a
cluster) and routes them. Firing alerts carry endsAt = now + 4 x
`resend_interval_s`; the dispatcher re-posts them every `resend_interval_s`
while they fire, and a resolved notice ends them at once.

Identity: labels are `alertname`, the external labels and the alert's own labels;
severity is an annotation, so an escalation stays one Alertmanager alert
(`alerts.notifiers.wire`). With `watchdog` on, every POST (and a re-post every
`resend_interval_s` even when nothing else fires) carries the always-firing `Watchdog`.

With `severity_label` (for routes that match on severity, kube-prometheus style) severity
is a label too, so each severity is its own Alertmanager alert; then a change of severity
also posts the previous severity's copy as resolved, so no stale copy stays active.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping, Sequence

import httpx

from alerts.notifiers.http import JsonPoster, safe_url
from alerts.notifiers.notice import FIRING, RESOLVED, Notice, dedupe_key
from alerts.notifiers.payload import DEFAULT_RESEND_INTERVAL_S, alertmanager_v2_alerts
from alerts.notifiers.wire import NO_OPTIONS, WireOptions


def superseded(notices: Sequence[Notice], sent: Mapping[str, tuple[float, str]],
               now: float) -> list[Notice]:
    """Resolved copies, under the severity last sent, of the alerts whose severity changed
    in this batch (pure): with severity a label they are other Alertmanager alerts."""
    out = []
    for notice in notices:
        held = sent.get(notice.fingerprint)
        if held is None or held[0] != notice.starts_at or held[1] == notice.severity:
            continue
        out.append(Notice(notice.fingerprint, notice.alertname,
                          {**notice.labels, "severity": held[1]}, notice.annotations,
                          RESOLVED, notice.starts_at, now,
                          dedupe_key(notice.fingerprint, notice.starts_at, RESOLVED, 0)))
    return out


class AlertmanagerNotifier:
    """Posts a group of notices to one Alertmanager in one `POST /api/v2/alerts`.

    Args:
        name: Receiver name.
        url: Alertmanager's base URL, e.g. `http://localhost:9093` (a route prefix
            path is kept).
        generator_url: Each alert's `generatorURL` (e.g. the agent's API URL).
        resend_interval_s: How often firing alerts are re-posted; endsAt of a
            firing alert is now + 4 x this.
        token: Optional bearer token (str or SecretStr), for an authenticating proxy.
        headers: Extra request headers (values treated as secrets in errors).
        timeout_s: Whole-request timeout.
        client: A shared `httpx.AsyncClient`; without one the notifier owns a client
            (built on `transport` if given) and `aclose` closes it.
        clock: Unix time source for endsAt (tests pass a fake one).
        opts: External labels and runbook annotations.
        watchdog: Send the always-firing `Watchdog` alert with every POST; the
            dispatcher then re-posts every `resend_interval_s` even with nothing firing
            (`keepalive`).
        severity_label: Send severity as a label as well (see the module docstring).
    """

    group_notices = False
    """Alertmanager groups by its own route: every due row is posted at once."""

    def __init__(self, name: str, url: str, *, generator_url: str = "",
                 resend_interval_s: float = DEFAULT_RESEND_INTERVAL_S, token: Any = None,
                 headers: Mapping[str, str] | None = None, timeout_s: float = 10.0,
                 client: httpx.AsyncClient | None = None,
                 transport: httpx.AsyncBaseTransport | None = None,
                 clock: Callable[[], float] = time.time, opts: WireOptions = NO_OPTIONS,
                 watchdog: bool = False, severity_label: bool = False) -> None:
        if resend_interval_s <= 0:
            raise ValueError("resend_interval_s must be positive")
        self.name = name
        self.generator_url = generator_url
        self.resend_interval_s = float(resend_interval_s)
        self._clock = clock
        self.opts = WireOptions(opts.external_labels, opts.runbooks, opts.runbook_base_url,
                                severity_label=severity_label)
        self._severity: dict[str, tuple[float, str]] = {}  # fingerprint -> (episode, sent)
        self.keepalive = bool(watchdog)
        self._watchdog_since = clock() if watchdog else None
        self._poster = JsonPoster(url.rstrip("/") + "/api/v2/alerts", token=token,
                                  headers=headers, timeout_s=timeout_s, client=client,
                                  transport=transport)

    def __repr__(self) -> str:
        return f"AlertmanagerNotifier(name={self.name!r}, url={safe_url(self._poster.url)!r})"

    async def send(self, notices: Sequence[Notice]) -> None:
        """POST the notices as one list of alerts; only 200 is success.

        Raises:
            NotifyError: one redacted line naming the URL and what went wrong.
        """
        if not notices and not self.keepalive:
            return
        now = self._clock()
        extra = superseded(notices, self._severity, now) if self.opts.severity_label else []
        body = alertmanager_v2_alerts([*extra, *notices], self.generator_url, now=now,
                                      resend_interval_s=self.resend_interval_s, opts=self.opts,
                                      watchdog_since=self._watchdog_since)
        await self._poster.post(body, ok=lambda status: status == 200)
        for notice in notices:
            if notice.status == FIRING:
                self._severity[notice.fingerprint] = (notice.starts_at, notice.severity)
            else:
                self._severity.pop(notice.fingerprint, None)

    async def aclose(self) -> None:
        """Close the HTTP client if this notifier created it."""
        await self._poster.aclose()

    async def __aenter__(self) -> AlertmanagerNotifier:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
