"""Fixtures for remediation: a fake `docker` first on PATH that records its argv, and the
simulator on loopback (asyncio)."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest
from remediation_helpers import SIM_KEY

FAKE_DOCKER = """#!{python}
import json, os, sys, time
with open({log!r}, "a") as fh:
    fh.write(json.dumps(sys.argv[1:]) + "\\n")
if os.environ.get("FAKE_DOCKER_HANG") and "restart" in sys.argv:
    time.sleep(60)
sys.exit(int(os.environ.get("FAKE_DOCKER_EXIT", "0")))
"""


class FakeDocker:
    def __init__(self, directory: Path) -> None:
        self.log = directory / "docker-argv.jsonl"
        self.path = directory / "docker"
        self.path.write_text(FAKE_DOCKER.format(python=sys.executable, log=str(self.log)))
        self.path.chmod(self.path.stat().st_mode | stat.S_IXUSR)

    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


@pytest.fixture
def fake_docker(tmp_path, monkeypatch) -> FakeDocker:
    """A `docker` executable first on PATH; `calls()` is every argv it got, in order."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    docker = FakeDocker(bindir)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    return docker


@pytest.fixture
async def simulator():
    from simulator.server import SimPorts, Simulator

    sim = Simulator(ports=SimPorts(), api_key=SIM_KEY, tick_s=0.2)
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


@pytest.fixture
def threaded_simulator():
    """The simulator on its own thread, for tests that block on a CLI subprocess."""
    from simulator.server import run_in_thread

    sim = run_in_thread(api_key=SIM_KEY)
    try:
        yield sim
    finally:
        sim.stop()
