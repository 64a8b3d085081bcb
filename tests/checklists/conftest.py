"""A simulator shared by the checklist tests (every target on free loopback ports)."""

from __future__ import annotations

import pytest
from checklist_env import SIM_KEY

from simulator.server import SimPorts, run_in_thread


@pytest.fixture(scope="package")
def sim():
    with run_in_thread(seed=7, ports=SimPorts(0, 0, 0, 0, 0), api_key=SIM_KEY) as threaded:
        yield threaded


