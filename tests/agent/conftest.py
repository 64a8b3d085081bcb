"""Fixtures for the agent tests: a fake host reading, so results never depend on this
machine's real CPU, memory, disk or GPUs."""

from __future__ import annotations

import functools

import pytest

from agent.probes import host

STEADY = {"cpu_percent": 12.0, "memory_percent": 35.0, "disk_percent": 40.0}


@pytest.fixture
def fake_host(monkeypatch):
    """The host probe reads a fixed reading (the steady one at once); call the fixture's
    value to change it: `fake_host(cpu_percent=95)`, `gpus=` a list of GpuInfo or an
    exception class to raise (default host.NoGpu: no NVIDIA driver)."""
    real = host.probe

    def install(gpus=host.NoGpu, **system):
        reading = {**STEADY, **system}

        def read_gpus():
            if isinstance(gpus, type) and issubclass(gpus, Exception):
                raise gpus("fake")
            return list(gpus)

        monkeypatch.setattr(host, "probe", functools.partial(
            real, system=lambda _disk: dict(reading), gpus=read_gpus))
    install()
    return install


@pytest.fixture
def cli(capsys):
    """`cli(*argv) -> (exit code, stdout, stderr)` of one in-process `alice-ops` run."""
    from agent.cli.main import main

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        rc = main(list(args))
        out, err = capsys.readouterr()
        return rc, out, err

    return run
