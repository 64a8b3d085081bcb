"""Fixtures for the agent runtime tests: the simulator, recording webhook receivers, and
real `alice-agent` subprocesses that are always reaped at teardown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agentproc import SIM_KEY, SIM_KEY_ENV, AgentProcess
from webhooks import Receivers  # tests/ is on sys.path


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


@pytest.fixture
async def webhook_receiver():
    """Factory: `await webhook_receiver(port=None) -> Receiver`, listening on loopback.

    `webhook_receiver.reserve()` gives a Receiver on a free port without listening
    yet (connections are refused); `await webhook_receiver.listen(r)` starts it.
    """
    receivers = Receivers()
    yield receivers
    await receivers.close()
