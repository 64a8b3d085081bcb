"""Burn-rate alerts (SRE multi-window style): a budget projected to run out within its
horizon is a WARNING naming the time, in the report's status (so `alice-ops cost` exits
by it) and in the agent's cost_hourly_burn / cost_daily_burn rows."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from agent.cost.reconcile import SourceFigures, Traffic, build_report
from vocab.model import Status
from rules.budget import DEFAULT_HORIZONS_S, judge_budget, judge_burn
from rules.cost_table import default_table
from rules.thresholds import judge

UTC = ZoneInfo("UTC")
NOON = 1_764_072_000.0  # 2025-11-25 12:00:00 UTC, the top of an hour


def hourly(spent: float, rate: float | None, now: float = NOON):
    return judge_budget("hourly", 2.0, spent, rate, now, UTC)


@pytest.mark.parametrize("spent,rate,status,minutes", [
    (1.5, 7.5, Status.WARNING, 4.0),       # 0.5 USD left at 7.5 USD/h: 4 min
    (1.5, 2.0, Status.WARNING, 15.0),      # exactly at the 15 min horizon
    (1.0, 2.0, Status.OK, 30.0),           # 30 min left: beyond the horizon
    (0.2, 0.5, Status.OK, 60.0),           # lasts the hour: the window's whole length
    (2.5, 1.0, Status.WARNING, 0.0),       # nothing left
    (1.0, None, Status.UNKNOWN, None),     # no burn rate: nothing to project
])
def test_judge_burn(spent, rate, status, minutes) -> None:
    u = judge_burn(hourly(spent, rate), 900.0, UTC, NOON)
    assert u.status is status
    assert u.minutes_left == (None if minutes is None else pytest.approx(minutes))


def test_the_warning_names_the_time_and_the_horizon() -> None:
    u = judge_burn(hourly(1.5, 7.5), 900.0, UTC, NOON)
    assert u.text == ("hourly budget 2.00 USD runs out at 12:04, in 4 min at 7.50 USD/h "
                      "(within the 15 min horizon)")
    assert u.exhausted_at == pytest.approx(NOON + 240)


def test_defaults_one_hour_for_the_day_fifteen_minutes_for_the_hour() -> None:
    assert DEFAULT_HORIZONS_S == {"hourly": 900.0, "daily": 3600.0}


def test_the_report_is_a_warning_while_its_levels_are_ok() -> None:
    """budget-burn as the issue saw it: 75 % of the hour (OK by level), 4 min left."""
    prom = SourceFigures("prometheus", True, spent={"hourly": 1.5, "daily": 3.0, "weekly": 9.0},
                         burn_usd_per_h=7.5)
    report = build_report([prom], Traffic(), default_table(), NOON, UTC)
    assert all(b.status is Status.OK for b in report.budgets)
    assert report.status is Status.WARNING and report.status.exit_code == 1
    doc = report.to_json()
    burn = {u["window"]: u for u in doc["burn"]}
    assert burn["hourly"]["status"] == "warning" and "12:04" in burn["hourly"]["text"]
    assert burn["daily"]["status"] == "warning"  # 7 USD left at 7.5 USD/h: 56 min < 1 h
    assert burn["daily"]["minutes_left"] == pytest.approx(56.0)
    assert doc["status"] == "warning"


def test_daily_horizon_one_hour() -> None:
    prom = SourceFigures("prometheus", True, spent={"hourly": 0.1, "daily": 9.5, "weekly": 20},
                         burn_usd_per_h=1.0)
    doc = build_report([prom], Traffic(), default_table(), NOON, UTC).to_json()
    burn = {u["window"]: u for u in doc["burn"]}
    assert burn["daily"]["status"] == "warning" and burn["daily"]["minutes_left"] == 30.0


def test_a_horizon_turned_off_judges_nothing_and_an_unknown_rate_is_not_a_warning() -> None:
    prom = SourceFigures("prometheus", True, spent={"hourly": 1.5, "daily": 3.0, "weekly": 9.0},
                         burn_usd_per_h=7.5)
    report = build_report([prom], Traffic(), default_table(), NOON, UTC,
                          horizons={"hourly": None, "daily": 1800.0})
    assert [u.window for u in report.burns] == ["daily"] and report.status is Status.OK
    still = SourceFigures("prometheus", True, spent={"hourly": 1.5, "daily": 3.0, "weekly": 9.0})
    assert build_report([still], Traffic(), default_table(), NOON, UTC).status is Status.OK


def test_the_agent_rows_warn_within_the_horizon_never_critical() -> None:
    from agent.config import Config
    from agent.cost.component import cost_rows

    rows = {r.metric: r for r in cost_rows(Config.model_validate(
        {"cost": {"burn_horizons_s": {"daily": 1800}}}))}
    hour, day = rows["hourly_burn"], rows["daily_burn"]
    assert (hour.target, day.target) == (15.0, 30.0) and "weekly_burn" not in rows
    assert judge(hour, 4.0) is Status.WARNING and judge(hour, 0.0) is Status.WARNING
    assert judge(hour, 16.0) is Status.OK and judge(hour, 60.0) is Status.OK


def test_the_cost_command_prints_the_projection(capsys) -> None:
    from agent.cli.cost_cmd import render_cost

    prom = SourceFigures("prometheus", True, spent={"hourly": 1.5, "daily": 3.0, "weekly": 9.0},
                         burn_usd_per_h=7.5)
    render_cost(build_report([prom], Traffic(), default_table(), NOON, UTC).to_json())
    out = capsys.readouterr().out
    assert "burn: hourly budget 2.00 USD runs out at 12:04" in out
    assert "overall: warning" in out.lower()
