"""Budget math (pure): spend windows in a time zone, levels, burn-rate projection, alert text.

The guide's Cost Management section (cost_monitor.py, cost_controls.yml): daily 10 USD,
hourly 2 USD, weekly 50 USD; 80 % is a warning, 95 % critical, 100 % exceeded. The
guide's `check_budget_alerts` tests "> 80 %" before "> 100 %", so its critical branch
is never reached; here the levels are checked from the top down and are monotonic
in spend. Everything takes `now` (a Unix time) and returns data.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from vocab.model import Status

Window = Literal["hourly", "daily", "weekly"]
WINDOWS: tuple[Window, ...] = ("hourly", "daily", "weekly")
WINDOW_WORD = {"hourly": "hour", "daily": "day", "weekly": "week"}


class Level(enum.IntEnum):
    """How much of a budget is used; ordered so that more spend never gives a lower level."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    EXCEEDED = 3

    @property
    def word(self) -> str:
        return self.name.lower()

    @property
    def status(self) -> Status:
        """EXCEEDED is CRITICAL for alerts and exit codes (the guide's "exceeds budget!")."""
        return {Level.OK: Status.OK, Level.WARNING: Status.WARNING,
                Level.CRITICAL: Status.CRITICAL, Level.EXCEEDED: Status.CRITICAL}[self]


@dataclass(frozen=True)
class Levels:
    """Fractions of a budget at which each level starts (cost_controls.yml thresholds)."""

    warning: float = 0.8
    critical: float = 0.95
    exceeded: float = 1.0

    def __post_init__(self) -> None:
        if not 0 < self.warning <= self.critical <= self.exceeded:
            raise ValueError("levels must satisfy 0 < warning <= critical <= exceeded "
                             f"(got {self.warning:g}, {self.critical:g}, {self.exceeded:g})")


def level(spent: float, limit: float, levels: Levels = Levels()) -> Level:
    """The level of `spent` against `limit`: checked from the top, so 96 % is CRITICAL."""
    if limit <= 0:
        return Level.EXCEEDED if spent > 0 else Level.OK
    used = spent / limit
    if used >= levels.exceeded:
        return Level.EXCEEDED
    if used >= levels.critical:
        return Level.CRITICAL
    if used >= levels.warning:
        return Level.WARNING
    return Level.OK


# -- windows ----------------------------------------------------------------------------

def _day_start(day: date, tz: ZoneInfo) -> float:
    """The first instant of local `day`. Midnight can fall in a DST gap (clocks jump
    from 23:59 to 01:00, e.g. America/Santiago): then the day starts at the jump."""
    naive = datetime(day.year, day.month, day.day)
    t0 = naive.replace(tzinfo=tz, fold=0).timestamp()
    t1 = naive.replace(tzinfo=tz, fold=1).timestamp()
    # ambiguous midnight (t0 < t1): the first occurrence; gap (t0 > t1): the jump, t0
    return min(t0, t1) if _local_date(min(t0, t1), tz) == day else max(t0, t1)


def _local_date(ts: float, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(ts, tz).date()


def _hour_start(ts: float, tz: ZoneInfo) -> float:
    local = datetime.fromtimestamp(ts, tz)
    # the offset from UTC can have minutes (Asia/Kolkata +05:30): floor the local clock
    start = local.replace(minute=0, second=0, microsecond=0).timestamp()
    return start if start <= ts else ts - (local.minute * 60 + local.second
                                            + local.microsecond / 1e6)


def window_bounds(window: Window, now: float, tz: ZoneInfo, week_start: int = 0
                  ) -> tuple[float, float]:
    """[start, end) of the window holding `now`, as Unix times, on the local clock of tz.

    hourly: from the top of the local hour; daily: from local midnight (23 or 25 hours
    on DST days); weekly: from local midnight of `week_start` (0 Monday .. 6 Sunday).
    """
    if window == "hourly":
        start = _hour_start(now, tz)
        end = _hour_start(start + 3600 + 1, tz)
        if end <= now:  # a 30-minute DST shift (Australia/Lord_Howe)
            end = start + 3600
        return start, max(end, now + 1e-6)
    today = _local_date(now, tz)
    if window == "daily":
        first, days = today, 1
    elif window == "weekly":
        first, days = today - timedelta(days=(today.weekday() - week_start) % 7), 7
    else:
        raise ValueError(f"unknown budget window {window!r}")
    start = _day_start(first, tz)
    end = _day_start(first + timedelta(days=days), tz)
    return min(start, now), max(end, now + 1e-6)


# -- status of one budget ---------------------------------------------------------------

@dataclass(frozen=True)
class BudgetStatus:
    """One budget window judged: spent vs limit, level, and when it runs out at the
    current burn rate (None: not within this window, or already spent)."""

    window: Window
    limit_usd: float
    spent_usd: float | None
    level: Level | None
    start: float
    end: float
    exhausted_at: float | None
    source: str = ""
    rate_usd_per_h: float | None = None

    @property
    def percent(self) -> float | None:
        if self.spent_usd is None:
            return None
        if self.limit_usd <= 0:
            return math.inf if self.spent_usd > 0 else 0.0
        return 100.0 * self.spent_usd / self.limit_usd

    @property
    def status(self) -> Status:
        return Status.UNKNOWN if self.level is None else self.level.status


def exhaustion_time(spent: float, limit: float, rate_usd_per_h: float | None, now: float,
                    end: float) -> float | None:
    """When `spent` reaches `limit` at a constant `rate_usd_per_h`, if before `end`.

    None when the rate is unknown or zero, when the budget is already spent (nothing
    left to run out), or when the window ends first.
    """
    if rate_usd_per_h is None or rate_usd_per_h <= 0 or not math.isfinite(rate_usd_per_h):
        return None
    left = limit - spent
    if left <= 0:
        return None
    at = now + left / rate_usd_per_h * 3600.0
    return at if at < end else None


def judge_budget(window: Window, limit: float, spent: float | None, rate_usd_per_h: float | None,
                 now: float, tz: ZoneInfo, levels: Levels = Levels(), week_start: int = 0,
                 source: str = "") -> BudgetStatus:
    start, end = window_bounds(window, now, tz, week_start)
    if spent is None or not math.isfinite(spent):  # NaN or inf is no reading, not "OK"
        return BudgetStatus(window, limit, None, None, start, end, None, source, rate_usd_per_h)
    return BudgetStatus(window, limit, spent, level(spent, limit, levels), start, end,
                        exhaustion_time(spent, limit, rate_usd_per_h, now, end), source,
                        rate_usd_per_h)


def projected_spend(spent: float, rate_usd_per_h: float | None, now: float, end: float
                    ) -> float | None:
    """Spend at the end of the window if the current rate holds. A negative rate (a
    counter reset, a refund) projects no fall, and a projection is never below zero."""
    if rate_usd_per_h is None:
        return None
    return max(0.0, spent) + max(0.0, rate_usd_per_h) * max(0.0, end - now) / 3600.0


def clock(ts: float, tz: ZoneInfo, now: float) -> str:
    """"16:40" today (local), "Tue 09:15" on another day."""
    local = datetime.fromtimestamp(ts, tz)
    if local.date() == datetime.fromtimestamp(now, tz).date():
        return local.strftime("%H:%M")
    return local.strftime("%a %H:%M")


def alert_text(b: BudgetStatus, tz: ZoneInfo, now: float) -> str:
    """"daily budget 10.00 USD: 8.42 spent, 84 %, exhausted at 16:40 at the current rate"."""
    head = f"{b.window} budget {b.limit_usd:.2f} USD"
    if b.spent_usd is None:
        return f"{head}: spend unknown" + (f" ({b.source})" if b.source else "")
    pct = b.percent
    text = f"{head}: {b.spent_usd:.2f} spent, {pct:.0f} %" if pct is not None and \
        math.isfinite(pct) else f"{head}: {b.spent_usd:.2f} spent"
    if b.level is Level.EXCEEDED:
        return text + ", exceeded"
    if b.exhausted_at is not None:
        return text + f", exhausted at {clock(b.exhausted_at, tz, now)} at the current rate"
    if b.rate_usd_per_h is not None and b.spent_usd >= b.limit_usd:
        # nothing left (a 0 USD budget, or over it below a custom exceeded level)
        return (text + ", nothing left to spend") if b.rate_usd_per_h > 0 else text
    if b.rate_usd_per_h is not None:
        return text + f", lasts the {WINDOW_WORD[b.window]} at the current rate"
    return text


# -- burn rate: running out before the window ends (SRE multi-window style) -------------

DEFAULT_HORIZONS_S: dict[str, float] = {"hourly": 900.0, "daily": 3600.0}
"""How far ahead a projected exhaustion is a WARNING, per window (weekly: none)."""


@dataclass(frozen=True)
class BurnStatus:
    """One budget's burn judged against its horizon: WARNING when, at the current rate,
    it runs out within `horizon_s` (and before its window ends).

    Attributes:
        minutes_left: Minutes until it runs out at the current rate; 0 when nothing is
            left; the window's whole length when it lasts the window (the agent's
            reading: OK above the horizon); None when the spend or the rate is unknown.
    """

    window: Window
    horizon_s: float
    exhausted_at: float | None
    minutes_left: float | None
    status: Status
    text: str


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def judge_burn(b: BudgetStatus, horizon_s: float, tz: ZoneInfo, now: float) -> BurnStatus:
    """Whether budget `b` runs out within `horizon_s` at its burn rate (pure)."""
    head = f"{b.window} budget {b.limit_usd:.2f} USD"
    horizon = f"{_minutes(horizon_s)} horizon"
    length_min = (b.end - b.start) / 60
    if b.spent_usd is None or b.rate_usd_per_h is None:
        return BurnStatus(b.window, horizon_s, None, None, Status.UNKNOWN,
                          f"{head}: burn rate unknown")
    rate = f"{b.rate_usd_per_h:.2f} USD/h"
    if b.spent_usd >= b.limit_usd and (b.limit_usd > 0 or b.spent_usd > 0):
        return BurnStatus(b.window, horizon_s, None, 0.0, Status.WARNING,
                          f"{head}: nothing left ({b.spent_usd:.2f} spent) at {rate}")
    if b.exhausted_at is None:
        return BurnStatus(b.window, horizon_s, None, length_min, Status.OK,
                          f"{head}: lasts the {WINDOW_WORD[b.window]} at {rate}")
    left_s = max(0.0, b.exhausted_at - now)
    status = Status.WARNING if left_s <= horizon_s else Status.OK
    where = "within" if status is Status.WARNING else "beyond"
    return BurnStatus(b.window, horizon_s, b.exhausted_at, left_s / 60, status,
                      f"{head} runs out at {clock(b.exhausted_at, tz, now)}, in "
                      f"{_minutes(left_s)} at {rate} ({where} the {horizon})")
