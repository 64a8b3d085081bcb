"""The async PromQL client and the Prometheus probe: the semantics prometheus-api-client
had (instant queries, empty and NaN answers, bearer token), plus scalars, reasons that
name the query, blind spots from the series-name list, and OK only when reached."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from agent.config import PrometheusTarget
from vocab.model import Status
from agent.probes import prometheus
from agent.probes.prometheus import BlockingConnection, PromQLClient, PromQLError

NAMES = ["up", "acc", "lat_ms_bucket", "lat_ms_count", "lat_ms_sum"]
TOKEN = "prom-token-0123456789abcdef"


def _vector(*values: str) -> dict:
    return {"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {"i": str(i)}, "value": [1.0, v]} for i, v in enumerate(values)]}}


def _server(answers: dict, names: list[str] | None = NAMES, seen: list | None = None):
    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        if request.url.path == "/api/v1/label/__name__/values":
            if names is None:
                return httpx.Response(404, text="404 page not found")
            return httpx.Response(200, json={"status": "success", "data": names})
        if request.url.path == "/api/v1/status/buildinfo":
            return httpx.Response(200, json={"status": "success", "data": {"version": "3.5.0"}})
        query = request.url.params.get("query", "")
        answer = answers.get(query)
        if answer is None:
            return httpx.Response(200, json=_vector())
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, json=answer)
    return httpx.MockTransport(handle)


def _probe(queries, transport, **target):
    target = PrometheusTarget(url="http://prom.test", **target)
    return asyncio.run(prometheus.probe(target, queries, transport=transport))


def test_vector_scalar_nan_and_empty_answers():
    answers = {"acc": _vector("0.93", "0.5"),
               "scalar(acc)": {"status": "success",
                               "data": {"resultType": "scalar", "result": [1.0, "0.93"]}},
               "nan_query": _vector("NaN"),
               "inf_query": _vector("+Inf")}
    result = _probe([("a", "acc"), ("s", "scalar(acc)"), ("n", "nan_query"),
                     ("i", "inf_query"), ("e", 'up{job="gone"}')], _server(answers))
    r = result.readings
    assert r["a"].value == 0.93 and r["s"].value == 0.93  # first sample; scalar as a value
    assert not r["n"].known and r["n"].reason == "query returned nan: nan_query"
    assert r["i"].reason == "query returned inf: inf_query"
    assert r["e"].reason == 'query returned no series: up{job="gone"}' and not r["e"].absent
    assert result.status is Status.OK and result.summary.startswith("2/5 queries answered")
    assert r["query_latency_ms"].known


def test_a_never_exported_name_is_absent_a_known_one_is_not():
    queries = [("gone", "histogram_quantile(0.95, sum by (le) (rate(gone_ms_bucket[5m])))"),
               ("half", "sum(rate(acc[5m])) / sum(rate(gone_total[5m]))"),
               ("stopped", "sum(rate(lat_ms_bucket[5m]))")]
    result = _probe(queries, _server({}))
    r = result.readings
    assert r["gone"].absent and r["gone"].missing == ("gone_ms_bucket",)
    assert r["gone"].reason == "never exported: gone_ms"
    assert r["half"].absent and r["half"].missing == ("gone_total",)  # it can never answer
    assert not r["stopped"].absent  # the name is known: the series stopped, UNKNOWN
    assert r["stopped"].reason.startswith("query returned no series: ")
    assert result.status is Status.OK and "2 never exported" in result.summary


def test_without_the_name_list_nothing_is_called_absent():
    result = _probe([("gone", "gone_total")], _server({}, names=None))
    assert not result.readings["gone"].absent
    assert "series names unavailable (HTTP 404)" in result.summary
    assert result.status is Status.OK  # the query itself was answered


def test_errors_name_the_query_and_partial_failure_is_unknown():
    bad = httpx.Response(400, json={"status": "error", "errorType": "bad_data",
                                    "error": "1:5: parse error: unexpected <by>"})
    result = _probe([("good", "acc"), ("bad", "sum by")], _server({"acc": _vector("1"),
                                                                   "sum by": bad}))
    assert result.status is Status.UNKNOWN
    assert result.readings["bad"].reason == ("prometheus query failed: HTTP 400 bad_data: "
                                             "1:5: parse error: unexpected <by>")
    garbage = httpx.Response(200, text="<html>hello</html>")
    result = _probe([("g", "acc")], _server({"acc": garbage}))
    assert result.readings["g"].reason == "prometheus query failed: answer is not Prometheus JSON"


def test_the_bearer_token_is_sent_and_never_shown():
    seen: list[httpx.Request] = []
    leak = httpx.Response(500, text="")
    result = _probe([("q", "acc")], _server({"acc": leak}, seen=seen), bearer_token=TOKEN)
    assert {r.headers["authorization"] for r in seen} == {f"Bearer {TOKEN}"}
    assert TOKEN not in result.summary + result.readings["q"].reason
    assert result.readings["q"].reason == "prometheus query failed: HTTP 500"


def test_the_name_lookup_asks_only_for_the_names_the_queries_use():
    seen: list[httpx.Request] = []
    _probe([("a", "100 * avg(acc)"), ("l", "sum(rate(lat_ms_bucket[5m]))")],
           _server({}, seen=seen))
    lookup = next(r for r in seen if r.url.path.endswith("/values"))
    assert lookup.url.params.get_list("match[]") == ['{__name__=~"acc|lat_ms_bucket"}']


def test_ok_means_reached_even_with_no_promql_row():
    seen: list[httpx.Request] = []
    result = _probe([], _server({}, seen=seen))
    assert [r.url.path for r in seen] == ["/api/v1/status/buildinfo"]
    assert result.status is Status.OK and result.summary == "reached, Prometheus 3.5.0"
    seen.clear()
    result = _probe([("v", "vector(1)")], _server({}, seen=seen))  # no metric name to look up
    assert sorted(r.url.path for r in seen) == ["/api/v1/query", "/api/v1/status/buildinfo"]

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused")

    down = _probe([], httpx.MockTransport(refuse))
    assert down.status is Status.CRITICAL
    assert down.summary == "no answer from Prometheus: connection refused"
    down = _probe([("q", "acc")], httpx.MockTransport(refuse))
    assert down.status is Status.CRITICAL
    assert down.summary == "every query failed: connection refused"
    assert down.readings["q"].reason == "prometheus query failed: connection refused"


def test_a_range_vector_is_refused_with_the_query():
    async def run():
        matrix = {"status": "success", "data": {"resultType": "matrix", "result": []}}
        async with PromQLClient(PrometheusTarget(url="http://prom.test"),
                                _server({"acc[5m]": matrix})) as client:
            await client.query("acc[5m]")

    with pytest.raises(PromQLError, match=r"a range vector, not an instant value: acc\[5m\]"):
        asyncio.run(run())


def test_the_blocking_face_reads_the_simulator(sim_prometheus_url):
    conn = BlockingConnection(PrometheusTarget(url=sim_prometheus_url, timeout_ms=2000))
    rows = conn.custom_query("sum(rate(openai_api_success_total[5m]))")
    assert rows and float(rows[0]["value"][1]) >= 0
    with pytest.raises(PromQLError):
        conn.custom_query("sum((")


@pytest.fixture(scope="module")
def sim_prometheus_url():
    from simulator.server import run_in_thread

    with run_in_thread(seed=5) as sim:
        yield sim.urls["prometheus"]
