"""The heartbeat: ping a dead man's switch (healthchecks.io style) while the agent is healthy.

Every `interval_s` the latest snapshot is judged (`judge`, pure): fresh (taken within 3
probe intervals) and the store committing is healthy -> ping the URL; otherwise ping
`URL/fail` (with `send_fail`) or stay silent. When the agent dies, the pings stop and the
switch raises its own alarm: silence no longer looks like health.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable

import httpx

from vocab.redact import redact
from alerts.notifiers.http import safe_url

log = logging.getLogger("alice_ops.agent.heartbeat")

STALE_AFTER_INTERVALS = 3
STALE_MIN_S = 5.0


@dataclass(frozen=True)
class Verdict:
    """`healthy` and, when not, why (one line)."""

    healthy: bool
    reason: str = ""


def judge(snapshot: Any, storage_problem: str | None, now: float) -> Verdict:
    """Whether the agent is healthy now: it has a snapshot younger than 3 probe intervals
    (at least 5 s) and its store commits.

    >>> judge(None, None, 0.0)
    Verdict(healthy=False, reason='no snapshot yet')
    """
    if storage_problem:
        return Verdict(False, f"store failing: {storage_problem}")
    if snapshot is None:
        return Verdict(False, "no snapshot yet")
    limit = max(STALE_AFTER_INTERVALS * snapshot.stats.expected_interval_s, STALE_MIN_S)
    age = now - snapshot.taken_at
    if age > limit:
        return Verdict(False, f"latest snapshot is {age:.0f}s old (stale after {limit:g}s)")
    return Verdict(True)


def ping_url(url: str, healthy: bool) -> str:
    """The URL to ping: as configured when healthy, `/fail` appended when not."""
    return url if healthy else url.rstrip("/") + "/fail"


class Heartbeat:
    """Pings `url` every `interval_s` from a task of its own; `start()`, `await stop()`.

    Args:
        url: The ping URL (its path is treated as a secret in logs).
        interval_s: Seconds between pings.
        snapshot: Returns the latest snapshot (or None).
        storage_problem: Returns the store's problem line, or None.
        method: GET, POST or HEAD.
        send_fail: Ping `url/fail` when unhealthy (else send nothing then).
        timeout_s: Whole-request timeout.
        transport: For tests.
        clock: Unix time.
    """

    def __init__(self, url: str, interval_s: float, snapshot: Callable[[], Any],
                 storage_problem: Callable[[], str | None] = lambda: None, *,
                 method: str = "GET", send_fail: bool = True, timeout_s: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.url, self.interval_s = url, float(interval_s)
        self._snapshot, self._problem = snapshot, storage_problem
        self.method, self.send_fail, self.timeout_s = method, send_fail, float(timeout_s)
        self._transport, self._clock = transport, clock
        self._task: asyncio.Task[None] | None = None
        self._secrets = [p for p in url.split("/")[3:] if len(p) >= 6]
        self.sent = {"ok": 0, "fail": 0}
        self.last_error: str | None = None

    async def beat(self, client: httpx.AsyncClient) -> Verdict:
        """Judge the agent now and send the matching ping (failures logged, never raised)."""
        verdict = judge(self._snapshot(), self._problem(), self._clock())
        if not verdict.healthy and not self.send_fail:
            return verdict
        target = ping_url(self.url, verdict.healthy)
        try:
            body = verdict.reason.encode() if self.method == "POST" and verdict.reason else None
            response = await asyncio.wait_for(  # a total deadline, not per read
                client.request(self.method, target, timeout=self.timeout_s, content=body),
                self.timeout_s)
            if response.status_code >= 400:
                raise httpx.HTTPStatusError(f"HTTP {response.status_code}",
                                            request=response.request, response=response)
            self.sent["ok" if verdict.healthy else "fail"] += 1
            self.last_error = None
        except (httpx.HTTPError, TimeoutError) as err:
            what = redact(f"{type(err).__name__}: {err}", self._secrets)
            if what != self.last_error:
                log.warning("heartbeat %s %s failed: %s", self.method, safe_url(target), what)
            self.last_error = what
        return verdict

    async def run(self) -> None:
        """Ping every interval_s until cancelled (the first ping one interval after start,
        when the first cycles have published)."""
        async with httpx.AsyncClient(transport=self._transport) as client:
            while True:
                await asyncio.sleep(self.interval_s)
                await self.beat(client)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run(), name="heartbeat")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
