"""`alice-ops check`: the --json contract, Nagios exit codes and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest
from waiting import wait_for

from agent.cli.main import main
from agent.demo import DEMO_API_KEY
from vocab.model import Status
from rules.thresholds import default_rows, judge
from simulator.server import run_in_thread

SETTLE_S = 15.0  # the simulator's metric window follows a new scenario within ~1 s


@pytest.fixture(autouse=True)
def _steady_host(fake_host):
    """Host rows judge a fixed reading, not this machine's load (tests/agent/conftest.py)."""


def _promql_values(sim) -> list[tuple[object, float]]:
    out = []
    with httpx.Client(timeout=5.0) as client:
        for row in default_rows():
            if row.promql is None:
                continue
            found = client.get(sim.urls["prometheus"] + "/api/v1/query",
                               params={"query": row.promql}).json()["data"]["result"]
            if found:  # a series the simulator does not export is a blind spot, not data
                out.append((row, float(found[0]["value"][1])))
    return out


def settled_normal(sim) -> None:
    """Wait until every PromQL row the simulator answers is on target (normal is healthy):
    its metric window has data and no longer holds the previous scenario's."""
    def healthy() -> bool:
        values = _promql_values(sim)
        return bool(values) and all(judge(row, v) is Status.OK for row, v in values)
    assert wait_for(healthy, timeout=SETTLE_S, step=0.1), _promql_values(sim)


@pytest.fixture(scope="module")
def sim():
    with run_in_thread(seed=21, api_key=DEMO_API_KEY) as threaded:
        settled_normal(threaded)
        yield threaded


@pytest.fixture(autouse=True)
def _normal_afterwards(request):
    yield
    if "sim" in request.fixturenames:
        sim = request.getfixturevalue("sim")
        if sim.scenario != "normal":
            sim.set_scenario("normal")
            settled_normal(sim)


def write_config(tmp_path, urls, extra=""):
    path = tmp_path / "alice-ops.yaml"
    path.write_text(f"""
targets:
  openai: {{base_url: "{urls['openai']}", api_key: "${{TEST_OPENAI_KEY}}"}}
  ollama: {{url: "{urls['ollama']}", deep_probe: true, deep_timeout_ms: 5000}}
  gateway: {{url: "{urls['gateway']}", timeout_ms: 1000}}
  backend: {{url: "{urls['backend']}", timeout_ms: 1000}}
  prometheus: {{url: "{urls['prometheus']}", timeout_ms: 1000}}
{"thresholds:" + chr(10) + extra if extra else ""}
""")
    return path


def run_check(capsys, monkeypatch, path, *extra):
    monkeypatch.setenv("TEST_OPENAI_KEY", DEMO_API_KEY)
    code = main(["check", "--config", str(path), "--json", *extra])
    out = capsys.readouterr()
    return code, json.loads(out.out), out


@pytest.mark.parametrize("scenario, status, code", [
    ("normal", "ok", 0),
    ("backend-degraded", "warning", 1),
    ("openai-outage", "critical", 2),
    ("model-missing", "critical", 2),
])
def test_exit_code_follows_the_worst_status(sim, tmp_path, capsys, monkeypatch,
                                            scenario, status, code):
    sim.set_scenario(scenario)
    path = write_config(tmp_path, sim.urls)
    runs = []

    def follows() -> bool:  # once the simulator's metric window does (about 1 s)
        runs.append(run_check(capsys, monkeypatch, path))
        return (runs[-1][0], runs[-1][1]["status"]) == (code, status)

    wait_for(follows, timeout=SETTLE_S, step=0.2)
    got, doc, out = runs[-1]
    assert (got, doc["status"]) == (code, status), doc["components"]
    assert DEMO_API_KEY not in out.out + out.err


def test_a_series_never_exported_is_a_blind_spot_not_an_outage(sim, tmp_path, capsys,
                                                               monkeypatch):
    extra = """  - {component: backend, metric: missing_series, title: Missing, unit: count,
     direction: lower, target: 1, alert: 2, promql: "sum(rate(no_such_metric_total[5m]))"}
"""
    code, doc, _ = run_check(capsys, monkeypatch, write_config(tmp_path, sim.urls, extra))
    assert (code, doc["status"]) == (0, "ok"), doc["components"]
    row = next(m for m in doc["metrics"] if m["name"] == "missing_series")
    assert row["status"] == "absent" and row["value"] is None
    assert row["reason"] == "never exported: no_such_metric_total"
    assert doc["blind_spots"][0]["component"] == "backend"
    assert doc["blind_spots"][0]["missing"] == ["no_such_metric_total"]


def test_unknown_when_a_query_has_no_data(sim, tmp_path, capsys, monkeypatch):
    # the series exists (its name is known) but the query selects nothing: UNKNOWN
    extra = """  - {component: backend, metric: empty_series, title: Empty, unit: count,
     direction: lower, target: 1, alert: 2, promql: 'up{job="no_such_job"}'}
  - {component: backend, metric: missing_series, title: Missing, unit: count,
     direction: lower, target: 1, alert: 2, promql: "no_such_metric_total",
     on_absent: unknown}
"""
    code, doc, _ = run_check(capsys, monkeypatch, write_config(tmp_path, sim.urls, extra))
    assert (code, doc["status"]) == (3, "unknown")
    row = next(m for m in doc["metrics"] if m["name"] == "empty_series")
    assert row["status"] == "unknown" and row["value"] is None
    assert row["reason"] == 'query returned no series: up{job="no_such_job"}'
    row = next(m for m in doc["metrics"] if m["name"] == "missing_series")
    assert row["status"] == "unknown" and "no_such_metric_total" in row["reason"]
    assert doc["blind_spots"] == []


def test_json_contract(sim, tmp_path, capsys, monkeypatch):
    code, doc, out = run_check(capsys, monkeypatch, write_config(tmp_path, sim.urls))
    assert set(doc) == {"status", "checked_at", "components", "metrics", "blind_spots"}
    assert doc["blind_spots"] == []  # the guide's simulator exports every guide series
    assert [c["name"] for c in doc["components"]] == [
        "openai", "ollama", "gateway", "backend", "prometheus", "host"]
    for comp in doc["components"]:
        assert set(comp) >= {"name", "status", "latency_ms", "summary", "metrics"}
        assert comp["status"] in {"ok", "warning", "critical", "unknown"}
        assert isinstance(comp["summary"], str) and comp["summary"]
    for metric in doc["metrics"]:
        assert set(metric) >= {"component", "name", "value", "unit", "target", "alert", "status"}
        assert metric["value"] is None or isinstance(metric["value"], float)
    assert doc["checked_at"].endswith("+00:00")
    assert out.err == ""


def test_a_left_out_target_is_not_shown(sim, tmp_path, capsys, monkeypatch):
    path = tmp_path / "only-backend.yaml"
    path.write_text(f'targets:\n  backend: {{url: "{sim.urls["backend"]}"}}\n')
    code, doc, _ = run_check(capsys, monkeypatch, path)
    assert [c["name"] for c in doc["components"]] == ["backend", "host"]
    assert code == 0


def test_bad_config_is_unknown_with_one_line(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("targets:\n  backend: {url: nope}\n")
    assert main(["check", "--config", str(path)]) == 3
    err = capsys.readouterr().err
    assert err.strip() == f"alice-ops: {path}:2: targets.backend.url: not an http(s) URL: 'nope'"


def test_wrong_key_is_reported_without_the_key(sim, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TEST_OPENAI_KEY", "sk-proj-wrongwrongwrongwrong1234")
    code = main(["check", "--config", str(write_config(tmp_path, sim.urls))])
    out = capsys.readouterr()
    assert code == 2
    assert "authentication failed" in out.out
    assert "wrongwrong" not in out.out + out.err


def test_human_table_fits_80_columns(sim, tmp_path):
    path = write_config(tmp_path, sim.urls)
    proc = subprocess.run([sys.executable, "-m", "agent.cli.main", "check", "-v", "-c", str(path)],
                          capture_output=True, text=True, timeout=60,
                          env={"TEST_OPENAI_KEY": DEMO_API_KEY, "COLUMNS": "80",
                               "NO_COLOR": "1", "PATH": "/usr/bin:/bin"})
    assert proc.returncode in (0, 1, 2), proc.stderr  # the layout is under test, not the stack
    assert "overall: " in proc.stdout and "openai" in proc.stdout
    assert max(len(line) for line in proc.stdout.splitlines()) <= 80
    assert "\x1b[" not in proc.stdout  # NO_COLOR


def test_extra_endpoints_are_components(sim, tmp_path, capsys, monkeypatch):
    extra = f"""
  endpoints:
    - {{name: calendar, url: "{sim.urls['backend']}/api/health", latency_alert_ms: 5000}}
    - {{name: spotify, url: "{sim.urls['backend']}/no-such-path", timeout_ms: 1000}}
"""
    path = tmp_path / "endpoints.yaml"
    path.write_text(f'targets:\n  backend: {{url: "{sim.urls["backend"]}"}}{extra}')
    code, doc, _ = run_check(capsys, monkeypatch, path)
    comps = {c["name"]: c for c in doc["components"]}
    assert comps["calendar"]["status"] == "ok"
    assert [m["name"] for m in comps["calendar"]["metrics"]] == ["latency_ms"]
    assert comps["spotify"]["status"] == "critical"
    assert "HTTP 404, expected 200" in comps["spotify"]["summary"]
    assert code == 2


def test_config_schema_is_json_schema(capsys):
    assert main(["config", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "targets" in schema["properties"] and schema["additionalProperties"] is False
