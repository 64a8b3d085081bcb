"""`overhead`: the agent's CPU and RSS at default intervals."""

from __future__ import annotations

import time
from pathlib import Path

from simulator.bench.common import machine, met
from simulator.bench.procs import agent_config, stack, wait_for_first_snapshot
from simulator.bench.sampling import Sampler, sleep_scraping

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
          f"(target <= 2 %: {met(sampler.cpu_percent <= 2)})")
    print(f"  agent RSS: peak {sampler.peak_mb:.1f} MB over {len(sampler.rss)} samples "
          f"every 0.5 s (target <= 100 MB: {met(sampler.peak_mb <= 100)}); first "
          f"{sampler.rss[0][1] / 2**20:.1f} MB, last {sampler.rss[-1][1] / 2**20:.1f} MB")
    print(f"  (simulator process CPU: {sim_cpu:.1f} % of one core, not counted)")
    print(machine())


