"""Spend alerts end to end: the simulator's budget-burn scenario, a real Prometheus scraping it,
a real alice-agent with a `cost:` section. The daily budget is tiny (0.15 USD), so at the
scenario's 0.5 USD/min `cost` goes OK -> WARNING (80 %) -> CRITICAL (95 %) in seconds; the
alert `cost_daily_budget` escalates with it, and the cost-warning playbook's dry-run plan
shows the routing change."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
import yaml
from agent_runtime.agentproc import ROOT, AgentProcess, alert
from promserver import running_prometheus, wait_for_query

pytestmark = pytest.mark.integration
KEY = "sim-cost-burn-key-3c9e1f"


def noon_zone() -> str:
    """A fixed-offset zone where it is about noon now: no day boundary during the test."""
    offset = 12 - time.gmtime().tm_hour
    return "UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def daily(snapshot: dict) -> dict | None:
    budgets = (snapshot.get("cost") or {}).get("budgets") or []
    return next((b for b in budgets if b["window"] == "daily"), None)


@pytest.fixture
def stack(tmp_path):
    from simulator.server import run_in_thread

    sim = run_in_thread(api_key=KEY)
    try:
        backend = sim.urls["backend"].removeprefix("http://")
        with running_prometheus(tmp_path / "prom", {"alice": backend}, interval_s=0.5) as prom:
            wait_for_query(prom, "openai_api_cost_usd_total")
            yield sim, prom
    finally:
        sim.stop()


async def test_budget_burn_walks_cost_from_ok_to_warning_to_critical(stack, tmp_path):
    sim, prom = stack
    config = tmp_path / "alice-ops.yaml"
    config.write_text(yaml.safe_dump({
        "targets": {"backend": {"url": sim.urls["backend"]}, "prometheus": {"url": prom},
                    "host": {"gpu": "off"}},
        "cost": {"timezone": noon_zone(),
                 "budgets": {"hourly_usd": 1000, "daily_usd": 0.15, "weekly_usd": 1000}},
        "agent": {"listen": "127.0.0.1:0", "data_path": str(tmp_path / "state.db"),
                  "intervals": {"fast_s": 1, "per_component": {"cost": 0.3,
                                                               "prometheus": 5}}},
    }))
    agent = AgentProcess(config, tmp_path)
    try:
        await agent.start()
        calm = await agent.wait_for(lambda s: (daily(s) or {}).get("spent_usd") is not None,
                                    "a daily spend figure", 20)
        assert daily(calm)["status"] == "ok" and alert(calm, "cost_daily_budget") is None
        sim.set_scenario("budget-burn")
        seen: list[tuple[str, str | None]] = []

        def record(snapshot: dict) -> bool:
            d, a = daily(snapshot), alert(snapshot, "cost_daily_budget")
            step = (d["status"], a["severity"] if a and a["state"] == "firing" else None)
            if not seen or seen[-1] != step:
                seen.append(step)
            return step == ("critical", "critical")

        final = await agent.wait_for(record, "the daily budget critical", 60)
        exposition = (await agent.get("/metrics")).text
        assert 'alice_ops_cost_spent_usd{source="prometheus",window="daily"}' in exposition
    finally:
        agent.close()
    statuses = [s for s, _ in seen]
    assert statuses[0] == "ok" and "warning" in statuses and statuses[-1] == "critical"
    assert statuses.index("warning") < statuses.index("critical")
    assert ("warning", "warning") in seen  # the alert fired at warning before escalating
    d = daily(final)
    assert d["percent"] >= 95 and d["source"] == "prometheus"
    fired = alert(final, "cost_daily_budget")
    assert fired["labels"]["component"] == "cost" and fired["labels"]["metric"] == "daily_budget"
    cost = next(c for c in final["components"] if c["name"] == "cost")
    assert cost["status"] == "critical"
    assert final["cost"]["routing"]["advice"]["shift_to_local_percent"] > 90
    # the firing notice carries the budget's own words
    log = agent.log_text()
    assert "daily budget 0.15 USD:" in log and "spent," in log

    # the weekly report reads this run's spend and alerts back from the agent's state.db
    out = tmp_path / "week.md"
    code = subprocess.run([sys.executable, "-m", "agent.cli.main", "report", "weekly", "--out",
                           str(out), "--json", "--config", str(config)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert code.returncode == 0, code.stderr
    summary = json.loads(code.stdout)
    assert summary["week_spend_usd"] >= 0.14 and summary["alerts_fired"] >= 1
    assert "| cost_daily_budget | 1 |" in out.read_text()

    # the cost-warning playbook's dry-run plan: route 80 % to local through the admin API
    plan = subprocess.run([sys.executable, "-m", "agent.cli.main", "remediate", "plan",
                           "cost-warning", "--json", "--config", str(config)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert plan.returncode == 0, plan.stderr
    doc = json.loads(plan.stdout)
    text = json.dumps(doc)
    assert "local_route_share" in text and "0.8" in text
    assert f"{sim.urls['backend']}/api/admin/config" in text
