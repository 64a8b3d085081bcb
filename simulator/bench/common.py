"""What every benchmark shares: the simulator's key, how figures are printed."""

from __future__ import annotations

import os
import statistics
import sys

SIM_KEY = "sk-sim-bench-key-000000000000"
SERVICES = ("backend", "gateway", "ollama", "openai", "prometheus")
MISSED_RUN_LOG = "previous run still going"


def figures(label: str, samples: list[float]) -> str:
    return (f"{label}: median {statistics.median(samples):.3f} s, min {min(samples):.3f} s, "
            f"max {max(samples):.3f} s (n={len(samples)})")


def machine() -> str:
    return f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, {sys.platform}"


def met(ok: bool) -> str:
    return "MET" if ok else "NOT MET"

