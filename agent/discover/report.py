"""What `alice-ops discover` prints: section by section, what the guide asks for beside
what this deployment serves, and for every guide metric it lacks how Alice would export
it. `to_json` is the same as one document. Pure: a `Discovery` in, text or data out.
"""

from __future__ import annotations

import json
from typing import Any

from agent.config import HealthCheck
from agent.discover import analysis as an
from agent.discover import candidates as c
from agent.discover.explore import Answer, Discovery, safe_base
from agent.discover.shape import shape, short
from agent.probes.gateway import describe_expect
from agent.probes.health import sub_statuses

GUIDE = "  guide asks for:  "
HERE = "  this deployment: "
MORE = " " * len(HERE)


def _code(a: Answer) -> str:
    return f"HTTP {a.code}" if a.code is not None else (a.error or "no answer")


def sub_status_words(pick: an.HealthPick) -> list[dict]:
    check = HealthCheck(sub_statuses=pick.sub_statuses)
    return [s.to_json() for s in sub_statuses(pick.answer.body, check)]


def _word(value: Any) -> str:
    return short(json.dumps(value, ensure_ascii=False), 40)


def _words_line(pick: an.HealthPick) -> str:
    where = f"status at {pick.status_path!r}: {_word(pick.reported)}" if pick.status_path \
        else "no status field (judged by the HTTP code)"
    words = [f"{s['path']} {_word(s['value'])}" + ("" if s["kind"] == "ok" else
                                                   f" ({s['kind']})")
             for s in sub_status_words(pick)]
    return where + (f"; sub-statuses: {', '.join(words)}" if words else "")


def _health_section(d: Discovery, title: str, base: str, guide_path: str,
                    guide_body: str) -> list[str]:
    lines = [title, f"{GUIDE}GET {guide_path} -> {guide_body}"]
    pick = an.pick_health(d, base, guide_path)
    if pick is None:
        lines.append(f"{HERE}no health path answered JSON on {safe_base(base)}")
    else:
        a = pick.answer
        outline = shape(a.body) if a.is_json else "(not JSON)"
        lines.append(f"{HERE}GET {a.path} -> {a.code} {outline}")
        lines.append(MORE + _words_line(pick))
    mine = [a for a in d.health if a.base == safe_base(base)]
    also = [f"{a.path} ({_code(a)})" for a in an.answering_health(d, base)
            if pick is None or a.path != pick.answer.path]
    if also:
        lines.append(MORE + "also answering: " + ", ".join(also))
    missing = [a for a in mine if a not in an.answering_health(d, base)]
    for reason, paths in _grouped((_unused(a), a.path) for a in missing).items():
        lines.append(MORE + f"{reason}: " + ", ".join(paths))
    return lines


def _unused(a: Answer) -> str:
    if a.code is None:
        return a.error or "no answer"
    if a.code == 404:
        return "not served (HTTP 404)"
    return f"HTTP {a.code}" + ("" if a.is_json else ", not JSON")


def _grouped(pairs) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, item in pairs:
        out.setdefault(key, []).append(item)
    return out


def _ws_line(w) -> str:
    if not w.accepted:
        return f"{w.path} on {w.base}: {w.reason}"
    pick = an.exchange_of(w)
    said = []
    if w.greeting is not None:
        said.append(f"greets {short(w.greeting, 50)}")
    said.append(f"ping -> {short(w.reply, 50)}" if w.reply is not None else "ping unanswered")
    if w.hello_reply is not None:
        said.append(f"hello -> {short(w.hello_reply, 50)}")
    return f"{w.path} on {w.base}: accepted; {'; '.join(said)} [{pick.kind}]"


def _ws_section(d: Discovery) -> list[str]:
    lines = ["Voice WebSocket",
             f"{GUIDE}ws://<gateway>{c.GUIDE_WEBSOCKET} (guide: :8001), an answer to a frame"]
    rows = [_ws_line(w) for w in d.websockets if w.accepted]
    refused = _grouped(((w.base, w.reason), w.path) for w in d.websockets if not w.accepted)
    rows += [f"{reason} on {base}: {', '.join(paths)}"
             for (base, reason), paths in refused.items()]
    for i, row in enumerate(rows):
        lines.append((HERE if i == 0 else MORE) + row)
    pick = an.pick_websocket(d)
    if pick is None:
        lines.append(MORE + "no WebSocket path accepted an upgrade")
    else:
        send = {c.WS_PING: "ping", c.WS_HELLO: "hello"}.get(pick.send or "", "nothing")
        lines.append(f"  fitted:          {pick.result.path} on {pick.result.base}, send {send},"
                     f" expect {describe_expect(_expect(pick.expect))}")
    return lines


def _expect(expect: dict | None):
    from agent.config import WebSocketExpect

    return None if expect is None else WebSocketExpect(**expect)


def _metrics_section(d: Discovery) -> list[str]:
    found = an.guide_metrics(d)
    lines = ["Prometheus metrics",
             f"{GUIDE}{len(found)} series: " + ", ".join(f.name for f in found[:4]) + ", ..."]
    names, problem = an.prometheus_names(d), an.prometheus_problem(d)
    prom_count = sum(1 for f in found if f.where == "prometheus")
    if d.options.prometheus is None:
        lines.append(f"{HERE}no --prometheus given: the PromQL rows are not read")
    elif names is None:
        lines.append(f"{HERE}Prometheus {safe_base(d.options.prometheus)}: {problem}")
    else:
        lines.append(f"{HERE}Prometheus {safe_base(d.options.prometheus)}: {len(names)} metric "
                     f"names, {prom_count} of {len(found)} guide metrics")
    own = an.exposition_names(d)
    if d.exposition is not None:
        own_count = sum(1 for f in found if an.has_metric(own, f.name))
        lines.append(MORE + f"backend {d.exposition.path}: {len(own)} series (Prometheus text), "
                     f"{own_count} of {len(found)} guide metrics")
    present = [f for f in found if f.present]
    if present and len(present) == len(found):
        lines.append(MORE + f"every guide metric is present ({present[0].where}: "
                     f"{sum(1 for f in found if f.where == present[0].where)})")
    elif present:
        lines.append(MORE + "present: " + ", ".join(f"{f.name} ({f.where})" for f in present))
    missing = [f for f in found if not f.present]
    if missing:
        lines.append(f"  missing ({len(missing)}): how Alice would export each")
        for f in missing:
            labels = ", ".join(f.labels) or "-"
            lines.append(f"    {f.name}  {f.type}  {f.component}  labels: {labels}")
            lines.extend(f"        {line}" for line in f.hint.splitlines())
    return lines


def _json_metrics_section(d: Discovery) -> list[str]:
    lines = ["JSON metrics", f"{GUIDE}nothing (the guide reads every figure from Prometheus)"]
    picks = an.json_metric_sources(d)
    if not picks:
        lines.append(f"{HERE}no JSON metrics endpoint (tried {', '.join(c.JSON_METRICS_PATHS)})")
    for i, p in enumerate(picks):
        sums = f", summaries {', '.join(p.summaries[:4])}" if p.summaries else ""
        lines.append((HERE if i == 0 else MORE) + f"GET {p.answer.path}: {p.numbers} numbers"
                     + sums)
        for b in p.bindings:
            lines.append(MORE + f"  binds backend {b.metric} <- {b.path}")
    return lines


def _nlu_section(d: Discovery) -> list[str]:
    lines = ["NLU classifier",
             f'{GUIDE}POST {c.GUIDE_NLU} {{"text"}} -> {{"intent", "confidence"}}']
    every = an.nlu_answers(d)
    answers = [(a, found) for a, found in every if a.code != 404]
    for i, (a, found) in enumerate(answers):
        field = next(iter(a.sent), "?") if isinstance(a.sent, dict) else "?"
        if found is not None:
            what = (f"{a.code} {found.keys}; intent at {found.intent_path!r} "
                    f"({short(found.intent, 30)}), confidence at "
                    f"{found.confidence_path or 'none'!r}, latency at "
                    f"{found.latency_path or 'none'!r}")
        else:
            what = f"{_code(a)}" + (f" {shape(a.body)}" if a.is_json else "")
        where = "" if a.base == safe_base(d.options.backend) else f" on {a.base}"
        lines.append((HERE if i == 0 else MORE)
                     + f"POST {a.path}{where} {{{json.dumps(field)}}}: {what}")
    if not answers:
        lines.append(f"{HERE}no classify route exists")
    gone = _grouped((a.base, a.path) for a, _ in every if a.code == 404)
    for base, paths in gone.items():
        lines.append(MORE + f"not served (HTTP 404) on {base}: {', '.join(paths)}")
    return lines


def _admin_section(d: Discovery) -> list[str]:
    lines = ["Admin API (the remediation playbooks' HTTP steps)"]
    if not d.admin:
        lines.append(f"{GUIDE}no HTTP steps in the playbooks")
    for i, route in enumerate(d.admin):
        verdict = an.admin_verdict(route)
        code = f" ({route.answer.code})" if route.answer and route.answer.code else ""
        lines.append((GUIDE if i == 0 else MORE) + f"{route.method} {route.template}: "
                     f"{verdict}{code}; used by {', '.join(route.playbooks)}")
    return lines


def _targets_section(d: Discovery) -> list[str]:
    lines = []
    if d.options.ollama:
        models = an.ollama_models(d)
        seen = (", ".join(models) or "no models") if models is not None else \
            _code(d.ollama) if d.ollama else "not asked"
        lines += ["Ollama", f"{GUIDE}GET /api/tags listing gpt-oss:20b", f"{HERE}{seen}"]
    if d.options.openai:
        a = d.openai
        seen = "not asked" if a is None else (
            "models listed" if a.ok else
            "answers; a key is needed (set OPENAI_API_KEY)" if a.code == 401 else _code(a))
        lines += ["OpenAI-compatible API", f"{GUIDE}GET /models with the API key", f"{HERE}{seen}"]
    return lines


def wrap(line: str, width: int | None) -> list[str]:
    """A long line folded at `width`, continuation lines under its text; the export
    snippets (indented 8) are code and never folded."""
    indent = len(line) - len(line.lstrip(" "))
    if width is None or len(line) <= width or indent == 8:
        return [line]
    labelled = indent == len(MORE) or line[:len(HERE)].strip().endswith(":")
    hang = len(HERE) if labelled else indent + 4
    import textwrap

    return textwrap.wrap(line, width=max(width, hang + 20), subsequent_indent=" " * hang,
                         break_on_hyphens=False, break_long_words=False) or [line]


def render(d: Discovery, written: str | None = None, width: int | None = None) -> str:
    """The report; `width` folds long lines (None: one line each)."""
    o = d.options
    head = [f"alice-ops discover: backend {safe_base(o.backend)}"
            + (f", gateway {safe_base(o.gateway)}" if o.gateway else "")
            + f" ({d.elapsed_s:.2f} s)"]
    if d.openapi:
        head.append("  OpenAPI: " + ", ".join(f"{b} lists {len(r)} routes"
                                              for b, r in d.openapi.items()))
    sections = [head, _health_section(d, "Backend health", o.backend, c.GUIDE_BACKEND_HEALTH,
                                      '{"status": "healthy"}')]
    if o.gateway and safe_base(o.gateway) != safe_base(o.backend):
        sections.append(_health_section(d, "Gateway health", o.gateway, c.GUIDE_GATEWAY_HEALTH,
                                        "HTTP 200"))
    sections += [_ws_section(d), _metrics_section(d), _json_metrics_section(d),
                 _nlu_section(d), _admin_section(d)]
    extra = _targets_section(d)
    if extra:
        sections.append(extra)
    sections.append(["Config", f"  wrote {written}" if written else
                     "  --write FILE writes a config fitted to this"])
    return "\n\n".join("\n".join(out for line in s for out in wrap(line, width))
                       for s in sections)


def _health_json(d: Discovery, base: str, guide_path: str) -> dict[str, Any]:
    pick = an.pick_health(d, base, guide_path)
    return {"guide": guide_path, "tried": [a.to_json() for a in d.health
                                           if a.base == safe_base(base)],
            "found": None if pick is None else {
                "path": pick.answer.path, "code": pick.answer.code,
                "shape": shape(pick.answer.body), "status_path": pick.status_path,
                "status": pick.reported, "sub_statuses": sub_status_words(pick)}}


def to_json(d: Discovery, written: str | None = None) -> dict[str, Any]:
    o = d.options
    ws = an.pick_websocket(d)
    nlu = an.pick_nlu(d)
    out: dict[str, Any] = {
        "backend": safe_base(o.backend), "gateway": safe_base(o.gateway) if o.gateway else None,
        "elapsed_s": round(d.elapsed_s, 3),
        "openapi_routes": {b: len(r) for b, r in d.openapi.items()},
        "health": _health_json(d, o.backend, c.GUIDE_BACKEND_HEALTH),
        "gateway_health": _health_json(d, o.gateway, c.GUIDE_GATEWAY_HEALTH)
        if o.gateway and safe_base(o.gateway) != safe_base(o.backend) else None,
        "websockets": {"guide": c.GUIDE_WEBSOCKET, "tried": [w.to_json() for w in d.websockets],
                       "found": None if ws is None else {
                           "url": ws.result.base, "path": ws.result.path, "kind": ws.kind,
                           "send": ws.send, "expect": ws.expect}},
        "prometheus": None if o.prometheus is None else {
            "url": safe_base(o.prometheus), "names": sorted(an.prometheus_names(d) or ()),
            "problem": an.prometheus_problem(d)},
        "backend_exposition": None if d.exposition is None else {
            "path": d.exposition.path, "names": sorted(an.exposition_names(d))},
        "guide_metrics": [{"name": f.name, "type": f.type, "component": f.component,
                           "labels": list(f.labels), "present": f.present, "where": f.where,
                           "export_hint": None if f.present else f.hint}
                          for f in an.guide_metrics(d)],
        "json_metrics": [{"path": p.answer.path, "numbers": p.numbers,
                          "summaries": list(p.summaries),
                          "bindings": [{"metric": b.metric, "path": b.path} for b in p.bindings]}
                         for p in an.json_metric_sources(d)],
        "nlu": {"guide": c.GUIDE_NLU, "tried": [a.to_json() for a in d.nlu],
                "found": None if nlu is None else {
                    "path": nlu.answer.path, "text_field": nlu.field,
                    "intent_path": nlu.shape.intent_path,
                    "confidence_path": nlu.shape.confidence_path,
                    "latency_path": nlu.shape.latency_path, "shape": nlu.shape.keys}},
        "admin": [{"method": r.method, "url": r.template, "playbooks": list(r.playbooks),
                   "verdict": an.admin_verdict(r),
                   "code": r.answer.code if r.answer else None} for r in d.admin],
        "config_written": written,
    }
    if o.ollama:
        out["ollama"] = {"url": safe_base(o.ollama), "models": an.ollama_models(d)}
    if o.openai:
        out["openai"] = {"url": safe_base(o.openai),
                         "code": d.openai.code if d.openai else None}
    return out
