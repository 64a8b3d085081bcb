"""`evaluate()` when the Prometheus probe fails: every PromQL row of every probed
component is UNKNOWN with the reason, never dropped with its component left OK
(a mutation that dropped them passed the whole suite, issue 11)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from vocab.model import ProbeResult, Reading, Status
from rules.evaluate import evaluate, promql_key
from rules.thresholds import default_rows

ROWS = default_rows()
PROMQL_COMPONENTS = sorted({r.component for r in ROWS if r.promql is not None})
NOW = 1_700_000_000.0


def _ok(component: str) -> ProbeResult:
    return ProbeResult(component, Status.OK, "reachable", latency_ms=5.0)


def _promql_rows(component: str) -> list[str]:
    return [r.metric for r in ROWS if r.component == component and r.promql is not None]


@settings(max_examples=60, deadline=None)
@given(components=st.lists(st.sampled_from(PROMQL_COMPONENTS), min_size=1, unique=True),
       failure=st.sampled_from([Status.UNKNOWN, Status.CRITICAL]),
       why=st.sampled_from(["connection refused", "timed out after 1000 ms", "HTTP 503"]))
def test_a_failed_prometheus_probe_makes_every_promql_row_unknown(components, failure, why):
    results = {name: _ok(name) for name in components}
    results["prometheus"] = ProbeResult.failed("prometheus", failure, why)
    report = evaluate(results, ROWS, NOW)
    by_name = {c.name: c for c in report.components}
    for name in components:
        rows = {m.name: m for m in by_name[name].metrics}
        for metric in _promql_rows(name):
            assert metric in rows, f"{name}/{metric} vanished when prometheus failed"
            row = rows[metric]
            assert (row.status, row.word, row.absent, row.value) == \
                (Status.UNKNOWN, "unknown", False, None)
            assert "prometheus" in row.reason and why in row.reason
        assert by_name[name].status >= Status.UNKNOWN, by_name[name]
        assert by_name[name].to_json()["status"] != "ok"
    assert report.status >= Status.UNKNOWN
    assert report.blind_spots == ()  # an outage of the source is not a blind spot


def test_one_failed_query_is_unknown_while_the_others_are_judged():
    rows_of = _promql_rows("openai")
    readings = {promql_key("openai", m): Reading(0.1, "percent") for m in rows_of}
    broken = rows_of[0]
    readings[promql_key("openai", broken)] = Reading(None, reason="query timed out")
    results = {"openai": _ok("openai"),
               "prometheus": ProbeResult("prometheus", Status.OK, "ok", readings=readings)}
    report = evaluate(results, ROWS, NOW)
    openai = next(c for c in report.components if c.name == "openai")
    status = {m.name: m.status for m in openai.metrics}
    assert status[broken] is Status.UNKNOWN
    assert openai.status is Status.UNKNOWN and report.status is Status.UNKNOWN


def test_without_a_prometheus_target_the_promql_rows_do_not_apply():
    report = evaluate({"openai": _ok("openai")}, ROWS, NOW)
    openai = next(c for c in report.components if c.name == "openai")
    assert not set(_promql_rows("openai")) & {m.name for m in openai.metrics}
    assert report.status is Status.OK
