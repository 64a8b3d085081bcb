"""Fixtures for the agent runtime tests: the simulator, recording webhook receivers, and
real `alice-agent` subprocesses that are always reaped at teardown."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from agentproc import SIM_KEY, SIM_KEY_ENV, AgentProcess
from alertmanager import free_port  # tests/ is on sys.path


@pytest.fixture
def sim():
    """The Alice simulator (normal scenario) in a thread; it accepts only SIM_KEY."""
    from simulator.server import run_in_thread

    threaded = run_in_thread(api_key=SIM_KEY)
    try:
        yield threaded
    finally:
        threaded.stop()


@pytest.fixture
def sim_env(monkeypatch) -> dict[str, str]:
    """The environment the agent reads the simulator's key from (`${ALICE_TEST_OPENAI_KEY}`)."""
    monkeypatch.setenv(SIM_KEY_ENV, SIM_KEY)
    return {SIM_KEY_ENV: SIM_KEY}


@pytest.fixture
def start_agent(tmp_path, sim_env):
    """Factory: `await start_agent(config, *args, env=None, token=None) -> AgentProcess`
    (running; `token` is sent with the helper's own GETs)."""
    runs: list[AgentProcess] = []

    def make(config: Path, *args: str, env: dict[str, str] | None = None,
             token: str | None = None, **kwargs: Any) -> AgentProcess:
        proc = AgentProcess(config, tmp_path, args=args, env=env, run=len(runs), token=token,
                            **kwargs)
        runs.append(proc)
        return proc

    async def start(config: Path, *args: str, env: dict[str, str] | None = None,
                    token: str | None = None, timeout_s: float = 20.0) -> AgentProcess:
        return await make(config, *args, env=env, token=token).start(timeout_s)

    start.make = make  # for a run expected to fail before listening
    yield start
    for proc in runs:
        proc.close()


@dataclass
class Recorded:
    """One request a receiver got."""

    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Receiver:
    """A webhook receiver that records every request (as in tests/alerts/conftest.py)."""

    port: int
    status: int = 200
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
        self.requests.append(Recorded(request.path, dict(request.headers), body))
        self.got.set()
        return web.json_response({"ok": True}, status=self.status)


@pytest.fixture
async def webhook_receiver():
    """Factory: `await webhook_receiver(port=None) -> Receiver`, listening on loopback.

    `webhook_receiver.reserve()` gives a Receiver on a free port without listening
    yet (connections are refused); `await webhook_receiver.listen(r)` starts it.
    """
    runners: list[web.AppRunner] = []

    async def listen(receiver: Receiver) -> Receiver:
        app = web.Application()
        app.router.add_post("/{tail:.*}", receiver.handle)
        runner = web.AppRunner(app, shutdown_timeout=0.5)
        await runner.setup()
        runners.append(runner)
        await web.TCPSite(runner, "127.0.0.1", receiver.port).start()
        return receiver

    async def start(port: int | None = None, status: int = 200) -> Receiver:
        return await listen(Receiver(port or free_port(), status))

    start.reserve = lambda: Receiver(free_port())
    start.listen = listen
    yield start
    for runner in runners:
        await runner.cleanup()
