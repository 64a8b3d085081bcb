"""Probe of OpenAI's Realtime API through the official client: open the WebSocket, wait for the
server's first event (`session.created`) within the deadline, close without sending audio.

Realtime is billed per Response (its input and output tokens, audio far dearer than text);
this probe creates no Response, so it costs nothing, but it does take a session slot for the
few hundred milliseconds it is open.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from dataclasses import dataclass

from agent.config import OpenAITarget
from vocab.model import Status
from agent.probes.lazy import load
from vocab.redact import redact


@dataclass(frozen=True)
class RealtimeVerdict:
    status: Status
    summary: str
    session_ms: float | None = None


def websocket_base(target: OpenAITarget) -> str:
    """The base the SDK appends `/realtime` to: the configured endpoint minus `/realtime`, or
    the REST base URL with ws(s)://."""
    url = target.realtime.url
    if url is None:
        return target.base_url.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
    return url.removesuffix("/realtime")


def one_line(text: str, limit: int = 160) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _refusal(exc: BaseException, timeout_ms: float) -> str:
    """Words for a failed WebSocket opening (the upgrade's HTTP status where there was one)."""
    import websockets

    if isinstance(exc, TimeoutError):
        return f"no session.created within {timeout_ms:g} ms"
    if isinstance(exc, websockets.InvalidStatus):
        code = exc.response.status_code
        body = exc.response.body or b""
        try:
            error = json.loads(body).get("error") or {}
            said = f": {error.get('code') or error.get('type')}: {error.get('message')}"
        except (ValueError, AttributeError):
            said = ""
        kind = "authentication failed" if code == 401 else "upgrade refused"
        return f"{kind} (HTTP {code}){one_line(said)}"
    if isinstance(exc, websockets.ConnectionClosed):
        return f"closed before session.created (code {exc.rcvd.code if exc.rcvd else 'none'})"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "host name does not resolve"
    if isinstance(exc, OSError):
        return f"cannot connect ({exc.__class__.__name__})"
    return f"cannot open the WebSocket ({exc.__class__.__name__})"


async def probe_realtime(target: OpenAITarget) -> RealtimeVerdict:
    """Open a session and judge its first event; never raises."""
    openai = await load("openai")
    settings = target.realtime
    timeout_ms = settings.timeout_ms or target.timeout_ms
    key = target.api_key.get_secret_value()
    headers = {"OpenAI-Beta": "realtime=v1"} if settings.beta_header else {}
    client = openai.AsyncOpenAI(base_url=target.base_url, api_key=key, max_retries=0,
                                websocket_base_url=websocket_base(target))
    started = time.perf_counter()

    async def session() -> dict:
        manager = client.realtime.connect(
            model=settings.model, extra_headers=headers,
            websocket_connection_options={"open_timeout": timeout_ms / 1000,
                                          "close_timeout": 1.0, "max_size": 1 << 20})
        async with manager as connection:
            first = json.loads(await connection.recv_bytes())
            return first if isinstance(first, dict) else {"type": None}

    try:
        async with client:
            event = await asyncio.wait_for(session(), timeout_ms / 1000)
    except Exception as exc:  # every failure becomes data at this edge
        return RealtimeVerdict(Status.CRITICAL,
                               redact("Realtime " + _refusal(exc, timeout_ms), [key]))
    elapsed = (time.perf_counter() - started) * 1000
    kind = event.get("type")
    if kind == "session.created":
        model = (event.get("session") or {}).get("model") or settings.model
        return RealtimeVerdict(Status.OK, f"Realtime session ok ({model}, {elapsed:.0f} ms)",
                               elapsed)
    if kind == "error":
        error = event.get("error") or {}
        said = one_line(f"{error.get('code') or error.get('type')}: {error.get('message')}")
        return RealtimeVerdict(Status.CRITICAL, redact(f"Realtime error event: {said}", [key]))
    return RealtimeVerdict(Status.CRITICAL,
                           f"Realtime first event is {one_line(str(kind), 60)!r}, "
                           "not session.created")
