"""`alice-ops checklist` against the simulator: automatic items pass and fail with
evidence, runs persist and resume, error logs are counted since the last run."""

from __future__ import annotations

import json
import os
import time

import pytest
from checklist_env import SIM_KEY, agent_has_run, write_config

from agent.checklists import store as cstore
from agent.cli.main import main
from agent.store import Store

AUTOMATIC = ("services_green", "overnight_alerts", "openai_key_usage", "error_logs", "backups",
             "response_times", "intent_accuracy", "resource_usage", "websocket_stability",
             "spend_vs_budget", "path_ratio", "tool_integrations")


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    assert SIM_KEY not in out.out + out.err
    return code, out


def daily(capsys, path, *extra):
    code, out = run(capsys, "checklist", "daily", "--non-interactive", "--json",
                    "--config", str(path), *extra)
    return code, json.loads(out.out)


def items(doc):
    return {i["id"]: i for i in doc["items"]}


def test_normal_every_automatic_item_passes_with_evidence(sim, tmp_path, capsys):
    agent_has_run(tmp_path)
    code, doc = daily(capsys, write_config(tmp_path, sim.urls))
    got = items(doc)
    assert {k: got[k]["result"] for k in AUTOMATIC} == {k: "pass" for k in AUTOMATIC}
    assert code == 0
    assert got["services_green"]["evidence"] == "all 6 components ok"
    assert "Intent classification accuracy 9" in got["intent_accuracy"]["evidence"]
    assert got["path_ratio"]["evidence"].startswith("fast 6")
    assert got["spend_vs_budget"]["evidence"].startswith("$") and \
        "of $50.00 daily budget" in got["spend_vs_budget"]["evidence"]
    assert got["error_logs"]["evidence"] == "no ERROR lines in 1 file(s) since the last run"
    assert "alice-1.tar.gz" in got["backups"]["evidence"]
    assert all(got[k]["by"] == "agent" and got[k]["source"] == "auto" for k in AUTOMATIC)
    # manual items are left open for a person; the run is not complete
    assert doc["complete"] is False and "hud_display" in doc["open"]
    assert got["hud_display"]["result"] is None


def test_gateway_down_fails_with_evidence(sim, tmp_path, capsys):
    agent_has_run(tmp_path, [("gateway_health", "firing", "critical")])
    sim.set_scenario("gateway-down")
    code, doc = daily(capsys, write_config(tmp_path, sim.urls))
    got = items(doc)
    assert code == 2 and doc["status"] == "critical"
    assert got["services_green"]["result"] == "fail"
    assert "gateway critical" in got["services_green"]["evidence"]
    assert got["websocket_stability"]["result"] == "fail"
    assert got["websocket_stability"]["evidence"].startswith("gateway critical")
    assert got["overnight_alerts"]["result"] == "fail"
    assert "still firing: gateway_health" in got["overnight_alerts"]["evidence"]
    # what does not depend on the gateway still passes
    assert got["intent_accuracy"]["result"] == "pass"
    assert got["backups"]["result"] == "pass"


def test_runs_persist_resume_and_show_in_history(sim, tmp_path, capsys):
    path = write_config(tmp_path, sim.urls)
    agent_has_run(tmp_path)
    daily(capsys, path)
    with Store.open(tmp_path / "state.db") as store:
        first = cstore.history(store, "daily")[0]
    # a person answers one item (as the API or the prompt would), then cron runs again
    import asyncio

    from agent.checklists import runner
    from agent.config import load_config

    config = load_config(path)
    with Store.open(tmp_path / "state.db") as store:
        lists = runner.checklists_of(config)
        asyncio.run(runner.answer(config, store, lists["daily"], "hud_display", "fail",
                                  "HUD clock frozen", "maria", time.time()))
    code, doc = daily(capsys, path)
    hud = items(doc)["hud_display"]
    assert (hud["result"], hud["by"], hud["note"], hud["source"]) == \
        ("fail", "maria", "HUD clock frozen", "manual")
    assert doc["started_at"] == pytest.approx(first.started_at)
    code, out = run(capsys, "checklist", "history", "--json", "--config", str(path))
    assert code == 0
    runs = json.loads(out.out)["runs"]
    assert [r["kind"] for r in runs] == ["daily"] and len(runs) == 1
    assert items(runs[0])["hud_display"]["result"] == "fail"
    with Store.open(tmp_path / "state.db") as store:
        audit = store.audit_log(action="checklist.answer")
    assert audit[0].actor == "maria" and audit[0].target.endswith("/hud_display")


def test_error_lines_are_counted_since_the_last_run(sim, tmp_path, capsys):
    path = write_config(tmp_path, sim.urls)
    log = tmp_path / "logs" / "alice.log"
    log.write_text("INFO a\nERROR boom\nERROR again\n")
    _, doc = daily(capsys, path)
    assert items(doc)["error_logs"]["result"] == "warn"
    assert items(doc)["error_logs"]["evidence"].startswith("2 ERROR line(s) since the last run")
    with open(log, "a") as fh:
        fh.write("INFO fine\nERROR third\nERROR half a line")  # last line not finished
    _, doc = daily(capsys, path)
    assert items(doc)["error_logs"]["evidence"].startswith("1 ERROR line(s)")
    with open(log, "a") as fh:
        fh.write(" now finished\n")
    _, doc = daily(capsys, path)
    assert items(doc)["error_logs"]["evidence"].startswith("1 ERROR line(s)")
    _, doc = daily(capsys, path)
    assert items(doc)["error_logs"]["result"] == "pass"
    os.replace(log, tmp_path / "logs" / "alice.log.1")  # rotated: the new file from its start
    (tmp_path / "logs" / "alice.log.1").rename(tmp_path / "old.log")
    log.write_text("ERROR fresh\n")
    _, doc = daily(capsys, path)
    assert items(doc)["error_logs"]["evidence"].startswith("1 ERROR line(s)")


def test_a_stale_backup_fails(sim, tmp_path, capsys):
    path = write_config(tmp_path, sim.urls)
    old = time.time() - 30 * 3600
    os.utime(tmp_path / "backups" / "alice-1.tar.gz", (old, old))
    _, doc = daily(capsys, path)
    backups = items(doc)["backups"]
    assert backups["result"] == "fail" and "30.0 h old (max 26.0 h)" in backups["evidence"]


def test_bad_override_file_is_one_line(sim, tmp_path, capsys):
    extra = tmp_path / "extra.yaml"
    extra.write_text("daily:\n  items:\n    - {id: x, section: S, text: T, check: nope}\n")
    path = write_config(tmp_path, sim.urls, file=str(extra))
    code, out = run(capsys, "checklist", "daily", "--non-interactive", "--config", str(path))
    assert code == 3
    assert out.err.strip() == (f"alice-ops: {extra}: daily.items[0].check: unknown check "
                               "'nope' (one of: services, overnight_alerts, metrics, spend, "
                               "path_ratio, error_logs, backups, endpoints)")


def test_weekly_runs_its_automatic_items(sim, tmp_path, capsys):
    path = write_config(tmp_path, sim.urls)
    code, out = run(capsys, "checklist", "weekly", "--non-interactive", "--json",
                    "--config", str(path))
    doc = json.loads(out.out)
    assert doc["kind"] == "weekly" and doc["period"].count("-W") == 1
    got = items(doc)
    assert got["backup_age"]["result"] == "pass" and got["capacity"]["result"] == "pass"
    assert got["rotate_keys"]["result"] is None
    assert code == 0


def test_demo_runs_against_the_builtin_simulator(capsys):
    code, out = run(capsys, "checklist", "daily", "--demo", "--scenario", "gateway-down",
                    "--non-interactive", "--json")
    doc = json.loads(out.out)
    assert items(doc)["services_green"]["result"] == "fail" and code == 2
    assert "gateway critical" in items(doc)["services_green"]["evidence"]
    code, out = run(capsys, "checklist", "daily", "--demo", "--scenario", "nope")
    assert code == 3 and "unknown scenario 'nope'" in out.err
