"""Restarts and stops of the in-process Runtime (fake clock): a pending alert keeps the `for`
time already served (the downtime never counts; a long outage starts over), and a cycle
whose caller is cancelled still commits."""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor
from typing import AsyncIterator

import pytest

from agent.config import parse_config
from agent.runtime import Runtime
from agent.store import Store
from agentproc import SIM_KEY
from alerts.lifecycle import Phase

T0 = 1_800_000_000.0


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@contextlib.asynccontextmanager
async def _agent(db, config, clock: Clock) -> AsyncIterator[Runtime]:
    """A started Runtime on `db` (as after a restart at `clock.now`); stopped on exit."""
    executor = ThreadPoolExecutor(1)
    loop = asyncio.get_running_loop()
    store = await loop.run_in_executor(executor, Store.open, db)
    runtime = Runtime(config, store, executor, [], clock=clock)
    try:
        await runtime.start()
        yield runtime
    finally:
        await runtime.stop()
        await loop.run_in_executor(executor, store.close)
        executor.shutdown()


async def _tick(runtime: Runtime, clock: Clock, t: float):
    clock.now = t
    await runtime.run_job("openai")
    return runtime.states["openai_health"]


def _config(urls: dict[str, str], tolerance_s: float):
    return parse_config(f"""
targets:
  openai: {{base_url: "{urls['openai']}", api_key: "{SIM_KEY}"}}
agent: {{outage_tolerance_s: {tolerance_s}}}
alerts: {{for_s: 60}}
""", "<test>")


@pytest.mark.parametrize("tolerance_s, restored, restarted_since", [
    # 10 s served before a 30 s outage: 50 s to go after it
    (3600, "pending", T0 + 30),
    # an outage beyond the tolerance: the next bad result starts a new episode
    (20, "inactive", T0 + 40),
])
async def test_pending_alert_keeps_its_served_time_across_a_restart(
        tmp_path, sim, tolerance_s, restored, restarted_since):
    sim.set_scenario("openai-outage")
    db, clock = tmp_path / "state.db", Clock(T0)
    config = _config(sim.urls, tolerance_s)

    async with _agent(db, config, clock) as before:
        await _tick(before, clock, T0)
        state = await _tick(before, clock, T0 + 10)
    assert (state.phase, state.active_since) == (Phase.PENDING, T0)

    clock.now = T0 + 40  # the agent was down for 30 s
    async with _agent(db, config, clock) as after:
        state = after.states["openai_health"]
        assert state.phase == restored
        if restored == "pending":
            assert state.active_since == restarted_since
            view = next(a for a in after.snapshot.alerts if a.name == "openai_health")
            assert (view.phase, view.started_at, view.fired_at) == ("pending", T0 + 30, None)
        state = await _tick(after, clock, T0 + 40)
        assert (state.phase, state.active_since) == (Phase.PENDING, restarted_since)
        # It fires once 60 s of uptime have been served, not before.
        fires_at = restarted_since + 60
        state = await _tick(after, clock, fires_at - 1)
        assert state.phase is Phase.PENDING
        state = await _tick(after, clock, fires_at)
        assert (state.phase, state.fired_at) == (Phase.FIRING, fires_at)


async def test_a_cycle_whose_caller_is_cancelled_still_commits(tmp_path, sim):
    """apscheduler's shutdown cancels the jobs it runs; the cycle must finish anyway."""
    sim.set_scenario("openai-outage")
    sim.set_latency(300, "openai")
    db, clock = tmp_path / "state.db", Clock(T0)
    async with _agent(db, _config(sim.urls, 3600), clock) as runtime:
        caller = asyncio.create_task(runtime.run_job("openai"))
        await asyncio.sleep(0.1)  # mid-probe
        caller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await caller
    with contextlib.closing(Store.open(db)) as store:
        assert store.last_seen() == T0
        saved = store.load_alert_states()
    assert [row.rule for row in saved.values()] == ["openai_health"]
