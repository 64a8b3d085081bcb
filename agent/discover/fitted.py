"""The config `alice-ops discover --write FILE` writes: YAML fitted to what answered, with
comments saying what was found, what was not and why. Pure: a `Discovery` in, text out;
the text is checked with `parse_config` before anyone writes it.
"""

from __future__ import annotations

import json
from typing import Any

from agent.config import HealthCheck
from agent.discover import analysis as an
from agent.discover import candidates as c
from agent.discover.explore import Discovery, safe_base
from agent.discover.report import sub_status_words

WS_KINDS = {"ping/pong": "it answers a ping with a pong",
            "reply": "it answers the ping frame",
            "hello": "it answers a hello frame (not the ping)",
            "greeting": "it greets on connect but does not answer the ping",
            "connect": "it accepts the upgrade and says nothing"}


def _v(value: Any) -> str:
    """A YAML scalar or flow collection (JSON is YAML)."""
    return json.dumps(value, ensure_ascii=False)


def extra_ok_words(pick: an.HealthPick) -> list[str]:
    """Healthy-sounding words this answer uses that HealthCheck's defaults would call bad."""
    default = HealthCheck()
    known = {w.lower() for w in (*default.ok, *default.degraded, *default.ignore)}
    seen = [pick.reported] + [s["value"] for s in sub_status_words(pick)]
    return list(dict.fromkeys(w.strip().lower() for w in seen if isinstance(w, str)
                              and w.strip().lower() in c.HEALTHY_WORDS
                              and w.strip().lower() not in known))


def _health_lines(pick: an.HealthPick, indent: str) -> list[str]:
    lines = [f"{indent}health:",
             f"{indent}  path: {_v(pick.answer.path)}",
             f"{indent}  status_path: {_v(pick.status_path)}"
             + ("" if pick.status_path else "   # no status field: the HTTP code decides")]
    extra = extra_ok_words(pick)
    if extra:
        lines.append(f"{indent}  ok: {_v([*HealthCheck().ok, *extra])}"
                     "   # this deployment's healthy word(s) added")
    if pick.sub_statuses:
        lines.append(f"{indent}  sub_statuses: {_v(list(pick.sub_statuses))}")
        lines.append(f"{indent}  sub_status_bad: critical   # or warning")
    return lines


def fitted_config(d: Discovery, generated_at: str, have_openai_key: bool = False) -> str:
    """`have_openai_key`: $OPENAI_API_KEY is set, so an openai target that reads it can be
    written uncommented (the key itself never is)."""
    o = d.options
    out = [f"# alice-ops.yaml written by `alice-ops discover` at {generated_at}",
           f"# against backend {safe_base(o.backend)}"
           + (f", gateway {safe_base(o.gateway)}" if o.gateway else "") + ".",
           "# Validate: alice-ops config validate FILE; run: alice-ops check --config FILE",
           "", "targets:"]
    out += _backend(d)
    out += _gateway(d)
    out += _prometheus(d)
    out += _ollama_openai(d, have_openai_key)
    sources, rows = _json_metrics(d)
    out += sources
    out += _nlu(d)
    if rows:
        out += ["", "thresholds:"] + rows
    out += _admin_comments(d)
    return "\n".join(out) + "\n"


def _backend(d: Discovery) -> list[str]:
    pick = an.pick_health(d, d.options.backend, c.GUIDE_BACKEND_HEALTH)
    lines = ["  backend:", f"    url: {_v(d.options.backend)}"]
    if pick is None:
        lines.insert(0, "  # no health path answered (tried " + ", ".join(c.HEALTH_PATHS)
                     + "): the guide's default is kept and will read CRITICAL until one does")
        return lines
    if pick.answer.path != c.GUIDE_BACKEND_HEALTH:
        lines.insert(0, f"  # {c.GUIDE_BACKEND_HEALTH} did not answer; {pick.answer.path} did")
    return lines + _health_lines(pick, "    ")


def _gateway(d: Discovery) -> list[str]:
    o = d.options
    ws = an.pick_websocket(d)
    separate = o.gateway if o.gateway and safe_base(o.gateway) != safe_base(o.backend) else None
    health = an.pick_health(d, separate, c.GUIDE_GATEWAY_HEALTH) if separate else None
    if ws is None and health is None:
        tried = ", ".join(dict.fromkeys(w.path for w in d.websockets))
        return ["  # gateway left out: no WebSocket path accepted an upgrade (tried "
                f"{tried})" + (" and the gateway served no health path" if separate else
                               "; no --gateway given") + "."]
    url = ws.result.base if ws is not None else safe_base(separate)
    lines = ["  gateway:"]
    if ws is not None and safe_base(ws.result.base) == safe_base(o.backend) and \
            ws.result.path != c.GUIDE_WEBSOCKET:
        lines.insert(0, f"  # the backend itself serves the voice WebSocket at {ws.result.path}"
                        f" (the guide's {c.GUIDE_WEBSOCKET} did not work here)")
    base = next((u for u in (o.gateway, o.backend) if u and safe_base(u) == url), url)
    lines.append(f"    url: {_v(base)}")
    on_gateway = health is not None and separate is not None and safe_base(separate) == url
    if on_gateway:
        lines += _health_lines(health, "    ")
    else:
        lines.append("    health: null   # no separate gateway health endpoint here")
    if ws is None:
        lines.append("    websocket: null   # no WebSocket path accepted an upgrade")
    else:
        lines += ["    websocket:", f"      path: {_v(ws.result.path)}",
                  f"      send: {_v(ws.send) if ws.send is not None else 'null'}",
                  (f"      expect: {_v(ws.expect) if ws.expect is not None else 'null'}"
                   f"   # {WS_KINDS[ws.kind]}")]
    return lines


def _prometheus(d: Discovery) -> list[str]:
    o = d.options
    if o.prometheus is None:
        return [("  # prometheus: not given (--prometheus URL); the PromQL threshold rows "
                 "are not read")]
    lines = ["  prometheus:", f"    url: {_v(o.prometheus)}"]
    missing = [f.name for f in an.guide_metrics(d) if not f.present]
    if missing:
        lines.insert(0, f"  # {len(missing)} guide metrics are not in this Prometheus: their rows"
                        " are blind spots (`alice-ops discover` shows how to export each)")
    return lines


def _ollama_openai(d: Discovery, have_openai_key: bool) -> list[str]:
    o, lines = d.options, []
    if o.ollama:
        models = an.ollama_models(d) or []
        model = "gpt-oss:20b" if "gpt-oss:20b" in models or not models else models[0]
        note = "" if model == "gpt-oss:20b" else "   # gpt-oss:20b not listed; first model"
        lines += ["  ollama:", f"    url: {_v(o.ollama)}", f"    model: {_v(model)}{note}"]
    if o.openai:
        entry = ["  openai:", f"    base_url: {_v(o.openai)}", '    api_key: "${OPENAI_API_KEY}"']
        if have_openai_key:
            lines += entry
        else:
            lines.append("  # openai: OPENAI_API_KEY was not set when this was written; set it "
                         "and uncomment")
            lines += ["  # " + line.strip() if i == 0 else "  #   " + line.strip()
                      for i, line in enumerate(entry)]
    return lines


def _json_metrics(d: Discovery) -> tuple[list[str], list[str]]:
    picks = an.json_metric_sources(d)
    if not picks:
        return ["  # json_metrics: no JSON metrics endpoint answered (tried "
                + ", ".join(c.JSON_METRICS_PATHS) + ")"], []
    pick = picks[0]
    url = d.options.backend + pick.answer.path
    sources = [f"  # {pick.answer.path} holds {pick.numbers} numbers"
               + (f"; summaries: {', '.join(pick.summaries[:4])}" if pick.summaries else ""),
               "  json_metrics:", "    - name: alice_metrics", "      component: backend",
               f"      url: {_v(url)}"]
    rows = []
    for b in pick.bindings:
        rows += ["  - component: backend", f"    metric: {b.metric}"]
        if b.title is not None:
            rows += [f"    title: {_v(b.title)}", "    unit: ms", "    direction: lower",
                     f"    target: {b.target:g}", f"    alert: {b.alert:g}"]
        rows.append(f"    json: {_v('alice_metrics:' + b.path)}")
        if b.export_as:
            rows.append(f"    export_as: {b.export_as}")
    if not rows:
        sources.append("  # no latency or tool summary there that a threshold row could bind")
    return sources, rows


def _nlu(d: Discovery) -> list[str]:
    pick = an.pick_nlu(d)
    if pick is None:
        tried = ", ".join(a.path for a in d.nlu) or "no classify route exists"
        return [f"  # nlu: no classifier answered with an intent ({tried})"]
    s, o = pick.shape, d.options
    url = next((u for u in (o.backend, o.nlu) if u and safe_base(u) == pick.answer.base),
               pick.answer.base)
    return [f"  # {pick.answer.path} answered {s.keys}",
            "  nlu:", f"    url: {_v(url)}", f"    path: {_v(pick.answer.path)}",
            "    method: POST", f"    body: {_v({pick.field: '{text}'})}",
            f"    intent_path: {_v(s.intent_path)}",
            f"    confidence_path: {_v(s.confidence_path) if s.confidence_path else 'null'}",
            f"    latency_path: {_v(s.latency_path) if s.latency_path else 'null'}"]


def _admin_comments(d: Discovery) -> list[str]:
    gone = [r for r in d.admin if an.admin_verdict(r) == "not served"]
    if not gone:
        return []
    lines = ["", "# Admin routes the shipped playbooks call that this deployment does not serve",
             "# (`alice-ops remediate verify` marks those playbooks not applicable):"]
    lines += [f"#   {r.method} {r.template} ({', '.join(r.playbooks)})" for r in gone]
    return lines
