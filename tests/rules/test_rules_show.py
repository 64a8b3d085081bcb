"""`alice-ops rules show`: the threshold table in force, with the agent's budget rows when
the config watches spend."""

from __future__ import annotations

import json

from agent.cli.main import main


def rows(capsys, *args: str) -> list[dict]:
    assert main(["rules", "show", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)["rows"]


def test_defaults_are_the_guides_table(capsys):
    shown = {(r["component"], r["metric"]) for r in rows(capsys, "--defaults")}
    assert ("openai", "openai_response_latency_p95") in shown
    assert ("backend", "intent_classification_accuracy") in shown
    assert not any(c == "cost" for c, _ in shown)


def test_a_cost_section_adds_the_budget_rows(tmp_path, capsys):
    config = tmp_path / "alice-ops.yaml"
    config.write_text("cost: {warning_level: 0.7}\n")
    budget = {r["metric"]: r for r in rows(capsys, "--config", str(config))
              if r["component"] == "cost"}
    # burn rate: 15 min / 1 h horizons; without an openai target, the app's rate-limit
    # headroom is judged on cost's own rows (with one, on the openai rows: never both)
    assert set(budget) == {"hourly_budget", "daily_budget", "weekly_budget",
                           "hourly_burn", "daily_burn",
                           "rate_limit_requests_left", "rate_limit_tokens_left"}
    assert (budget["hourly_burn"]["target"], budget["daily_burn"]["target"]) == (15.0, 60.0)
    assert budget["daily_budget"]["target"] == 70.0
    assert budget["daily_budget"]["alert"] == 95.0
    config.write_text("cost: {}\n"
                      "targets: {openai: {base_url: 'http://127.0.0.1:9/v1', api_key: k}}\n")
    assert not [r for r in rows(capsys, "--config", str(config))
                if r["component"] == "cost" and r["metric"].startswith("rate_limit")]
    config.write_text("targets: {}\n")
    assert not [r for r in rows(capsys, "--config", str(config)) if r["component"] == "cost"]
