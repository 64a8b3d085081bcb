"""Benchmarks that print figures (never timed tests): `python -m simulator.bench WHAT`.

report:   ONE table (scripts/bench): each of issue 15's figures beside its peer's in the
          same run (the guide's health_check.sh, Glances, node_exporter), the ratio, the
          load average; see simulator/bench/report.py.
check:    the whole `alice-ops check --json` process against a running simulator (median
          of N runs) at 0 and 200 ms per request; the in-process probe phase is printed
          too, labelled as such (it leaves out the start-up a user waits for).
detect:   a running `alice-agent` at default intervals, `alerts.for_s: 0`: seconds from
          switching the simulator to `openai-outage` to `openai_health` firing in the
          agent's snapshot (polled every 50 ms); N trials, each at a random phase of the
          probe schedule. Target: median within one probe interval + 0.5 s.
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
