"""A real Prometheus that has some of the guide's series: the present rows are judged, the
absent ones are blind spots (shown, listed, never counted or alerted), and a series that
disappears becomes UNKNOWN and alerts (the agent's runtime moves the alert)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

from httpstub import QuietHandler, reply, serving
from promserver import running_prometheus, wait_for_query

from agent.check import check
from agent.config import parse_config
from vocab.model import Status
from agent.runtime import Runtime
from agent.store import Store
from alerts.lifecycle import Phase
from rules.alerting import metric_alert

ACCURACY = "intent_classification_accuracy"


@contextlib.contextmanager
def alice_like(exposition: dict[str, str]) -> Iterator[tuple[str, dict[str, str]]]:
    """A backend serving `/api/health` and `/metrics` made of the `exposition` lines
    (name -> text), which the test changes while it runs."""

    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.path == "/api/health":
                body, ctype = json.dumps({"status": "ok"}).encode(), "application/json"
            elif self.path == "/metrics":
                body = "".join(exposition.values()).encode()
                ctype = "text/plain; version=0.0.4"
            else:
                self.send_error(404)
                return
            reply(self, 200, body, ctype)

    with serving(Handler) as port:
        yield f"127.0.0.1:{port}", exposition


def _config(backend: str, prom: str):
    return parse_config(f"""
targets:
  backend: {{url: "http://{backend}", timeout_ms: 2000}}
  prometheus: {{url: "{prom}", timeout_ms: 3000}}
thresholds:
  - {{component: host, metric: cpu_percent, enabled: false}}
  - {{component: host, metric: memory_percent, enabled: false}}
  - {{component: host, metric: disk_percent, enabled: false}}
  - {{component: host, metric: gpu_temperature, enabled: false}}
  - {{component: host, metric: gpu_memory_percent, enabled: false}}
""", "alice-ops.yaml")


def _metric(report, name):
    return next(m for m in report.metrics if m.name == name)


async def _run_prometheus_job(config, db) -> dict:
    """One in-process agent cycle of the prometheus job; the alert states it left."""
    executor = ThreadPoolExecutor(1)
    loop = asyncio.get_running_loop()
    store = await loop.run_in_executor(executor, Store.open, db)
    runtime = Runtime(config, store, executor, [])
    try:
        await runtime.start()
        await runtime.run_job("backend")
        await runtime.run_job("prometheus")
        return dict(runtime.states)
    finally:
        await runtime.stop()
        await loop.run_in_executor(executor, store.close)
        executor.shutdown()


def test_present_judged_absent_listed_disappeared_unknown_and_alerting(tmp_path):
    lines = {ACCURACY: f"# TYPE {ACCURACY} gauge\n{ACCURACY} 0.95\n"}
    with alice_like(lines) as (backend, exposition), \
            running_prometheus(tmp_path / "prom", {"alice": backend}, interval_s=0.5) as prom:
        wait_for_query(prom, ACCURACY)
        config = _config(backend, prom)
        report = asyncio.run(check(config))

        accuracy = _metric(report, ACCURACY)
        assert accuracy.status is Status.OK and accuracy.value == 95.0
        absent = {m.name for m in report.metrics if m.absent}
        assert absent == {"intent_routing_latency_p95", "tool_execution_success_rate",
                          "tool_execution_time_p95"}
        assert report.status is Status.OK, [(c.name, c.status, c.summary)
                                            for c in report.components]
        spots = report.to_json()["blind_spots"]
        assert [s["component"] for s in spots] == ["backend"]
        assert set(spots[0]["missing"]) == {"intent_routing_latency_ms",
                                            "tool_execution_success_total",
                                            "tool_executions_total", "tool_execution_time_ms"}
        assert any("Histogram(\"tool_execution_time_ms\"" in f for f in spots[0]["fix"])
        states = asyncio.run(_run_prometheus_job(config, tmp_path / "state.db"))
        assert all(s.phase is not Phase.FIRING for s in states.values()), states

        # the series stops: Prometheus still knows the name, so it is UNKNOWN, not absent
        del exposition[ACCURACY]
        deadline = time.monotonic() + 20
        while True:
            report = asyncio.run(check(config))
            accuracy = _metric(report, ACCURACY)
            if accuracy.status is not Status.OK or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        assert accuracy.status is Status.UNKNOWN and not accuracy.absent, accuracy
        assert accuracy.reason == f"query returned no series: 100 * avg({ACCURACY})"
        assert report.status is Status.UNKNOWN
        assert ACCURACY not in {n for s in report.blind_spots for n in s.missing}

        states = asyncio.run(_run_prometheus_job(config, tmp_path / "state2.db"))
        assert states[metric_alert("backend", ACCURACY)].phase is Phase.FIRING
        for name in ("intent_routing_latency_p95", "tool_execution_time_p95"):
            assert states[metric_alert("backend", name)].phase is not Phase.FIRING
