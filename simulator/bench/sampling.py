"""CPU and RSS of a process, sampled on a thread (psutil)."""

from __future__ import annotations

import statistics
import sys
import threading
import time
from typing import Any

from simulator.bench.procs import Stack

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


