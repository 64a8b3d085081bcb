"""Probe of the Alice backend: its health endpoint (`targets.backend.health`, default
`GET /api/health`), the status word and any nested sub-statuses.

An ok-word is OK, a degraded-word WARNING, any other word (or none) CRITICAL; a nested
sub-status in a bad word (`database.status: "error"`) makes the backend
`sub_status_bad`. The guide's health_check.sh only grepped for "healthy"; we say what
we saw. The words and paths are configuration (`HealthCheck`), found by
`alice-ops discover`.
"""

from __future__ import annotations

import httpx

from agent.config import BackendTarget
from vocab.model import ProbeResult, Reading, Status
from agent.probes.health import fetch, judge
from agent.probes.http import ProbeFailure, make_client

COMPONENT = "backend"


async def probe(target: BackendTarget, transport: httpx.AsyncBaseTransport | None = None
                ) -> ProbeResult:
    check = target.health
    async with make_client(target.timeout_ms, transport) as client:
        try:
            code, body, ms = await fetch(client, target.url, check, target.timeout_ms)
        except ProbeFailure as exc:
            return ProbeResult.failed(COMPONENT, Status.CRITICAL, f"{check.path}: {exc}")
    readings = {"health_latency_ms": Reading(ms, "ms")}
    verdict = judge(code, body, check, "backend")
    return ProbeResult(COMPONENT, verdict.status, verdict.summary[:200], latency_ms=ms,
                       readings=readings, details={"health": verdict.details(check.path)})
