"""SIGHUP re-plans without firing every probe: 20 reloads in a row leave the probe rate
as it was (each job keeps its phase), and the "restart needed" warning compares with
the config in force, not with the last reload."""

from __future__ import annotations

import asyncio
import signal
import time

from agentproc import write_config


def _reloads(agent) -> int:
    return sum(1 for r in agent.records() if r["msg"].startswith("config reloaded"))


def _restart_warnings(agent) -> list[str]:
    return [r["msg"] for r in agent.records()
            if r["msg"].startswith("config reload: ") and "restart alice-agent" in r["msg"]]


async def _hup(agent, times: int, every_s: float = 0.0) -> None:
    for _ in range(times):
        await asyncio.sleep(every_s)  # paces the signals (the stimulus), waits for nothing
        seen = _reloads(agent)
        agent.signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while _reloads(agent) == seen:  # each reload done before the next signal
            assert time.monotonic() < deadline, agent.tail()
            await asyncio.sleep(0.01)


async def test_twenty_hups_do_not_multiply_probe_runs(tmp_path, sim, start_agent):
    path, db = tmp_path / "alice-ops.yaml", tmp_path / "state.db"
    write_config(path, sim.urls, data_path=db, components=("openai", "backend"),
                 agent={"intervals": {"fast_s": 2, "deep_s": 2}, "jitter_s": 0})
    agent = await start_agent(path)
    snap = await agent.wait_for(lambda s: s["agent"]["cycles_total"].get("backend", 0) >= 1,
                                "a first backend probe")
    t0, before = time.monotonic(), snap["agent"]["cycles_total"]["backend"]
    await _hup(agent, 20, every_s=0.2)  # 4 s of reloads: two intervals
    snap = await agent.wait_for(lambda s: True, "a snapshot after the reloads")
    elapsed = time.monotonic() - t0
    runs = snap["agent"]["cycles_total"]["backend"] - before
    # at one run per 2 s interval, plus one for a run due at either edge of the window
    assert runs <= elapsed / 2 + 2, (runs, elapsed)
    assert _restart_warnings(agent) == []
    agent.signal(signal.SIGTERM)
    assert await agent.wait_exit() == 0


async def test_restart_warnings_compare_with_the_config_in_force(tmp_path, sim, start_agent):
    path, db = tmp_path / "alice-ops.yaml", tmp_path / "state.db"
    write_config(path, sim.urls, data_path=db)
    agent = await start_agent(path)
    moved = db.with_name("other.db")
    write_config(path, sim.urls, data_path=moved)
    await _hup(agent, 1)
    await _hup(agent, 1)  # still not applied: still a restart away
    assert len(_restart_warnings(agent)) == 2 and all(
        "agent.data_path" in w for w in _restart_warnings(agent)), _restart_warnings(agent)
    write_config(path, sim.urls, data_path=db)  # back to what runs: nothing to restart for
    await _hup(agent, 1)
    assert len(_restart_warnings(agent)) == 2, _restart_warnings(agent)
    agent.signal(signal.SIGTERM)
    assert await agent.wait_exit() == 0
