"""A real Alertmanager (Debian's `prometheus-alertmanager`) on a free loopback port, for tests.

`running_alertmanager(workdir)` is a context manager yielding its base URL
(`http://127.0.0.1:<port>`); `tests/alerts/conftest.py` wraps it as the
`alertmanager_url` fixture. Clustering is off (`--cluster.listen-address=`), so
parallel instances never gossip or fight over port 9094. A missing binary fails
the test loudly: the integration tests must not silently skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

ALERTMANAGER_BIN = os.environ.get("ALICE_OPS_ALERTMANAGER_BIN", "/usr/bin/prometheus-alertmanager")

# One route to a receiver with no integrations: alerts are accepted and kept, never sent.
CONFIG = """\
route:
  receiver: "null"
  group_by: ["alertname"]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: "null"
"""


WITH_HOOK = """\
route:
  receiver: hook
  group_by: ["alertname", "site"]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: "{url}"
        send_resolved: true
        max_alerts: 0
"""
"""An Alertmanager that tells a webhook at `url` at once, per alert name and site."""


def free_port() -> int:
    """A loopback port nothing listened on a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_ready(url: str, proc: subprocess.Popen, log_path: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=1.0) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"alertmanager exited with code {proc.returncode} before it was "
                            f"ready:\n{_log_tail(log_path)}")
            try:
                if client.get(f"{url}/-/ready").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
    pytest.fail(f"alertmanager not ready at {url} within {timeout_s:g}s:\n{_log_tail(log_path)}")


def _terminate(proc: subprocess.Popen, timeout_s: float = 5.0) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout_s)


@contextlib.contextmanager
def running_alertmanager(workdir: Path, *, config: str = CONFIG, binary: str = ALERTMANAGER_BIN,
                         ready_timeout_s: float = 30.0) -> Iterator[str]:
    """Start Alertmanager with `config` in `workdir`, yield its URL, stop it on exit.

    Fails the test (pytest.fail, not skip) if the binary is missing, the process
    exits early or `/-/ready` does not answer 200 within `ready_timeout_s`.
    """
    exe = shutil.which(binary)
    if exe is None:
        pytest.fail(f"Alertmanager binary {binary} not found: install the Debian package "
                    "prometheus-alertmanager (./scripts/test does it)")
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "alertmanager.yml"
    config_path.write_text(config)
    storage = workdir / "data"
    storage.mkdir(exist_ok=True)
    log_path = workdir / "alertmanager.log"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [exe, f"--config.file={config_path}", f"--storage.path={storage}",
            f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
            "--log.level=info"]
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(args, stdout=log_file, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=workdir)
    try:
        _wait_ready(url, proc, log_path, ready_timeout_s)
        yield url
    finally:
        _terminate(proc)
