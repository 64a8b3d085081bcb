"""The fast/think routing split and budget-aware routing advice (pure).

The guide's dashboards want the fast path (OpenAI) at 60-70 % of traffic ("optimal
cost/performance balance"); its CostOptimizedRouter and cost_controls.yml route to
the local think path as the daily budget fills. `advise` says how much of the fast
traffic to move to local so that, at the current burn rate, the day ends inside budget.
Local (think) traffic costs nothing and never counts against a budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class RoutingSplit:
    fast_per_s: float | None
    think_per_s: float | None
    total_per_s: float | None
    band: tuple[float, float] = (60.0, 70.0)

    @property
    def fast_share_percent(self) -> float | None:
        """Fast requests over all routed requests, in percent (None with no traffic)."""
        total = self.total_per_s
        if total is None and self.fast_per_s is not None and self.think_per_s is not None:
            total = self.fast_per_s + self.think_per_s
        if self.fast_per_s is None or total is None or total <= 0:
            return None
        return min(100.0, 100.0 * self.fast_per_s / total)

    @property
    def verdict(self) -> str:
        """"in band", "below band", "above band" or "no traffic"."""
        share = self.fast_share_percent
        if share is None:
            return "no traffic"
        low, high = self.band
        if share < low:
            return "below band"
        return "above band" if share > high else "in band"


@dataclass(frozen=True)
class Advice:
    shift_percent: float
    """Share of today's fast-path traffic to route to local from now on (0..100)."""
    fast_share_after: float | None
    text: str


def advise(spent_today: float | None, limit: float, burn_usd_per_h: float | None, now: float,
           day_end: float, fast_share_percent: float | None) -> Advice | None:
    """What share of fast traffic to move to the think path to end the day inside budget.

    Spend is assumed to scale with fast traffic (a local request costs nothing). None
    when spend or burn rate is unknown.
    """
    if spent_today is None or burn_usd_per_h is None or not math.isfinite(burn_usd_per_h):
        return None
    hours_left = max(0.0, day_end - now) / 3600.0
    coming = max(0.0, burn_usd_per_h) * hours_left
    left = limit - spent_today
    if left <= 0:
        shift = 100.0
    elif coming <= left:
        shift = 0.0
    else:
        shift = 100.0 * (1.0 - left / coming)
    after = None if fast_share_percent is None else fast_share_percent * (1 - shift / 100.0)
    if shift <= 0:
        text = (f"no change needed: at {burn_usd_per_h:.2f} USD/h the day ends at "
                f"{spent_today + coming:.2f} of {limit:.2f} USD")
    elif shift >= 100:
        text = "route everything to local: the daily budget is spent"
    else:
        text = (f"route {shift:.0f} % of fast-path traffic to local"
                + (f" (fast share {fast_share_percent:.0f} % -> {after:.0f} %)"
                   if after is not None and fast_share_percent is not None else "")
                + f" to end the day inside the {limit:.2f} USD budget")
    shift = min(100.0, math.ceil(shift * 10 - 1e-9) / 10)  # rounded up: never short
    after = None if fast_share_percent is None else fast_share_percent * (1 - shift / 100.0)
    return Advice(shift, None if after is None else round(after, 1), text)


def per_session(usd: float | None, sessions: float | None) -> float | None:
    """Spend divided by active sessions (the guide's cost per user session)."""
    if usd is None or sessions is None or sessions <= 0:
        return None
    return usd / sessions
