"""Fixtures for the simulator tests: a started Simulator on free loopback ports."""

from __future__ import annotations

import httpx
import pytest
from simquery import query
from waiting import wait_for

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
        # its query API answers with data (the first tick of traffic is recorded)
        assert wait_for(lambda: query(threaded, "avg(intent_classification_accuracy)"),
                        timeout=10)
        yield threaded
