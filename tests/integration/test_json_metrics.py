"""JSON metrics sources: rows bound by dotted path, judged with their component; a missing
path is a blind spot, a non-number or an unreadable source is UNKNOWN; every GET has a
total deadline; `export_as` rows reappear on the agent's /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Iterator

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from httpstub import QuietHandler, reply, serving
from trickle import trickling_server

from agent.check import check
from agent.config import parse_config
from agent.exporter import DurationHistogram, SnapshotCollector, export_value
from vocab.model import Status
from agent.probes.json_metrics import reading_at
from agent.snapshot import AgentStats, Snapshot
from simulator.server import run_in_thread

DOC = {"application": {"final_latency_ms": {"count": 12, "p50": 80.0, "p95": 410.0},
                       "counters": {"router_hits": 7, "llm_hits": 3},
                       "label": "fast", "flag": True, "nothing": None},
       "items": [{"ms": 5}]}


@contextlib.contextmanager
def json_server(doc: dict) -> Iterator[tuple[str, dict]]:
    """Serve `state["doc"]` as JSON on every GET (state["status"] as the code)."""
    state = {"doc": doc, "status": 200, "hits": 0}

    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            state["hits"] += 1
            reply(self, state["status"], json.dumps(state["doc"]).encode(), "application/json")

    with serving(Handler) as port:
        yield f"http://127.0.0.1:{port}", state


ROWS = """
thresholds:
  - {component: host, metric: cpu_percent, enabled: false}
  - {component: host, metric: memory_percent, enabled: false}
  - {component: host, metric: disk_percent, enabled: false}
  - {component: COMP, metric: final_p95, title: Final answer latency p95, unit: ms,
     json: "m:application.final_latency_ms.p95", export_as: alice_final_latency_p95_seconds,
     direction: lower, target: 1000, alert: 3000}
  - {component: COMP, metric: router_hits, title: Router hits, unit: count,
     json: "m:application.counters.router_hits", export_as: alice_router_hits,
     direction: higher, target: 0, alert: 0}
  - {component: COMP, metric: first_token_p95, title: First token p95, unit: ms,
     json: "m:application.first_token_ms.p95", direction: lower, target: 300, alert: 1000}
  - {component: COMP, metric: label, title: A word, unit: count,
     json: "m:application.label", direction: lower, target: 1, alert: 2}
"""


def _config(url: str, component: str = "metrics", backend: str | None = None,
            timeout_ms: int = 1000):
    text = (f"targets:\n  json_metrics:\n    - {{name: m, component: {component}, "
            f"url: \"{url}/api/metrics\", timeout_ms: {timeout_ms}}}\n")
    if backend:
        text += f"  backend: {{url: \"{backend}\", timeout_ms: 1000}}\n"
    return parse_config(text + ROWS.replace("COMP", component), "alice-ops.yaml")


def _metric(report, name):
    return next(m for m in report.metrics if m.name == name)


def test_reading_at_follows_dotted_paths():
    assert reading_at(DOC, "m", "application.final_latency_ms.p95").value == 410.0
    assert reading_at(DOC, "m", "items.0.ms").value == 5.0
    missing = reading_at(DOC, "m", "application.first_token_ms.p95")
    assert missing.absent and missing.missing == ("application.first_token_ms.p95",)
    assert missing.reason == "m has no application.first_token_ms.p95"
    obj = reading_at(DOC, "m", "application.final_latency_ms")
    assert not obj.known and not obj.absent
    assert "an object (count, p50, p95); bind a key, e.g. application.final_latency_ms.count" \
        in obj.reason
    assert reading_at(DOC, "m", "application.label").reason == \
        "m: application.label is a str ('fast'), not a number"
    assert reading_at(DOC, "m", "application.flag").reason.endswith("not a number")
    assert reading_at(DOC, "m", "application.nothing").reason == "m: application.nothing is null"
    assert reading_at(DOC, "m", "items.3.ms").absent
    idle = {"a": {"count": 0, "p50": 0.0, "p95": 0.0}}  # Alice before its first answer
    uncounted = reading_at(idle, "m", "a.p95")
    assert uncounted.absent and uncounted.reason == "m: a.p95: no samples yet (count 0)"
    assert reading_at(idle, "m", "a.count").value == 0.0  # the count itself is a figure


def test_rows_are_judged_blind_spots_listed_and_a_word_is_unknown():
    with json_server(DOC) as (url, state):
        report = asyncio.run(check(_config(url)))
    assert state["hits"] == 1  # one GET per source per cycle, however many rows
    comp = next(c for c in report.components if c.name == "metrics")
    assert _metric(report, "final_p95").value == 410.0
    assert _metric(report, "final_p95").status is Status.OK
    assert _metric(report, "router_hits").value == 7.0
    first = _metric(report, "first_token_p95")
    assert first.absent and first.status is Status.OK
    label = _metric(report, "label")
    assert label.status is Status.UNKNOWN and "not a number" in label.reason
    assert comp.status is Status.UNKNOWN  # the word, not the blind spot
    spot = report.blind_spots[0]
    assert (spot.component, spot.missing) == ("metrics", ("application.first_token_ms.p95",))
    assert "source m" in spot.fix[0]


def test_a_source_that_fails_makes_its_rows_unknown_never_absent():
    with json_server(DOC) as (url, state):
        state["status"] = 503
        report = asyncio.run(check(_config(url)))
    comp = next(c for c in report.components if c.name == "metrics")
    assert comp.status is Status.CRITICAL and comp.summary == "JSON metrics m: HTTP 503"
    for name in ("final_p95", "router_hits", "first_token_p95", "label"):
        m = _metric(report, name)
        assert m.status is Status.UNKNOWN and not m.absent and m.reason == "m not read: HTTP 503"
    assert report.blind_spots == ()


def test_a_trickling_source_is_cut_at_its_deadline():
    with trickling_server("body") as url:
        started = time.monotonic()
        report = asyncio.run(check(_config(url, timeout_ms=800)))
        elapsed = time.monotonic() - started
    assert elapsed < 0.8 + 1.0
    assert _metric(report, "final_p95").reason == "m not read: no answer within 800 ms"


def test_a_source_feeds_the_backend_of_the_guide_simulator():
    with run_in_thread(seed=3) as sim, json_server(DOC) as (url, _):
        report = asyncio.run(check(_config(url, component="backend",
                                           backend=sim.urls["backend"])))
        backend = next(c for c in report.components if c.name == "backend")
        assert [c.name for c in report.components] == ["backend", "host"]
        assert backend.status is Status.UNKNOWN  # the `label` row; the health is fine
        assert "healthy" in backend.summary.lower() or "ok" in backend.summary.lower()
        assert _metric(report, "final_p95").value == 410.0
        sim.set_scenario("backend-degraded")
        degraded = asyncio.run(check(_config(url, component="backend",
                                             backend=sim.urls["backend"])))
        assert _metric(degraded, "final_p95").value == 410.0  # still read beside the health
        assert next(c for c in degraded.components if c.name == "backend").status \
            >= Status.WARNING


def test_export_as_rows_are_reexported_on_metrics():
    with json_server(DOC) as (url, _):
        report = asyncio.run(check(_config(url)))
    snap = Snapshot(seq=1, taken_at=time.time(), report=report, alerts=(), silences=(),
                    stats=AgentStats(started_at=time.time()))
    registry = CollectorRegistry()
    registry.register(SnapshotCollector(lambda: snap, DurationHistogram(), DurationHistogram()))
    text = generate_latest(registry).decode()
    assert "# TYPE alice_final_latency_p95_seconds gauge" in text
    assert "alice_final_latency_p95_seconds 0.41" in text  # ms converted for _seconds
    assert "alice_router_hits 7.0" in text  # no unit suffix asked: the value as read
    assert 'alice_ops_metric_absent{component="metrics",metric="first_token_p95"} 1.0' in text
    assert 'alice_ops_metric_status{component="metrics",metric="first_token_p95"}' not in text


@pytest.mark.parametrize("name, unit, value, expected", [
    ("x_seconds", "ms", 1500.0, 1.5), ("x_ratio", "percent", 93.0, 0.93),
    ("x_ms", "ms", 1500.0, 1500.0), ("x_seconds", "s", 2.0, 2.0)])
def test_export_value_converts_only_to_named_base_units(name, unit, value, expected):
    assert export_value(name, unit, value) == pytest.approx(expected)


def test_a_row_bound_to_an_unknown_source_is_one_line(tmp_path):
    from agent.config import ConfigError

    with pytest.raises(ConfigError) as err:
        parse_config("""targets:
  json_metrics: [{name: m, url: "http://127.0.0.1:1/x"}]
thresholds:
  - {component: backend, metric: a, json: "n:x.y"}
""", "c.yaml")
    assert "thresholds[0].json: no targets.json_metrics source named 'n' (m)" in str(err.value)


def test_the_agent_judges_alerts_and_reexports_a_json_source(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from agent.runtime import Runtime
    from agent.store import Store
    from alerts.lifecycle import Phase

    async def cycle(config, db):
        executor = ThreadPoolExecutor(1)
        loop = asyncio.get_running_loop()
        store = await loop.run_in_executor(executor, Store.open, db)
        runtime = Runtime(config, store, executor, [])
        try:
            await runtime.start()
            await runtime.run_job("metrics")
            return dict(runtime.states), runtime.metrics_text().decode()
        finally:
            await runtime.stop()
            await loop.run_in_executor(executor, store.close)
            executor.shutdown()

    slow = {**DOC, "application": {**DOC["application"],
                                   "final_latency_ms": {"count": 3, "p95": 4200.0}}}
    with json_server(slow) as (url, _):
        states, text = asyncio.run(cycle(_config(url), tmp_path / "state.db"))
    assert "alice_final_latency_p95_seconds 4.2" in text
    assert states["metrics_final_p95"].phase is Phase.FIRING  # 4200 ms > alert 3000 ms
    assert states["metrics_first_token_p95"].phase is not Phase.FIRING  # the blind spot
    assert "metrics_health" in states
