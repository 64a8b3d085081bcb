"""Webhook receivers that record every request, on free loopback ports (tests only)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from alertmanager import free_port


@dataclass
class Recorded:
    """One request a receiver got."""

    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Receiver:
    """A webhook receiver: answers `status` after `delay_s`, records every request."""

    port: int
    status: int = 200
    delay_s: float = 0.0
    requests: list[Recorded] = field(default_factory=list)
    got: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode(errors="replace")
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        self.requests.append(Recorded(request.path, dict(request.headers), body))
        self.got.set()
        if self.status >= 400:  # echo the auth header back: errors must still redact it
            return web.Response(status=self.status,
                                text=f"boom; you sent {request.headers.get('Authorization')}")
        return web.json_response({"ok": True}, status=self.status)


class Receivers:
    """`await receivers(port=None, status=200, delay_s=0)` starts one; `reserve()` gives one
    on a free port that refuses connections until `await listen(r)`; `close()` stops all."""

    def __init__(self) -> None:
        self._runners: list[web.AppRunner] = []

    async def listen(self, receiver: Receiver) -> Receiver:
        app = web.Application()
        app.router.add_post("/{tail:.*}", receiver.handle)
        runner = web.AppRunner(app, shutdown_timeout=0.5)
        await runner.setup()
        self._runners.append(runner)
        await web.TCPSite(runner, "127.0.0.1", receiver.port).start()
        return receiver

    async def __call__(self, port: int | None = None, status: int = 200,
                       delay_s: float = 0.0) -> Receiver:
        return await self.listen(Receiver(port or free_port(), status, delay_s))

    def reserve(self) -> Receiver:
        return Receiver(free_port())

    async def close(self) -> None:
        for runner in self._runners:
            await runner.cleanup()
