"""The cause line (rules.cause): the figure against the line it crossed, with its unit, or
the source's own words; carried from the event into every notice's annotations."""

from __future__ import annotations

import pytest

from vocab.model import Reading, Status
from alerts.lifecycle import transition
from alerts.notifiers.notice import notice_from_event
from alerts.rule import AlertRule
from rules.cause import MAX_CAUSE, metric_cause, probe_cause
from rules.evaluate import MetricStatus, _metric
from rules.thresholds import ThresholdRow

ROUTING = ThresholdRow(component="backend", metric="intent_routing_latency_p95",
                       title="Intent routing latency p95", unit="ms", direction="lower",
                       target=500, alert=2000, promql="x")
ACCURACY = ThresholdRow(component="backend", metric="intent_classification_accuracy",
                        title="Intent classification accuracy", unit="percent", direction="higher",
                        target=90, alert=85, promql="y")


@pytest.mark.parametrize("row,reading,cause", [
    (ROUTING, Reading(2725.0), "p95 2725 ms > 2000 ms"),
    (ROUTING, Reading(725.0), "p95 725 ms > 500 ms"),
    (ROUTING, Reading(500.0), "p95 500 ms >= 500 ms"),
    (ROUTING, Reading(120.0), "p95 120 ms < 500 ms"),
    (ACCURACY, Reading(78.0), "78 % < 85 %"),
    (ACCURACY, Reading(88.0), "88 % < 90 %"),
    (ACCURACY, Reading(90.0), "90 % <= 90 %"),
    (ROUTING, Reading(None, reason="query returned no series: sum(rate(x[5m]))"),
     "query returned no series: sum(rate(x[5m]))"),
    (ROUTING, Reading(None), "no data"),
])
def test_metric_cause(row, reading, cause) -> None:
    assert metric_cause(_metric(row, reading)) == cause


def test_every_figure_carries_its_unit() -> None:
    for value in (0.5, 42.0, 999.0, 12345.0):
        assert metric_cause(_metric(ROUTING, Reading(value))).count("ms") == 2


def test_probe_cause_is_the_probe_verdict_on_one_line() -> None:
    assert probe_cause("server error (HTTP 503)", Status.CRITICAL) == "server error (HTTP 503)"
    assert probe_cause("model gpt-oss:20b not in /api/tags\n (have: llama3)",
                       Status.CRITICAL) == "model gpt-oss:20b not in /api/tags (have: llama3)"
    assert probe_cause("", Status.UNKNOWN) == "no data"
    long = probe_cause("x" * 1000, Status.CRITICAL)
    assert len(long) == MAX_CAUSE and long.endswith("…")


def test_an_absent_metric_says_so() -> None:
    m = MetricStatus("backend", "m", "T", None, "ms", "< 1 ms", "> 2 ms", Status.OK,
                     reason="series never exported: foo", absent=True)
    assert metric_cause(m) == "not exported: series never exported: foo"


def test_the_cause_reaches_the_notice_annotations() -> None:
    from dataclasses import replace

    _, (event,) = transition(None, Status.CRITICAL, 2725.0, AlertRule("r"), 1.0)
    notice = notice_from_event(replace(event, cause="p95 2725 ms > 2000 ms"))
    assert notice.annotations["cause"] == "p95 2725 ms > 2000 ms"
    assert "cause" not in notice_from_event(event).annotations
