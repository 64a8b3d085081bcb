"""The threshold evaluator: the guide's table, boundaries, UNKNOWN, and monotonicity."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.config import ThresholdOverride
from vocab.model import Status
from rules.thresholds import ThresholdRow, apply_overrides, default_rows, judge

LATENCY = ThresholdRow("backend", "lat", "Routing latency", "ms", "lower", 50, 100, promql="x")
ACCURACY = ThresholdRow("backend", "acc", "Accuracy", "percent", "higher", 90, 85, promql="y")


@pytest.mark.parametrize("row, value, expected", [
    (LATENCY, 10, Status.OK), (LATENCY, 49.9, Status.OK), (LATENCY, 50, Status.WARNING),
    (LATENCY, 100, Status.WARNING), (LATENCY, 100.1, Status.CRITICAL),
    (LATENCY, None, Status.UNKNOWN), (LATENCY, math.nan, Status.UNKNOWN),
    (ACCURACY, 95, Status.OK), (ACCURACY, 90, Status.WARNING), (ACCURACY, 85, Status.WARNING),
    (ACCURACY, 84.9, Status.CRITICAL), (ACCURACY, None, Status.UNKNOWN),
])
def test_judge_table(row, value, expected):
    assert judge(row, value) is expected


def test_worst_of_ranks_unknown_between_warning_and_critical():
    assert Status.worst([Status.OK, Status.WARNING, Status.UNKNOWN]) is Status.UNKNOWN
    assert Status.worst([Status.UNKNOWN, Status.CRITICAL]) is Status.CRITICAL
    assert [s.exit_code for s in Status] == [0, 1, 3, 2]


def test_default_table_covers_the_guide():
    keys = {r.key for r in default_rows()}
    for key in [("backend", "intent_routing_latency_p95"),
                ("backend", "intent_classification_accuracy"),
                ("openai", "openai_response_latency_p95"), ("openai", "openai_error_rate"),
                ("ollama", "local_ai_processing_time_p95"), ("ollama", "local_ai_queue_depth"),
                ("gateway", "websocket_connection_stability"), ("gateway", "audio_quality_score"),
                ("backend", "tool_execution_success_rate"), ("backend", "tool_execution_time_p95"),
                ("host", "cpu_percent"), ("host", "memory_percent"), ("host", "disk_percent")]:
        assert key in keys
    for row in default_rows():
        if row.promql and "histogram_quantile" in row.promql:
            assert "sum by (le) (rate(" in row.promql and "_bucket[" in row.promql


def test_overrides_change_add_and_drop_rows():
    rows = apply_overrides(default_rows(), [
        ThresholdOverride(component="openai", metric="openai_response_latency_p95", alert=600),
        ThresholdOverride(component="host", metric="disk_percent", enabled=False),
        ThresholdOverride(component="backend", metric="custom", title="Custom", unit="count",
                          direction="lower", target=1, alert=2, promql="vector(0)"),
    ])
    table = {r.key: r for r in rows}
    assert table[("openai", "openai_response_latency_p95")].alert == 600
    assert ("host", "disk_percent") not in table
    assert table[("backend", "custom")].promql == "vector(0)"
    with pytest.raises(ValueError, match=r"thresholds\[0\]: no default row backend/nope"):
        apply_overrides(default_rows(), [ThresholdOverride(component="backend", metric="nope")])
    with pytest.raises(ValueError, match="alert 10(.0)? is below target 50"):
        apply_overrides([LATENCY], [ThresholdOverride(component="backend", metric="lat", alert=10)])


rows = st.builds(
    lambda d, a, b: ThresholdRow("c", "m", "t", "ms", d, min(a, b) if d == "lower" else max(a, b),
                                 max(a, b) if d == "lower" else min(a, b), probe="p"),
    st.sampled_from(["lower", "higher"]), st.floats(-1e6, 1e6), st.floats(-1e6, 1e6))
values = st.floats(-1e7, 1e7)


@given(rows, values, values)
def test_a_worse_value_never_judges_better(row, x, y):
    better, worse = (min(x, y), max(x, y)) if row.direction == "lower" else (max(x, y), min(x, y))
    assert judge(row, worse) >= judge(row, better)


@given(rows, values)
def test_a_known_value_is_never_unknown(row, x):
    assert judge(row, x) in (Status.OK, Status.WARNING, Status.CRITICAL)
