"""Budget math at its edges: a 0 USD budget (anything spent is over it; nothing spent is
OK; no division by zero) and a negative burn rate (a counter reset or a refund), which
never projects an exhaustion time in the past or a negative spend (issue 11)."""

from __future__ import annotations

import math
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vocab.model import Status
from rules.budget import (
    WINDOWS,
    Level,
    Levels,
    alert_text,
    exhaustion_time,
    judge_budget,
    level,
    projected_spend,
)

UTC = ZoneInfo("UTC")
NOW = 1_767_268_800.0  # 2026-01-01 12:00 UTC
times = st.floats(min_value=1577836800, max_value=1924991999, allow_nan=False)
rates = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False)
spend = st.floats(min_value=0, max_value=1e5, allow_nan=False)


@pytest.mark.parametrize("spent, expected", [
    (0.0, Level.OK), (0.0001, Level.EXCEEDED), (0.01, Level.EXCEEDED), (5.0, Level.EXCEEDED)])
def test_a_zero_budget_is_exceeded_by_any_spend(spent, expected):
    assert level(spent, 0.0) is expected
    assert level(spent, 0.0).status is (Status.OK if spent == 0 else Status.CRITICAL)


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("rate", [None, -2.0, 0.0, 3.0])
def test_zero_spent_of_a_zero_budget_is_ok_and_reads_without_division(window, rate):
    b = judge_budget(window, 0.0, 0.0, rate, NOW, UTC)
    assert (b.level, b.status, b.percent) == (Level.OK, Status.OK, 0.0)
    assert b.exhausted_at is None
    text = alert_text(b, UTC, NOW)
    assert text.startswith(f"{window} budget 0.00 USD: 0.00 spent, 0 %")
    if rate is not None and rate > 0:
        assert "lasts" not in text  # at a positive rate a 0 budget does not last the window


@pytest.mark.parametrize("rate", [None, 0.0, 1.5])
def test_spending_over_a_zero_budget_is_critical_and_says_exceeded(rate):
    b = judge_budget("daily", 0.0, 0.25, rate, NOW, UTC)
    assert (b.level, b.status) == (Level.EXCEEDED, Status.CRITICAL)
    assert b.percent == math.inf and b.exhausted_at is None
    assert alert_text(b, UTC, NOW) == "daily budget 0.00 USD: 0.25 spent, exceeded"


def test_over_the_budget_below_a_custom_exceeded_level_never_says_it_lasts():
    levels = Levels(warning=0.8, critical=0.95, exceeded=1.5)  # 110 % is only critical
    b = judge_budget("daily", 10.0, 11.0, 2.0, NOW, UTC, levels)
    assert b.level is Level.CRITICAL
    assert "lasts" not in alert_text(b, UTC, NOW)


@pytest.mark.parametrize("spent", [math.nan, math.inf])
def test_a_spend_that_is_not_a_number_is_unknown_not_ok(spent):
    b = judge_budget("daily", 10.0, spent, 1.0, NOW, UTC)
    assert (b.level, b.status, b.exhausted_at) == (None, Status.UNKNOWN, None)


@settings(max_examples=300, deadline=None)
@given(spent=spend, limit=st.floats(min_value=0, max_value=1e4, allow_nan=False), rate=rates,
       now=times, window=st.sampled_from(WINDOWS))
def test_no_rate_projects_the_past_or_a_negative_spend(spent, limit, rate, now, window):
    b = judge_budget(window, limit, spent, rate, now, UTC)
    if b.exhausted_at is not None:
        assert now <= b.exhausted_at < b.end
        assert rate > 0 and spent < limit
    projected = projected_spend(spent, rate, now, b.end)
    assert projected is not None and projected >= spent >= 0
    if rate <= 0:
        assert projected == spent  # a reset or a refund does not lower the projection
        assert b.exhausted_at is None


@settings(max_examples=200, deadline=None)
@given(spent=st.floats(min_value=-50, max_value=-0.01), rate=rates, now=times)
def test_a_refund_larger_than_the_spend_never_projects_below_zero(spent, rate, now):
    b = judge_budget("daily", 10.0, spent, rate, now, UTC)
    assert b.level is Level.OK
    projected = projected_spend(spent, rate, now, b.end)
    assert projected is not None and projected >= 0


@pytest.mark.parametrize("rate", [-1e9, -3.0, -1e-12, math.nan, -math.inf])
def test_a_negative_or_broken_rate_has_no_exhaustion_time(rate):
    assert exhaustion_time(2.0, 10.0, rate, NOW, NOW + 86_400) is None
