"""Timestamped snapshots of the metric store: the sliding window the query API reads.

Windows that reach back before the last scenario change are cut to start at that
change (but keep at least `min_window_s` of data), so queries follow a switch promptly.
"""

from __future__ import annotations

import bisect
from array import array

from simulator.metrics import Labels, MetricStore

LOOKBACK_S = 300.0  # Prometheus's default staleness lookback for instant selectors


class History:
    """Snapshots of one MetricStore every tick, kept for `retention_s`."""

    def __init__(self, store: MetricStore, now: float, retention_s: float = 330.0,
                 min_window_s: float = 1.0) -> None:
        self.store = store
        self.retention_s = retention_s
        self.min_window_s = min_window_s
        self.reset(now)
        self._by_name: dict[str, list[tuple[Labels, int]]] = {}
        for i, (name, labels) in enumerate(store.keys):
            self._by_name.setdefault(name, []).append((labels, i))

    def reset(self, now: float) -> None:
        """Start over at `now` from the store's current values (taken as the zero point)."""
        self.started = now
        self.times: list[float] = [now]
        self.snaps: list[array] = [self.store.snapshot()]
        self._base = self.snaps[0]
        self.changes: list[float] = [now]

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def record(self, now: float) -> None:
        self.times.append(now)
        self.snaps.append(self.store.snapshot())
        cut = bisect.bisect_left(self.times, now - self.retention_s)
        if cut > 64:  # prune in batches
            del self.times[:cut - 1]
            del self.snaps[:cut - 1]

    def mark_change(self, now: float) -> None:
        self.changes.append(now)
        del self.changes[:-16]

    def _at(self, t: float) -> int | None:
        i = bisect.bisect_right(self.times, t) - 1
        return i if i >= 0 else None

    def window_start(self, t: float, range_s: float) -> float:
        """Start of a `range_s` window ending at t, cut at the last scenario change."""
        start = t - range_s
        i = bisect.bisect_right(self.changes, t) - 1
        if i >= 0 and self.changes[i] > start:
            start = max(start, min(self.changes[i], t - self.min_window_s))
        return start

    def instant(self, name: str, t: float) -> list[tuple[dict[str, str], float]]:
        """Every series called `name` at time t (none if older than the lookback)."""
        series = self._by_name.get(name)
        i = self._at(t)
        if not series or i is None or t - self.times[i] > LOOKBACK_S:
            return []
        snap = self.snaps[i]
        return [(dict(labels), snap[idx]) for labels, idx in series]

    def delta(self, name: str, t: float, range_s: float, follow_scenario: bool
              ) -> list[tuple[dict[str, str], float, float]]:
        """(labels, increase, seconds covered) per series over the window ending at t."""
        series = self._by_name.get(name)
        end = self._at(t)
        if not series or end is None:
            return []
        start_t = self.window_start(t, range_s) if follow_scenario else t - range_s
        if start_t <= self.started:  # counters began at the start snapshot's values
            base, base_t = self._base, self.started
        else:
            first = self._at(start_t)
            first = 0 if first is None else first
            base, base_t = self.snaps[first], self.times[first]
        seconds = self.times[end] - base_t
        if seconds <= 0:
            return []
        snap = self.snaps[end]
        return [(dict(labels), snap[idx] - base[idx], seconds) for labels, idx in series]
