"""Routing split and advice, capacity bands, and reconciling spend sources (all pure)."""

from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.cost.reconcile import SourceFigures, Traffic, build_report, disagreements, pick
from vocab.model import Status
from rules.capacity import Load, band_for, plan
from rules.cost_table import default_table, table_for
from rules.routing import RoutingSplit, advise, per_session

TABLE = default_table()
UTC = ZoneInfo("UTC")
NOON = 1_764_072_000.0  # 2025-11-25 12:00 UTC


@pytest.mark.parametrize("fast, think, verdict, share", [
    (26, 14, "in band", 65.0), (10, 30, "below band", 25.0), (38, 2, "above band", 95.0),
    (0, 0, "no traffic", None), (None, 5, "no traffic", None),
])
def test_routing_split_against_the_60_70_band(fast, think, verdict, share):
    split = RoutingSplit(fast, think, None if fast is None else (fast + think))
    assert split.verdict == verdict
    assert split.fast_share_percent == (None if share is None else pytest.approx(share))


def test_advice_shifts_just_enough_to_land_inside_budget():
    # 12:00, 6 spent of 10, burning 1 USD/h: 12 h more would cost 12, only 4 is left
    advice = advise(6.0, 10.0, 1.0, NOON, NOON + 12 * 3600, 65.0)
    assert advice.shift_percent == pytest.approx(66.7, abs=0.05)
    assert advice.fast_share_after == pytest.approx(65 * (1 - 2 / 3), abs=0.1)
    assert "route 67 % of fast-path traffic to local" in advice.text
    assert advise(1.0, 10.0, 0.1, NOON, NOON + 12 * 3600, 65.0).shift_percent == 0
    assert advise(11.0, 10.0, 1.0, NOON, NOON + 3600, 65.0).shift_percent == 100
    assert advise(None, 10.0, 1.0, NOON, NOON + 3600, 65.0) is None


@settings(deadline=None)  # a loaded CI box must not fail on timing
@given(spent=st.floats(0, 9.99), burn=st.floats(0.01, 100), hours=st.floats(0.1, 24))
def test_following_the_advice_ends_the_day_at_or_under_the_limit(spent, burn, hours):
    advice = advise(spent, 10.0, burn, NOON, NOON + hours * 3600, 65.0)
    rest = burn * (1 - advice.shift_percent / 100) * hours
    assert spent + rest <= 10.0 + 1e-6  # the shift is rounded up, never short


def test_cost_per_session():
    assert per_session(3.0, 6) == 0.5
    assert per_session(3.0, 0) is None and per_session(None, 5) is None


@pytest.mark.parametrize("users, band", [(0, 0), (1, 0), (10, 0), (11, 1), (50, 1), (51, 2),
                                         (100, 2), (101, 3), (5000, 3)])
def test_bands_of_the_scaling_table(users, band):
    assert band_for(users, TABLE.bands) == band


def test_capacity_plan_verdicts_and_headroom():
    normal = plan(Load(sessions=9, fast_per_s=26, think_per_s=14, cpu_percent=30,
                       memory_percent=50, memory_total_gb=32, disk_percent=40,
                       spend_usd_per_day=7), TABLE.bands, TABLE.limits)
    assert normal.load_verdict == "normal" and normal.status is Status.OK
    assert normal.band.name == "1-10 users" and normal.headroom_users == 1
    assert normal.next_band.name == "10-50 users"
    assert "scale up towards the 10-50 users band" in normal.recommendation  # 10 % left
    roomy = plan(Load(sessions=6, fast_per_s=26, think_per_s=14), TABLE.bands, TABLE.limits)
    assert roomy.recommendation == "capacity adequate" and roomy.headroom_percent == 40
    high = plan(Load(sessions=30, fast_per_s=90, think_per_s=40), TABLE.bands, TABLE.limits)
    assert high.load_verdict == "high" and high.status is Status.WARNING
    assert "HIGH LOAD" in high.findings[0].detail
    low = plan(Load(sessions=3, fast_per_s=2, think_per_s=1, memory_total_gb=4),
               TABLE.bands, TABLE.limits)
    assert low.load_verdict == "low" and low.recommendation.startswith("scale down")
    short = [f for f in low.findings if f.what == "local ai memory"]
    assert short and short[0].status is Status.WARNING  # 4 GB < 8 GB of the 1-10 band
    hot = plan(Load(sessions=3, fast_per_s=20, think_per_s=5, cpu_percent=95),
               TABLE.bands, TABLE.limits)
    assert hot.status is Status.CRITICAL
    blind = plan(Load(), TABLE.bands, TABLE.limits)
    assert blind.status is Status.UNKNOWN and blind.band is None


def test_spend_above_the_bands_budget_is_a_warning():
    p = plan(Load(sessions=5, fast_per_s=20, think_per_s=10, spend_usd_per_day=40),
             TABLE.bands, TABLE.limits)
    budget = next(f for f in p.findings if f.what == "openai budget")
    assert budget.status is Status.WARNING and "5-10 USD/day" in budget.detail


PROM = SourceFigures("prometheus", True, spent={"hourly": 0.5, "daily": 8.42, "weekly": 30},
                     burn_usd_per_h=0.6)
EST = SourceFigures("estimate", True, spent={"hourly": 0.4, "daily": 6.0, "weekly": 29},
                    burn_usd_per_h=0.5)
API = SourceFigures("costs_api", True, spent={"hourly": None, "daily": 8.5, "weekly": 31})
DOWN = SourceFigures("prometheus", False, reason="connection refused")


def test_primary_source_is_the_first_with_a_figure():
    order = ("prometheus", "costs_api", "estimate")
    assert pick([EST, API, PROM], "daily", order) == (8.42, "prometheus")
    assert pick([EST, API, DOWN], "daily", order) == (8.5, "costs_api")
    assert pick([EST, API, DOWN], "hourly", order) == (0.4, "estimate")
    assert pick([EST, API, PROM], "daily", order, primary="estimate") == (6.0, "estimate")
    assert pick([DOWN], "daily", order) == (None, None)


def test_disagreements_beyond_the_tolerance_are_named():
    found = disagreements([PROM, EST, API], 20.0)
    assert found == ("daily: costs_api 8.50 vs estimate 6.00 USD (29 %)",)
    assert disagreements([PROM, API], 20.0) == ()


def test_report_judges_every_budget_and_words_the_alert():
    tz = ZoneInfo("Europe/Stockholm")
    now = 1_764_075_600.0  # 2025-11-25 13:00 UTC, 14:00 in Stockholm
    report = build_report([PROM, EST, API], Traffic(26, 14, 40, 8), TABLE, now, tz)
    assert report.status is Status.WARNING
    daily = report.budget("daily")
    assert daily.spent_usd == 8.42 and daily.source == "prometheus"
    assert report.texts["daily"] == ("daily budget 10.00 USD: 8.42 spent, 84 %, exhausted at "
                                     "16:38 at the current rate")
    doc = report.to_json()
    assert [b["window"] for b in doc["budgets"]] == ["hourly", "daily", "weekly"]
    assert doc["budgets"][1]["level"] == "warning" and doc["burn_source"] == "prometheus"
    assert doc["routing"]["verdict"] == "in band"
    assert doc["routing"]["cost_per_session_usd"] == pytest.approx(8.42 / 8)
    assert doc["levels_percent"] == {"warning": 80.0, "critical": 95.0, "exceeded": 100.0}
    assert doc["routing"]["advice"]["shift_to_local_percent"] > 0


def test_nothing_readable_is_unknown_with_the_reason():
    report = build_report([DOWN], Traffic(), TABLE, NOON, UTC)
    assert report.status is Status.UNKNOWN
    assert "connection refused" in report.reason


def test_config_overrides_the_defaults():
    from agent.config import parse_config

    config = parse_config("cost: {budgets: {daily_usd: 3}, warning_level: 0.5, "
                          "prices: {my-model: {input_per_1k: 1, output_per_1k: 2}}}", "<t>", {})
    table = table_for(config.cost)
    assert table.budgets == {"hourly": 2.0, "daily": 3.0, "weekly": 50.0}
    assert table.levels.warning == 0.5 and table.levels.critical == 0.95
    assert table.price("my-model-2025")[0] == "my-model"
    assert table.price("unheard-of")[0] == "default"


@pytest.mark.parametrize("text, problem", [
    ("cost: {timezone: Mars/Olympus}", "cost.timezone: unknown time zone 'Mars/Olympus'"),
    ("cost: {warning_level: 0.99}", "warning_level 0.99 must not be above critical_level 0.95"),
    ("cost: {budgets: {daily_usd: -1}}", "cost.budgets.daily_usd"),
    ("cost: {sources: [prometheus, tea_leaves]}", "cost.sources[1]"),
])
def test_bad_cost_config_is_one_line_naming_the_key(text, problem):
    from agent.config import ConfigError, parse_config

    with pytest.raises(ConfigError) as err:
        parse_config(text, "alice-ops.yaml", {})
    assert len(err.value.problems) == 1
    assert problem in err.value.problems[0] and err.value.problems[0].startswith("alice-ops.yaml")


def _vec(value, **labels):
    return [{"metric": labels, "value": [0, str(value)]}]


def test_estimate_from_request_counts_when_there_are_no_token_counters():
    from agent.config import CostMetricNames
    from agent.cost.sources import from_prometheus

    results = {"cost_series": _vec(1), "cost_daily": _vec(2.5), "cost_weekly": _vec(9),
               "fast_daily": _vec(1000), "fast_weekly": _vec(4000), "fast_burn": _vec(100),
               "fast": _vec(26), "think": _vec(14), "total": _vec(40), "sessions": _vec(8)}
    prom, est, traffic = from_prometheus(results, "", CostMetricNames(), TABLE, "gpt-4o")
    assert prom.spent == {"hourly": 0.0, "daily": 2.5, "weekly": 9.0}  # young hour: 0
    per_request = (45 * 0.0025 + 30 * 0.01) / 1000
    assert est.spent["daily"] == pytest.approx(1000 * per_request)
    assert est.spent["hourly"] == 0.0 and est.burn_usd_per_h == pytest.approx(100 * per_request)
    assert "fast requests x 45+30 tokens x price of gpt-4o" in est.note
    assert (traffic.fast_per_s, traffic.sessions) == (26.0, 8.0)


def test_estimate_from_token_counts_and_nothing_without_series():
    from agent.config import CostMetricNames
    from agent.cost.sources import from_prometheus

    tokens = [{"metric": {"direction": "prompt"}, "value": [0, "10000"]},
              {"metric": {"direction": "completion"}, "value": [0, "5000"]}]
    _, est, _ = from_prometheus({"tokens_weekly": tokens}, "", CostMetricNames(), TABLE,
                                "gpt-4o-mini-2024-07-18")
    assert est.spent["weekly"] == pytest.approx(10 * 0.00015 + 5 * 0.0006)
    assert est.spent["daily"] == 0.0 and "token counts" in est.note
    prom, est, _ = from_prometheus({}, "3 queries failed (connection refused)",
                                   CostMetricNames(), TABLE, None)
    assert not prom.available and not est.available
    assert prom.reason == "3 queries failed (connection refused)"
