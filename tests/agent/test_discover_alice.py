"""discover + check against the `alice-main` simulator profile, which replays recordings of
the real Alice main backend (tests/data/alice_main): a healthy backend is OK and check
exits 0, every guide metric is a blind spot, and the nested database error (scenario
database-error) makes the backend not OK."""

from __future__ import annotations

import json
import time

import pytest

from rules.guide_metrics import load_catalogue
from simulator.server import run_in_thread

KEY = "sk-sim-discover-alice-0000"


@pytest.fixture(scope="module")
def sim():
    with run_in_thread(profile="alice-main", seed=4, api_key=KEY) as running:
        yield running


def flags(sim) -> list[str]:
    u = sim.urls
    return ["--backend", u["backend"], "--prometheus", u["prometheus"], "--nlu", u["nlu"],
            "--ollama", u["ollama"], "--openai-base-url", u["openai"]]


def test_discover_finds_the_real_surface(sim, cli):
    started = time.perf_counter()
    rc, out, err = cli("discover", *flags(sim), "--json")
    assert time.perf_counter() - started < 5.0
    assert rc == 0, err
    doc = json.loads(out)
    health = doc["health"]["found"]
    assert health["path"] == "/api/health" and health["status"] == "ok"
    words = {s["path"]: (s["value"], s["kind"]) for s in health["sub_statuses"]}
    assert words["database.status"] == ("ok", "ok")
    assert words["services.ollama"] == ("unknown", "ignored")
    tried = {t["url"].removeprefix(sim.urls["backend"]): t["code"]
             for t in doc["health"]["tried"]}
    assert tried["/health"] == 404 and tried["/healthz"] == 404
    ws = doc["websockets"]["found"]
    assert (ws["path"], ws["kind"], ws["url"]) == ("/ws/alice", "ping/pong", sim.urls["backend"])
    refused = {w["path"]: w["reason"] for w in doc["websockets"]["tried"] if not w["accepted"]}
    assert refused["/ws/voice/{session}"] == "upgrade refused with HTTP 403"
    assert [m["name"] for m in doc["guide_metrics"] if m["present"]] == []
    hints = {m["name"]: m["export_hint"] for m in doc["guide_metrics"]}
    assert set(hints) == set(load_catalogue())
    assert 'Histogram("intent_routing_latency_ms"' in hints["intent_routing_latency_ms"]
    source = doc["json_metrics"][0]
    assert source["path"] == "/api/metrics"
    assert {b["metric"]: b["path"] for b in source["bindings"]} == {
        "final_latency_p95": "application.final_latency_ms.p95",
        "tool_execution_time_p95": "application.tool_call_latency_ms.p95"}
    nlu = doc["nlu"]["found"]
    assert (nlu["path"], nlu["intent_path"], nlu["confidence_path"]) == \
        ("/nlu/classify", "intent", "score")
    verdicts = {r["url"]: r["verdict"] for r in doc["admin"]}
    assert verdicts["{backend}/api/admin/set-mode"] == "not served"


def test_discover_then_check(sim, cli, tmp_path, fake_host, monkeypatch):
    """Every Alice component configured (the key in the environment, as the fitted config
    reads it), so every guide metric a threshold row reads is in play."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    path = tmp_path / "alice-ops.yaml"
    rc, out, err = cli("discover", *flags(sim), "--write", str(path))
    assert rc == 0, err
    assert "missing (" in out and "how Alice would export each" in out
    assert cli("config", "validate", str(path))[0] == 0

    rc, out, _ = cli("check", "--config", str(path), "--json")
    report = json.loads(out)
    comps = {c["name"]: c for c in report["components"]}
    assert rc == 0, [(c["name"], c["status"], c["summary"]) for c in comps.values()]
    assert {n: c["status"] for n, c in comps.items()} == {
        "openai": "ok", "ollama": "ok", "gateway": "ok", "backend": "ok", "prometheus": "ok",
        "host": "ok"}
    assert KEY not in out and KEY not in path.read_text()
    blind = set()
    for spot in report["blind_spots"]:
        blind.update(spot.get("missing", ()))
    text = path.read_text()
    rebound = {"tool_execution_time_ms"} if "application.tool_call_latency_ms.p95" in text \
        else set()
    promql_metrics = {m.name for m in load_catalogue().values() if "thresholds" in m.used_by}
    assert promql_metrics - rebound <= blind, promql_metrics - rebound - blind

    sim.set_scenario("database-error")
    try:
        rc, out, _ = cli("check", "--config", str(path), "--json")
    finally:
        sim.set_scenario("normal")
    backend = {c["name"]: c for c in json.loads(out)["components"]}["backend"]
    assert rc == 2 and backend["status"] == "critical"
    assert 'database.status: "error"' in backend["summary"]
