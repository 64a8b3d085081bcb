"""Pure conclusions from a `Discovery`: which health path, which WebSocket exchange, which
metric names, which JSON metrics source, which classifier, which admin routes. Both the
printed report and the fitted config are made from these.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from agent.discover import candidates as c
from agent.discover.explore import AdminRoute, Answer, Discovery, WsResult, safe_base
from agent.discover.shape import (
    JsonBinding,
    NluShape,
    find_status,
    find_sub_statuses,
    json_bindings,
    nlu_shape,
    numbers,
    summaries,
)


@dataclass(frozen=True)
class HealthPick:
    answer: Answer
    status_path: str
    """"" when the answer has no status field: judged by its HTTP code."""
    reported: Any
    sub_statuses: tuple[str, ...]


def _health_of(answer: Answer) -> HealthPick:
    found = find_status(answer.body)
    key = found[0] if found else ""
    subs = tuple(find_sub_statuses(answer.body, key)) if answer.is_json else ()
    return HealthPick(answer, key, found[1] if found else None, subs)


def answering_health(d: Discovery, base: str) -> list[Answer]:
    """Health candidates on `base` that answered JSON with a 200 or a 5xx (a deployment
    that is down right now still shows where its health lives)."""
    return [a for a in d.health if a.base == safe_base(base) and a.code is not None
            and a.is_json and (a.code == 200 or a.code >= 500)]


def pick_health(d: Discovery, base: str, guide_path: str) -> HealthPick | None:
    answers = answering_health(d, base)
    if not answers:
        return None
    ranked = sorted(answers, key=lambda a: (a.code != 200 and find_status(a.body) is None,
                                            a.path != guide_path,
                                            find_status(a.body) is None, a.code != 200,
                                            _order(a.path)))
    return _health_of(ranked[0])


def _order(path: str) -> int:
    return c.HEALTH_PATHS.index(path) if path in c.HEALTH_PATHS else len(c.HEALTH_PATHS)


@dataclass(frozen=True)
class WsPick:
    result: WsResult
    kind: str
    """ping/pong | reply | hello | greeting | connect"""
    send: str | None
    expect: dict | None


def _frame_type(frame: str | None) -> str | None:
    try:
        doc = json.loads(frame) if frame else None
    except ValueError:
        return None
    value = doc.get("type") if isinstance(doc, dict) else None
    return value if isinstance(value, str) else None


def exchange_of(ws: WsResult) -> WsPick:
    """The strongest exchange this path showed, as websocket settings for the config."""
    reply_type = _frame_type(ws.reply)
    if reply_type == "pong":
        return WsPick(ws, "ping/pong", c.WS_PING, {"json_path": "type", "equals": "pong"})
    if reply_type is not None and reply_type != _frame_type(ws.greeting):
        return WsPick(ws, "reply", c.WS_PING, {"json_path": "type", "equals": reply_type})
    if ws.reply is not None:
        return WsPick(ws, "reply", c.WS_PING, {})
    hello_type = _frame_type(ws.hello_reply)
    if ws.hello_reply is not None:
        expect = {"json_path": "type", "equals": hello_type} \
            if hello_type is not None and hello_type != _frame_type(ws.greeting) else {}
        return WsPick(ws, "hello", c.WS_HELLO, expect)
    if ws.greeting is not None:
        return WsPick(ws, "greeting", None, {})
    return WsPick(ws, "connect", None, None)


_RANK = {"ping/pong": 0, "reply": 1, "hello": 2, "greeting": 3, "connect": 4}


def pick_websocket(d: Discovery) -> WsPick | None:
    accepted = [exchange_of(w) for w in d.websockets if w.accepted]
    if not accepted:
        return None
    gateway = safe_base(d.options.gateway) if d.options.gateway else None
    order = [*d.options.gateway_paths, *c.WEBSOCKET_PATHS]

    def place(path: str) -> int:
        return order.index(path) if path in order else len(order)

    return min(accepted, key=lambda p: (p.result.base != gateway, _RANK[p.kind],
                                        p.result.path != c.GUIDE_WEBSOCKET,
                                        place(p.result.path)))


def prometheus_names(d: Discovery) -> set[str] | None:
    a = d.prometheus
    if a is None or not a.ok or not isinstance(a.body, dict) or a.body.get("status") != "success":
        return None
    data = a.body.get("data")
    return {n for n in data if isinstance(n, str)} if isinstance(data, list) else None


def prometheus_problem(d: Discovery) -> str | None:
    a = d.prometheus
    if a is None:
        return None
    if a.error:
        return a.error
    if prometheus_names(d) is None:
        return f"HTTP {a.code}, not a Prometheus label-values answer"
    return None


def exposition_names(d: Discovery) -> set[str]:
    """Sample names in the backend's own Prometheus text exposition (its /metrics)."""
    if d.exposition is None:
        return set()
    from prometheus_client.parser import text_string_to_metric_families

    names: set[str] = set()
    try:
        for family in text_string_to_metric_families(d.exposition.text):
            names.update(s.name for s in family.samples)
    except (ValueError, IndexError, TypeError):
        return set()
    return names


def has_metric(names: set[str], metric: str) -> bool:
    """A catalogue name is present as itself or as its histogram/summary series."""
    return any(n in names for n in (metric, f"{metric}_bucket", f"{metric}_count",
                                    f"{metric}_sum"))


@dataclass(frozen=True)
class GuideMetricFinding:
    name: str
    type: str
    component: str
    labels: tuple[str, ...]
    present: bool
    where: str
    """prometheus | backend /metrics | "" (missing)"""
    hint: str


def guide_metrics(d: Discovery) -> list[GuideMetricFinding]:
    from rules.guide_metrics import export_hint, load_catalogue

    prom = prometheus_names(d) or set()
    own = exposition_names(d)
    out = []
    for entry in load_catalogue().values():
        where = ("prometheus" if has_metric(prom, entry.name) else
                 "backend /metrics" if has_metric(own, entry.name) else "")
        out.append(GuideMetricFinding(entry.name, entry.type, entry.component, entry.labels,
                                      bool(where), where, export_hint(entry.name)))
    return out


@dataclass(frozen=True)
class JsonMetricsPick:
    answer: Answer
    numbers: int
    summaries: tuple[str, ...]
    bindings: tuple[JsonBinding, ...]


def json_metric_sources(d: Discovery) -> list[JsonMetricsPick]:
    out = []
    for a in d.json_metrics:
        if a.ok and isinstance(a.body, dict):
            count = len(numbers(a.body))
            if count:
                out.append(JsonMetricsPick(a, count, tuple(s.path for s in summaries(a.body)),
                                           tuple(json_bindings(a.body))))
    return sorted(out, key=lambda p: (not p.bindings, not p.summaries))


@dataclass(frozen=True)
class NluPick:
    answer: Answer
    shape: NluShape
    field: str
    """The request body's text field."""


def nlu_answers(d: Discovery) -> list[tuple[Answer, NluShape | None]]:
    return [(a, nlu_shape(a.body) if a.ok else None) for a in d.nlu]


def pick_nlu(d: Discovery) -> NluPick | None:
    for a, found in nlu_answers(d):
        if found is not None and isinstance(a.sent, dict) and a.sent:
            return NluPick(a, found, next(iter(a.sent)))
    return None


def admin_verdict(route: AdminRoute) -> str:
    """not served | route exists | served | needs auth | HTTP n | the failure | not checked"""
    a = route.answer
    if a is None:
        return "not checked"
    if a.code is None:
        return a.error or "no answer"
    if a.code == 404:
        return "not served"
    if a.code == 405:
        return "route exists"
    if a.code in (401, 403):
        return "needs auth"
    if 200 <= a.code < 300 or a.code == 422:
        return "served"
    return f"HTTP {a.code}"


def ollama_models(d: Discovery) -> list[str] | None:
    a = d.ollama
    if a is None or not a.ok or not isinstance(a.body, dict):
        return None
    models = a.body.get("models")
    if not isinstance(models, list):
        return None
    return [m.get("name") for m in models if isinstance(m, dict) and isinstance(m.get("name"),
                                                                               str)]
