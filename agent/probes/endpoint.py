"""Probe of an extra HTTP endpoint (tool integrations: Calendar, Spotify, Gmail...).

The expected status code is OK; anything else or no answer is CRITICAL. Latency is
judged by the endpoint's own optional thresholds.
"""

from __future__ import annotations

import time

import httpx

from agent.config import EndpointTarget
from agent.model import ProbeResult, Reading, Status
from agent.probes.http import describe_error


async def probe(target: EndpointTarget, client: httpx.AsyncClient) -> ProbeResult:
    """`client` is shared by all endpoints (one pool); the timeout is per request."""
    started = time.perf_counter()
    try:
        async with client.stream("GET", target.url,
                                 timeout=target.timeout_ms / 1000) as response:
            code = response.status_code
    except httpx.HTTPError as exc:
        return ProbeResult.failed(target.name, Status.CRITICAL,
                                  describe_error(exc, target.timeout_ms))
    ms = (time.perf_counter() - started) * 1000
    readings = {"latency_ms": Reading(ms, "ms")}
    if code != target.expect_status:
        return ProbeResult(target.name, Status.CRITICAL,
                           f"HTTP {code}, expected {target.expect_status}",
                           latency_ms=ms, readings=readings)
    return ProbeResult(target.name, Status.OK, f"HTTP {code} in {ms:.0f} ms", latency_ms=ms,
                       readings=readings)
