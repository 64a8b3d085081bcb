"""A real Prometheus (Debian's `prometheus`) on a free loopback port, scraping given targets.

A missing binary fails the test loudly: integration tests must not silently skip.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

PROMETHEUS_BIN = os.environ.get("ALICE_OPS_PROMETHEUS_BIN", "/usr/bin/prometheus")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _duration(seconds: float) -> str:
    """Prometheus durations take integer units: 800ms, 2s."""
    return f"{round(seconds * 1000)}ms"


def _config(targets: dict[str, str], interval_s: float) -> str:
    jobs = []
    for job, hostport in targets.items():
        jobs.append(f"""  - job_name: {job}
    scrape_interval: {_duration(interval_s)}
    scrape_timeout: {_duration(max(interval_s * 0.8, 0.5))}
    static_configs:
      - targets: ["{hostport}"]""")
    return (f"global:\n  scrape_interval: {_duration(interval_s)}\n"
            f"  evaluation_interval: {_duration(interval_s)}\nscrape_configs:\n"
            + "\n".join(jobs) + "\n")


@contextlib.contextmanager
def running_prometheus(workdir: Path, targets: dict[str, str], interval_s: float = 1.0
                       ) -> Iterator[str]:
    """Start Prometheus scraping `targets` (job name -> host:port); yield its base URL."""
    if not Path(PROMETHEUS_BIN).exists():
        pytest.fail(f"{PROMETHEUS_BIN} is missing: ./scripts/test installs Debian's prometheus")
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "prometheus.yml"
    config.write_text(_config(targets, interval_s))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = workdir / "prometheus.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [PROMETHEUS_BIN, f"--config.file={config}", f"--storage.tsdb.path={workdir / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}", "--web.enable-lifecycle"],
            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        with httpx.Client(timeout=1.0) as client:
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"prometheus exited with {proc.returncode}:\n"
                                f"{log_path.read_text(errors='replace')[-2000:]}")
                try:
                    if client.get(f"{url}/-/ready").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail("prometheus not ready within 30 s")
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def wait_for_query(url: str, query: str, deadline_s: float = 30.0) -> float:
    """Poll an instant query until it returns a number; return it."""
    deadline = time.monotonic() + deadline_s
    last = None
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            last = client.get(f"{url}/api/v1/query", params={"query": query}).json()
            result = last.get("data", {}).get("result", [])
            if result and result[0]["value"][1] not in ("NaN", "+Inf", "-Inf"):
                return float(result[0]["value"][1])
            time.sleep(0.25)
    pytest.fail(f"query {query!r} gave no number within {deadline_s:g} s; last answer: {last}")
