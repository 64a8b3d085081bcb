"""The simulator and agent as child processes, and a running pair of them (`stack`)."""

from __future__ import annotations

import collections
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.bench.common import MISSED_RUN_LOG, SERVICES, SIM_KEY

# -- child processes -----------------------------------------------------------------------

class Child:
    """A child process whose merged stdout/stderr is read line by line on a thread, so it
    never blocks on a full pipe; waits for the first line matching `ready`."""

    def __init__(self, what: str, argv: list[str], env: dict[str, str], ready: str,
                 timeout_s: float = 60.0) -> None:
        import psutil

        self.what = what
        self.lines: collections.deque[str] = collections.deque(maxlen=400)
        self.counts: collections.Counter[str] = collections.Counter()
        self.match: re.Match | None = None
        self._ready_re = re.compile(ready)
        self._ready = threading.Event()
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, bufsize=1)
        self.ps = psutil.Process(self.proc.pid)
        self._thread = threading.Thread(target=self._read, daemon=True, name=f"read-{what}")
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._ready.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = "".join(list(self.lines)[-20:])
                raise SystemExit(f"bench: {what} did not start:\n{tail}")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            if MISSED_RUN_LOG in line:
                self.counts["missed-run log lines"] += 1
            if '"level": "ERROR"' in line or "Traceback" in line:
                self.counts["error log lines"] += 1
            if self.match is None:
                m = self._ready_re.search(line)
                if m is not None:
                    self.match = m
                    self._ready.set()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self, timeout_s: float = 30.0) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                print(f"bench: {self.what} ignored SIGTERM for {timeout_s:g} s; killing it",
                      file=sys.stderr)
                self.proc.kill()
                self.proc.wait()
        self._thread.join(5)
        return self.proc.returncode


def start_simulator(env: dict[str, str]) -> tuple[Child, dict[str, str]]:
    argv = [sys.executable, "-m", "simulator", "--api-key", SIM_KEY, "--seed", "7"]
    for service in SERVICES:
        argv += [f"--{service}-port", "0"]
    sim = Child("simulator", argv, env, ready=r"Press Ctrl\+C to stop")
    urls = {}
    for line in sim.lines:
        m = re.match(r"^\s+(backend|gateway|ollama|openai|prometheus)\s+(http://\S+)", line)
        if m:
            urls[m.group(1)] = m.group(2)
    if set(urls) != set(SERVICES):
        sim.stop()
        raise SystemExit(f"bench: could not read the simulator's URLs: {urls}")
    return sim, urls


# Experiments only: run the agent with a Python file executed first (monkeypatches), to
# measure a proposed change before it is made. Figures printed with it are not the agent's.
_PATCHED = ("import runpy, sys; patch = sys.argv[1]; sys.argv = ['alice-agent', *sys.argv[2:]]; "
            "runpy.run_path(patch); from agent.cli.agent_main import main; sys.exit(main())")


def start_agent(config: Path, data: Path, env: dict[str, str], patch: Path | None = None
                ) -> tuple[Child, str]:
    exe = Path(sys.executable).with_name("alice-agent")
    head = [str(exe)] if patch is None else [sys.executable, "-c", _PATCHED, str(patch)]
    argv = [*head, "--config", str(config), "--listen", "127.0.0.1:0", "--data", str(data),
            "--log-format", "json"]
    agent = Child("alice-agent", argv, env, ready=r"api listening on (http://[0-9.]+:\d+)")
    assert agent.match is not None
    return agent, agent.match.group(1)


def agent_config(urls: dict[str, str], *, endpoints: int = 0, endpoint_interval_s: float = 10.0,
                 jitter_s: float | None = None, alerts: dict[str, Any] | None = None) -> str:
    """The five Alice targets on the simulator at the agent's default intervals (no deep
    probes), plus `endpoints` tools each at `endpoint_interval_s`."""
    import yaml

    targets: dict[str, Any] = {
        "openai": {"base_url": urls["openai"], "api_key": "${BENCH_OPENAI_KEY}"},
        "ollama": {"url": urls["ollama"]},
        "gateway": {"url": urls["gateway"]},
        "backend": {"url": urls["backend"]},
        "prometheus": {"url": urls["prometheus"]},
    }
    names = [f"tool-{i:04d}" for i in range(endpoints)]
    if names:
        targets["endpoints"] = [{"name": n, "url": f"{urls['backend']}/tools/{n}/health"}
                                for n in names]
    doc: dict[str, Any] = {"targets": targets}
    agent: dict[str, Any] = {}
    if names:
        agent["intervals"] = {"per_component": {n: endpoint_interval_s for n in names}}
    if jitter_s is not None:
        agent["jitter_s"] = jitter_s
    if agent:
        doc["agent"] = agent
    if alerts:
        doc["alerts"] = alerts
    return yaml.safe_dump(doc, sort_keys=False)


@dataclass
class Stack:
    sim: Child
    urls: dict[str, str]
    agent: Child
    api: str
    data: Path
    tmp: Path
    http: Any  # httpx.Client
    started_at: float = field(default_factory=time.time)

    def snapshot(self) -> dict[str, Any]:
        r = self.http.get(f"{self.api}/api/v1/snapshot")
        r.raise_for_status()
        return r.json()

    def metrics(self) -> str:
        r = self.http.get(f"{self.api}/metrics")
        r.raise_for_status()
        return r.text

    def scenario(self, name: str) -> None:
        r = self.http.post(f"{self.urls['backend']}/_sim/scenario", json={"scenario": name})
        r.raise_for_status()


class stack:  # noqa: N801 - used as a context manager
    """Simulator process + agent process with `config(urls)` in a fresh temp dir."""

    def __init__(self, make_config, keep: bool = False, patch: Path | None = None) -> None:
        self._make_config, self._keep, self._patch = make_config, keep, patch
        self.stack: Stack | None = None
        self.agent_rc: int | None = None

    def __enter__(self) -> Stack:
        import httpx

        tmp = Path(tempfile.mkdtemp(prefix="alice-bench-"))
        env = {**os.environ, "BENCH_OPENAI_KEY": SIM_KEY, "PYTHONUNBUFFERED": "1"}
        sim, urls = start_simulator(env)
        config = tmp / "alice-ops.yaml"
        config.write_text(self._make_config(urls))
        data = tmp / "state.db"
        try:
            agent, api = start_agent(config, data, env, self._patch)
        except BaseException:
            sim.stop()
            raise
        http = httpx.Client(timeout=10.0, trust_env=False)
        self.stack = Stack(sim, urls, agent, api, data, tmp, http)
        return self.stack

    def stop_agent(self) -> int | None:
        """Stop the agent (SIGTERM: it finishes its jobs and closes the store)."""
        assert self.stack is not None
        if self.agent_rc is None:
            self.agent_rc = self.stack.agent.stop()
        return self.agent_rc

    def __exit__(self, *exc: Any) -> None:
        import shutil

        s = self.stack
        if s is None:
            return
        s.http.close()
        self.stop_agent()
        s.sim.stop()
        if self.agent_rc not in (0, None):
            print(f"bench: alice-agent exited with {self.agent_rc}; last lines:\n"
                  + "".join(list(s.agent.lines)[-10:]), file=sys.stderr)
        if not self._keep:
            shutil.rmtree(s.tmp, ignore_errors=True)


def wait_for_first_snapshot(s: Stack, timeout_s: float = 30.0) -> dict[str, Any]:
    import httpx

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return s.snapshot()
        except httpx.HTTPStatusError:
            if time.monotonic() > deadline:
                raise SystemExit("bench: the agent published no snapshot in time") from None
        time.sleep(0.1)


def alert_state(snap: dict[str, Any], name: str) -> str | None:
    for alert in snap.get("alerts", ()):
        if alert.get("name") == name:
            return alert.get("state")
    return None


