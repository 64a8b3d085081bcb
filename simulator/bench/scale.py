"""`scale`: the agent with hundreds of extra endpoints."""

from __future__ import annotations

import collections
import math
import sqlite3
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from simulator.bench.common import machine, met
from simulator.bench.procs import agent_config, stack, wait_for_first_snapshot
from simulator.bench.promtext import histogram, histogram_quantile, quantile
from simulator.bench.sampling import Sampler, sleep_scraping

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
                  f"{run.cycle_target_s:g} s: {met(ok)})")
            print(f"  probe start lag behind schedule (from the store, an upper bound): p50 "
                  f"{1000 * quantile(lags, 0.5):.0f} ms, p99 {1000 * p99:.0f} ms, max "
                  f"{1000 * max(lags):.0f} ms (target p99 <= 200 ms: {met(p99 <= 0.2)})")
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
          f"{met(lag_p99 <= 0.2)})")
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
          f"(target <= 30 %: {met(sampler.cpu_percent <= 30)})")
    print(f"  agent RSS: peak of the first {first_win:.0f} s {rss_first:.1f} MB, of the last "
          f"{first_win:.0f} s {rss_last:.1f} MB: growth {growth:+.1f} % (target <= 5 %: "
          f"{met(growth <= 5)}); overall peak {sampler.peak_mb:.1f} MB, trend "
          f"{sampler.slope_mb_per_min():+.2f} MB/min")
    print(f"  GET /api/v1/snapshot at the end: {1000 * snapshot_s:.0f} ms; simulator process "
          f"CPU {sim_cpu:.1f} % of one core (not counted)")
    print(machine())


