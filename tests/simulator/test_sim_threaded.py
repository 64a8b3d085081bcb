"""`run_in_thread`: the simulator for synchronous callers."""

from __future__ import annotations

import socket

import httpx
import pytest

from simulator.server import BindError, SimPorts, run_in_thread


def test_threaded_simulator_controls():
    with run_in_thread(scenario="backend-degraded") as sim:
        assert sim.scenario == "backend-degraded"
        health = httpx.get(sim.urls["backend"] + "/api/health", timeout=5).json()
        assert health["status"] == "degraded"
        sim.set_scenario("normal")
        assert httpx.get(sim.urls["backend"] + "/api/health", timeout=5).json() == {
            "status": "healthy"}
        httpx.post(sim.urls["backend"] + "/api/admin/set-mode", json={"mode": "offline"},
                   timeout=5)
        assert sim.state["mode"] == "offline"
        sim.set_latency(0, endpoint="openai")
        with pytest.raises(ValueError):
            sim.set_scenario("bogus")
    with pytest.raises(httpx.ConnectError):
        httpx.get(sim.urls["backend"] + "/api/health", timeout=1)


def test_threaded_bind_error_is_raised_in_the_caller():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(BindError) as caught:
            run_in_thread(ports=SimPorts(gateway=port))
    assert caught.value.service == "gateway" and caught.value.port == port
