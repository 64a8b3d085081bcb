"""The built-in Prometheus query API against the shipped threshold table."""

from __future__ import annotations

import asyncio
import math
import time

import pytest
import yaml

from waiting import wait_for_async

from simulator.services.prom_api import threshold_queries

ACCURACY = "100 * avg(intent_classification_accuracy)"


def table_rows() -> list[dict]:
    import importlib.resources

    text = (importlib.resources.files("rules") / "defaults" / "thresholds.yaml").read_text()
    return [r for r in yaml.safe_load(text)["rows"] if "promql" in r]


async def instant(http, sim, query: str, **extra) -> dict:
    response = await http.get(sim.urls["prometheus"] + "/api/v1/query",
                              params={"query": query, **extra})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success"
    return body["data"]


async def _has_data(http, sim, query: str) -> bool:
    return bool((await instant(http, sim, query))["result"])


async def _above(http, sim, query: str, floor: float) -> bool:
    data = await instant(http, sim, query)
    return bool(data["result"]) and number(data) > floor


async def _negate(predicate) -> bool:
    return not await predicate()


def number(data: dict) -> float:
    assert data["resultType"] == "vector" and len(data["result"]) == 1, data
    ts, text = data["result"][0]["value"]
    assert isinstance(ts, float) and isinstance(text, str)
    return float(text)


async def test_every_threshold_row_is_a_number_and_on_target(sim, http):
    rows = table_rows()
    assert len(rows) == len(threshold_queries()) >= 8

    async def off_target() -> list:  # [] once the window holds enough traffic
        bad = []
        for row in rows:
            value = number(await instant(http, sim, row["promql"]))
            good = value <= row["target"] if row["direction"] == "lower" \
                else value >= row["target"]
            if not (math.isfinite(value) and good):
                bad.append((row["metric"], value))
        return bad

    await wait_for_async(lambda: _negate(off_target), timeout=10)
    assert await off_target() == []  # every row a number, and the normal scenario healthy


async def test_accuracy_follows_a_scenario_switch_within_two_seconds(sim, http):
    assert await wait_for_async(lambda: _above(http, sim, ACCURACY, 90), timeout=10)
    sim.set_scenario("accuracy-drop")
    deadline = time.monotonic() + 2
    while number(await instant(http, sim, ACCURACY)) >= 85:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)


async def test_outage_error_rate_follows_the_switch(sim, http):
    query = next(r["promql"] for r in table_rows() if r["metric"] == "openai_error_rate")
    assert await wait_for_async(lambda: _has_data(http, sim, query), timeout=10)
    sim.set_scenario("openai-outage")
    assert await wait_for_async(lambda: _above(http, sim, query, 50), timeout=5)


async def test_unknown_and_broken_queries(sim, http):
    for query in ("no_such_metric", "rate(fast_path_requests[5m])",
                  "histogram_quantile(0.95, intent_routing_latency_ms)", "x offset 5m"):
        data = await instant(http, sim, query)
        assert data == {"resultType": "vector", "result": []}, query
    for query in ("", "   ", "sum(rate(x[5m])"):
        response = await http.get(sim.urls["prometheus"] + "/api/v1/query",
                                  params={"query": query})
        assert response.status_code == 400
        assert response.json()["status"] == "error"
        assert response.json()["errorType"] == "bad_data"


async def test_post_form_scalar_and_up(sim, http):
    response = await http.post(sim.urls["prometheus"] + "/api/v1/query", data={"query": "1 + 1"})
    assert response.json()["data"]["resultType"] == "scalar"
    assert response.json()["data"]["result"][1] == "2"
    up = await instant(http, sim, "up")
    assert len(up["result"]) == 5 and {r["value"][1] for r in up["result"]} == {"1"}
    sim.set_scenario("gateway-down")
    down = [r for r in (await instant(http, sim, "up"))["result"] if r["value"][1] == "0"]
    assert [r["metric"]["job"] for r in down] == ["alice-voice-gateway"]


async def test_zero_over_zero_is_nan(sim, http):
    # the window holds two samples: a rate of a counter that stayed 0
    assert await wait_for_async(
        lambda: _has_data(http, sim, "sum(rate(auth_failures_total[5m]))"), timeout=10)
    data = await instant(http, sim, "sum(rate(auth_failures_total[5m])) / "
                                     "sum(rate(auth_failures_total[5m]))")
    assert data["result"][0]["value"][1] == "NaN"


async def test_time_parameter_and_range_query(sim, http):
    await asyncio.sleep(0.6)
    now = time.time()
    data = await instant(http, sim, "max(local_ai_queue_depth)", time=f"{now - 0.2:.3f}")
    assert data["result"][0]["value"][0] == pytest.approx(now - 0.2, abs=0.01)
    response = await http.get(sim.urls["prometheus"] + "/api/v1/query_range", params={
        "query": ACCURACY, "start": now - 0.5, "end": now, "step": "0.1"})
    matrix = response.json()["data"]
    assert matrix["resultType"] == "matrix" and len(matrix["result"][0]["values"]) >= 5
    bad = await http.get(sim.urls["prometheus"] + "/api/v1/query_range", params={
        "query": ACCURACY, "start": now, "end": now - 10, "step": "1"})
    assert bad.status_code == 400


async def test_buildinfo_health_and_names(sim, http):
    base = sim.urls["prometheus"]
    info = (await http.get(base + "/api/v1/status/buildinfo")).json()
    assert info["status"] == "success" and info["data"]["version"] == "2.42.0-sim"
    assert (await http.get(base + "/-/healthy")).text.startswith("Prometheus Server is Healthy.")
    names = (await http.get(base + "/api/v1/label/__name__/values")).json()["data"]
    assert "fast_path_requests_total" in names and "up" in names


def test_prometheus_api_client_reads_it(sim_thread):
    from prometheus_api_client import PrometheusConnect

    conn = PrometheusConnect(url=sim_thread.urls["prometheus"])
    try:
        assert conn.check_prometheus_connection()
        result = conn.custom_query(ACCURACY)
    finally:
        conn.close()
    assert float(result[0]["value"][1]) > 0
