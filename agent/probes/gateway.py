"""Probe of the voice gateway: `GET /health` plus a WebSocket connect-and-exchange.

A gateway whose /health is fine but whose WebSocket does not answer cannot carry
a voice session, so the exchange failing is CRITICAL too.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import httpx

from agent.config import GatewayTarget
from agent.model import ProbeResult, Reading, Status
from agent.probes.http import ProbeFailure, get_json, make_client

COMPONENT = "gateway"
MAX_WS_MESSAGE = 256 * 1024


def ws_url(target: GatewayTarget, session: str) -> str:
    base = target.url.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
    return base + target.ws_path.replace("{session}", session)


async def exchange(url: str, timeout_s: float) -> float:
    """Connect, read the greeting if any, send a ping, wait for any answer; return ms."""
    from websockets.asyncio.client import connect

    started = time.perf_counter()
    async with connect(url, open_timeout=timeout_s, close_timeout=0.5,
                       max_size=MAX_WS_MESSAGE, ping_interval=None) as ws:
        await ws.send(json.dumps({"type": "ping", "source": "alice-ops"}))
        await asyncio.wait_for(ws.recv(), timeout_s)
    return (time.perf_counter() - started) * 1000


def _ws_reason(exc: BaseException, timeout_ms: int) -> str:
    from websockets.exceptions import ConnectionClosed, InvalidStatus, InvalidHandshake

    if isinstance(exc, InvalidStatus):
        return f"upgrade refused with HTTP {exc.response.status_code}"
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return f"no answer within {timeout_ms} ms"
    if isinstance(exc, ConnectionClosed):
        return "closed by the gateway before answering"
    if isinstance(exc, InvalidHandshake):
        return "not a WebSocket answer"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, OSError):
        return f"cannot connect ({exc.__class__.__name__})"
    return f"failed ({exc.__class__.__name__})"


async def probe(target: GatewayTarget, transport: httpx.AsyncBaseTransport | None = None,
                ws_exchange=exchange) -> ProbeResult:
    timeout_s = target.timeout_ms / 1000

    async def health():
        async with make_client(target.timeout_ms, transport) as client:
            return await get_json(client, f"{target.url}/health", target.timeout_ms)

    async def websocket():
        return await asyncio.wait_for(
            ws_exchange(ws_url(target, f"alice-ops-{uuid.uuid4().hex[:8]}"), timeout_s),
            timeout_s)

    health_res, ws_res = await asyncio.gather(health(), websocket(), return_exceptions=True)
    problems, readings = [], {}
    latency = None
    if isinstance(health_res, ProbeFailure):
        problems.append(f"/health: {health_res}")
    elif isinstance(health_res, BaseException):
        problems.append(f"/health: failed ({health_res.__class__.__name__})")
    else:
        code, body, latency = health_res
        readings["health_latency_ms"] = Reading(latency, "ms")
        if code != 200:
            problems.append(f"/health answered HTTP {code}")
    if isinstance(ws_res, BaseException):
        problems.append(f"WebSocket {target.ws_path}: {_ws_reason(ws_res, target.timeout_ms)}")
        readings["ws_exchange_ms"] = Reading(None, "ms", "exchange failed")
    else:
        readings["ws_exchange_ms"] = Reading(ws_res, "ms")
    if problems:
        return ProbeResult(COMPONENT, Status.CRITICAL, "; ".join(problems), latency_ms=latency,
                           readings=readings)
    return ProbeResult(COMPONENT, Status.OK, "health ok, WebSocket exchange ok",
                       latency_ms=latency, readings=readings)
