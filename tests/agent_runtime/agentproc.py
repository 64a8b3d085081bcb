"""A real `alice-agent` subprocess for the runtime tests: its config file, its logs, its API.

The agent runs as `python -m agent.cli.agent_main --config FILE --log-format json`
with stdout and stderr in files (so tests can grep them for secrets afterwards);
the API port is read back from its "api listening on" log line. Every wait polls
with a deadline on the event loop, so receivers served by the test keep answering.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"api listening on http://([^\s:]+|\[[^\]]+\]):(\d+)")
SIM_KEY_ENV = "ALICE_TEST_OPENAI_KEY"
SIM_KEY = "sim-openai-key-7f3c9a1e5d"  # not shaped like sk-...: only real redaction hides it
ALICE_OPS = str(Path(sys.executable).with_name("alice-ops"))


def write_config(path: Path, urls: dict[str, str], *, data_path: Path,
                 components: tuple[str, ...] = ("openai",), api_key: str = f"${{{SIM_KEY_ENV}}}",
                 agent: dict[str, Any] | None = None, alerts: dict[str, Any] | None = None,
                 notifiers: dict[str, Any] | None = None,
                 endpoints: list[dict[str, Any]] | None = None) -> Path:
    """An alice-ops.yaml pointing the given components at the simulator's URLs."""
    targets: dict[str, Any] = {"host": {"gpu": "off"}}
    for name in components:
        if name == "openai":
            targets["openai"] = {"base_url": urls["openai"], "api_key": api_key}
        else:
            targets[name] = {"url": urls[name]}
    if endpoints:
        targets["endpoints"] = endpoints
    doc = {"targets": targets,
           "agent": {"listen": "127.0.0.1:0", "data_path": str(data_path),
                     "intervals": {"fast_s": 1, "deep_s": 2}, **(agent or {})},
           "alerts": alerts or {}, "notifiers": notifiers or {}}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


class AgentProcess:
    """One `alice-agent` run; `await start()` returns once its API answers."""

    def __init__(self, config: Path, workdir: Path, *, args: tuple[str, ...] = (),
                 env: dict[str, str] | None = None, run: int = 0,
                 token: str | None = None,
                 launcher: tuple[str, ...] = ("-m", "agent.cli.agent_main")) -> None:
        self.config, self.workdir, self.args, self.launcher = config, workdir, args, launcher
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.env = {**os.environ, **(env or {})}
        self.log_path = workdir / f"agent-{run}.stderr"
        self.out_path = workdir / f"agent-{run}.stdout"
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def spawn(self) -> None:
        cmd = [sys.executable, *self.launcher, "--config", str(self.config),
               "--log-format", "json", *self.args]
        with open(self.out_path, "wb") as out, open(self.log_path, "wb") as err:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                         cwd=ROOT, env=self.env)

    async def start(self, timeout_s: float = 20.0) -> AgentProcess:
        """Spawn, wait for the listening line, then for the first snapshot."""
        self.spawn()
        deadline = time.monotonic() + timeout_s
        while True:
            match = LISTENING.search(self.log_text())
            if match:
                self.url = f"http://127.0.0.1:{match.group(2)}"
                break
            if self.proc.poll() is not None:
                pytest.fail(f"alice-agent exited with {self.proc.returncode}:\n{self.tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"alice-agent did not log its API port in {timeout_s:g}s:\n"
                            f"{self.tail()}")
            await asyncio.sleep(0.05)
        await self.wait_for(lambda s: True, "a first snapshot", timeout_s)
        return self

    # -- output --

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def output_text(self) -> str:
        return self.log_text() + self.out_path.read_text(errors="replace")

    def records(self) -> list[dict[str, Any]]:
        """The JSON log lines (non-JSON lines are skipped)."""
        found = []
        for line in self.log_text().splitlines():
            try:
                found.append(json.loads(line))
            except ValueError:
                continue
        return found

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    # -- API --

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """GET from the API (with the bearer token this run was given, if any)."""
        kwargs.setdefault("headers", self.headers)
        async with httpx.AsyncClient(timeout=5.0) as client:
            return await client.get(self.url + path, **kwargs)

    async def snapshot(self) -> dict[str, Any] | None:
        try:
            response = await self.get("/api/v1/snapshot")
        except httpx.HTTPError:
            return None
        return response.json() if response.status_code == 200 else None

    async def wait_for(self, predicate: Callable[[dict[str, Any]], Any], what: str,
                       timeout_s: float = 15.0) -> dict[str, Any]:
        """Poll the snapshot until `predicate(snapshot)` is truthy; return that snapshot."""
        deadline = time.monotonic() + timeout_s
        last = None
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                pytest.fail(f"alice-agent exited with {self.proc.returncode} while waiting "
                            f"for {what}:\n{self.tail()}")
            snap = await self.snapshot()
            if snap is not None:
                last = snap
                if predicate(snap):
                    return snap
            await asyncio.sleep(0.1)
        brief = None if last is None else {"seq": last["seq"], "alerts": last["alerts"],
                                           "agent": last["agent"]}
        pytest.fail(f"no snapshot with {what} within {timeout_s:g}s; last: {brief}\n"
                    f"{self.tail()}")

    # -- process --

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    async def wait_exit(self, timeout_s: float = 15.0) -> int:
        assert self.proc is not None
        deadline = time.monotonic() + timeout_s
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                pytest.fail(f"alice-agent still running {timeout_s:g}s later:\n{self.tail()}")
            await asyncio.sleep(0.05)
        return self.proc.returncode

    def close(self) -> None:
        """Kill if still running and reap (no ResourceWarning)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)


def alert(snapshot: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The snapshot's alert view named `name`, if shown."""
    return next((a for a in snapshot["alerts"] if a["name"] == name), None)


def component(snapshot: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The snapshot's component entry named `name`, once it has been probed."""
    return next((c for c in snapshot["components"] if c["name"] == name), None)


def firing(name: str) -> Callable[[dict[str, Any]], bool]:
    return lambda s: (alert(s, name) or {}).get("state") == "firing"


def notices(requests: list, alertname: str, status: str | None = None) -> list[dict[str, Any]]:
    """Every alert entry for `alertname` in the webhook payloads a receiver recorded."""
    found = []
    for request in requests:
        body = request.body if isinstance(request.body, dict) else {}
        for entry in body.get("alerts", []):
            if entry.get("labels", {}).get("alertname") == alertname and \
                    (status is None or entry.get("status") == status):
                found.append(entry)
    return found


async def alice_ops(*args: str) -> str:
    """Run the installed `alice-ops` with `args` (30 s at most); it must exit 0: its stdout."""
    proc = await asyncio.create_subprocess_exec(ALICE_OPS, *args, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, (args, out.decode(), err.decode())
    return out.decode()
