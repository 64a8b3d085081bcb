"""Spend figures from several sources, reconciled side by side (pure), and the cost report.

`build_report(figures, traffic, table, now, tz)` picks the figure budgets are judged
on (the primary source per window), judges every budget, projects the burn, works out
the routing split and advice, and notes where the sources disagree. Data in, data out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence
from zoneinfo import ZoneInfo

from vocab.model import Status
from agent.snapshot import iso
from rules.budget import (DEFAULT_HORIZONS_S, WINDOWS, BudgetStatus, BurnStatus, alert_text,
                          judge_budget, judge_burn, projected_spend)
from rules.cost_table import CostTable
from rules.routing import Advice, RoutingSplit, advise, per_session

SOURCES = ("prometheus", "costs_api", "estimate")


@dataclass(frozen=True)
class SourceFigures:
    """What one spend source said: USD per window (None: it cannot tell) and burn rate."""

    name: str
    available: bool
    reason: str = ""
    spent: Mapping[str, float | None] = field(default_factory=dict)
    burn_usd_per_h: float | None = None
    note: str = ""
    comparable: bool = True
    """False when its windows are not ours (the costs API's UTC-day buckets in another
    time zone): shown, but not counted as a disagreement."""
    windows: tuple[str, ...] = WINDOWS
    """Windows this kind of source can measure at all (the costs API: no hourly)."""


@dataclass(frozen=True)
class Traffic:
    """Routing figures from Prometheus (requests/s; sessions a gauge)."""

    fast_per_s: float | None = None
    think_per_s: float | None = None
    total_per_s: float | None = None
    sessions: float | None = None
    reason: str = ""


@dataclass(frozen=True)
class CostReport:
    """Everything `alice-ops cost`, the agent's cost component and the dashboard show."""

    now: float
    timezone: str
    status: Status
    budgets: tuple[BudgetStatus, ...]
    texts: Mapping[str, str]
    primary: Mapping[str, str | None]
    burn_usd_per_h: float | None
    burn_source: str | None
    daily_projected_usd: float | None
    sources: tuple[SourceFigures, ...]
    disagreements: tuple[str, ...]
    routing: RoutingSplit
    sessions: float | None
    advice: Advice | None
    reason: str = ""
    measured: frozenset[str] = frozenset(WINDOWS)
    """Windows some configured source can measure; the others are shown, not judged."""
    levels_percent: Mapping[str, float] = field(default_factory=dict)
    burns: tuple[BurnStatus, ...] = ()
    """Each measured budget with a horizon, judged on its burn: WARNING when it runs out
    within the horizon (the report's status counts it)."""
    per_session: Mapping[str, Any] | None = None
    """Per-session spend against the cap (agent.cost.sessions.per_session_section)."""
    audio: Mapping[str, Any] | None = None
    """Cost per audio minute (rules.cost_table.audio_cost)."""
    rate_limits: tuple[Mapping[str, Any], ...] = ()
    """Rate-limit headroom from the app's metrics (agent.cost.ratelimits.ratelimit_figures)."""

    def budget(self, window: str) -> BudgetStatus:
        return next(b for b in self.budgets if b.window == window)

    def to_json(self) -> dict[str, Any]:
        """The `cost` section of the snapshot and `alice-ops cost --json` (stable shape)::

            {"status": "ok|warning|critical|unknown",      # worst budget status
             "checked_at": ISO-8601 UTC, "timezone": "Europe/Stockholm", "currency": "USD",
             "reason": "" | why nothing could be read,
             "levels_percent": {"warning": 80.0, "critical": 95.0, "exceeded": 100.0},
             "budgets": [                                  # always hourly, daily, weekly
               {"window": "hourly|daily|weekly", "limit_usd": 10.0,
                "spent_usd": 8.42 | null, "percent": 84.2 | null,
                "level": "ok|warning|critical|exceeded|unknown",
                "status": "ok|warning|critical|unknown",
                "source": "prometheus|costs_api|estimate" | null,
                "window_start": ISO, "window_end": ISO,
                "exhausted_at": ISO | null,                # at the current burn rate
                "projected_usd": 9.8 | null,               # at window end, same rate
                "measured": bool,        # false: no configured source can measure this
                                         # window (not judged; e.g. hourly via costs API)
                "text": "daily budget 10.00 USD: 8.42 spent, 84 %, exhausted at 16:40 ..."}],
             "burn": [{"window": "hourly|daily", "horizon_s": 900.0,
                       "exhausted_at": ISO | null, "minutes_left": 4.2 | null,
                       "status": "ok|warning|unknown",   # warning: runs out within horizon
                       "text": "hourly budget 2.00 USD runs out at 16:40, in 4 min ..."}],
             "burn_rate_usd_per_hour": 1.2 | null,         # the last hour's rate
             "burn_source": "prometheus|estimate" | null,
             "sources": [{"name": "prometheus|costs_api|estimate", "available": bool,
                          "reason": "", "note": "", "comparable": bool,
                          "hourly_usd": float|null, "daily_usd": float|null,
                          "weekly_usd": float|null, "burn_usd_per_hour": float|null}],
             "disagreements": ["daily: prometheus 8.42 vs estimate 6.10 USD (31 %)"],
             "routing": {"fast_per_s": float|null, "think_per_s": float|null,
                         "total_per_s": float|null, "fast_share_percent": float|null,
                         "band_percent": [60.0, 70.0],
                         "verdict": "in band|below band|above band|no traffic",
                         "active_sessions": float|null,
                         "cost_per_session_usd": float|null,       # today / sessions
                         "cost_per_session_hour_usd": float|null,  # burn / sessions
                         "advice": {"shift_to_local_percent": 35.0,
                                    "fast_share_after_percent": 42.3|null,
                                    "text": "route 35 % of fast-path traffic ..."} | null},
             "per_session": {...} | null,   # agent.cost.sessions.per_session_section
             "audio": {...} | null,         # rules.cost_table.audio_cost
             "rate_limits": [...]}          # agent.cost.ratelimits.ratelimit_figures
        """
        budgets = []
        for b in self.budgets:
            pct = b.percent
            budgets.append({
                "window": b.window, "limit_usd": b.limit_usd,
                "spent_usd": None if b.spent_usd is None else round(b.spent_usd, 6),
                "percent": None if pct is None or not math.isfinite(pct) else round(pct, 2),
                "level": b.level.word if b.level is not None else "unknown",
                "status": b.status.word, "source": self.primary.get(b.window),
                "window_start": iso(b.start), "window_end": iso(b.end),
                "exhausted_at": iso(b.exhausted_at),
                "projected_usd": _round(None if b.spent_usd is None else projected_spend(
                    b.spent_usd, self.burn_usd_per_h, self.now, b.end)),
                "measured": b.window in self.measured, "text": self.texts[b.window]})
        spent_today = self.budget("daily").spent_usd
        return {
            "status": self.status.word, "checked_at": iso(self.now),
            "timezone": self.timezone, "currency": "USD", "reason": self.reason,
            "levels_percent": dict(self.levels_percent), "budgets": budgets,
            "burn": [{"window": u.window, "horizon_s": u.horizon_s,
                      "exhausted_at": iso(u.exhausted_at),
                      "minutes_left": _round(u.minutes_left, 2), "status": u.status.word,
                      "text": u.text} for u in self.burns],
            "burn_rate_usd_per_hour": _round(self.burn_usd_per_h),
            "burn_source": self.burn_source,
            "sources": [{"name": s.name, "available": s.available, "reason": s.reason,
                         "note": s.note, "comparable": s.comparable,
                         **{f"{w}_usd": _round(s.spent.get(w)) for w in WINDOWS},
                         "burn_usd_per_hour": _round(s.burn_usd_per_h)} for s in self.sources],
            "disagreements": list(self.disagreements),
            "routing": {
                "fast_per_s": _round(self.routing.fast_per_s),
                "think_per_s": _round(self.routing.think_per_s),
                "total_per_s": _round(self.routing.total_per_s),
                "fast_share_percent": _round(self.routing.fast_share_percent, 2),
                "band_percent": list(self.routing.band), "verdict": self.routing.verdict,
                "active_sessions": self.sessions,
                "cost_per_session_usd": _round(per_session(spent_today, self.sessions)),
                "cost_per_session_hour_usd": _round(per_session(self.burn_usd_per_h,
                                                                self.sessions)),
                "advice": None if self.advice is None else {
                    "shift_to_local_percent": self.advice.shift_percent,
                    "fast_share_after_percent": self.advice.fast_share_after,
                    "text": self.advice.text}},
            "per_session": None if self.per_session is None else dict(self.per_session),
            "audio": None if self.audio is None else dict(self.audio),
            "rate_limits": [dict(f) for f in self.rate_limits],
        }


def _round(value: float | None, digits: int = 6) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, digits)


def _preferred(figures: Sequence[SourceFigures], order: Sequence[str], primary: str
               ) -> list[SourceFigures]:
    """The available sources a figure may come from, best first: the fixed primary
    source alone, or (auto) every source in `order`."""
    by_name = {f.name: f for f in figures}
    names = [primary] if primary != "auto" else order
    return [by_name[n] for n in names if n in by_name and by_name[n].available]


def pick(figures: Sequence[SourceFigures], window: str, order: Sequence[str],
         primary: str = "auto") -> tuple[float | None, str | None]:
    """The figure budgets are judged on: the fixed primary source, or (auto) the first
    source in `order` that has one."""
    for f in _preferred(figures, order, primary):
        if f.spent.get(window) is not None:
            return f.spent[window], f.name
    return None, None


def disagreements(figures: Sequence[SourceFigures], tolerance_percent: float
                  ) -> tuple[str, ...]:
    """Windows where two comparable sources differ by more than the tolerance (relative
    to the larger figure)."""
    out = []
    for window in WINDOWS:
        have = [(f.name, f.spent[window]) for f in figures
                if f.available and f.comparable and f.spent.get(window) is not None]
        if len(have) < 2:
            continue
        (lo_name, lo), (hi_name, hi) = min(have, key=lambda x: x[1]), max(have, key=lambda x: x[1])
        if hi <= 0:
            continue
        diff = 100.0 * (hi - lo) / hi
        if diff > tolerance_percent and hi - lo >= 0.01:
            out.append(f"{window}: {hi_name} {hi:.2f} vs {lo_name} {lo:.2f} USD ({diff:.0f} %)")
    return tuple(out)


def build_report(figures: Sequence[SourceFigures], traffic: Traffic, table: CostTable,
                 now: float, tz: ZoneInfo, *, order: Sequence[str] = SOURCES,
                 primary: str = "auto", week_start: int = 0,
                 tolerance_percent: float = 20.0,
                 horizons: Mapping[str, float | None] = DEFAULT_HORIZONS_S) -> CostReport:
    order = [s for s in order if s in SOURCES]
    burner = next((f for f in _preferred(figures, order, primary)
                   if f.burn_usd_per_h is not None), None)
    burn, burn_source = (burner.burn_usd_per_h, burner.name) if burner else (None, None)
    budgets, texts, chosen = [], {}, {}
    for window in WINDOWS:
        spent, source = pick(figures, window, order, primary)
        b = judge_budget(window, table.budgets[window], spent, burn, now, tz, table.levels,
                         week_start, source or "")
        budgets.append(b)
        chosen[window] = source
        texts[window] = alert_text(b, tz, now)
    daily = budgets[1]
    routing = RoutingSplit(traffic.fast_per_s, traffic.think_per_s, traffic.total_per_s,
                           table.routing_band)
    advice = advise(daily.spent_usd, daily.limit_usd, burn, now, daily.end,
                    routing.fast_share_percent)
    reasons = [f"{f.name}: {f.reason}" for f in figures if not f.available and f.reason]
    # a window no configured source can ever measure (hourly with only the costs API) is
    # not a blind spot; one a configured source fails to read is (UNKNOWN)
    measured = frozenset(w for f in figures for w in f.windows)
    for b in budgets:
        if b.window not in measured:
            texts[b.window] = (f"{b.window} budget {b.limit_usd:.2f} USD: not measured by "
                               "the configured sources")
    burns = tuple(judge_burn(b, float(h), tz, now) for b in budgets
                  if b.window in measured and (h := horizons.get(b.window)) is not None)
    # a projected exhaustion is a WARNING (SRE burn-rate style); an unknown rate is not
    status = (Status.worst([*(b.status for b in budgets if b.window in measured),
                            *(u.status for u in burns if u.status is Status.WARNING)])
              if measured else Status.UNKNOWN)
    return CostReport(
        now=now, timezone=str(tz.key), status=status, budgets=tuple(budgets), texts=texts,
        primary=chosen, burn_usd_per_h=burn, burn_source=burn_source,
        daily_projected_usd=None if daily.spent_usd is None else projected_spend(
            daily.spent_usd, burn, now, daily.end),
        sources=tuple(figures), disagreements=disagreements(figures, tolerance_percent),
        routing=routing, sessions=traffic.sessions, advice=advice,
        reason="; ".join(reasons) if all(b.spent_usd is None for b in budgets) else "",
        measured=measured,
        levels_percent={k: round(getattr(table.levels, k) * 100, 4)
                        for k in ("warning", "critical", "exceeded")}, burns=burns)
