"""The guide's weekly performance report as data (pure): latency percentiles, routing split,
spend against budget and alert counts over seven local days, from stored history.

`build_weekly(history, alerts, ...)` takes the sampled series and the alert episodes
already read from state.db and returns a `WeeklyReport`; rendering is `render`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Mapping, Sequence
from zoneinfo import ZoneInfo

from rules.budget import Levels

Point = tuple[float, float]


@dataclass(frozen=True)
class LatencyMetric:
    component: str
    metric: str
    title: str
    target: float
    alert: float


@dataclass(frozen=True)
class Series:
    name: str
    points: tuple[Point, ...]  # (ts, value), hourly means


@dataclass(frozen=True)
class LatencyRow:
    title: str
    target: float
    alert: float
    samples: int
    p50: float | None
    p95: float | None
    p99: float | None
    worst: float | None

    @property
    def verdict(self) -> str:
        if self.p95 is None:
            return "no data"
        if self.p95 > self.alert:
            return "above alert"
        return "meets target" if self.p95 < self.target else "misses target"


@dataclass(frozen=True)
class DayRow:
    day: date
    spend_usd: float | None
    budget_usd: float
    fast_share: float | None
    warnings: int
    criticals: int

    @property
    def percent(self) -> float | None:
        if self.spend_usd is None or self.budget_usd <= 0:
            return None
        return 100.0 * self.spend_usd / self.budget_usd


@dataclass(frozen=True)
class WeeklyReport:
    start: float
    end: float
    timezone: str
    generated_at: float
    latency: tuple[LatencyRow, ...]
    latency_series: tuple[Series, ...]
    share_series: Series
    band: tuple[float, float]
    days: tuple[DayRow, ...]
    daily_budget: float
    weekly_budget: float
    alert_counts: tuple[tuple[str, int, int], ...]  # alert, warning, critical
    levels: Levels = Levels()  # the configured budget levels, for colouring spend
    demo: bool = False  # from the simulated week of `report weekly --demo`

    @property
    def week_spend(self) -> float | None:
        known = [d.spend_usd for d in self.days if d.spend_usd is not None]
        return sum(known) if known else None

    @property
    def week_percent(self) -> float | None:
        """The week's spend as a percent of the weekly budget."""
        week = self.week_spend
        return None if week is None or self.weekly_budget <= 0 else 100 * week / self.weekly_budget

    @property
    def fast_share(self) -> float | None:
        values = [v for _, v in self.share_series.points]
        return sum(values) / len(values) if values else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100) of `values`; None when empty."""
    xs = sorted(v for v in values if v is not None and math.isfinite(v))
    if not xs:
        return None
    pos = (len(xs) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def hourly_means(points: Sequence[Point]) -> tuple[Point, ...]:
    """Mean per UTC hour (timestamped at the hour's middle), in time order."""
    sums: dict[int, list[float]] = {}
    for ts, value in points:
        if value is None or not math.isfinite(value):
            continue
        acc = sums.setdefault(int(ts // 3600), [0.0, 0])
        acc[0] += value
        acc[1] += 1
    return tuple((h * 3600 + 1800.0, s / n) for h, (s, n) in sorted(sums.items()))


def local_days(end: float, tz: ZoneInfo, days: int = 7) -> list[date]:
    last = datetime.fromtimestamp(end, tz).date()
    return [last - timedelta(days=days - 1 - i) for i in range(days)]


def week_start(end: float, tz: ZoneInfo, days: int = 7) -> float:
    first = local_days(end, tz, days)[0]
    return datetime(first.year, first.month, first.day, tzinfo=tz).timestamp()


def build_weekly(history: Mapping[tuple[str, str], Sequence[Point]],
                 alerts: Sequence[tuple[float, str, str]], latency: Sequence[LatencyMetric],
                 *, end: float, tz: ZoneInfo, daily_budget: float, weekly_budget: float,
                 band: tuple[float, float], generated_at: float,
                 levels: Levels = Levels()) -> WeeklyReport:
    """`history` holds ("cost", "daily_spent_usd") and ("cost", "fast_share_percent") and
    the latency series; `alerts` is (ts, alert name, severity) per firing episode."""
    start = week_start(end, tz)
    days = local_days(end, tz)

    def in_week(points: Sequence[Point]) -> list[Point]:
        return [(t, v) for t, v in points if start <= t <= end and v is not None]

    rows, series = [], []
    for m in latency:
        pts = in_week(history.get((m.component, m.metric), ()))
        values = [v for _, v in pts]
        rows.append(LatencyRow(m.title, m.target, m.alert, len(values), percentile(values, 50),
                               percentile(values, 95), percentile(values, 99),
                               max(values) if values else None))
        series.append(Series(m.title.removesuffix(" p95"), hourly_means(pts)))
    share = in_week(history.get(("cost", "fast_share_percent"), ()))
    spend = in_week(history.get(("cost", "daily_spent_usd"), ()))

    def day_of(ts: float) -> date:
        return datetime.fromtimestamp(ts, tz).date()

    spend_by_day: dict[date, float] = {}
    for t, v in spend:  # the day's running total: its highest sample is the day's spend
        d = day_of(t)
        spend_by_day[d] = max(spend_by_day.get(d, 0.0), v)
    share_by_day: dict[date, list[float]] = {}
    for t, v in share:
        share_by_day.setdefault(day_of(t), []).append(v)
    counts: dict[date, list[int]] = {}
    per_alert: dict[str, list[int]] = {}
    for t, name, severity in alerts:
        if not start <= t <= end:
            continue
        slot = 1 if severity == "critical" else 0
        counts.setdefault(day_of(t), [0, 0])[slot] += 1
        per_alert.setdefault(name, [0, 0])[slot] += 1
    day_rows = tuple(DayRow(d, spend_by_day.get(d), daily_budget,
                            (sum(share_by_day[d]) / len(share_by_day[d]))
                            if d in share_by_day else None,
                            counts.get(d, [0, 0])[0], counts.get(d, [0, 0])[1]) for d in days)
    ranked = sorted(per_alert.items(), key=lambda kv: (-(kv[1][0] + kv[1][1]), kv[0]))
    return WeeklyReport(start=start, end=end, timezone=str(tz.key), generated_at=generated_at,
                        latency=tuple(rows), latency_series=tuple(series),
                        share_series=Series("fast share", hourly_means(share)), band=band,
                        days=day_rows, daily_budget=daily_budget, weekly_budget=weekly_budget,
                        alert_counts=tuple((n, w, c) for n, (w, c) in ranked), levels=levels)
