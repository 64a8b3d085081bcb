"""`alice-ops discover` against the guide simulator: everything found at the guide's paths,
a fitted config that validates and checks OK, one-line errors for bad flags, and a dead
backend reported within the deadline."""

from __future__ import annotations

import json
import time

import pytest
from faults import free_port  # tests/agent is on sys.path

from simulator.server import run_in_thread


@pytest.fixture(scope="module")
def guide():
    with run_in_thread(seed=3) as sim:
        yield sim


def flags(sim) -> list[str]:
    u = sim.urls
    return ["--backend", u["backend"], "--gateway", u["gateway"], "--prometheus",
            u["prometheus"], "--ollama", u["ollama"], "--openai-base-url", u["openai"]]


def test_guide_deployment_is_found_at_the_guide_paths(guide, cli, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    started = time.perf_counter()
    rc, out, err = cli("discover", *flags(guide), "--json")
    elapsed = time.perf_counter() - started
    assert rc == 0, err
    assert elapsed < 5.0
    doc = json.loads(out)
    health = doc["health"]["found"]
    assert (health["path"], health["status_path"], health["status"]) == \
        ("/api/health", "status", "healthy")
    assert doc["gateway_health"]["found"]["path"] == "/health"
    ws = doc["websockets"]["found"]
    assert ws["path"] == "/ws/voice/{session}" and ws["url"] == guide.urls["gateway"]
    assert ws["kind"] == "reply" and ws["expect"] == {"json_path": "type", "equals": "ack"}
    missing = [m["name"] for m in doc["guide_metrics"] if not m["present"]]
    assert missing == [] and len(doc["guide_metrics"]) >= 16
    nlu = doc["nlu"]["found"]
    assert (nlu["path"], nlu["intent_path"], nlu["confidence_path"]) == \
        ("/api/nlu/classify", "intent", "confidence")
    verdicts = {r["url"]: r["verdict"] for r in doc["admin"]}
    assert verdicts["{backend}/api/admin/set-mode"] == "route exists"
    assert verdicts["{gateway}/api/connections/status"] == "served"
    assert doc["ollama"]["models"][0] == "gpt-oss:20b"
    assert doc["openai"]["code"] == 401  # answers, and no key was given
    assert doc["json_metrics"] == []


def test_text_report_pairs_guide_and_deployment(guide, cli):
    rc, out, _ = cli("discover", "--backend", guide.urls["backend"])
    assert rc == 0
    for title in ("Backend health", "Voice WebSocket", "Prometheus metrics", "JSON metrics",
                  "NLU classifier", "Admin API"):
        assert f"\n{title}" in out
    assert "guide asks for:  GET /api/health" in out
    assert "this deployment: GET /api/health -> 200 {status}" in out
    assert "no --prometheus given" in out
    assert "not served (HTTP 404): /health, /healthz" in out


def test_written_config_validates_and_checks_ok(guide, cli, tmp_path, monkeypatch,
                                               fake_host):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    path = tmp_path / "alice-ops.yaml"
    rc, out, err = cli("discover", *flags(guide), "--write", str(path))
    assert rc == 0, err
    assert f"wrote {path}" in out
    text = path.read_text()
    assert "# openai: OPENAI_API_KEY was not set" in text
    assert cli("config", "validate", str(path))[0] == 0
    deadline = time.monotonic() + 15
    while True:  # the simulator's metric windows fill within a second or two
        rc, out, err = cli("check", "--config", str(path), "--json")
        report = json.loads(out)
        if rc == 0 or time.monotonic() > deadline:
            break
    assert rc == 0, [(c["name"], c["status"], c["summary"]) for c in report["components"]]
    names = {c["name"] for c in report["components"]}
    assert {"backend", "gateway", "prometheus", "ollama"} <= names and "openai" not in names

    rc, _, err = cli("discover", "--backend", guide.urls["backend"], "--write", str(path))
    assert rc == 2 and err.count("\n") == 1 and "already exists (use --force" in err
    assert path.read_text() == text
    rc, _, _ = cli("discover", "--backend", guide.urls["backend"], "--write", str(path),
                   "--force")
    assert rc == 0 and path.read_text() != text


@pytest.mark.parametrize("args, words", [
    (["--backend", "ftp://x"], "discover --backend: not an http(s) URL: 'ftp://x'"),
    (["--backend", "http://u:hunter2@h:1"], "a user:password in the URL is not accepted"),
    (["--backend", "http://h:port"], "bad port in URL"),
    (["--backend", "http://h:1", "--gateway", "tcp://h"], "--gateway: not an http(s) or ws(s)"),
    (["--backend", "http://h:1", "--timeout-ms", "0"], "--timeout-ms: expected 1..60000"),
    (["--backend", "http://h:1?key=1"], "drop the query"),
])
def test_bad_flags_are_one_line(cli, args, words):
    rc, out, err = cli("discover", *args)
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and words in err and "hunter2" not in err


def test_dead_backend_is_reported_fast_and_still_writes_a_valid_config(cli, tmp_path):
    port = free_port()
    path = tmp_path / "fitted.yaml"
    started = time.perf_counter()
    rc, out, err = cli("discover", "--backend", f"http://127.0.0.1:{port}",
                       "--gateway", f"ws://127.0.0.1:{port}/ws/custom/{{session}}",
                       "--write", str(path), "--json")
    assert time.perf_counter() - started < 5.0
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["health"]["found"] is None
    assert {t["error"] for t in doc["health"]["tried"]} == {"connection refused"}
    paths = [w["path"] for w in doc["websockets"]["tried"]]
    assert paths[0] == "/ws/custom/{session}"  # the path on the --gateway URL comes first
    assert all(not w["accepted"] and w["reason"] == "connection refused"
               for w in doc["websockets"]["tried"])
    text = path.read_text()
    assert "# gateway left out: no WebSocket path accepted an upgrade" in text
    assert cli("config", "validate", str(path))[0] == 0
