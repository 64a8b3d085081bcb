"""The guide metric catalogue, the PromQL name tokenizer and the export hints."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.guide_metrics import (export_hint, load_catalogue, metric_names_in, parse_catalogue,
                                 series_names_in)
from rules.thresholds import default_rows


def test_catalogue_covers_every_shipped_promql_row():
    catalogue = load_catalogue()
    for row in default_rows():
        if row.promql is None:
            continue
        names = metric_names_in(row.promql)
        assert names, row.promql
        for name in names:
            assert name in catalogue, f"{row.component}/{row.metric}: {name}"
            assert "thresholds" in catalogue[name].used_by
            assert catalogue[name].component == row.component


def test_catalogue_entries_are_well_formed():
    catalogue = load_catalogue()
    for entry in catalogue.values():
        assert entry.type in ("counter", "gauge", "histogram")
        if entry.type == "counter":
            assert entry.name.endswith("_total"), entry.name
        if entry.type == "histogram":
            assert entry.buckets == tuple(sorted(entry.buckets)) and entry.buckets
        assert entry.help and entry.unit and entry.component
    assert catalogue["openai_api_tokens_total"].labels == ("direction",)


@pytest.mark.parametrize("query, expected", [
    ("histogram_quantile(0.95, sum by (le) (rate(intent_routing_latency_ms_bucket[5m])))",
     {"intent_routing_latency_ms"}),
    ("100 * avg(intent_classification_accuracy)", {"intent_classification_accuracy"}),
    ("sum(rate(a_total[5m])) / (sum(rate(b_total{job=\"alice\", le=~\"x|y\"}[1h:1m])) + 1e3)",
     {"a_total", "b_total"}),
    ("sum without (instance) (up) or on(job) group_left(version) build_info offset 5m",
     {"up", "build_info"}),
    ("max(local_ai_queue_depth) > bool 3 and Inf", {"local_ai_queue_depth"}),
    ('{__name__="tool_execution_time_ms_sum"} / ignoring(le) x_count @ start()',
     {"tool_execution_time_ms", "x"}),
    ("topk(3, count by (job) (foo:recorded_rule))", {"foo:recorded_rule"}),
    ("vector(1) + scalar(time())", set()),
    ("rate(sum[5m])  # a comment naming not_a_metric", set()),
])
def test_metric_names_in(query, expected):
    assert metric_names_in(query) == expected


def test_series_names_keep_the_suffix():
    assert series_names_in("rate(x_bucket[5m]) + y_count") == {"x_bucket", "y_count"}


_NAME = st.from_regex(r"\A[a-z][a-z0-9_]{0,12}[a-z]\Z").filter(
    lambda n: n not in {"sum", "min", "max", "avg", "and", "or", "by", "on", "bool", "count",
                        "group", "inf", "nan", "offset", "unless", "without", "ignoring",
                        "topk", "bottomk", "quantile", "stddev", "stdvar", "atan2"}
    and not n.endswith(("_bucket", "_sum", "_count")))


@given(name=_NAME, wrap=st.sampled_from([
    "{}", "rate({}[5m])", "sum by (le, job) (rate({}_bucket{{a=\"b\"}}[10m]))",
    "100 * avg({}) > 0.5", "histogram_quantile(0.9, {}_bucket)", "{} offset 1h",
    "max_over_time({0}[1h:5m]) / ignoring(x) {0}_count"]))
def test_any_wrapped_name_is_found_and_nothing_else(name, wrap):
    assert metric_names_in(wrap.format(name)) == {name}


@given(st.text(max_size=200))
def test_tokenizer_never_raises(text):
    assert isinstance(metric_names_in(text), set)


def test_export_hints_are_prometheus_client_code():
    hist = export_hint("intent_routing_latency_ms")
    assert hist.startswith('INTENT_ROUTING_LATENCY_MS = Histogram("intent_routing_latency_ms", ')
    assert "buckets=(5, 10, 15" in hist and ".observe(elapsed_ms)" in hist
    counter = export_hint("openai_api_tokens_total")
    assert 'Counter("openai_api_tokens_total"' in counter and "labelnames=['direction']" in counter
    assert ".labels(direction=...).inc()" in counter
    assert ".set(" in export_hint("local_ai_queue_depth")
    assert export_hint("intent_routing_latency_ms_bucket") == hist
    assert "prometheus_client" in export_hint("something_else")
    for entry in load_catalogue().values():  # each one compiles as Python
        compile(export_hint(entry.name).replace("...", "1"), entry.name, "exec")


def test_a_bad_catalogue_names_the_entry():
    with pytest.raises(ValueError, match=r"metrics\[0\]: missing type"):
        parse_catalogue({"metrics": [{"name": "x", "unit": "ms", "help": "h", "component": "c"}]})
    with pytest.raises(ValueError, match=r"metrics\[1\]: x listed twice"):
        entry = {"name": "x", "type": "gauge", "unit": "ms", "help": "h", "component": "c"}
        parse_catalogue({"metrics": [entry, entry]})
    with pytest.raises(ValueError, match="type must be one of"):
        parse_catalogue({"metrics": [{"name": "x", "type": "summary", "unit": "ms",
                                      "help": "h", "component": "c"}]})
