"""`check`: the whole `alice-ops check --json` process, and the probe phase alone."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from simulator.bench.common import SIM_KEY, figures, machine


def _config_text(urls: dict[str, str]) -> str:
    return f"""targets:
  openai: {{base_url: "{urls['openai']}", api_key: "${{BENCH_OPENAI_KEY}}"}}
  ollama: {{url: "{urls['ollama']}", deep_probe: true, deep_timeout_ms: 5000}}
  gateway: {{url: "{urls['gateway']}"}}
  backend: {{url: "{urls['backend']}"}}
  prometheus: {{url: "{urls['prometheus']}"}}
"""


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
        print(figures("alice-ops check --json, whole process, 0 ms", wall))
        sim.set_latency(200)
        slow = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run([str(exe), "check", "--json", "-c", str(config)], env=env,
                           capture_output=True, check=False)
            slow.append(time.perf_counter() - started)
        sim.set_latency(0)
        print(figures("alice-ops check --json, whole process, 200 ms per request", slow))

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
        print(figures("probe phase alone, in-process after every import (NOT what a user "
                      "waits for: see the whole-process lines), 200 ms per request", phase))
        print(machine())


