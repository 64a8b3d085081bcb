"""Signals: SIGHUP reloads the config (a broken file is refused and the old one keeps
running), SIGTERM finishes the work in flight and exits 0."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import time

import httpx
from aiohttp import web

from agentproc import alert, component, firing, notices, write_config
from alertmanager import free_port  # tests/ is on sys.path


def _cycles(snap: dict) -> int:
    return sum(snap["agent"]["cycles_total"].values())


async def test_sighup_reloads_or_refuses_and_sigterm_exits_cleanly(tmp_path, sim, start_agent):
    path = tmp_path / "alice-ops.yaml"
    write_config(path, sim.urls, data_path=tmp_path / "state.db")
    agent = await start_agent(path)
    sim.set_scenario("openai-outage")
    snap = await agent.wait_for(firing("openai_health"), "openai_health firing")
    started = alert(snap, "openai_health")["started_at"]

    good = path.read_text()
    path.write_text("targets: [this is: not\n  valid: yaml")
    agent.signal(signal.SIGHUP)
    await agent.wait_for(lambda s: "reload refused" in agent.log_text(), "the refusal")
    refused = [r for r in agent.records() if "reload refused" in r["msg"]]
    assert refused and refused[0]["level"] == "ERROR" and str(path) in refused[0]["msg"]
    before = await agent.snapshot()
    await agent.wait_for(lambda s: _cycles(s) >= _cycles(before) + 3
                         and s["agent"]["cycles_total"]["openai"]
                         >= before["agent"]["cycles_total"]["openai"] + 2,
                         "probes running on after the refusal")

    path.write_text(good)
    write_config(path, sim.urls, data_path=tmp_path / "state.db", endpoints=[
        {"name": "calendar", "url": sim.urls["backend"] + "/api/health"}])
    agent.signal(signal.SIGHUP)
    snap = await agent.wait_for(lambda s: (component(s, "calendar") or {}).get("status") == "ok",
                                "the new endpoint probed")
    assert "config reloaded" in agent.log_text()
    assert alert(snap, "openai_health")["state"] == "firing"
    assert alert(snap, "openai_health")["started_at"] == started  # kept across the reload

    agent.signal(signal.SIGTERM)
    assert await agent.wait_exit() == 0
    assert agent.records()[-1]["msg"] == "stopped cleanly"
    assert "Traceback" not in agent.output_text()


async def test_sigterm_finishes_the_probe_in_flight_despite_an_attached_stream(
        tmp_path, sim, start_agent):
    started = asyncio.Event()

    async def slow_health(_request: web.Request) -> web.Response:
        started.set()
        await asyncio.sleep(1.0)
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/health", slow_health)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        path = write_config(tmp_path / "alice-ops.yaml", sim.urls,
                            data_path=tmp_path / "state.db", endpoints=[
                                {"name": "slowpoke", "url": f"http://127.0.0.1:{port}/health"}])
        agent = await start_agent(path)
        async with httpx.AsyncClient(timeout=30) as client:
            async with client.stream("GET", agent.url + "/api/v1/events") as stream:
                assert (await anext(stream.aiter_lines())).startswith("id: ")
                started.clear()
                await asyncio.wait_for(started.wait(), 5)  # a probe is in flight now
                asked, asked_at = time.monotonic(), time.time()
                agent.signal(signal.SIGTERM)
                assert await agent.wait_exit(timeout_s=20) == 0
                took = time.monotonic() - asked
    finally:
        await runner.cleanup()
    assert took < 5, f"SIGTERM took {took:.1f}s with an event stream attached"
    errors = [r for r in agent.records() if r["level"] in ("ERROR", "CRITICAL")]
    assert not errors, errors  # e.g. a probe cancelled mid-cycle
    assert agent.records()[-1]["msg"] == "stopped cleanly"
    with contextlib.closing(sqlite3.connect(tmp_path / "state.db")) as conn:
        last_seen = conn.execute("SELECT value FROM meta WHERE key = 'last_seen'").fetchone()[0]
        probed = conn.execute("SELECT max(ts) FROM samples WHERE component = 'slowpoke'"
                              ).fetchone()[0]
    assert float(last_seen) > asked_at + 0.5  # the probe in flight finished and committed
    assert probed > asked_at


async def test_reload_that_removes_a_component_ends_its_alerts(tmp_path, sim, start_agent,
                                                               webhook_receiver):
    hook = await webhook_receiver()
    path, db = tmp_path / "alice-ops.yaml", tmp_path / "state.db"
    hooks = [{"name": "hook", "url": hook.url}]
    write_config(path, sim.urls, data_path=db, components=("openai", "backend"),
                 alerts={"repeat_interval_s": 1}, notifiers={"webhooks": hooks})
    agent = await start_agent(path)
    sim.set_scenario("openai-outage")
    await agent.wait_for(firing("openai_health"), "openai_health firing")
    deadline = time.monotonic() + 10
    while len(notices(hook.requests, "openai_health", "firing")) < 2:  # reminders flow
        assert time.monotonic() < deadline, [r.body for r in hook.requests]
        await asyncio.sleep(0.1)

    write_config(path, sim.urls, data_path=db, components=("backend",),
                 alerts={"repeat_interval_s": 1}, notifiers={"webhooks": [
                     *hooks, {"name": "later", "url": hook.url + "/2"}]})
    agent.signal(signal.SIGHUP)
    snap = await agent.wait_for(lambda s: component(s, "openai") is None
                                and s["agent"]["outbox_pending"] == 0, "openai gone")
    assert alert(snap, "openai_health") is None
    deadline = time.monotonic() + 5
    while not notices(hook.requests, "openai_health", "resolved"):
        assert time.monotonic() < deadline, "no resolved notice for the removed alert"
        await asyncio.sleep(0.1)
    told = len(notices(hook.requests, "openai_health"))
    await asyncio.sleep(2.2)  # > 2 reminder intervals
    assert len(notices(hook.requests, "openai_health")) == told, "reminders for a removed alert"
    assert notices(hook.requests, "openai_health")[-1]["status"] == "resolved"
    warned = [r for r in agent.records() if r["level"] == "WARNING" and "restart" in r["msg"]]
    assert warned and "notifiers" in warned[0]["msg"], agent.tail()

    # The retired state was saved as inactive: a restart does not bring it back.
    agent.signal(signal.SIGTERM)
    assert await agent.wait_exit() == 0
    write_config(path, sim.urls, data_path=db, components=("openai", "backend"),
                 alerts={"repeat_interval_s": 1}, notifiers={"webhooks": hooks})
    sim.set_scenario("normal")
    again = await start_agent(path)
    snap = await again.wait_for(lambda s: s["agent"]["cycles_total"].get("openai", 0) >= 2,
                                "openai probed again")
    assert alert(snap, "openai_health") is None
    assert len(notices(hook.requests, "openai_health")) == told
