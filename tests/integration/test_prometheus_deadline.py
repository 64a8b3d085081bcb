"""A trickling Prometheus (1 byte a second) cannot hold `check` past its deadline or leave
a thread behind: every PromQL request has one total deadline (connect, headers, body)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest
from promserver import free_port

from agent.config import PrometheusTarget
from agent.model import Status
from agent.probes import prometheus

TIMEOUT_MS = 1000
ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def trickling_server(mode: str) -> Iterator[str]:
    """A loopback HTTP server answering every request 1 byte a second: the whole answer
    (`head`), or the headers at once and then the body (`body`). Yields its URL."""
    ready = threading.Event()
    state: dict = {}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            body = json.dumps({"status": "success", "data": []}).encode() * 50
            head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n").encode()
            if mode == "body":
                writer.write(head)
                await writer.drain()
                slow = body
            else:
                slow = head + body
            for i in range(len(slow)):
                writer.write(slow[i:i + 1])
                await writer.drain()
                await asyncio.sleep(1.0)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        state["port"] = server.sockets[0].getsockname()[1]
        state["stop"] = asyncio.Event()
        state["loop"] = asyncio.get_running_loop()
        ready.set()
        async with server:
            await state["stop"].wait()
            server.close()
            for task in asyncio.all_tasks():  # cut the connections still trickling
                if task is not asyncio.current_task():
                    task.cancel()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield f"http://127.0.0.1:{state['port']}"
    finally:
        state["loop"].call_soon_threadsafe(state["stop"].set)
        thread.join(10)


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
