"""`check` against the simulator's `alice-main` profile (a replay of the real Alice main
backend, whose Prometheus has Alice's real series, none of the guide's): every guide PromQL
row is a blind spot, listed once per component with its fix, and a healthy backend exits 0.
Alice's JSON figures (`/api/metrics`, as recorded) are judged through a JSON metrics source."""

from __future__ import annotations

import json

import pytest

from agent.cli.main import main
from agent.demo import DEMO_API_KEY
from rules.guide_metrics import load_catalogue, metric_names_in
from rules.thresholds import default_rows
from simulator.server import run_in_thread

HOST_OFF = "".join(f"  - {{component: host, metric: {m}, enabled: false}}\n" for m in (
    "cpu_percent", "memory_percent", "disk_percent", "gpu_temperature", "gpu_memory_percent"))
# round-trip rows judged against 10 s: this test is about blind spots, not a busy box's speed
SLACK = "".join(f"  - {{component: {c}, metric: {m}, target: 10000, alert: 20000}}\n"
                for c, m in (("prometheus", "query_latency_ms"), ("openai", "api_latency_ms"),
                             ("gateway", "ws_exchange_ms")))


@pytest.fixture(scope="module")
def alice():
    with run_in_thread(profile="alice-main", seed=7, api_key=DEMO_API_KEY) as sim:
        yield sim


def _config(tmp_path, urls, extra_rows: str = ""):
    path = tmp_path / "alice-ops.yaml"
    path.write_text(f"""
targets:
  openai: {{base_url: "{urls['openai']}", api_key: "{DEMO_API_KEY}"}}
  ollama: {{url: "{urls['ollama']}"}}
  backend: {{url: "{urls['backend']}", timeout_ms: 2000}}
  gateway:
    url: "{urls['backend']}"
    health: null
    websocket:
      path: /ws/alice
      send: '{{"type": "ping"}}'
      expect: {{json_path: type, equals: pong}}
  prometheus: {{url: "{urls['prometheus']}", timeout_ms: 2000}}
  json_metrics:
    - {{name: alice_metrics, component: backend, url: "{urls['backend']}/api/metrics"}}
thresholds:
{HOST_OFF}{SLACK}  - {{component: backend, metric: final_latency_p95,
     title: Final answer latency p95, unit: ms,
     json: "alice_metrics:application.final_latency_ms.p95",
     export_as: alice_final_latency_p95_seconds, direction: lower, target: 1000, alert: 3000}}
  - {{component: backend, metric: memory_mb, title: Backend memory, unit: count,
     json: "alice_metrics:application.system.memory_usage_mb.current",
     direction: lower, target: 2000, alert: 4000}}
{extra_rows}""")
    return path


def _run(capsys, path) -> tuple[int, dict]:
    code = main(["check", "--config", str(path), "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_every_guide_metric_is_a_blind_spot_and_a_healthy_alice_exits_0(alice, tmp_path,
                                                                         capsys):
    code, doc = _run(capsys, _config(tmp_path, alice.urls))
    assert (code, doc["status"]) == (0, "ok"), [(c["name"], c["status"], c["summary"])
                                                for c in doc["components"]]
    guide_rows = {(r.component, r.metric) for r in default_rows() if r.promql is not None}
    rows = {(m["component"], m["name"]): m for m in doc["metrics"]}
    for key in guide_rows:
        assert rows[key]["status"] == "absent", rows[key]
        assert rows[key]["reason"].startswith("never exported: ")
    listed = {name for spot in doc["blind_spots"] for name in spot["missing"]
              if not name.startswith("application.")}
    wanted = {n for r in default_rows() if r.promql is not None for n in metric_names_in(r.promql)}
    assert listed == wanted and wanted <= set(load_catalogue())
    assert len({s["component"] for s in doc["blind_spots"]}) == len(doc["blind_spots"])
    assert {s["component"] for s in doc["blind_spots"]} == {"openai", "ollama", "gateway",
                                                            "backend"}
    # Alice's own JSON figures: a real RSS is judged; the answer latency, recorded before
    # Alice's first answer ({"count": 0, "p95": 0.0}), is no measurement but a blind spot
    assert rows[("backend", "memory_mb")]["status"] == "ok"
    assert 10 < rows[("backend", "memory_mb")]["value"] < 2000
    final = rows[("backend", "final_latency_p95")]
    assert (final["status"], final["value"]) == ("absent", None)
    assert final["reason"] == ("alice_metrics: application.final_latency_ms.p95: "
                               "no samples yet (count 0)")
    backend = next(s for s in doc["blind_spots"] if s["component"] == "backend")
    assert any("counted nothing yet" in f for f in backend["fix"])


def test_a_json_path_alice_lacks_is_a_blind_spot_a_word_is_unknown(alice, tmp_path, capsys):
    extra = """  - {component: backend, metric: first_token_p99, title: First token p99, unit: ms,
     json: "alice_metrics:application.first_token_ms.p99", direction: lower, target: 300,
     alert: 1000}
  - {component: backend, metric: timestamp, title: Stamp, unit: count,
     json: "alice_metrics:timestamp", direction: lower, target: 1, alert: 2}
"""
    code, doc = _run(capsys, _config(tmp_path, alice.urls, extra))
    rows = {m["name"]: m for m in doc["metrics"]}
    assert rows["first_token_p99"]["status"] == "absent"
    assert rows["first_token_p99"]["reason"] == \
        "alice_metrics has no application.first_token_ms.p99"
    backend = next(s for s in doc["blind_spots"] if s["component"] == "backend")
    assert "application.first_token_ms.p99" in backend["missing"]
    assert rows["timestamp"]["status"] == "unknown"
    assert "is a str" in rows["timestamp"]["reason"]  # Alice's ISO time stamp, not a number
    assert (code, doc["status"]) == (3, "unknown")
