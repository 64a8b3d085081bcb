"""Reading the agent's /metrics text: samples, histograms, quantiles."""

from __future__ import annotations

import collections
import math
import re
from typing import Iterator

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


