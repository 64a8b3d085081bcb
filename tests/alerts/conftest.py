"""Fixtures for the alerts tests: a real Alertmanager, and webhook receivers that record.

Both listen on free loopback ports and are shut down at teardown.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from alertmanager import free_port, running_alertmanager  # tests/ is on sys.path


@pytest.fixture
def alertmanager_url(tmp_path):
    """Base URL of a fresh Alertmanager (null receiver, no clustering), stopped afterwards."""
    with running_alertmanager(tmp_path / "alertmanager") as url:
        yield url


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


@pytest.fixture
async def webhook_receiver():
    """Factory: `await webhook_receiver(port=None, status=200, delay_s=0) -> Receiver`."""
    runners: list[web.AppRunner] = []

    async def start(port: int | None = None, status: int = 200, delay_s: float = 0.0) -> Receiver:
        receiver = Receiver(port or free_port(), status, delay_s)
        app = web.Application()
        app.router.add_post("/{tail:.*}", receiver.handle)
        runner = web.AppRunner(app, shutdown_timeout=0.5)
        await runner.setup()
        runners.append(runner)
        await web.TCPSite(runner, "127.0.0.1", receiver.port).start()
        return receiver

    yield start
    for runner in runners:
        await runner.cleanup()
