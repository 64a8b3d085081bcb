"""`/metrics` on the backend port: a real exposition that moves over time."""

from __future__ import annotations

import asyncio
import time

from prometheus_client.parser import text_string_to_metric_families
from waiting import wait_for_async

COUNTERS = ("fast_path_requests_total", "think_path_requests_total", "total_requests_total",
            "openai_api_success_total", "openai_api_failures_total",
            "openai_api_cost_usd_total", "openai_api_tokens_total", "auth_failures_total",
            "tool_executions_total", "tool_execution_success_total",
            "websocket_connections_total", "websocket_connection_errors_total")
GAUGES = ("intent_classification_accuracy", "local_ai_queue_depth",
          "websocket_connections_active", "active_sessions", "audio_quality_score")
HISTOGRAMS = ("intent_routing_latency_ms", "openai_response_latency_ms",
              "local_ai_processing_time_ms", "tool_execution_time_ms")


async def _scraped_with(http, sim, counter: str) -> dict[str, float] | None:
    samples = await scrape(http, sim)
    return samples if samples.get(counter, 0) > 0 else None


async def scrape(http, sim) -> dict[str, float]:
    response = await http.get(sim.urls["backend"] + "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


async def test_metrics_parse_and_counters_move(sim, http):
    # the first ticks of traffic have set the gauges and counted something
    first = await wait_for_async(lambda: _scraped_with(http, sim, "fast_path_requests_total"),
                                 timeout=10)
    for name in COUNTERS:
        assert name in first or f"{name}{{direction=prompt}}" in first, name
    for name in GAUGES:
        assert name in first, name
    for name in HISTOGRAMS:
        assert f"{name}_count" in first and f"{name}_bucket{{le=+Inf}}" in first, name
    assert 0.85 < first["intent_classification_accuracy"] < 1
    moving = ("total_requests_total", "fast_path_requests_total", "tool_executions_total",
              "openai_api_cost_usd_total", "intent_routing_latency_ms_count")

    async def moved() -> dict[str, float] | None:
        now = await scrape(http, sim)
        return now if all(now[name] > first[name] for name in moving) else None

    second = await wait_for_async(moved, timeout=10)
    assert second, "the counters did not move"
    assert second["openai_api_tokens_total{direction=completion}"] > 0
    assert second["total_requests_total"] == (second["fast_path_requests_total"]
                                               + second["think_path_requests_total"])


async def test_scenarios_shape_the_counters(sim, http):
    sim.set_scenario("openai-auth-failure")
    before = await scrape(http, sim)

    async def failed_five_times() -> dict[str, float] | None:
        now = await scrape(http, sim)
        return now if now["auth_failures_total"] - before["auth_failures_total"] >= 5 else None

    after = await wait_for_async(failed_five_times, timeout=10)
    assert after, "no auth failures counted"
    assert after["openai_api_success_total"] == before["openai_api_success_total"]


async def test_budget_burn_spends_about_half_a_dollar_a_minute(sim, http):
    sim.set_scenario("budget-burn")
    before, t0 = await scrape(http, sim), time.monotonic()
    await asyncio.sleep(1.0)  # time passing on purpose: spend is measured over it
    after, elapsed = await scrape(http, sim), time.monotonic() - t0
    spent = after["openai_api_cost_usd_total"] - before["openai_api_cost_usd_total"]
    per_minute = spent * 60 / elapsed
    assert 0.25 < per_minute < 0.8
