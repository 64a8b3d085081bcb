"""A trickling Prometheus (1 byte a second) cannot hold `check` past its deadline or leave
a thread behind: every PromQL request has one total deadline (connect, headers, body)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from promserver import free_port
from trickle import trickling_server

from agent.config import PrometheusTarget
from vocab.model import Status
from agent.probes import prometheus

TIMEOUT_MS = 1000
ROOT = Path(__file__).resolve().parents[2]


def _check(tmp_path: Path, url: str) -> tuple[subprocess.CompletedProcess, float]:
    config = tmp_path / "alice-ops.yaml"
    config.write_text(f"""targets:
  prometheus: {{url: "{url}", timeout_ms: {TIMEOUT_MS}}}
thresholds:
  - {{component: host, metric: cpu_percent, enabled: false}}
  - {{component: host, metric: memory_percent, enabled: false}}
  - {{component: host, metric: disk_percent, enabled: false}}
""")
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "agent.cli.main", "check", "--json",
                           "--config", str(config)], capture_output=True, text=True,
                          cwd=ROOT, timeout=30)
    return proc, time.monotonic() - started


@pytest.mark.parametrize("mode", ["head", "body"])
def test_check_exits_by_the_deadline_against_a_trickling_prometheus(tmp_path, mode):
    # what the same process costs when Prometheus refuses at once (start-up, imports)
    _, baseline = _check(tmp_path, f"http://127.0.0.1:{free_port()}")
    with trickling_server(mode) as url:
        proc, elapsed = _check(tmp_path, url)
    assert elapsed < baseline + TIMEOUT_MS / 1000 + 1.0, \
        f"check took {elapsed:.2f} s ({baseline:.2f} s against a refusing port)"
    doc = json.loads(proc.stdout)
    prom = next(c for c in doc["components"] if c["name"] == "prometheus")
    assert prom["status"] in ("unknown", "critical")
    assert f"no answer within {TIMEOUT_MS} ms" in prom["summary"], prom
    assert proc.returncode in (2, 3)


def test_a_trickling_prometheus_leaves_no_thread_behind():
    queries = [(f"q{i}", f"up{{i=\"{i}\"}}") for i in range(8)]
    with trickling_server("body") as url:
        target = PrometheusTarget(url=url, timeout_ms=TIMEOUT_MS)
        before = threading.active_count()
        started = time.monotonic()
        for _ in range(3):  # three cycles: a leak would grow with each
            result = asyncio.run(prometheus.probe(target, queries))
            assert result.status is Status.CRITICAL
            assert result.summary == f"every query failed: no answer within {TIMEOUT_MS} ms"
        elapsed = time.monotonic() - started
        assert threading.active_count() <= before, [t.name for t in threading.enumerate()]
    assert elapsed < 3 * (TIMEOUT_MS / 1000 + 0.5)
