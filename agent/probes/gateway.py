"""Probe of the voice gateway: an HTTP health check plus a WebSocket exchange.

Both halves are configuration (`targets.gateway.health`, `targets.gateway.websocket`):
the health path and its status words as for the backend, and the WebSocket path
(`{session}` becomes a fresh id), the text frame sent and the answer expected
(`{json_path, equals}`, `{contains}`, `{}` for any frame, or null: connecting is
enough). Frames that do not match, such as a greeting, are skipped until the deadline.
Either half may be null; the gateway may be the backend's own URL.

A gateway whose health is fine but whose WebSocket does not answer cannot carry a
voice session, so the exchange failing is CRITICAL too. A refused upgrade names the
HTTP status the server gave.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass

import httpx

from agent.config import GatewayTarget, WebSocketCheck, WebSocketExpect
from vocab.model import ProbeResult, Reading, Status
from agent.probes.health import MISSING, fetch, judge, lookup, same_value
from agent.probes.http import ProbeFailure, make_client

COMPONENT = "gateway"
MAX_WS_MESSAGE = 256 * 1024
MAX_FRAMES = 32
"""Frames read while waiting for the expected one (the deadline applies as well)."""
CLOSE_S = 0.5


@dataclass(frozen=True)
class Exchange:
    """What one WebSocket exchange saw: time to the expected frame (or to the connect,
    when nothing is expected) and the frames received up to then."""

    ms: float
    frames: tuple[str, ...] = ()


class NoMatch(Exception):
    """Frames came, none was the expected one."""

    def __init__(self, frames: tuple[str, ...]):
        super().__init__(f"{len(frames)} frames, none matched")
        self.frames = frames


def ws_base(url: str) -> str:
    return url.replace("https://", "wss://", 1).replace("http://", "ws://", 1)


def ws_url(base_url: str, path: str, session: str) -> str:
    return ws_base(base_url) + path.replace("{session}", session)


def new_session() -> str:
    return f"alice-ops-{uuid.uuid4().hex[:8]}"



def frame_matches(frame: str, expect: WebSocketExpect) -> bool:
    """Pure: does one text frame satisfy `expect`?"""
    if expect.contains is not None:
        return expect.contains in frame
    if expect.json_path is None:
        return True
    try:
        doc = json.loads(frame)
    except ValueError:
        return False
    value = lookup(doc, expect.json_path)
    return value is not MISSING and same_value(value, expect.equals)


def describe_expect(expect: WebSocketExpect | None) -> str:
    if expect is None:
        return "nothing"
    if expect.contains is not None:
        return f"a frame containing {expect.contains!r}"
    if expect.json_path is not None:
        return f"{expect.json_path} == {json.dumps(expect.equals)}"
    return "any frame"


async def exchange(url: str, check: WebSocketCheck, timeout_s: float) -> Exchange:
    """Connect, send `check.send`, read frames until one matches `check.expect`; the
    deadline covers all of it (closing afterwards adds at most CLOSE_S)."""
    from websockets.asyncio.client import connect

    loop = asyncio.get_running_loop()
    started, deadline = time.perf_counter(), loop.time() + timeout_s
    frames: list[str] = []
    async with connect(url, open_timeout=timeout_s, close_timeout=CLOSE_S,
                       max_size=MAX_WS_MESSAGE, ping_interval=None) as ws:
        try:
            async with asyncio.timeout_at(deadline):
                if check.send is not None:
                    await ws.send(check.send)
                if check.expect is None:
                    return Exchange((time.perf_counter() - started) * 1000)
                for _ in range(MAX_FRAMES):
                    frame = await ws.recv()
                    text = frame if isinstance(frame, str) else f"<{len(frame)} bytes>"
                    frames.append(text)
                    if frame_matches(text, check.expect):
                        return Exchange((time.perf_counter() - started) * 1000, tuple(frames))
        except TimeoutError:
            if frames:
                raise NoMatch(tuple(frames)) from None
            raise
    raise NoMatch(tuple(frames))


def ws_reason(exc: BaseException, timeout_ms: float, expect: WebSocketExpect | None = None
              ) -> str:
    """One line for a failed exchange (shared with discover)."""
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

    if isinstance(exc, InvalidStatus):
        return f"upgrade refused with HTTP {exc.response.status_code}"
    if isinstance(exc, NoMatch):
        last = exc.frames[-1][:60] if exc.frames else ""
        return (f"no frame matched {describe_expect(expect)} within {timeout_ms:g} ms "
                f"({len(exc.frames)} received, last {last!r})")
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return f"no answer within {timeout_ms:g} ms"
    if isinstance(exc, ConnectionClosed):
        rcvd = exc.rcvd
        if rcvd is not None:
            why = f": {rcvd.reason[:60]}" if rcvd.reason else ""
            return f"closed by the server before answering (code {rcvd.code}{why})"
        return "closed by the server before answering"
    if isinstance(exc, InvalidURI):
        return "not a valid WebSocket URL"
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
    check, ws_check = target.health, target.websocket

    async def health():
        if check is None:
            return None
        async with make_client(target.timeout_ms, transport) as client:
            return await fetch(client, target.url, check, target.timeout_ms)

    async def websocket():
        if ws_check is None:
            return None
        url = ws_url(target.url, ws_check.path, new_session())
        return await asyncio.wait_for(ws_exchange(url, ws_check, timeout_s),
                                      timeout_s + CLOSE_S + 0.1)

    health_res, ws_res = await asyncio.gather(health(), websocket(), return_exceptions=True)
    problems, readings, details = [], {}, {}
    status, latency = Status.OK, None
    if check is not None:
        if isinstance(health_res, ProbeFailure):
            problems.append(f"{check.path}: {health_res}")
            status = Status.CRITICAL
        elif isinstance(health_res, BaseException):
            problems.append(f"{check.path}: failed ({health_res.__class__.__name__})")
            status = Status.CRITICAL
        else:
            code, body, latency = health_res
            readings["health_latency_ms"] = Reading(latency, "ms")
            verdict = judge(code, body, check, "health")
            details["health"] = verdict.details(check.path)
            status = verdict.status
            if verdict.status is not Status.OK:
                problems.append(verdict.summary)
    if ws_check is not None:
        if isinstance(ws_res, BaseException):
            reason = ws_reason(ws_res, target.timeout_ms, ws_check.expect)
            problems.append(f"WebSocket {ws_check.path}: {reason}")
            readings["ws_exchange_ms"] = Reading(None, "ms", "exchange failed")
            status = Status.CRITICAL
        else:
            readings["ws_exchange_ms"] = Reading(ws_res.ms, "ms")
    if problems:
        return ProbeResult(COMPONENT, status, "; ".join(problems)[:280], latency_ms=latency,
                           readings=readings, details=details)
    done = [part for part, on in (("health ok", check), ("WebSocket exchange ok", ws_check))
            if on is not None]
    return ProbeResult(COMPONENT, Status.OK, ", ".join(done), latency_ms=latency,
                       readings=readings, details=details)
