"""What a running simulator has counted, read as its clients read it (the Prometheus
query API, the backend's /metrics), so tests wait on traffic rather than sleep for it."""

from __future__ import annotations

import math
import re

import httpx


def query(sim, promql: str) -> float | None:
    """The first value of an instant query on the simulator's Prometheus API (None: no
    series, or not a number)."""
    answer = httpx.get(sim.urls["prometheus"] + "/api/v1/query", params={"query": promql},
                       timeout=5.0).json()
    result = answer["data"]["result"]
    if not result:
        return None
    value = float(result[1] if answer["data"]["resultType"] == "scalar"
                  else result[0]["value"][1])
    return None if math.isnan(value) else value


def counter(sim, name: str) -> float:
    """A counter's total on the simulated backend's /metrics (0 before the first count)."""
    text = httpx.get(sim.urls["backend"] + "/metrics", timeout=5.0).text
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0
