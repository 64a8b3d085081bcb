"""Blind spots (pure): a metric its source never had is shown and listed, never counted
or alerted; a failed source, an empty query and a stopped series stay UNKNOWN."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.config import AlertSettings
from vocab.model import ProbeResult, Reading, Status
from alerts.lifecycle import Phase, transition
from rules.alerting import build_rules, metric_alert
from rules.evaluate import evaluate, json_key, promql_key
from rules.thresholds import ThresholdRow, default_rows

NOW = 1_800_000_000.0
LAT = ThresholdRow("backend", "lat_p95", "Latency p95", "ms", "lower", 50, 100,
                   promql="histogram_quantile(0.95, sum by (le) (rate(lat_ms_bucket[5m])))")
ACC = ThresholdRow("backend", "acc", "Accuracy", "percent", "higher", 90, 85,
                   promql="100 * avg(acc)")
JSN = ThresholdRow("backend", "final_p95", "Final p95", "ms", "lower", 1000, 3000,
                   json="alice_metrics:application.final_latency_ms.p95")

ABSENT = Reading(None, reason="never exported: lat_ms", missing=("lat_ms_bucket",))


def _prom(readings: dict, status: Status = Status.OK, summary: str = "ok") -> ProbeResult:
    return ProbeResult("prometheus", status, summary, readings=readings)


def _backend(status: Status = Status.OK, readings: dict | None = None) -> ProbeResult:
    return ProbeResult("backend", status, "healthy", readings=readings or {})


def _metric(report, name):
    return next(m for m in report.metrics if m.name == name)


def test_an_absent_metric_is_listed_not_counted():
    results = {"backend": _backend(), "prometheus": _prom({
        promql_key("backend", "lat_p95"): ABSENT,
        promql_key("backend", "acc"): Reading(95.0)})}
    report = evaluate(results, [LAT, ACC], NOW)
    lat = _metric(report, "lat_p95")
    assert lat.absent and lat.status is Status.OK and lat.value is None
    assert lat.missing == ("lat_ms",)  # the histogram series mapped to its family
    assert lat.fix and 'Histogram("lat_ms"' not in lat.fix[0]  # not in the guide's catalogue
    assert "prometheus_client" in lat.fix[0]
    assert report.status is Status.OK
    backend = next(c for c in report.components if c.name == "backend")
    assert backend.status is Status.OK and "1 not exported" in backend.summary
    doc = report.to_json()
    row = next(m for m in doc["metrics"] if m["name"] == "lat_p95")
    assert row["status"] == "absent" and row["reason"] == "never exported: lat_ms"
    assert doc["blind_spots"] == [{"component": "backend", "metrics": ["lat_p95"],
                                   "missing": ["lat_ms"], "fix": list(lat.fix)}]


def test_guide_metrics_get_their_prometheus_client_snippet():
    row = next(r for r in default_rows() if r.metric == "intent_routing_latency_p95")
    results = {"backend": _backend(), "prometheus": _prom({
        promql_key("backend", row.metric): Reading(
            None, reason="never exported: intent_routing_latency_ms",
            missing=("intent_routing_latency_ms_bucket",))})}
    spot = evaluate(results, [row], NOW).blind_spots[0]
    assert spot.missing == ("intent_routing_latency_ms",)
    assert spot.fix[0].startswith("INTENT_ROUTING_LATENCY_MS = Histogram(")


def test_on_absent_unknown_counts_as_unknown():
    row = ThresholdRow(**{**LAT.__dict__, "on_absent": "unknown"})
    results = {"backend": _backend(), "prometheus": _prom({
        promql_key("backend", "lat_p95"): ABSENT})}
    report = evaluate(results, [row], NOW)
    lat = _metric(report, "lat_p95")
    assert not lat.absent and lat.status is Status.UNKNOWN
    assert report.status is Status.UNKNOWN and report.blind_spots == ()
    assert lat.to_json()["status"] == "unknown"


@pytest.mark.parametrize("reading", [
    Reading(None, reason="query returned no series: 100 * avg(acc)"),  # names known: stopped
    Reading(None, reason="prometheus query failed: connection refused"),
    Reading(float("nan"), reason="query returned nan: 100 * avg(acc)"),
])
def test_empty_failed_or_nan_stays_unknown(reading):
    results = {"backend": _backend(), "prometheus": _prom({promql_key("backend", "acc"): reading})}
    report = evaluate(results, [ACC], NOW)
    assert _metric(report, "acc").status is Status.UNKNOWN
    assert report.status is Status.UNKNOWN and report.blind_spots == ()


def test_a_failed_prometheus_probe_makes_every_row_unknown_never_vanish():
    rows = [r for r in default_rows() if r.promql is not None]
    components = {r.component for r in rows}
    results = {c: ProbeResult(c, Status.OK, "up") for c in components}
    results["prometheus"] = ProbeResult.failed("prometheus", Status.CRITICAL,
                                               "every query failed: connection refused")
    report = evaluate(results, rows, NOW)
    shown = {(m.component, m.name) for m in report.metrics}
    assert shown == {r.key for r in rows}  # not one row vanished
    for m in report.metrics:
        assert m.status is Status.UNKNOWN and not m.absent, m
        assert "connection refused" in m.reason
    assert report.status is Status.CRITICAL


def test_json_rows_read_their_component_and_never_vanish():
    key = json_key(JSN.json)
    good = evaluate({"backend": _backend(readings={key: Reading(410.0)})}, [JSN], NOW)
    assert _metric(good, "final_p95").value == 410.0
    # the component's job failed before the JSON was read: UNKNOWN with the reason
    failed = evaluate({"backend": ProbeResult.failed("backend", Status.UNKNOWN,
                                                     "probe did not finish within 4 s")},
                      [JSN], NOW)
    m = _metric(failed, "final_p95")
    assert m.status is Status.UNKNOWN and "alice_metrics: not read" in m.reason
    absent = evaluate({"backend": _backend(readings={key: Reading(
        None, reason="alice_metrics has no application.final_latency_ms.p95",
        missing=("application.final_latency_ms.p95",))})}, [JSN], NOW)
    spot = absent.blind_spots[0]
    assert spot.missing == ("application.final_latency_ms.p95",)
    assert "alice_metrics" in spot.fix[0] and absent.status is Status.OK


_STATUS = st.sampled_from(list(Status))
_READING = st.one_of(st.floats(0, 200, allow_nan=False).map(Reading),
                     st.just(Reading(None, reason="query returned no series: x")))


@given(probe=_STATUS, acc=_READING, absent_count=st.integers(0, 3))
def test_absent_metrics_never_change_a_status(probe, acc, absent_count):
    absent_rows = [ThresholdRow("backend", f"gone{i}", f"Gone {i}", "ms", "lower", 1, 2,
                                promql=f"gone_{i}") for i in range(absent_count)]
    readings = {promql_key("backend", "acc"): acc}
    readings.update({promql_key("backend", r.metric): Reading(
        None, reason=f"never exported: {r.promql}", missing=(r.promql,)) for r in absent_rows})
    results = {"backend": _backend(probe), "prometheus": _prom(readings)}
    base = evaluate(results, [ACC], NOW)
    more = evaluate(results, [ACC, *absent_rows], NOW)
    assert more.status is base.status
    assert [c.status for c in more.components] == [c.status for c in base.components]
    assert len(more.blind_spots) == (1 if absent_count else 0)


def test_an_absent_metric_raises_no_alert_and_resolves_a_firing_one():
    rules = build_rules([LAT], ["backend", "prometheus"], AlertSettings())
    rule = rules[metric_alert("backend", "lat_p95")].rule
    absent_report = evaluate({"backend": _backend(), "prometheus": _prom({
        promql_key("backend", "lat_p95"): ABSENT})}, [LAT], NOW)
    lat = _metric(absent_report, "lat_p95")
    state, events = None, []
    for i in range(5):
        state, evs = transition(state, lat.status, lat.value, rule, NOW + i)
        events += evs
    assert events == [] and state.phase is not Phase.FIRING
    # Prometheus was down (UNKNOWN fires), then answers that the series never existed
    down = evaluate({"backend": _backend(), "prometheus": ProbeResult.failed(
        "prometheus", Status.CRITICAL, "every query failed: connection refused")}, [LAT], NOW)
    state = None
    for i in range(3):
        state, _ = transition(state, _metric(down, "lat_p95").status, None, rule, NOW + i)
    assert state.phase is Phase.FIRING
    for i in range(rule.success_threshold):  # hysteresis: as many good results as it asks
        state, _ = transition(state, lat.status, lat.value, rule, NOW + 10 + i)
    assert state.phase is not Phase.FIRING


def test_the_tui_words_absent_dim_and_ranks_it_below_ok():
    from tui import format as fmt

    assert fmt.status_word("absent") == "absent"
    assert fmt.status_style("absent") == "dim"
    assert fmt.status_rank("absent") < fmt.status_rank("ok")
    comp = {"metrics": [{"status": "absent", "name": "a"}, {"status": "ok", "name": "b"}]}
    assert fmt.headline_metric(comp)["name"] == "b"


def test_check_lists_blind_spots_once_per_component_after_the_tables(capsys, monkeypatch):
    from agent.cli.check_cmd import render

    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("NO_COLOR", "1")
    gone = ThresholdRow("backend", "gone_p95", "Gone p95", "ms", "lower", 1, 2,
                        promql="sum(rate(gone_total[5m]))")
    results = {"backend": _backend(), "prometheus": _prom({
        promql_key("backend", "lat_p95"): ABSENT,
        promql_key("backend", "gone_p95"): Reading(None, reason="never exported: gone_total",
                                                   missing=("gone_total",)),
        promql_key("backend", "acc"): Reading(95.0)})}
    report = evaluate(results, [LAT, ACC, gone], NOW)
    render(report, verbose=False)
    out = capsys.readouterr().out
    assert "no data" not in out  # a blind spot is not a failure line
    assert out.count("backend: lat_p95, gone_p95") == 1
    assert "missing: lat_ms, gone_total" in out
    assert out.index("blind spots") < out.index("overall: OK")
    assert all(len(line) <= 80 for line in out.splitlines())
    render(report, verbose=True)
    out = capsys.readouterr().out
    assert "absent" in out and "prometheus_client" in out  # the row's word and the fix
