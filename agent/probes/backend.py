"""Probe of the Alice backend: `GET /api/health` and its status field.

"healthy" is OK, "degraded" is WARNING, any other status (or none) is CRITICAL —
the guide's health_check.sh only grepped for "healthy"; we say what we saw.
"""

from __future__ import annotations

import httpx

from agent.config import BackendTarget
from agent.model import ProbeResult, Reading, Status
from agent.probes.http import ProbeFailure, get_json, make_client

COMPONENT = "backend"
_GOOD = {"healthy", "ok", "up", "pass"}
_DEGRADED = {"degraded", "warn", "warning"}


async def probe(target: BackendTarget, transport: httpx.AsyncBaseTransport | None = None
                ) -> ProbeResult:
    async with make_client(target.timeout_ms, transport) as client:
        try:
            code, body, ms = await get_json(client, f"{target.url}/api/health",
                                            target.timeout_ms)
        except ProbeFailure as exc:
            return ProbeResult.failed(COMPONENT, Status.CRITICAL, f"/api/health: {exc}")
    readings = {"health_latency_ms": Reading(ms, "ms")}
    reported = body.get("status") if isinstance(body, dict) else None
    if code != 200:
        extra = f", status {reported!r}" if reported else ""
        return ProbeResult(COMPONENT, Status.CRITICAL, f"/api/health answered HTTP {code}{extra}",
                           latency_ms=ms, readings=readings)
    if not isinstance(reported, str):
        return ProbeResult(COMPONENT, Status.CRITICAL, "/api/health has no status field",
                           latency_ms=ms, readings=readings)
    word = reported.strip().lower()
    if word in _GOOD:
        status = Status.OK
    elif word in _DEGRADED:
        status = Status.WARNING
    else:
        status = Status.CRITICAL
    return ProbeResult(COMPONENT, status, f"backend reports {reported!r}"[:120], latency_ms=ms,
                       readings=readings)
