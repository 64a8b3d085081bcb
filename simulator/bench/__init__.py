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

from simulator.bench.procs import Child, agent_config, stack
from simulator.bench.sampling import Sampler

__all__ = ["Child", "Sampler", "agent_config", "stack"]
