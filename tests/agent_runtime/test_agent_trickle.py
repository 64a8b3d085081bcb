"""Deadlines, not read timeouts: peers that answer one byte a second, posing as OpenAI
(deep probe through the openai SDK), Ollama (the ollama client, deep generate), the
gateway (HTTP health and the WebSocket) and the backend.

* `alice-ops check --json` exits by its deadline (+ 1 s) whatever they do;
* an agent probing them keeps flat thread and descriptor counts (alice_ops_threads and
  alice_ops_open_fds on /metrics) and exits within 5 s of SIGTERM.

CI watches the agent for 20 s (12 cycles per target at fast_s 1 plus the deep probes:
the leak the issue saw grew by ~10 threads a cycle, so a leak shows within a few
cycles); `scripts/trickle-soak` runs the same for 2 minutes or more.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from agentproc import ROOT
from trickle import Trickle

DEADLINE_S = 3.0
WATCH_S = float(os.environ.get("ALICE_TRICKLE_WATCH_S", "20"))  # scripts/trickle-soak: 120


def _config(path: Path, url: str, data: Path | None = None) -> Path:
    doc = {"targets": {
        "openai": {"base_url": f"{url}/v1", "api_key": "trickle-test-key-00000000",
                   "timeout_ms": 1000, "deep_probe": True},
        "ollama": {"url": url, "timeout_ms": 1000, "deep_probe": True,
                   "deep_timeout_ms": 1000},
        "gateway": {"url": url, "timeout_ms": 1000},
        "backend": {"url": url, "timeout_ms": 1000},
        "host": {"gpu": "off"}},
        "check": {"deadline_s": DEADLINE_S},
        "agent": {"listen": "127.0.0.1:0", "data_path": str(data or path.with_name("s.db")),
                  "intervals": {"fast_s": 1, "deep_s": 2}}}
    path.write_text(yaml.safe_dump(doc))
    return path


def _check(config: Path) -> tuple[float, subprocess.CompletedProcess]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "agent.cli.main", "--config", str(config),
                           "check", "--json"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    return time.monotonic() - started, done


@pytest.fixture(params=[1.0, 0.3], ids=["1-byte-per-s", "faster-than-read-timeouts"])
async def trickle(request):
    """1 byte/s; and a byte every 0.3 s, under any per-read timeout (only a total
    deadline ends such a request)."""
    server = await Trickle(byte_every_s=request.param).start()
    try:
        yield server
    finally:
        await server.close()


async def test_check_exits_by_its_deadline(tmp_path, trickle):
    # what starting the interpreter and importing costs here (a refused port answers at once)
    refused = _config(tmp_path / "refused.yaml", "http://127.0.0.1:9")
    startup, done = await asyncio.to_thread(_check, refused)
    assert done.returncode in (2, 3), done.stderr
    config = _config(tmp_path / "alice-ops.yaml", trickle.url)
    elapsed, done = await asyncio.to_thread(_check, config)
    report = json.loads(done.stdout)
    assert elapsed <= startup + DEADLINE_S + 1.0, (elapsed, startup, done.stderr[-2000:])
    assert done.returncode in (2, 3), done.stdout
    names = {c["name"]: c["status"] for c in report["components"]}
    assert {"openai", "ollama", "gateway", "backend"} <= set(names), names
    assert all(names[n] in ("critical", "unknown")
               for n in ("openai", "ollama", "gateway", "backend")), names
    assert trickle.accepted >= 4


def _gauge(text: str, name: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


async def test_agent_stays_flat_against_trickling_peers(tmp_path, trickle, start_agent):
    config = _config(tmp_path / "alice-ops.yaml", trickle.url, tmp_path / "state.db")
    agent = await start_agent(config)
    await agent.wait_for(lambda s: s["agent"]["cycles_total"].get("backend", 0) >= 3,
                         "three backend cycles (the warm-up)")
    samples: list[tuple[float, float, float]] = []
    deadline = time.monotonic() + WATCH_S
    while time.monotonic() < deadline:
        text = (await agent.get("/metrics")).text
        threads, fds = _gauge(text, "alice_ops_threads"), _gauge(text, "alice_ops_open_fds")
        assert threads is not None and fds is not None, text[:1000]
        assert _gauge(text, "alice_ops_fd_limit") is not None
        samples.append((time.monotonic(), threads, fds))
        snap = await agent.wait_for(lambda s: True, "a snapshot")
        await agent.wait_for(lambda s, seq=snap["seq"]: s["seq"] > seq, "the next snapshot")
    first, last = samples[: len(samples) // 4], samples[-(len(samples) // 4):]
    grew_threads = max(t for _, t, _ in last) - max(t for _, t, _ in first)
    grew_fds = max(f for _, _, f in last) - max(f for _, _, f in first)
    assert grew_threads <= 2 and grew_fds <= 8, samples
    assert max(t for _, t, _ in samples) <= 40, samples
    # the peers' sockets are let go: no more open than one probe round holds
    assert trickle.open_now <= 12, trickle.open_now
    stopping = time.monotonic()
    agent.signal(signal.SIGTERM)
    assert await agent.wait_exit(10) == 0
    assert time.monotonic() - stopping <= 5.0

