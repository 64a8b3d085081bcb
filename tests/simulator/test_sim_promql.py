"""Unit tests of the PromQL subset against a hand-made source."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator import promql


class Fake:
    def __init__(self) -> None:
        self.buckets = [("10.0", 50.0), ("20.0", 90.0), ("+Inf", 100.0)]

    def instant(self, name, t):
        if name == "g":
            return [({"job": "a"}, 2.0), ({"job": "b"}, 4.0)]
        return []

    def delta(self, name, t, range_s, follow_scenario):
        if name == "h_bucket":
            return [({"le": le}, n, 10.0) for le, n in self.buckets]
        if name == "c_total":
            return [({}, 30.0, 10.0)]
        if name == "z_total":
            return [({}, 0.0, 10.0)]
        return []


def ev(query: str):
    return promql.evaluate(query, Fake(), 1000.0)


def test_aggregations_and_arithmetic():
    assert ev("sum(g)") == [({}, 6.0)]
    assert ev("100 * avg(g)") == [({}, 300.0)]
    assert ev("max by (job) (g)") == [({"job": "a"}, 2.0), ({"job": "b"}, 4.0)]
    assert ev("rate(c_total[5m])") == [({}, 3.0)]
    assert ev("increase(c_total[1d])") == [({}, 30.0)]
    assert ev("2 * 3 + 1") == 7.0
    assert ev("g > 3") == [({"job": "b", "__name__": "g"}, 4.0)]
    assert ev("sum(rate(c_total[5m])) / sum(rate(z_total[5m]))")[0][1] == math.inf


def test_histogram_quantile_like_prometheus():
    [(labels, p50)] = ev("histogram_quantile(0.5, sum by (le) (rate(h_bucket[5m])))")
    assert labels == {} and p50 == pytest.approx(10.0)
    [(_, p95)] = ev("histogram_quantile(0.95, sum by (le) (rate(h_bucket[5m])))")
    assert p95 == pytest.approx(20.0)  # falls in the +Inf bucket: highest finite bound
    [(_, p70)] = ev("histogram_quantile(0.7, sum by (le) (rate(h_bucket[5m])))")
    assert p70 == pytest.approx(15.0)
    assert math.isnan(promql.bucket_quantile(0.5, [(10.0, 0.0), (math.inf, 0.0)]))


def test_errors():
    with pytest.raises(promql.ParseError):
        promql.parse("")
    with pytest.raises(promql.ParseError):
        promql.parse("sum(x")
    with pytest.raises(promql.Unsupported):
        promql.parse("a and b")


@pytest.mark.parametrize("value,text", [(math.nan, "NaN"), (math.inf, "+Inf"), (100.0, "100"),
                                        (0.93, "0.93"), (1e-05, "0.00001"), (-2.5, "-2.5")])
def test_format_value(value, text):
    assert promql.format_value(value) == text


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_format_value_round_trips(value):
    assert float(promql.format_value(value)) == value
