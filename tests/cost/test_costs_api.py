"""The OpenAI organization costs API through the official `openai` client's HTTP layer,
against the simulator: daily buckets, reconciliation with the Prometheus counter, a wrong
admin key (one clear line, no key), an outage; and `alice-ops cost` end to end."""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest
from simquery import counter, query
from waiting import wait_for

from agent.cli.main import main
from agent.config import parse_config
from agent.cost import spend_report
from agent.cost.sources import CostsApiError, fetch_daily_costs

API_KEY = "sk-sim-cost-test-key-5b1e09"
ADMIN_KEY = "sk-admin-cost-test-9f3c71d2"
WRONG_KEY = "sk-admin-wrong-key-e4a8c6b2"
SPENT_USD = 0.008  # ~1 s of budget-burn spend
BURN = "sum(rate(openai_api_cost_usd_total[5m]))"


@pytest.fixture(scope="module")
def sim():
    from simulator.server import run_in_thread

    threaded = run_in_thread(api_key=API_KEY, admin_key=ADMIN_KEY, scenario="budget-burn")
    try:
        # about a second of budget-burn traffic (0.5 USD/min) on the simulator's own clock
        assert wait_for(lambda: counter(threaded, "openai_api_cost_usd_total") >= SPENT_USD
                        and (query(threaded, BURN) or 0) > 0, timeout=30, step=0.1)
        yield threaded
    finally:
        threaded.stop()


def config(sim, admin_key: str | None = ADMIN_KEY, prometheus: bool = True, extra: str = ""):
    admin = f', admin_key: "{admin_key}"' if admin_key else ""
    prom = f'\n  prometheus: {{url: "{sim.urls["prometheus"]}"}}' if prometheus else ""
    return parse_config(f"""
targets:
  openai: {{base_url: "{sim.urls['openai']}", api_key: "{API_KEY}"{admin}}}{prom}
cost: {{timezone: UTC{extra}}}
""", "<test>", {})


def counter_total(sim) -> float:
    text = httpx.get(sim.urls["backend"] + "/metrics", timeout=5).text
    return float(re.search(r"^openai_api_cost_usd_total (\S+)$", text, re.MULTILINE).group(1))


async def test_daily_buckets_through_the_official_client(sim):
    cfg = config(sim)
    now = time.time()
    before = counter_total(sim)
    days = await fetch_daily_costs(cfg.targets.openai, now - 3 * 86400, now + 1)
    after = counter_total(sim)
    today = int(now // 86400 * 86400)
    assert set(days) == {today - 3 * 86400, today - 2 * 86400, today - 86400, today}
    # the same spend as the Prometheus counter (buckets are rounded to 6 digits)
    assert before - 1e-6 <= days[today] <= after + 1e-6 and days[today] > 0
    assert days[today - 86400] == 0


async def test_costs_api_and_prometheus_reconcile_side_by_side(sim):
    report = await spend_report(config(sim))
    doc = report.to_json()
    by_name = {s["name"]: s for s in doc["sources"]}
    assert set(by_name) == {"prometheus", "estimate", "costs_api"}
    api, prom = by_name["costs_api"], by_name["prometheus"]
    assert api["available"] and api["hourly_usd"] is None and api["comparable"]
    assert api["daily_usd"] == pytest.approx(prom["daily_usd"], rel=0.25)
    assert doc["budgets"][1]["source"] == "prometheus"
    only_api = await spend_report(config(sim, prometheus=False))
    daily = only_api.to_json()["budgets"][1]
    assert daily["source"] == "costs_api" and daily["spent_usd"] > 0
    hourly = only_api.to_json()["budgets"][0]
    # the costs API has no hourly figure: not measured, so not a blind spot either
    assert hourly["measured"] is False and hourly["spent_usd"] is None
    assert hourly["text"] == "hourly budget 2.00 USD: not measured by the configured sources"
    assert only_api.status.word == "ok"


async def test_wrong_admin_key_is_one_clear_line_without_the_key(sim):
    cfg = config(sim, admin_key=WRONG_KEY)
    with pytest.raises(CostsApiError) as err:
        await fetch_daily_costs(cfg.targets.openai, time.time() - 86400, time.time())
    message = str(err.value)
    assert message == ("costs API: authentication failed (HTTP 401): targets.openai.admin_key "
                       "is not a valid admin key")
    report = await spend_report(cfg)
    api = next(s for s in report.to_json()["sources"] if s["name"] == "costs_api")
    assert not api["available"] and api["reason"] == message
    assert report.budget("daily").source == "prometheus"  # the other sources still count


def test_cost_cli_json_with_a_wrong_admin_key_leaks_nothing(sim, tmp_path, capsys):
    path = tmp_path / "alice-ops.yaml"
    path.write_text(f"""
targets:
  openai: {{base_url: "{sim.urls['openai']}", api_key: "${{OPENAI_KEY}}", admin_key: "${{ADMIN}}"}}
  prometheus: {{url: "{sim.urls['prometheus']}"}}
cost: {{timezone: UTC, budgets: {{hourly_usd: 1000, daily_usd: 1000, weekly_usd: 1000}}}}
""")
    import os

    os.environ["OPENAI_KEY"], os.environ["ADMIN"] = API_KEY, WRONG_KEY
    try:
        code = main(["cost", "--json", "--config", str(path)])
        captured = capsys.readouterr()
        doc = json.loads(captured.out)
        assert code == 0 and doc["status"] == "ok"
        human = main(["cost", "--config", str(path)])
        shown = capsys.readouterr()
    finally:
        del os.environ["OPENAI_KEY"], os.environ["ADMIN"]
    assert human == 0 and "authentication failed (HTTP 401)" in shown.out
    everything = captured.out + captured.err + shown.out + shown.err
    for key in (WRONG_KEY, API_KEY):
        assert key not in everything and key[-8:] not in everything


async def test_agent_cost_job_with_a_wrong_admin_key_keeps_it_secret(sim):
    from agent.cost.component import CostJob

    result = await CostJob(config(sim, admin_key=WRONG_KEY))()
    dumped = json.dumps({"summary": result.summary, "details": result.details})
    assert "authentication failed (HTTP 401)" in dumped
    for key in (WRONG_KEY, API_KEY):
        assert key not in dumped and key[-8:] not in dumped


async def test_costs_api_outage_is_a_reason(sim):
    sim.set_scenario("openai-outage")
    try:
        report = await spend_report(config(sim, prometheus=False))
    finally:
        sim.set_scenario("budget-burn")
    assert report.status.word == "unknown"
    assert "costs API: HTTP 503" in report.to_json()["reason"]


async def test_unreachable_costs_api_is_a_network_error():
    cfg = parse_config('targets: {openai: {base_url: "http://127.0.0.1:9/v1", api_key: k, '
                       'admin_key: "sk-admin-unreachable-1234", timeout_ms: 500}}', "<t>", {})
    with pytest.raises(CostsApiError, match=r"^costs API: network error: connection refused$"):
        await fetch_daily_costs(cfg.targets.openai, time.time() - 86400, time.time())


async def test_no_source_configured_is_unknown_with_what_to_do():
    report = await spend_report(parse_config("cost: {}", "<t>", {}))
    assert report.status.word == "unknown"
    assert "configure targets.prometheus" in report.reason


async def test_prometheus_queries_wait_on_one_deadline_not_one_each(monkeypatch):
    import threading

    from agent.config import PrometheusTarget
    from agent.cost.sources import query_prometheus
    from agent.probes import prometheus

    release = threading.Event()

    class Hung:
        def custom_query(self, query):
            release.wait(10)
            return []

        def close(self):
            pass

    monkeypatch.setattr(prometheus, "make_connection", lambda target: Hung())
    target = PrometheusTarget(url="http://127.0.0.1:9", timeout_ms=100)
    started = time.monotonic()
    try:
        results, reason = await query_prometheus(target, {f"q{i}": "up" for i in range(5)})
    finally:
        release.set()
    assert results == {}
    assert reason == "5 queries failed (no answer within 100 ms)"
    assert time.monotonic() - started < 2.5  # one deadline (1.1 s), not 5 x 1.1 s
