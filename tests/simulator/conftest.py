"""Fixtures for the simulator tests: a started Simulator on free loopback ports."""

from __future__ import annotations

import time

import httpx
import pytest

from simulator.server import SimPorts, Simulator, run_in_thread

API_KEY = "sk-sim-test-key"
ADMIN_KEY = "sk-admin-sim-key"


@pytest.fixture
async def sim():
    """A started Simulator on free ports (normal scenario, fixed seed)."""
    async with Simulator(ports=SimPorts(), seed=7, api_key=API_KEY, admin_key=ADMIN_KEY) as s:
        yield s


@pytest.fixture
async def http():
    async with httpx.AsyncClient(timeout=5.0) as client:
        yield client


@pytest.fixture
def sim_thread():
    """A Simulator in a background thread, for synchronous clients."""
    with run_in_thread(seed=3) as threaded:
        time.sleep(0.5)
        yield threaded
