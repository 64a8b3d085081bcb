"""`check` against a real Prometheus scraping the simulator: the seed's metrics through PromQL."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

from promserver import running_prometheus, wait_for_query

from agent.check import check
from agent.demo import DEMO_API_KEY, demo_config
from vocab.model import Status
from simulator.server import run_in_thread


def _metric(report, component, name):
    return next(m for m in report.metrics if (m.component, m.name) == (component, name))


def test_check_reads_the_seed_metrics_through_real_prometheus(tmp_path):
    with run_in_thread(seed=11, api_key=DEMO_API_KEY) as sim:
        backend = urlsplit(sim.urls["backend"]).netloc
        with running_prometheus(tmp_path / "prom", {"alice": backend}) as prom:
            # two scrapes at least, so rate() and histogram_quantile() have data
            wait_for_query(prom, "histogram_quantile(0.95, sum by (le) "
                                 "(rate(intent_routing_latency_ms_bucket[5m])))")
            config = demo_config({**sim.urls, "prometheus": prom})
            report = asyncio.run(check(config))
            promql = [m for m in report.metrics if m.name in {
                "intent_routing_latency_p95", "intent_classification_accuracy",
                "openai_response_latency_p95", "openai_error_rate",
                "local_ai_processing_time_p95", "local_ai_queue_depth",
                "websocket_connection_stability", "audio_quality_score",
                "tool_execution_success_rate", "tool_execution_time_p95"}]
            assert len(promql) == 10
            assert all(m.value is not None for m in promql), [m.reason for m in promql]
            accuracy = _metric(report, "backend", "intent_classification_accuracy")
            assert accuracy.status is Status.OK and 88 < accuracy.value <= 100

            sim.set_scenario("accuracy-drop")
            deadline = time.monotonic() + 15
            while True:
                report = asyncio.run(check(config))
                accuracy = _metric(report, "backend", "intent_classification_accuracy")
                if accuracy.status is Status.CRITICAL or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            assert accuracy.status is Status.CRITICAL, accuracy
            assert accuracy.value < 85
            backend_row = next(c for c in report.components if c.name == "backend")
            assert backend_row.status is Status.CRITICAL
            assert "accuracy" in backend_row.summary.lower()
