"""`alice-ops grafana export`: the guide's two dashboards as importable Grafana JSON.

The files carry the dashboard schema's required keys and a `datasource` variable; panel
thresholds are the threshold table's; and every query of every panel parses and returns
data in a real Prometheus that scrapes the simulator (the guide's names) and an alice-ops
agent's /metrics (the `alice_ops_*` families, the Ollama exporter, the cost families, an
`export_as` gauge). A query neither source answers fails the test.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import ollama
import pytest
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models.dashboard import Dashboard as DashboardModel
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.exposition import generate_latest
from promserver import running_prometheus, wait_for_query

from agent.check import COMPONENT_ORDER, run_probes, threshold_rows
from agent.cli.main import main
from agent.config import Config, CostSettings, ThresholdOverride, parse_config
from agent.cost.component import CostJob, cost_rows
from agent.demo import DEMO_API_KEY, demo_config
from agent.exporter import DurationHistogram, SnapshotCollector
from agent.grafana.dashboards import COST_UID, HYBRID_UID, agent_value
from agent.grafana.export import inputs_for, specs_for
from agent.grafana.render import build
from agent.grafana.spec import GREEN, RED, YELLOW, Step, all_queries, steps_for
from agent.snapshot import AgentStats, Snapshot
from rules.evaluate import evaluate
from rules.thresholds import ThresholdRow, default_rows
from simulator.server import run_in_thread

# the dashboard schema's required keys (Grafana's dashboard kind: schemaVersion, templating,
# annotations), and what an import needs beside them
REQUIRED = {"schemaVersion", "templating", "annotations", "title", "uid", "panels", "time"}
EXPORT_AS = "alice_intent_routing_latency_p95_seconds"
HISTOGRAM = re.compile(r"histogram_quantile\(0\.95, sum by \(le(, \w+)?\) "
                       r"\(rate\(\w+_bucket\[5m\]\)\)\)")


def _row(component: str, metric: str, rows=None) -> ThresholdRow:
    return next(r for r in rows or default_rows() if r.key == (component, metric))


def _export(tmp_path: Path, *args: str) -> dict[str, dict]:
    assert main(["grafana", "export", "-o", str(tmp_path), *args]) == 0
    return {p.stem: json.loads(p.read_text(encoding="utf-8"))
            for p in sorted(tmp_path.glob("*.json"))}


def _panels(doc: dict) -> list[dict]:
    return [p for p in doc["panels"] if p["type"] != "row"]


def _panel(doc: dict, title: str) -> dict:
    return next(p for p in _panels(doc) if p["title"] == title)


def _steps(panel: dict) -> list[tuple[float | None, str]]:
    steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
    return [(s["value"], s["color"]) for s in steps]


@pytest.mark.parametrize("direction, target, alert, kwargs, expected", [
    ("lower", 50, 100, {}, [(None, GREEN), (50, YELLOW), (100, RED)]),
    ("higher", 90, 85, {}, [(None, RED), (85, YELLOW), (90, GREEN)]),
    ("lower", 50, 100, {"scale": 1e-3}, [(None, GREEN), (0.05, YELLOW), (0.1, RED)]),
    # a success rate from an error-rate row (target < 1 %, alert > 5 %): the guide's [95, 99]
    ("lower", 1, 5, {"invert_from": 100}, [(None, RED), (95, YELLOW), (99, GREEN)]),
])
def test_steps_follow_the_row(direction, target, alert, kwargs, expected):
    row = ThresholdRow(component="c", metric="m", title="t", unit="ms", direction=direction,
                       target=target, alert=alert, probe="p")
    assert steps_for(row, **kwargs) == tuple(Step(v, c) for v, c in expected)


def test_files_are_importable_dashboards(tmp_path):
    docs = _export(tmp_path, "--defaults")
    assert set(docs) == {HYBRID_UID, COST_UID}
    register_default_plugins()
    for uid, doc in docs.items():
        assert REQUIRED <= set(doc), REQUIRED - set(doc)
        assert doc["uid"] == uid
        assert {d["title"] for d in docs.values()} == {"Alice Hybrid Performance",
                                                       "Alice Cost Analysis"}
        [var] = doc["templating"]["list"]
        assert (var["name"], var["type"], var["query"]) == ("datasource", "datasource",
                                                            "prometheus")
        ids = [p["id"] for p in doc["panels"]]
        assert len(ids) == len(set(ids))
        for panel in _panels(doc):
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert 0 <= panel["gridPos"]["x"] < panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
            assert panel["targets"], panel["title"]
            if panel["type"] == "stat":  # the latest value, not Grafana's empty reducer list
                assert panel["options"]["reduceOptions"]["calcs"] == ["lastNotNull"]
            for target in panel["targets"]:
                assert target["datasource"] == panel["datasource"]
                assert target["refId"] and target["expr"]
                # the guide's histogram_quantile(0.95, x) returns nothing on a real Prometheus
                if "histogram_quantile" in target["expr"]:
                    assert HISTOGRAM.fullmatch(target["expr"]), target["expr"]
        # Grafana's import asks for DS_PROMETHEUS and writes the choice into the variable
        [ds_input] = doc["__inputs"]
        assert (ds_input["name"], ds_input["type"], ds_input["pluginId"]) == (
            "DS_PROMETHEUS", "datasource", "prometheus")
        imported = json.loads(json.dumps(doc).replace("${DS_PROMETHEUS}", "prom-7"))
        assert imported["templating"]["list"][0]["current"]["value"] == "prom-7"
        assert "${DS_" not in json.dumps(imported)
        model = DashboardModel.from_json(doc)  # the SDK's own model reads it back
        assert model.uid == uid and len(model.panels or []) == len(doc["panels"])
    # stable: a second export writes the same bytes
    first = {p.name: p.read_bytes() for p in tmp_path.glob("*.json")}
    _export(tmp_path, "--defaults")
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.json")} == first


def test_the_guides_panels_carry_the_guides_thresholds(tmp_path):
    docs = _export(tmp_path, "--defaults")
    hybrid, cost = docs[HYBRID_UID], docs[COST_UID]
    intent = _panel(hybrid, "Intent Routing Latency")
    assert _steps(intent) == [(None, GREEN), (50, YELLOW), (100, RED)]  # [50ms, 100ms]
    assert intent["fieldConfig"]["defaults"]["unit"] == "ms"
    assert [t["expr"] for t in intent["targets"]] == [
        "histogram_quantile(0.95, sum by (le) (rate(intent_routing_latency_ms_bucket[5m])))",
        agent_value(_row("backend", "intent_routing_latency_p95"))]
    assert _steps(_panel(hybrid, "OpenAI API Health")) == [(None, RED), (95, YELLOW),
                                                           (99, GREEN)]  # [95%, 99%]
    assert _steps(_panel(hybrid, "Local AI Performance")) == [(None, GREEN), (2000, YELLOW),
                                                              (5000, RED)]
    usage = _panel(hybrid, "Fast vs Think Path Usage")
    assert _steps(usage) == [(None, YELLOW), (60, GREEN), (70, YELLOW)]  # 60-70 %
    daily = _panel(cost, "OpenAI API Costs (Daily)")  # 10 USD/day: warning 80 %, critical 95 %
    assert _steps(daily) == [(None, GREEN), (8, YELLOW), (9.5, RED)]
    assert daily["fieldConfig"]["defaults"]["unit"] == "currencyUSD"
    assert _steps(_panel(cost, "Fast Path Efficiency")) == [(None, YELLOW), (60, GREEN),
                                                            (70, YELLOW)]
    for title in ("Cost per User Session", "Fast Path Efficiency", "Intent classification "
                  "accuracy", "Think path queue depth", "Audio quality"):
        assert any(p["title"] == title for p in _panels(hybrid) + _panels(cost)), title


def test_config_overrides_reach_the_panels(tmp_path):
    config = tmp_path / "alice-ops.yaml"
    config.write_text("""\
targets: {}
cost: {budgets: {daily_usd: 20}, routing_band_percent: [50, 80]}
thresholds:
  - {component: backend, metric: intent_routing_latency_p95, target: 40, alert: 80,
     export_as: alice_intent_routing_latency_p95_seconds}
  - {component: gateway, metric: audio_quality_score, enabled: false}
""", encoding="utf-8")
    docs = _export(tmp_path / "out", "--config", str(config))
    hybrid, cost = docs[HYBRID_UID], docs[COST_UID]
    assert _steps(_panel(hybrid, "Intent Routing Latency")) == [(None, GREEN), (40, YELLOW),
                                                                (80, RED)]
    exported = _panel(hybrid, f"Intent routing latency p95 ({EXPORT_AS})")
    assert exported["fieldConfig"]["defaults"]["unit"] == "s"  # the name asks for seconds
    assert _steps(exported) == [(None, GREEN), (0.04, YELLOW), (0.08, RED)]
    assert [t["expr"] for t in exported["targets"]] == [EXPORT_AS]
    assert not any(p["title"] == "Audio quality" for p in _panels(hybrid))
    assert _steps(_panel(cost, "OpenAI API Costs (Daily)")) == [(None, GREEN), (16, YELLOW),
                                                                (19, RED)]
    assert _steps(_panel(cost, "Fast Path Efficiency")) == [(None, YELLOW), (50, GREEN),
                                                            (80, YELLOW)]
    budget = _panel(cost, "Budget used")
    assert _steps(budget) == [(None, GREEN), (80, YELLOW), (95, RED)]


def test_json_output_lists_the_files(tmp_path, capsys):
    assert main(["grafana", "export", "--defaults", "-o", str(tmp_path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [d["uid"] for d in doc["dashboards"]] == [HYBRID_UID, COST_UID]
    for entry in doc["dashboards"]:
        assert Path(entry["path"]).is_file() and entry["panels"] > 0
        assert entry["queries"] >= entry["panels"]


@pytest.mark.parametrize("setup, args, message", [
    (lambda d: (d / "f").write_text("x"), ["-o", "{d}/f"], "--out {d}/f: not a directory"),
    (lambda d: (d / "c.yaml").write_text("thresholds: [{component: x}]\n"),
     ["--config", "{d}/c.yaml"], "{d}/c.yaml"),
    (lambda d: None, ["--config", "{d}/missing.yaml"], "config file not found"),
])
def test_bad_input_is_one_line(tmp_path, capsys, setup, args, message):
    setup(tmp_path)
    code = main(["grafana", "export", *[a.format(d=tmp_path) for a in args]])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert message.format(d=tmp_path) in err


# -- every query against a real Prometheus ------------------------------------------------

class AgentMetrics:
    """An alice-ops agent's /metrics on a loopback port: the agent's collector over a snapshot
    of real probes of the simulator (the runtime's wiring, done here by hand)."""

    def __init__(self) -> None:
        self.snapshot: Snapshot | None = None
        self.results: dict = {}
        self.durations = DurationHistogram()
        self.registry = CollectorRegistry()
        self.registry.register(SnapshotCollector(lambda: self.snapshot, self.durations,
                                                 DurationHistogram(),
                                                 probe_results=lambda: self.results))
        self.server, self.thread = start_http_server(0, addr="127.0.0.1",
                                                     registry=self.registry)

    @property
    def hostport(self) -> str:
        return f"127.0.0.1:{self.server.server_port}"

    async def refresh(self, config: Config) -> None:
        rows = threshold_rows(config) + cost_rows(config)
        results = dict(await run_probes(config, rows))
        results["cost"] = await CostJob(config).probe()
        for name, result in results.items():
            if result.latency_ms is not None:
                self.durations.observe(name, result.latency_ms / 1000)
        now = time.time()
        self.results = results
        self.snapshot = Snapshot(seq=1, taken_at=now,
                                 report=evaluate(results, rows, now, COMPONENT_ORDER),
                                 alerts=(), silences=(), stats=AgentStats(started_at=now),
                                 cost=results["cost"].details["section"])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _answers(prom: str, exprs: list[str]) -> dict[str, dict]:
    with httpx.Client(timeout=5.0) as client:
        return {e: client.get(f"{prom}/api/v1/query", params={"query": e}).json()
                for e in exprs}


def _has_number(answer: dict) -> bool:
    result = answer.get("data", {}).get("result", [])
    return bool(result) and any(r["value"][1] not in ("NaN", "+Inf", "-Inf") for r in result)


def test_every_panel_query_returns_data_from_the_simulator_and_the_agent(tmp_path):
    agent = AgentMetrics()
    try:
        with run_in_thread(seed=5, api_key=DEMO_API_KEY) as sim:
            backend = urlsplit(sim.urls["backend"]).netloc
            with running_prometheus(tmp_path / "prom", {"alice": backend,
                                                        "alice_ops": agent.hostport}) as prom:
                base = demo_config({**sim.urls, "prometheus": prom})
                config = base.model_copy(update={
                    "cost": CostSettings(),
                    "thresholds": (ThresholdOverride(component="backend",
                                                     metric="intent_routing_latency_p95",
                                                     export_as=EXPORT_AS),)})
                wait_for_query(prom, "histogram_quantile(0.95, sum by (le) "
                                     "(rate(intent_routing_latency_ms_bucket[5m])))")
                asyncio.run(agent.refresh(config))
                generate_latest(agent.registry)  # the exporter sees the first Ollama result
                asyncio.run(_reload_with_other_options(sim.urls["ollama"]))
                asyncio.run(agent.refresh(config))  # ps now shows a reload: a load event

                specs = specs_for(config)
                queries = all_queries(specs)
                assert {uid for uid, _, _ in queries} == {HYBRID_UID, COST_UID}
                assert {q.source for _, _, q in queries} == {"guide", "agent"}
                exprs = sorted({q.expr for _, _, q in queries})
                deadline = time.monotonic() + 60
                while True:
                    answers = _answers(prom, exprs)
                    missing = [e for e in exprs if not _has_number(answers[e])]
                    if not missing or time.monotonic() > deadline:
                        break
                    asyncio.run(agent.refresh(config))  # the agent's next cycle
                bad = [e for e in exprs if answers[e].get("status") != "success"]
                assert not bad, {e: answers[e] for e in bad}  # every query parses
                where = {q.expr: f"{uid} / {title} ({q.source})" for uid, title, q in queries}
                assert not missing, [f"{where[e]}: {e}: {answers[e]}" for e in missing]
    finally:
        agent.close()
    for spec in specs:  # and the files written for this config are the same panels
        doc = build(spec)
        assert [t["expr"] for p in _panels(doc) for t in p["targets"]] == \
            [q.expr for p in spec.panels for q in p.queries]


async def _reload_with_other_options(url: str) -> None:
    async with ollama.AsyncClient(host=url) as client:
        await client.generate(model="gpt-oss:20b", prompt="x", options={"num_ctx": 4096})


def test_inputs_follow_the_cost_section_names():
    config = parse_config("cost: {metrics: {cost: my_spend_total, sessions: my_sessions}}\n",
                          "<test>")
    inputs = inputs_for(config)
    assert (inputs.cost, inputs.sessions) == ("my_spend_total", "my_sessions")
    exprs = [q.expr for _, _, q in all_queries(specs_for(config))]
    assert "sum(increase(my_spend_total[1d])) / sum(my_sessions)" in exprs
    assert not any("openai_api_cost_usd_total" in e for e in exprs)
    assert inputs_for(Config()).cost == "openai_api_cost_usd_total"
