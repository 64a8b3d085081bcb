"""Benchmarks that print figures (never timed tests): `python -m simulator.bench WHAT`.

check:    the whole `alice-ops check --json` process against a running simulator (median
          of N runs), and the probe phase alone with 200 ms injected on every endpoint.
detect:   a running `alice-agent` at default intervals, `alerts.for_s: 0`: seconds from
          switching the simulator to `openai-outage` to `openai_health` firing in the
          agent's snapshot (polled every 50 ms); N trials, each at a random phase of the
          probe schedule. Target: within one probe interval + 1 s.
overhead: the agent at default intervals against the normal simulator: mean CPU (% of
          one core) and peak RSS of the agent process over a window after a warm-up.
scale:    the agent with N extra HTTP endpoints (simulator `/tools/{name}/health`), each
          at its own interval: round time, probe start lag, scheduler lag p99, CPU, RSS.

For detect/overhead/scale the simulator (`python -m simulator`) and the agent
(`alice-agent`) are separate processes with their own interpreters; the agent's CPU and
RSS are read with psutil, and nothing but its own work is counted.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import math
import os
import random
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

SIM_KEY = "sk-sim-bench-key-000000000000"
SERVICES = ("backend", "gateway", "ollama", "openai", "prometheus")
MISSED_RUN_LOG = "previous run still going"


def _config_text(urls: dict[str, str]) -> str:
    return f"""targets:
  openai: {{base_url: "{urls['openai']}", api_key: "${{BENCH_OPENAI_KEY}}"}}
  ollama: {{url: "{urls['ollama']}", deep_probe: true, deep_timeout_ms: 5000}}
  gateway: {{url: "{urls['gateway']}"}}
  backend: {{url: "{urls['backend']}"}}
  prometheus: {{url: "{urls['prometheus']}"}}
"""


def _figures(label: str, samples: list[float]) -> str:
    return (f"{label}: median {statistics.median(samples):.3f} s, min {min(samples):.3f} s, "
            f"max {max(samples):.3f} s (n={len(samples)})")


def _machine() -> str:
    return f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, {sys.platform}"


def _met(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


# -- check ---------------------------------------------------------------------------------

def bench_check(runs: int) -> None:
    from simulator.server import run_in_thread

    exe = Path(sys.executable).with_name("alice-ops")
    with run_in_thread(api_key=SIM_KEY) as sim, tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "alice-ops.yaml"
        config.write_text(_config_text(sim.urls))
        env = {**os.environ, "BENCH_OPENAI_KEY": SIM_KEY}
        time.sleep(1.5)  # let the simulated traffic fill its windows
        subprocess.run([str(exe), "check", "--json", "-c", str(config)], env=env,
                       capture_output=True, check=False)  # warm the bytecode cache
        wall = []
        for _ in range(runs):
            started = time.perf_counter()
            proc = subprocess.run([str(exe), "check", "--json", "-c", str(config)], env=env,
                                  capture_output=True, text=True, check=False)
            wall.append(time.perf_counter() - started)
            if proc.returncode not in (0, 1, 2, 3) or not proc.stdout.startswith("{"):
                raise SystemExit(f"bench: check failed: {proc.stderr.strip()}")
        print(_figures("alice-ops check --json, whole process", wall))

        from agent.check import run_probes, threshold_rows
        from agent.config import parse_config

        parsed = parse_config(config.read_text(), str(config), env)
        rows = threshold_rows(parsed)
        sim.set_latency(200)
        phase = []
        for _ in range(runs):
            started = time.perf_counter()
            asyncio.run(run_probes(parsed, rows))
            phase.append(time.perf_counter() - started)
        sim.set_latency(0)
        print(_figures("probe phase with 200 ms on every endpoint", phase))
        print(_machine())


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


# -- resource sampling ---------------------------------------------------------------------

class Sampler:
    """Samples a process's RSS every `every_s` on a thread; CPU from cpu_times deltas."""

    def __init__(self, ps, every_s: float = 0.5) -> None:
        self.ps, self.every_s = ps, every_s
        self.rss: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="rss-sampler")

    def _cpu(self) -> float:
        t = self.ps.cpu_times()
        return t.user + t.system

    def __enter__(self) -> "Sampler":
        self.t0, self.cpu0 = time.monotonic(), self._cpu()
        self._thread.start()
        return self

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                self.rss.append((time.monotonic(), self.ps.memory_info().rss))
            except psutil.Error:
                return
            self._stop.wait(self.every_s)

    def __exit__(self, *exc: Any) -> None:
        self.t1, self.cpu1 = time.monotonic(), self._cpu()
        self._stop.set()
        self._thread.join(5)

    @property
    def cpu_percent(self) -> float:
        return 100.0 * (self.cpu1 - self.cpu0) / (self.t1 - self.t0)

    @property
    def peak_mb(self) -> float:
        return max(r for _, r in self.rss) / 2**20

    def window_peak_mb(self, start_s: float, end_s: float) -> float:
        """Peak RSS between `start_s` and `end_s` seconds after the sampler started."""
        picked = [r for t, r in self.rss if start_s <= t - self.t0 <= end_s]
        return max(picked) / 2**20 if picked else float("nan")

    def slope_mb_per_min(self) -> float:
        if len(self.rss) < 3:
            return float("nan")
        xs = [t - self.t0 for t, _ in self.rss]
        ys = [r / 2**20 for _, r in self.rss]
        mx, my = statistics.fmean(xs), statistics.fmean(ys)
        den = sum((x - mx) ** 2 for x in xs)
        return 60 * sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0


def sleep_scraping(s: Stack, seconds: float, scrape_every_s: float,
                   sampler: Sampler | None = None, progress_every_s: float = 60.0) -> int:
    """Sleep `seconds`, GETting the agent's /metrics every `scrape_every_s` (0: never), as
    a Prometheus server would; returns the number of scrapes. Stops the bench with the
    agent's last log lines if it dies; prints progress to stderr every minute."""
    import httpx

    began = time.monotonic()
    end = began + seconds
    scrapes, next_scrape, next_note = 0, began, began + progress_every_s
    while True:
        now = time.monotonic()
        if s.agent.proc.poll() is not None:
            tail = "".join(list(s.agent.lines)[-15:])
            raise SystemExit(f"bench: alice-agent exited ({s.agent.proc.returncode}) "
                             f"{now - began:.0f} s into the window:\n{tail}")
        if now >= end:
            return scrapes
        if scrape_every_s > 0 and now >= next_scrape:
            try:
                s.metrics()
                scrapes += 1
            except httpx.HTTPError as exc:
                print(f"bench: /metrics scrape failed: {exc!r}", file=sys.stderr, flush=True)
            next_scrape += scrape_every_s
        if now >= next_note and sampler is not None and sampler.rss:
            cpu = sum(s.agent.ps.cpu_times()[:2])
            print(f"  ... {now - began:.0f} s: agent CPU so far "
                  f"{100 * (cpu - sampler.cpu0) / (now - sampler.t0):.1f} %, RSS "
                  f"{sampler.rss[-1][1] / 2**20:.1f} MB", file=sys.stderr, flush=True)
            next_note += progress_every_s
        time.sleep(max(0.0, min(next_scrape if scrape_every_s > 0 else end, next_note, end)
                       - time.monotonic()))


# -- /metrics parsing ----------------------------------------------------------------------

_SAMPLE = re.compile(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text: str) -> Iterator[tuple[str, dict[str, str], float]]:
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if m:
            yield m.group(1), dict(_LABEL.findall(m.group(2) or "")), float(m.group(3))


def histogram(text: str, name: str, label: str, keep=lambda _v: True
              ) -> tuple[list[tuple[float, float]], float, float]:
    """Buckets (le, cumulative count) summed over the series whose `label` passes `keep`;
    plus the total count and sum."""
    buckets: dict[float, float] = collections.defaultdict(float)
    count = total = 0.0
    for metric, labels, value in parse_metrics(text):
        if not keep(labels.get(label, "")):
            continue
        if metric == f"{name}_bucket":
            buckets[float(labels["le"])] += value
        elif metric == f"{name}_count":
            count += value
        elif metric == f"{name}_sum":
            total += value
    return sorted(buckets.items()), count, total


def histogram_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """Prometheus's histogram_quantile: linear interpolation inside the bucket."""
    if not buckets or buckets[-1][1] == 0:
        return float("nan")
    rank = q * buckets[-1][1]
    prev_le, prev_count = 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            if math.isinf(le):
                return prev_le
            if count == prev_count:
                return le
            return prev_le + (le - prev_le) * (rank - prev_count) / (count - prev_count)
        prev_le, prev_count = le, count
    return prev_le


def metric_value(text: str, name: str) -> float | None:
    for metric, _labels, value in parse_metrics(text):
        if metric == name:
            return value
    return None


def quantile(values: list[float], q: float) -> float:
    """Nearest-rank quantile (q in 0..1) of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


# -- detect --------------------------------------------------------------------------------

def bench_detect(trials: int, scenario: str, alert: str, timeout_s: float, seed: int,
                 patch: Path | None = None, endpoints: int = 0) -> None:
    fast_s = 5.0  # the agent's default agent.intervals.fast_s
    target = fast_s + 1.0
    rng = random.Random(seed)
    # for_s 0 (the brief); flap damping off so ten outages in a few minutes stay ten
    # separate firing/resolved episodes instead of being held firing as "flapping".
    alerts = {"for_s": 0, "flap_max_transitions": 10_000}
    detected: list[float] = []
    failures = 0
    with stack(lambda urls: agent_config(urls, endpoints=endpoints, alerts=alerts),
               patch=patch) as s:
        wait_for_first_snapshot(s)
        time.sleep(fast_s + 1)  # every job has run at least once
        for trial in range(1, trials + 1):
            if not _wait_alert(s, alert, lambda st: st != "firing", 4 * fast_s + 30):
                raise SystemExit(f"bench: {alert} is still firing in the normal scenario")
            time.sleep(rng.uniform(0, fast_s))  # a random phase of the probe schedule
            switched = time.time()
            s.scenario(scenario)
            seen = _wait_alert(s, alert, lambda st: st == "firing", timeout_s)
            if seen:
                detected.append(time.time() - switched)
                print(f"  trial {trial:2d}: firing after {detected[-1]:.2f} s", flush=True)
            else:
                failures += 1
                print(f"  trial {trial:2d}: not firing within {timeout_s:g} s", flush=True)
            s.scenario("normal")
    load = f", with {endpoints} extra endpoints every 10 s" if endpoints else ""
    print(f"detect: {scenario} -> {alert} firing, agent at default intervals "
          f"(fast {fast_s:g} s){load}, alerts.for_s 0, snapshot polled every 50 ms")
    if detected:
        print(f"  median {statistics.median(detected):.2f} s, mean "
              f"{statistics.fmean(detected):.2f} s, min {min(detected):.2f} s, max "
              f"{max(detected):.2f} s (n={len(detected)}, {failures} not detected)")
        ok = failures == 0 and max(detected) <= target
        print(f"  target: every trial within one probe interval + 1 s = {target:g} s: "
              f"{_met(ok)}")
    else:
        print(f"  never detected in {trials} trials: NOT MET")
    print(_machine())


def _wait_alert(s: Stack, alert: str, done, timeout_s: float, poll_s: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if done(alert_state(s.snapshot(), alert)):
            return True
        time.sleep(poll_s)
    return False


# -- overhead ------------------------------------------------------------------------------

def bench_overhead(duration_s: float, warmup_s: float, scrape_every_s: float,
                   patch: Path | None = None) -> None:
    with stack(lambda urls: agent_config(urls), patch=patch) as s:
        wait_for_first_snapshot(s)
        time.sleep(warmup_s)
        before = s.snapshot()["agent"]
        sim_cpu0 = sum(s.sim.ps.cpu_times()[:2])
        with Sampler(s.agent.ps) as sampler:
            scrapes = sleep_scraping(s, duration_s, scrape_every_s)
        sim_cpu = 100 * (sum(s.sim.ps.cpu_times()[:2]) - sim_cpu0) / (sampler.t1 - sampler.t0)
        after = s.snapshot()["agent"]
    runs = sum(after["cycles_total"].values()) - sum(before["cycles_total"].values())
    print(f"overhead: alice-agent at default intervals against the simulator, "
          f"{duration_s:g} s after a {warmup_s:g} s warm-up; /metrics scraped every "
          f"{scrape_every_s:g} s ({scrapes} scrapes)" if scrape_every_s > 0 else
          f"overhead: alice-agent at default intervals against the simulator, "
          f"{duration_s:g} s after a {warmup_s:g} s warm-up; no scrapes")
    print(f"  probe jobs run in the window: {runs} ({len(after['cycles_total'])} jobs), "
          f"missed runs: {after['missed_runs_total'] - before['missed_runs_total']}")
    print(f"  agent CPU: mean {sampler.cpu_percent:.2f} % of one core "
          f"(target <= 2 %: {_met(sampler.cpu_percent <= 2)})")
    print(f"  agent RSS: peak {sampler.peak_mb:.1f} MB over {len(sampler.rss)} samples "
          f"every 0.5 s (target <= 100 MB: {_met(sampler.peak_mb <= 100)}); first "
          f"{sampler.rss[0][1] / 2**20:.1f} MB, last {sampler.rss[-1][1] / 2**20:.1f} MB")
    print(f"  (simulator process CPU: {sim_cpu:.1f} % of one core, not counted)")
    print(_machine())


# -- scale ---------------------------------------------------------------------------------

@dataclass
class Round:
    index: int
    first_start: float
    last_end: float
    starts: list[float]

    @property
    def duration(self) -> float:
        return self.last_end - self.first_start


def probe_runs(db: Path, names: set[str]) -> dict[str, list[tuple[float, float]]]:
    """(start, end) of every probe of `names`, from the agent's own sample history: the
    `probe_latency_ms` sample is stamped when the job had the probe's result, its value
    is how long the probe took (a failed probe has no latency: start = end). So `start`
    is never earlier than the real start: lags computed from it are upper bounds."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT component, ts, value FROM samples "
                            "WHERE metric = 'probe_latency_ms' ORDER BY ts").fetchall()
    finally:
        conn.close()
    runs: dict[str, list[tuple[float, float]]] = collections.defaultdict(list)
    for component, ts, value in rows:
        if component in names:
            runs[component].append((ts - (value or 0.0) / 1000, ts))
    return runs


def group_rounds(runs: dict[str, list[tuple[float, float]]], interval_s: float) -> list[Round]:
    """With no jitter every endpoint job is due at the same instants, so a round is the
    set of probes started in one interval, counted from the first start of all."""
    starts = [start for per in runs.values() for start, _ in per]
    if not starts:
        return []
    origin = min(starts)
    grouped: dict[int, list[tuple[float, float]]] = collections.defaultdict(list)
    for per in runs.values():
        for start, end in per:
            grouped[math.floor((start - origin) / interval_s + 0.1)].append((start, end))
    return [Round(k, min(p[0] for p in grouped[k]), max(p[1] for p in grouped[k]),
                  [p[0] for p in grouped[k]]) for k in sorted(grouped)]


def schedule_lags(rounds: list[Round], interval_s: float) -> list[float]:
    """Each probe's start behind its round's due time. The due times are `origin + k *
    interval` (no jitter); `origin` is taken from the round whose first probe started
    soonest, so the estimate errs late by that probe's own small delay at most."""
    origin = min(r.first_start - r.index * interval_s for r in rounds)
    return [s - (origin + r.index * interval_s) for r in rounds for s in r.starts]


def _start_py_spy(pid: int, duration_s: float, out: Path) -> subprocess.Popen:
    """Investigation only: sample the agent's stacks (GIL holder) during the window."""
    import shutil

    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(exe).exists():
        raise SystemExit("bench: --py-spy needs py-spy (pip install py-spy into the venv)")
    return subprocess.Popen([exe, "record", "--pid", str(pid), "--duration",
                             str(int(duration_s)), "--rate", "100", "--gil", "--nonblocking",
                             "--format", "raw", "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@dataclass
class ScaleRun:
    endpoints: int
    interval_s: float
    duration_s: float
    warmup_s: float
    jitter_s: float = 0.0
    scrape_every_s: float = 15.0
    incident: bool = False
    cycle_target_s: float = 2.0
    keep: bool = False
    patch: Path | None = None
    py_spy: Path | None = None


def bench_scale(run: ScaleRun) -> None:
    names = {f"tool-{i:04d}" for i in range(run.endpoints)}
    ctx = stack(lambda urls: agent_config(urls, endpoints=run.endpoints,
                                          endpoint_interval_s=run.interval_s,
                                          jitter_s=run.jitter_s),
                keep=run.keep, patch=run.patch)
    with ctx as s:
        wait_for_first_snapshot(s, timeout_s=60)
        time.sleep(run.warmup_s)
        if run.incident:  # the tools backend hangs: every endpoint probe times out
            s.http.post(f"{s.urls['backend']}/_sim/latency",
                        json={"ms": 60_000, "endpoint": "backend"}).raise_for_status()
        before = s.snapshot()["agent"]
        metrics_before = s.metrics()
        measured_from = time.time()
        sim_cpu0 = sum(s.sim.ps.cpu_times()[:2])
        spy = _start_py_spy(s.agent.pid, run.duration_s, run.py_spy) if run.py_spy else None
        with Sampler(s.agent.ps) as sampler:
            scrapes = sleep_scraping(s, run.duration_s, run.scrape_every_s, sampler)
        sim_cpu = 100 * (sum(s.sim.ps.cpu_times()[:2]) - sim_cpu0) / (sampler.t1 - sampler.t0)
        measured_to = time.time()
        if spy is not None:
            spy.wait(30)
        started = time.perf_counter()
        snap = s.snapshot()
        snapshot_s = time.perf_counter() - started
        metrics = s.metrics()
        rc = ctx.stop_agent()
        runs = probe_runs(s.data, names)
        log_counts = dict(s.agent.counts)
        if run.keep:
            print(f"(kept {s.tmp})")
    _report_scale(run, names, runs, before, snap, snapshot_s, (metrics_before, metrics),
                  sampler, scrapes, sim_cpu, (measured_from, measured_to), rc, log_counts)


def _window_histogram(texts: tuple[str, str], name: str, label: str, keep
                      ) -> tuple[list[tuple[float, float]], float, float]:
    """A histogram's growth between two scrapes: the observations made in between."""
    (b0, n0, s0), (b1, n1, s1) = (histogram(t, name, label, keep) for t in texts)
    start = dict(b0)
    return [(le, n - start.get(le, 0.0)) for le, n in b1], n1 - n0, s1 - s0


def _report_scale(run: ScaleRun, names: set[str], runs, before, snap, snapshot_s: float,
                  metrics: tuple[str, str], sampler: Sampler, scrapes: int, sim_cpu: float,
                  window: tuple[float, float], rc, log_counts) -> None:
    stats = snap["agent"]
    done = sum(n for k, n in stats["cycles_total"].items() if k in names) - \
        sum(n for k, n in before["cycles_total"].items() if k in names)
    missed = stats["missed_runs_total"] - before["missed_runs_total"]
    firing = sum(1 for a in snap["alerts"] if a["state"] == "firing")
    expected = run.endpoints * run.duration_s / run.interval_s
    print(f"scale: {run.endpoints} extra endpoints (simulator /tools/NAME/health) every "
          f"{run.interval_s:g} s + the 5 Alice targets and host at default intervals; "
          f"agent.jitter_s {run.jitter_s:g}; measured {run.duration_s:g} s after a "
          f"{run.warmup_s:g} s warm-up; /metrics scraped every {run.scrape_every_s:g} s "
          f"({scrapes} scrapes)" + ("; INCIDENT: the tools backend hangs (every endpoint "
                                   "probe times out) for the whole window" if run.incident
                                   else ""))
    print(f"  endpoint probe runs in the window: {done} (~{expected:.0f} due), missed runs "
          f"{missed}, alerts firing at the end {firing}, agent exit code {rc}, log: "
          f"{log_counts or 'clean'}")
    rounds = group_rounds(runs, run.interval_s)
    if rounds:
        print(f"  first (cold) round: {len(rounds[0].starts)} probes in "
              f"{rounds[0].duration:.2f} s")
    inside = [r for r in rounds if window[0] <= r.first_start
              and r.first_start + run.interval_s <= window[1]]
    if inside and not run.jitter_s:
        durations = [r.duration for r in inside]
        counts = [len(r.starts) for r in inside]
        lags = schedule_lags(rounds, run.interval_s)
        p99 = quantile(lags, 0.99)
        print(f"  rounds in the window: {len(inside)}, probes per round min {min(counts)} / "
              f"max {max(counts)} (expected {run.endpoints})")
        if run.incident:  # a failed probe has no latency: its start is its end
            print(f"  probe results behind schedule (every probe waits out its 3 s timeout): "
                  f"p50 {quantile(lags, 0.5):.2f} s, p99 {p99:.2f} s, max {max(lags):.2f} s; "
                  f"results of a round spread over {statistics.median(durations):.2f} s "
                  f"(median), {max(durations):.2f} s (max)")
        else:
            ok = max(durations) <= run.cycle_target_s and min(counts) == run.endpoints
            print(f"  round time (first probe start -> last probe done): median "
                  f"{statistics.median(durations):.2f} s, p90 {quantile(durations, 0.9):.2f} s, "
                  f"max {max(durations):.2f} s (target: every round inside "
                  f"{run.cycle_target_s:g} s: {_met(ok)})")
            print(f"  probe start lag behind schedule (from the store, an upper bound): p50 "
                  f"{1000 * quantile(lags, 0.5):.0f} ms, p99 {1000 * p99:.0f} ms, max "
                  f"{1000 * max(lags):.0f} ms (target p99 <= 200 ms: {_met(p99 <= 0.2)})")
    elif run.jitter_s:
        print("  (with jitter the endpoints drift apart: no rounds, no schedule to compare)")
    else:
        print("  no complete round inside the window (duration too short?)")
    is_tool = names.__contains__
    lag_buckets, lag_n, lag_sum = _window_histogram(metrics, "alice_ops_scheduler_lag_seconds",
                                                    "job", is_tool)
    dur_buckets, dur_n, dur_sum = _window_histogram(metrics, "alice_ops_probe_duration_seconds",
                                                    "component", is_tool)
    lag_p99 = histogram_quantile(0.99, lag_buckets)
    upto = {le: n / lag_n for le, n in lag_buckets if le in (0.1, 0.25)} if lag_n else {}
    print(f"  scheduler lag (agent's histogram, scheduled -> submitted, {lag_n:.0f} runs in "
          f"the window): p99 ~{1000 * lag_p99:.0f} ms (interpolated; "
          f"{100 * upto.get(0.1, 0):.1f} % <= 100 ms, {100 * upto.get(0.25, 0):.1f} % <= 250 ms), "
          f"mean "
          f"{1000 * lag_sum / max(lag_n, 1):.1f} ms (target p99 <= 200 ms: "
          f"{_met(lag_p99 <= 0.2)})")
    print(f"  probe duration (agent's histogram, the window): p50 "
          f"{1000 * histogram_quantile(0.5, dur_buckets):.0f} ms, p99 "
          f"{1000 * histogram_quantile(0.99, dur_buckets):.0f} ms, mean "
          f"{1000 * dur_sum / max(dur_n, 1):.1f} ms")
    first_win = min(60.0, run.duration_s / 3)
    span = sampler.t1 - sampler.t0
    rss_first = sampler.window_peak_mb(0, first_win)
    rss_last = sampler.window_peak_mb(span - first_win, span)
    growth = 100 * (rss_last / rss_first - 1)
    print(f"  agent CPU: mean {sampler.cpu_percent:.1f} % of one core "
          f"(target <= 30 %: {_met(sampler.cpu_percent <= 30)})")
    print(f"  agent RSS: peak of the first {first_win:.0f} s {rss_first:.1f} MB, of the last "
          f"{first_win:.0f} s {rss_last:.1f} MB: growth {growth:+.1f} % (target <= 5 %: "
          f"{_met(growth <= 5)}); overall peak {sampler.peak_mb:.1f} MB, trend "
          f"{sampler.slope_mb_per_min():+.2f} MB/min")
    print(f"  GET /api/v1/snapshot at the end: {1000 * snapshot_s:.0f} ms; simulator process "
          f"CPU {sim_cpu:.1f} % of one core (not counted)")
    print(_machine())


# -- command line --------------------------------------------------------------------------

def _scale_args(p: argparse.ArgumentParser, prefix: str = "") -> None:
    p.add_argument(f"--{prefix}endpoints", type=int, default=500)
    p.add_argument(f"--{prefix}interval", type=float, default=10.0,
                   help="probe interval of each endpoint, s (default 10)")
    p.add_argument(f"--{prefix}duration", type=float, default=600.0,
                   help="measured seconds (default 600 = 10 minutes)")
    p.add_argument(f"--{prefix}warmup", type=float, default=15.0,
                   help="seconds before measuring (default 15)")
    p.add_argument(f"--{prefix}jitter", type=float, default=0.0,
                   help="agent.jitter_s (default 0: every endpoint due at the same instant, "
                        "the worst case, and rounds are well defined)")
    p.add_argument(f"--{prefix}scrape-every", type=float, default=15.0,
                   help="GET /metrics every N s like Prometheus (default 15; 0: never)")
    p.add_argument(f"--{prefix}incident", action="store_true",
                   help="the tools backend hangs for the whole window (every endpoint "
                        "probe times out, every endpoint alert fires)")
    p.add_argument(f"--{prefix}cycle-target", type=float, default=2.0)


def _scale_run(args: argparse.Namespace, prefix: str = "") -> ScaleRun:
    def get(name: str):
        return getattr(args, prefix.replace("-", "_") + name)

    return ScaleRun(endpoints=get("endpoints"), interval_s=get("interval"),
                    duration_s=get("duration"), warmup_s=get("warmup"), jitter_s=get("jitter"),
                    scrape_every_s=get("scrape_every"), incident=get("incident"),
                    cycle_target_s=get("cycle_target"), keep=getattr(args, "keep", False),
                    patch=args.patch, py_spy=getattr(args, "py_spy", None))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    check = sub.add_parser("check", help="check --json wall time and probe-phase concurrency")
    check.add_argument("--runs", type=int, default=10)
    detect = sub.add_parser("detect", help="agent: time from a fault to a firing alert")
    over = sub.add_parser("overhead", help="agent: CPU and RSS at default intervals")
    scale = sub.add_parser("scale", help="agent: many extra endpoints")
    every = sub.add_parser("agent", help="detect, overhead and scale one after the other")
    for p in (detect, every):
        p.add_argument("--trials", type=int, default=10)
        p.add_argument("--scenario", default="openai-outage")
        p.add_argument("--alert", default="openai_health")
        p.add_argument("--timeout", type=float, default=30.0,
                       help="give up on a trial after this many seconds")
        p.add_argument("--seed", type=int, default=1, help="seed of the random phases")
    detect.add_argument("--endpoints", type=int, default=0,
                        help="also probe N extra endpoints every 10 s (load)")
    for p, prefix in ((over, ""), (every, "overhead-")):
        p.add_argument(f"--{prefix}duration", type=float, default=60.0,
                       help="measured seconds (default 60)")
        p.add_argument(f"--{prefix}warmup", type=float, default=10.0,
                       help="seconds before measuring (default 10)")
        p.add_argument(f"--{prefix}scrape-every", type=float, default=0.0,
                       help="GET /metrics every N s during the window like Prometheus "
                            "(default 0: never)")
    _scale_args(scale)
    _scale_args(every, "scale-")
    scale.add_argument("--keep", action="store_true", help="keep the temp dir (config, db)")
    scale.add_argument("--py-spy", type=Path, metavar="OUT",
                       help="investigation: record the agent with py-spy (--gil, raw "
                            "collapsed stacks) during the window into OUT")
    for p in (detect, over, scale, every):
        p.add_argument("--patch", type=Path, metavar="FILE",
                       help="experiments only: exec FILE (monkeypatches) in the agent process "
                            "before it starts; the figures are then not the shipped agent's")
    args = parser.parse_args(argv)
    if getattr(args, "patch", None) is not None:
        print(f"NOTE: agent run with the experimental patch {args.patch}, not as shipped")
    if args.what == "check":
        bench_check(args.runs)
    if args.what in ("detect", "agent"):
        bench_detect(args.trials, args.scenario, args.alert, args.timeout, args.seed,
                     args.patch, getattr(args, "endpoints", 0))
    if args.what == "overhead":
        bench_overhead(args.duration, args.warmup, args.scrape_every, args.patch)
    if args.what == "agent":
        bench_overhead(args.overhead_duration, args.overhead_warmup,
                       args.overhead_scrape_every, args.patch)
    if args.what in ("scale", "agent"):
        bench_scale(_scale_run(args, "scale-" if args.what == "agent" else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
