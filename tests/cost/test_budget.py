"""Budget math: levels, windows in a time zone (DST included), burn-rate projection, alert text."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from vocab.model import Status
from rules.budget import (
    Level,
    Levels,
    alert_text,
    exhaustion_time,
    judge_budget,
    level,
    projected_spend,
    window_bounds,
)

ZONES = ["UTC", "Europe/Stockholm", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe",
         "America/Santiago", "Pacific/Chatham", "America/St_Johns"]
# 2020-01-01 .. 2030-12-31
times = st.floats(min_value=1577836800, max_value=1924991999, allow_nan=False)
spend = st.floats(min_value=0, max_value=1e6, allow_nan=False)
limits = st.floats(min_value=0.01, max_value=1e5, allow_nan=False)


@pytest.mark.parametrize("spent, expected", [
    (0, Level.OK), (7.99, Level.OK), (8.0, Level.WARNING), (9.49, Level.WARNING),
    (9.5, Level.CRITICAL), (9.99, Level.CRITICAL), (10.0, Level.EXCEEDED), (25, Level.EXCEEDED),
])
def test_levels_of_the_guide(spent, expected):
    assert level(spent, 10.0) is expected


def test_critical_is_reachable_unlike_the_guides_cost_monitor():
    # cost_monitor.py tests "> 80 %" first, so 96 % came out as a warning
    assert level(9.6, 10.0) is Level.CRITICAL
    assert level(9.6, 10.0).status is Status.CRITICAL
    assert Level.EXCEEDED.status is Status.CRITICAL


@settings(deadline=None)  # a loaded CI box must not fail on timing
@given(a=spend, b=spend, limit=limits)
def test_levels_are_monotonic_in_spend(a, b, limit):
    low, high = sorted((a, b))
    assert level(low, limit) <= level(high, limit)


@settings(deadline=None)  # a loaded CI box must not fail on timing
@given(w=st.floats(0.05, 1), c=st.floats(0.05, 1), a=spend, b=spend, limit=limits)
def test_levels_are_monotonic_for_any_valid_thresholds(w, c, a, b, limit):
    levels = Levels(min(w, c), max(w, c), 1.0)
    low, high = sorted((a, b))
    assert level(low, limit, levels) <= level(high, limit, levels)


def test_levels_must_be_ordered():
    with pytest.raises(ValueError, match="warning <= critical"):
        Levels(0.95, 0.8)


@settings(deadline=None)  # a loaded CI box must not fail on timing
@given(spent=st.floats(0, 100), limit=st.floats(1, 100), rate=st.floats(0.01, 50),
       now=times)
def test_projection_is_exact_for_constant_burn(spent, limit, rate, now):
    end = now + 1e9  # far enough for any of these rates
    at = exhaustion_time(spent, limit, rate, now, end)
    if spent >= limit:
        assert at is None
        return
    assert at is not None
    # spending `rate` per hour from now until `at` lands exactly on the limit
    # (to the float resolution of a Unix time: ~1e-7 s)
    assert spent + rate * (at - now) / 3600 == pytest.approx(limit, rel=1e-7, abs=1e-7)
    assert projected_spend(spent, rate, now, at) == pytest.approx(limit, rel=1e-7, abs=1e-7)


@settings(deadline=None)  # a loaded CI box must not fail on timing
@given(spent=st.floats(0, 9), rate=st.floats(0.001, 5), now=times)
def test_no_exhaustion_after_the_window_ends(spent, rate, now):
    end = now + 3600
    assume(abs(spent + rate - 10.0) > 1e-6)  # running out exactly at the end: either way
    at = exhaustion_time(spent, 10.0, rate, now, end)
    if spent + rate < 10.0:  # an hour at this rate does not use up the rest
        assert at is None
    else:
        assert at is not None and now <= at <= end


def test_no_projection_without_a_rate():
    assert exhaustion_time(5, 10, None, 0, 1e9) is None
    assert exhaustion_time(5, 10, 0.0, 0, 1e9) is None


@settings(max_examples=300, deadline=None)
@given(now=times, zone=st.sampled_from(ZONES), window=st.sampled_from(["hourly", "daily",
                                                                        "weekly"]),
       week_start=st.sampled_from([0, 6]))
def test_windows_hold_now_and_start_on_a_local_boundary(now, zone, window, week_start):
    tz = ZoneInfo(zone)
    start, end = window_bounds(window, now, tz, week_start)
    assert start <= now < end
    local_start = datetime.fromtimestamp(start, tz)
    local_now = datetime.fromtimestamp(now, tz)
    assert (local_start.second, local_start.microsecond) == (0, 0)
    if window == "hourly":
        assert local_start.minute == 0 or start == now
        assert 1800 <= end - start <= 3600
        assert local_start.hour == local_now.hour or start == now
    else:
        days = 1 if window == "daily" else 7
        # a DST day is 23 or 25 hours (Lord Howe: 23.5 or 24.5)
        assert days * 86400 - 3600 <= end - start <= days * 86400 + 3600
        before = datetime.fromtimestamp(start - 1, tz)
        assert before.date() < local_start.date()  # nothing of the window's first day before
        if window == "daily":
            assert local_start.date() == local_now.date()
        else:
            assert local_start.weekday() == week_start
            assert local_start.date() <= local_now.date() < local_start.date() + timedelta(7)


@pytest.mark.parametrize("utc, expected_start_utc, hours", [
    # Stockholm spring forward (Sun 29 Mar 2026, 02:00 -> 03:00): a 23-hour day
    ("2026-03-29T12:00:00", "2026-03-28T23:00:00", 23),
    # fall back (Sun 25 Oct 2026, 03:00 -> 02:00): a 25-hour day
    ("2026-10-25T12:00:00", "2026-10-24T22:00:00", 25),
    ("2026-10-26T00:30:00", "2026-10-25T23:00:00", 24),
])
def test_daily_window_on_dst_days_in_stockholm(utc, expected_start_utc, hours):
    tz = ZoneInfo("Europe/Stockholm")
    now = datetime.fromisoformat(utc).replace(tzinfo=UTC).timestamp()
    start, end = window_bounds("daily", now, tz)
    assert datetime.fromtimestamp(start, UTC).isoformat() == expected_start_utc + "+00:00"
    assert end - start == hours * 3600


def test_hour_in_the_repeated_hour_of_a_fall_back():
    tz = ZoneInfo("Europe/Stockholm")
    # 00:30 UTC on 25 Oct 2026 is 02:30 CET, the second pass through 02:00-03:00
    now = datetime(2026, 10, 25, 1, 30, tzinfo=UTC).timestamp()
    start, end = window_bounds("hourly", now, tz)
    assert (start, end) == (now - 1800, now + 1800)


def test_week_starts_monday_midnight_local():
    tz = ZoneInfo("America/New_York")
    now = datetime(2026, 11, 25, 15, 0, tzinfo=tz).timestamp()  # a Wednesday
    start, end = window_bounds("weekly", now, tz)
    assert datetime.fromtimestamp(start, tz) == datetime(2026, 11, 23, tzinfo=tz)
    assert datetime.fromtimestamp(end, tz) == datetime(2026, 11, 30, tzinfo=tz)
    sunday, _ = window_bounds("weekly", now, tz, week_start=6)
    assert datetime.fromtimestamp(sunday, tz) == datetime(2026, 11, 22, tzinfo=tz)


def test_alert_text_names_budget_window_spent_limit_percent_and_exhaustion():
    tz = ZoneInfo("Europe/Stockholm")
    now = datetime(2026, 11, 25, 14, 0, tzinfo=tz).timestamp()
    # 8.42 spent, 1.58 left at 0.6 USD/h: gone in 2 h 38 min -> 16:38
    b = judge_budget("daily", 10.0, 8.42, 0.6, now, tz)
    assert b.level is Level.WARNING
    assert alert_text(b, tz, now) == ("daily budget 10.00 USD: 8.42 spent, 84 %, exhausted at "
                                      "16:38 at the current rate")
    calm = judge_budget("daily", 10.0, 2.0, 0.1, now, tz)
    assert alert_text(calm, tz, now) == ("daily budget 10.00 USD: 2.00 spent, 20 %, lasts the "
                                         "day at the current rate")
    over = judge_budget("hourly", 2.0, 2.5, 3.0, now, tz)
    assert alert_text(over, tz, now) == "hourly budget 2.00 USD: 2.50 spent, 125 %, exceeded"
    unknown = judge_budget("weekly", 50.0, None, None, now, tz, source="")
    assert unknown.status is Status.UNKNOWN
    assert alert_text(unknown, tz, now) == "weekly budget 50.00 USD: spend unknown"


@settings(deadline=None)  # a loaded CI box must not fail on timing
@given(spent=spend, limit=limits, now=times)
def test_judged_status_follows_the_level(spent, limit, now):
    b = judge_budget("daily", limit, spent, None, now, ZoneInfo("UTC"))
    assume(b.level is not None)
    assert b.status is b.level.status


def test_spend_queries_start_at_the_local_window_start():
    """A new day (hour, week) starts counting from zero: that is what resolves the budget
    alerts and lets the cost playbooks revert."""
    from agent.config import CostMetricNames
    from agent.cost.sources import prometheus_queries

    tz = ZoneInfo("Europe/Stockholm")
    now = datetime(2026, 11, 25, 0, 1, 30, tzinfo=tz).timestamp()  # Wednesday 00:01:30
    q = prometheus_queries(CostMetricNames(), now, tz, week_start=0)
    assert q["cost_hourly"] == "sum(increase(openai_api_cost_usd_total[90s]))"
    assert q["cost_daily"] == "sum(increase(openai_api_cost_usd_total[90s]))"
    assert q["cost_weekly"] == f"sum(increase(openai_api_cost_usd_total[{2 * 86400 + 90}s]))"
    assert q["burn"] == "sum(rate(openai_api_cost_usd_total[1h])) * 3600"
