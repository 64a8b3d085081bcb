"""The pure half of discover: reading JSON shapes, statuses, metric summaries, classifier
answers and WebSocket exchanges, and the fitted config made from a Discovery (no I/O)."""

from __future__ import annotations

import pytest

from agent.config import parse_config
from agent.discover import analysis as an
from agent.discover.candidates import WS_HELLO, WS_PING
from agent.discover.explore import Answer, Discovery, Options, WsResult, safe_base
from agent.discover.fitted import fitted_config
from agent.discover.report import render, to_json
from agent.discover.shape import (find_status, find_sub_statuses, json_bindings, missing_fields,
                                  nlu_shape, numbers, shape)

BASE = "http://127.0.0.1:8000"
ALICE = {"status": "ok", "version": "2.0.0", "database": {"status": "error", "ping": False},
         "features": {"harmony": False, "tools": True},
         "services": {"ollama": "unknown", "tts": "ok", "stt": "ok"},
         "authentication": {"status": "disabled", "reason": "dependencies_not_installed"}}
METRICS = {"application": {"first_token_ms": {"count": 0, "p50": 0.0, "p95": 0.0},
                           "final_latency_ms": {"count": 3, "p50": 800.0, "p95": 1200.0},
                           "tool_call_latency_ms": {"count": 2, "p50": 90.0, "p95": 140.0},
                           "counters": {"tool_calls_attempted": 2, "llm_hits": 1}},
           "system": {"cpu_percent": 3.5, "ok": True}}


def test_status_and_sub_statuses_by_name_and_by_words():
    assert find_status(ALICE) == ("status", "ok")
    assert find_status({"healthy": True, "status": {"a": True}}) == ("healthy", True)
    assert find_status({"status": {"db": "ok"}}) is None
    assert find_sub_statuses(ALICE, "status") == ["database.status", "services.*",
                                                  "authentication.status"]
    assert find_sub_statuses({"status": "healthy", "checks": {"db": "ok", "tools": "failing",
                                                              "latency": 3}}, "status") == []
    assert find_sub_statuses({"checks": {"db": "ok", "tools": "failing"}}, None) == ["checks.*"]
    assert shape(ALICE) == ("{status, version, database{status, ping}, features{harmony, tools}, "
                            "services{ollama, tts, stt}, authentication{status, reason}}")


def test_metric_numbers_summaries_and_bindings():
    paths = dict(numbers(METRICS))
    assert paths["application.counters.llm_hits"] == 1.0 and "system.ok" not in paths
    bound = {b.metric: b for b in json_bindings(METRICS)}
    assert set(bound) == {"final_latency_p95", "tool_execution_time_p95"}
    assert bound["tool_execution_time_p95"].path == "application.tool_call_latency_ms.p95"
    assert bound["tool_execution_time_p95"].title is None  # the shipped row keeps its limits
    assert (bound["final_latency_p95"].target, bound["final_latency_p95"].alert) == (1000, 3000)
    assert json_bindings({"a": {"count": 1, "p50": 2}}) == []  # no p95, nothing to bind


def test_classifier_answers_and_fastapi_422():
    agent = nlu_shape({"ok": True, "intent": None, "score": 0, "phrase": "x"})
    assert (agent.intent_path, agent.intent, agent.confidence_path, agent.latency_path) == \
        ("intent", None, "score", None)
    nested = nlu_shape({"classification": {"intent_category": "MUSIC", "confidence": 0.9,
                                           "estimated_latency_ms": 40}})
    assert (nested.intent_path, nested.confidence_path, nested.latency_path) == \
        ("classification.intent_category", "classification.confidence",
         "classification.estimated_latency_ms")
    assert nlu_shape({"ok": False, "error": "missing_spotify_token"}) is None
    detail = {"detail": [{"type": "missing", "loc": ["body", "prompt"], "msg": "Field required"},
                         {"type": "missing", "loc": ["query", "q"]}]}
    assert missing_fields(detail) == ["prompt"]


def _ws(path: str, greeting: str | None, reply: str | None, base: str = BASE,
        hello: str | None = None) -> WsResult:
    return WsResult(safe_base(base), path, True, "accepted", 5.0, greeting, reply, hello)


@pytest.mark.parametrize("greeting, reply, hello, kind, send, expect", [
    ('{"type": "hello"}', '{"type": "pong"}', None, "ping/pong", WS_PING,
     {"json_path": "type", "equals": "pong"}),
    ('{"type": "ready"}', '{"type": "ack"}', None, "reply", WS_PING,
     {"json_path": "type", "equals": "ack"}),
    ('{"type": "state"}', '{"type": "state"}', None, "reply", WS_PING, {}),
    (None, None, '{"type": "state", "ok": true}', "hello", WS_HELLO,
     {"json_path": "type", "equals": "state"}),
    ("hi", None, None, "greeting", None, {}),
    (None, None, None, "connect", None, None),
])
def test_exchange_kinds(greeting, reply, hello, kind, send, expect):
    pick = an.exchange_of(_ws("/ws/x", greeting, reply, hello=hello))
    assert (pick.kind, pick.send, pick.expect) == (kind, send, expect)


def discovery(**kw) -> Discovery:
    opts = kw.pop("options", Options(backend=BASE))
    return Discovery(options=opts, elapsed_s=0.3, **kw)


def test_fitted_config_for_a_real_alice_shape_validates():
    refused = WsResult(safe_base(BASE), "/ws/voice/{session}", False,
                       "upgrade refused with HTTP 403", 2.0)
    d = discovery(
        health=(Answer("GET", BASE, "/api/health", 200, 3.0, body=ALICE, is_json=True),
                Answer("GET", BASE, "/health", 404, 1.0, body={"detail": "Not Found"},
                       is_json=True)),
        websockets=(refused, _ws("/ws/voice-stream", None, '{"type": "pong"}'),
                    _ws("/ws/alice", '{"type": "hello"}', '{"type": "pong"}')),
        json_metrics=(Answer("GET", BASE, "/api/metrics", 200, 4.0, body=METRICS,
                             is_json=True),))
    text = fitted_config(d, "now")
    config = parse_config(text, "<fitted>", {})
    backend = config.targets.backend.health
    assert backend.sub_statuses == ("database.status", "services.*", "authentication.status")
    gateway = config.targets.gateway
    assert gateway.url == BASE and gateway.health is None
    assert gateway.websocket.path == "/ws/alice"  # ping/pong, earlier in the candidate list
    assert gateway.websocket.expect.equals == "pong"
    assert config.targets.json_metrics[0].url == BASE + "/api/metrics"
    rows = {t.metric: t for t in config.thresholds}
    assert rows["tool_execution_time_p95"].json_binding == \
        "alice_metrics:application.tool_call_latency_ms.p95"
    assert "# the backend itself serves the voice WebSocket at /ws/alice" in text
    assert "openai" not in text and config.targets.nlu is None
    report = render(d)
    assert "/ws/voice/{session}" in report and "upgrade refused with HTTP 403" in report
    assert "sub-statuses: database.status \"error\" (bad)" in report
    doc = to_json(d)
    assert doc["websockets"]["found"]["path"] == "/ws/alice"
    assert [m for m in doc["guide_metrics"] if m["present"]] == []


def test_fitted_config_adds_a_healthy_word_and_leaves_the_gateway_out():
    body = {"state": "running", "parts": {"db": "online", "cache": "ok"}}
    d = discovery(health=(Answer("GET", BASE, "/healthz", 200, 1.0, body=body,
                                 is_json=True),))
    text = fitted_config(d, "now")
    config = parse_config(text, "<fitted>", {})
    health = config.targets.backend.health
    assert (health.path, health.status_path) == ("/healthz", "state")
    assert {"running", "online"} <= set(health.ok) and health.sub_statuses == ("parts.*",)
    assert config.targets.gateway is None
    assert "# gateway left out: no WebSocket path accepted an upgrade" in text
    assert "# /api/health did not answer; /healthz did" in text


def test_health_pick_takes_json_only_and_a_down_deployment_too():
    down = Answer("GET", BASE, "/api/health", 503, 1.0, body={"status": "down"}, is_json=True)
    html = Answer("GET", BASE, "/health", 200, 1.0, body=None, is_json=False)
    pick = an.pick_health(discovery(health=(down, html)), BASE, "/api/health")
    assert (pick.answer.path, pick.status_path, pick.reported) == ("/api/health", "status",
                                                                   "down")
    assert an.pick_health(discovery(health=(html,)), BASE, "/api/health") is None
    report = render(discovery(health=(html,)))
    assert "no health path answered JSON" in report and "HTTP 200, not JSON: /health" in report


def test_report_folds_at_the_width_but_never_a_snippet():
    d = discovery(health=(Answer("GET", BASE, "/api/health", 200, 3.0, body=ALICE,
                                 is_json=True),))
    lines = render(d, width=72).splitlines()
    snippets = [line for line in lines if line.startswith(" " * 8) and not
                line.startswith(" " * 9)]
    assert snippets and any(len(line) > 72 for line in snippets)  # code stays whole
    assert all(len(line) <= 72 for line in lines if line not in snippets)
    assert render(d).count("\n") < len(lines) - 1
