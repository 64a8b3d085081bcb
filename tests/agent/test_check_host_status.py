"""The host counts in `alice-ops check`'s overall status and exit code: a fake host reading
(the host probe's injectable `system` and `gpus` functions) crosses a threshold while the
simulated Alice is healthy. Rather than switching the host rows off to dodge this
machine's real load, the other tests use the `fake_host` fixture (conftest.py)."""

from __future__ import annotations

import functools
import json

import pytest

from agent.cli.main import main
from agent.probes import host
from simulator.server import run_in_thread


@pytest.fixture(scope="module")
def sim():
    with run_in_thread(seed=5) as threaded:
        yield threaded


def run(tmp_path, capsys, sim, gpu: str = "auto") -> tuple[int, dict]:
    path = tmp_path / "alice-ops.yaml"
    path.write_text(f'targets:\n  backend: {{url: "{sim.urls["backend"]}"}}\n'
                    f'  host: {{gpu: {gpu}}}\n')
    code = main(["check", "--config", str(path), "--json"])
    return code, json.loads(capsys.readouterr().out)


def statuses(doc: dict) -> dict[str, str]:
    return {c["name"]: c["status"] for c in doc["components"]}


def test_a_steady_host_leaves_the_overall_status_to_alice(tmp_path, capsys, sim, fake_host):
    code, doc = run(tmp_path, capsys, sim)
    assert statuses(doc) == {"backend": "ok", "host": "ok"}
    assert (code, doc["status"]) == (0, "ok")


@pytest.mark.parametrize("reading, status, code", [
    ({"cpu_percent": 75.0}, "warning", 1),
    ({"cpu_percent": 95.0}, "critical", 2),
    ({"memory_percent": 85.0}, "warning", 1),
    ({"memory_percent": 97.0}, "critical", 2),
    ({"disk_percent": 92.0}, "critical", 2),
])
def test_a_host_over_its_threshold_sets_the_overall_status(tmp_path, capsys, sim, fake_host,
                                                            reading, status, code):
    fake_host(**reading)
    got, doc = run(tmp_path, capsys, sim)
    assert statuses(doc) == {"backend": "ok", "host": status}
    assert (got, doc["status"]) == (code, status)
    (metric,) = reading
    row = next(m for m in doc["metrics"] if m["component"] == "host" and m["name"] == metric)
    assert (row["value"], row["status"]) == (reading[metric], status)


def test_a_hot_gpu_is_critical_overall(tmp_path, capsys, sim, fake_host):
    fake_host(gpus=[host.GpuInfo("RTX 4090", util_percent=50.0, memory_percent=40.0,
                                 temperature_c=95.0)])
    code, doc = run(tmp_path, capsys, sim)
    assert (code, doc["status"], statuses(doc)["host"]) == (2, "critical", "critical")


def test_a_required_gpu_that_is_missing_is_critical_overall(tmp_path, capsys, sim, fake_host):
    code, doc = run(tmp_path, capsys, sim, gpu="required")
    assert (code, doc["status"], statuses(doc)["host"]) == (2, "critical", "critical")


def test_unreadable_host_counters_are_unknown_overall(tmp_path, capsys, sim, monkeypatch):
    def broken(_disk):
        raise PermissionError("no /proc")

    monkeypatch.setattr(host, "probe", functools.partial(host.probe, system=broken,
                                                         gpus=lambda: []))
    code, doc = run(tmp_path, capsys, sim)
    assert (code, doc["status"], statuses(doc)["host"]) == (3, "unknown", "unknown")
