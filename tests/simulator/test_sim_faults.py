"""Cross-cutting faults: hang, garbage, injected latency and the /_sim control API."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from simulator.scenarios import SCENARIOS
from simulator.server import Simulator

ENDPOINTS = (("backend", "/api/health"), ("gateway", "/health"), ("ollama", "/api/tags"),
             ("openai", "/models"), ("prometheus", "/-/healthy"), ("backend", "/metrics"))


async def test_hang_times_out_then_recovers(sim, http):
    sim.set_scenario("hang")
    for service, path in ENDPOINTS:
        with pytest.raises(httpx.ReadTimeout):
            await http.get(sim.urls[service] + path, timeout=0.3)
    # the control API keeps answering while everything else hangs
    control = await http.get(sim.urls["gateway"] + "/_sim/scenario")
    assert control.json()["scenario"] == "hang"
    pending = asyncio.ensure_future(http.get(sim.urls["backend"] + "/api/health"))
    await asyncio.sleep(0.2)
    assert not pending.done()
    sim.set_scenario("normal")
    response = await asyncio.wait_for(pending, 2)
    assert response.json() == {"status": "healthy"}


async def test_stop_releases_hung_requests(http):
    sim = Simulator(scenario="hang")
    await sim.start()
    pending = asyncio.ensure_future(http.get(sim.urls["ollama"] + "/api/tags"))
    await asyncio.sleep(0.2)
    started = time.perf_counter()
    await sim.stop()
    assert time.perf_counter() - started < 1.0
    response = await asyncio.wait_for(pending, 2)
    assert response.status_code == 503


async def test_garbage_is_not_json(sim, http):
    sim.set_scenario("garbage")
    for service, path in ENDPOINTS:
        response = await http.get(sim.urls[service] + path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        with pytest.raises(json.JSONDecodeError):
            json.loads(response.text)
    assert (await http.get(sim.urls["ollama"] + "/_sim/scenario")).json()["scenario"] == "garbage"
    ws_url = sim.urls["gateway"].replace("http://", "ws://") + "/ws/voice/g"
    with pytest.raises(InvalidStatus) as caught:
        async with connect(ws_url, open_timeout=2):
            pass
    assert caught.value.response.status_code == 200


async def test_latency_injection(sim, http):
    url = sim.urls["backend"] + "/api/health"
    sim.set_latency(200)
    started = time.perf_counter()
    await http.get(url)
    assert time.perf_counter() - started >= 0.2
    sim.set_latency(0)
    sim.set_latency(300, endpoint="openai")
    started = time.perf_counter()
    await http.get(url)
    assert time.perf_counter() - started < 0.2
    started = time.perf_counter()
    await http.get(sim.urls["openai"] + "/models")
    assert time.perf_counter() - started >= 0.3
    sim.set_latency(250, endpoint="/api/tags")
    started = time.perf_counter()
    await http.get(sim.urls["ollama"] + "/api/tags")
    assert time.perf_counter() - started >= 0.25


async def test_constructor_latency(http):
    async with Simulator(latency_ms=200) as sim:
        started = time.perf_counter()
        await http.get(sim.urls["prometheus"] + "/-/healthy")
        assert time.perf_counter() - started >= 0.2
        started = time.perf_counter()
        await http.get(sim.urls["prometheus"] + "/_sim/scenario")
        assert time.perf_counter() - started < 0.2


async def test_control_api_on_every_port(sim, http):
    for service in ("backend", "gateway", "ollama", "prometheus"):
        body = (await http.get(sim.urls[service] + "/_sim/scenario")).json()
        assert body == {"scenario": "normal", "scenarios": list(SCENARIOS)}
    base = sim.urls["openai"].removesuffix("/v1")
    response = await http.post(base + "/_sim/scenario", json={"scenario": "openai-slow"})
    assert response.status_code == 200 and sim.scenario == "openai-slow"
    bad = await http.post(base + "/_sim/scenario", json={"scenario": "nope"})
    assert bad.status_code == 400 and "openai-outage" in bad.json()["error"]
    assert (await http.post(base + "/_sim/latency", json={"ms": 150})).status_code == 200
    assert (await http.get(base + "/_sim/latency")).json() == {"latency_ms": {"*": 150.0}}
    assert (await http.post(base + "/_sim/latency", json={"ms": -1})).status_code == 400
    assert (await http.get(base + "/_sim/state")).json()["mode"] == "normal"


def test_unknown_scenario_raises():
    with pytest.raises(ValueError, match="openai-outage"):
        Simulator(scenario="nope")
    sim = Simulator()
    with pytest.raises(ValueError, match="valid"):
        sim.set_scenario("nope")
    assert sim.scenario == "normal"
