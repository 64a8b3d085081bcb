"""The agent's cost component: opt-in, alert names and severities, the 95 % boundary; and the
`cost` / `capacity` commands' exit codes against the simulator's own query API."""

from __future__ import annotations

import json

import pytest
from simquery import counter, query
from waiting import wait_for

from agent.cli.main import main
from agent.config import parse_config
from agent.cost.component import COMPONENT, CostJob, cost_jobs, cost_rows, reading_value
from vocab.model import Status
from rules.alerting import build_rules
from rules.evaluate import evaluate
from rules.thresholds import judge

KEY = "sk-sim-component-key-77aa01"
SPENT_USD = 0.008  # ~1 s of budget-burn spend
BURN = "sum(rate(openai_api_cost_usd_total[5m]))"


def test_no_cost_section_means_no_cost_component():
    config = parse_config("targets: {prometheus: {url: 'http://127.0.0.1:9090'}}", "<t>", {})
    assert cost_rows(config) == () and cost_jobs(config) == {}


def test_cost_section_gives_the_three_budget_alerts():
    config = parse_config("cost: {}", "<t>", {})
    rows = cost_rows(config)
    rules = build_rules(rows, [COMPONENT], config.alerts)
    assert {"cost_hourly_budget", "cost_daily_budget", "cost_weekly_budget"} <= set(rules)
    daily = next(r for r in rows if r.metric == "daily_budget")
    assert (daily.target, daily.alert, daily.unit) == (80, 95, "percent")
    assert list(cost_jobs(config)) == [COMPONENT]


@pytest.mark.parametrize("percent, status", [(79.9, Status.OK), (80.0, Status.WARNING),
                                             (94.99, Status.WARNING), (95.0, Status.CRITICAL),
                                             (130.0, Status.CRITICAL)])
def test_warning_from_80_and_critical_from_95_percent(percent, status):
    row = next(r for r in cost_rows(parse_config("cost: {}", "<t>", {}))
               if r.metric == "daily_budget")
    assert judge(row, reading_value(percent, 95.0)) is status


@pytest.fixture(scope="module")
def sim():
    from simulator.server import run_in_thread

    threaded = run_in_thread(api_key=KEY, scenario="budget-burn")
    try:
        # about a second of budget-burn traffic (0.5 USD/min) on the simulator's own clock
        assert wait_for(lambda: counter(threaded, "openai_api_cost_usd_total") >= SPENT_USD
                        and (query(threaded, BURN) or 0) > 0, timeout=30, step=0.1)
        yield threaded
    finally:
        threaded.stop()


def write(tmp_path, sim, cost: str) -> str:
    path = tmp_path / "alice-ops.yaml"
    path.write_text(f'targets: {{prometheus: {{url: "{sim.urls["prometheus"]}"}}}}\n'
                    f"cost: {cost}\n")
    return str(path)


async def test_cost_job_feeds_readings_alert_text_and_history(sim):
    config = parse_config(f'targets: {{prometheus: {{url: "{sim.urls["prometheus"]}"}}}}\n'
                          "cost: {timezone: UTC, budgets: {daily_usd: 0.000001}}", "<t>", {})
    result = await CostJob(config)()
    assert result.component == COMPONENT and result.status is Status.OK
    report = evaluate({COMPONENT: result}, cost_rows(config), 0.0)
    metrics = {m.name: m.status for m in report.metrics}
    assert metrics["daily_budget"] is Status.CRITICAL and metrics["hourly_budget"] is Status.OK
    assert result.details["alert_text"]["daily_budget"].startswith(
        "daily budget 0.00 USD:")
    assert {"daily_spent_usd", "fast_share_percent"} <= set(result.details["history"])
    assert result.details["section"]["budgets"][1]["level"] == "exceeded"


@pytest.mark.parametrize("cost, code", [
    ("{budgets: {hourly_usd: 1000, daily_usd: 1000, weekly_usd: 1000}}", 0),
    ("{budgets: {hourly_usd: 1000, daily_usd: 0.000001, weekly_usd: 1000}}", 2),
])
def test_cost_exit_codes(sim, tmp_path, capsys, cost, code):
    assert main(["cost", "--json", "--config", write(tmp_path, sim, cost)]) == code
    doc = json.loads(capsys.readouterr().out)
    assert doc["status"] == {0: "ok", 2: "critical"}[code]


def test_cost_without_any_source_is_unknown(tmp_path, capsys):
    path = tmp_path / "alice-ops.yaml"
    path.write_text("cost: {}\n")
    assert main(["cost", "--config", str(path)]) == 3
    assert "no spend source" in capsys.readouterr().out


def test_dead_prometheus_is_unknown_with_the_reason(tmp_path, capsys):
    path = tmp_path / "alice-ops.yaml"
    path.write_text("targets: {prometheus: {url: 'http://127.0.0.1:9', timeout_ms: 500}}\n"
                    "cost: {}\n")
    assert main(["cost", "--json", "--config", str(path)]) == 3
    doc = json.loads(capsys.readouterr().out)
    prom = next(s for s in doc["sources"] if s["name"] == "prometheus")
    assert not prom["available"] and "connection refused" in prom["reason"]
    assert doc["routing"]["verdict"] == "no traffic"


def test_cost_bad_config_is_one_line_and_unknown(tmp_path, capsys):
    path = tmp_path / "alice-ops.yaml"
    path.write_text("cost: {week_start: friday}\n")
    assert main(["cost", "--config", str(path)]) == 3
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "cost.week_start" in err and "Traceback" not in err


def test_capacity_maps_the_simulator_onto_the_scaling_table(sim, tmp_path, capsys):
    code = main(["capacity", "--json", "--config", write(tmp_path, sim, "{}")])
    doc = json.loads(capsys.readouterr().out)
    assert doc["band"]["name"] == "1-10 users"  # the simulator has 6-10 sessions
    assert doc["load"] == "normal" and 30 < doc["requests_per_s"] < 50
    assert doc["measured"]["sessions"] is not None and doc["measured"]["cpu_percent"] is not None
    budget = next(f for f in doc["findings"] if f["what"] == "openai budget")
    assert budget["status"] == "warning"  # budget-burn runs at ~720 USD/day
    assert code == Status.parse(doc["status"]).exit_code
    assert main(["capacity", "--config", write(tmp_path, sim, "{}")]) == code
    assert "recommendation:" in capsys.readouterr().out


def test_cost_section_on_metrics(cost_samples):
    from agent.cost.metrics import cost_families
    from agent.cost.reconcile import SourceFigures, Traffic, build_report
    from rules.cost_table import default_table
    from zoneinfo import ZoneInfo

    prom = SourceFigures("prometheus", True, spent={"hourly": 0.5, "daily": 8.42, "weekly": 30},
                         burn_usd_per_h=0.6)
    section = build_report([prom], Traffic(26, 14, 40, 8), default_table(), 1_764_075_600.0,
                           ZoneInfo("UTC")).to_json()

    get = cost_samples(section)
    assert get("alice_ops_cost_spent_usd", {"window": "daily", "source": "prometheus"}) == 8.42
    assert get("alice_ops_cost_budget_usd", {"window": "weekly"}) == 50.0
    assert get("alice_ops_cost_burn_usd_per_hour") == 0.6
    assert get("alice_ops_fast_path_share_ratio") == pytest.approx(0.65)
    assert list(cost_families({})) == []
