"""Rate-limit headroom from the app's own metrics: configured queries or LiteLLM's gauges found
by themselves, a percent left (and the cost rows judging it) only with a limit, and nothing
(no row, no blind spot) when no such figure exists. End to end through a real Prometheus
scraping a LiteLLM-shaped exposition, which also carries per-session token counters."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from httpstub import QuietHandler, reply, serving
from promserver import running_prometheus, wait_for_query

from agent.cli.main import main
from agent.config import RateLimitSettings, parse_config
from agent.cost.component import COMPONENT, CostJob, cost_rows
from agent.cost.ratelimits import ratelimit_figures, ratelimit_queries, ratelimit_text
from rules.evaluate import evaluate
from vocab.model import Status

DEFAULT = RateLimitSettings()


def vector(*values: float) -> list[dict]:
    return [{"metric": {"api_base": f"b{i}"}, "value": [0, str(v)]} for i, v in enumerate(values)]


def test_unconfigured_it_looks_for_litellms_gauges():
    assert ratelimit_queries(DEFAULT) == {
        "ratelimit:requests:remaining:litellm_remaining_requests_metric":
            "min(litellm_remaining_requests_metric)",
        "ratelimit:tokens:remaining:litellm_remaining_tokens_metric":
            "min(litellm_remaining_tokens_metric)"}


def test_nothing_found_is_no_figure():
    assert ratelimit_figures({}, DEFAULT) == []
    assert ratelimit_figures({k: [] for k in ratelimit_queries(DEFAULT)}, DEFAULT) == []


def test_a_discovered_gauge_without_limit_is_shown_not_judged():
    (f,) = ratelimit_figures(
        {"ratelimit:requests:remaining:litellm_remaining_requests_metric": vector(900)},
        DEFAULT)
    assert f == {"kind": "requests", "remaining": 900.0, "limit": None, "left_percent": None,
                 "source": "min(litellm_remaining_requests_metric)", "discovered": True}
    assert ratelimit_text(f) == ("requests: 900 left (no limit configured: "
                                 "cost.rate_limits.requests.limit)")


def test_configured_queries_and_a_number_as_limit_give_a_percent():
    s = RateLimitSettings.model_validate(
        {"tokens": {"remaining": "min(app_tokens_left)", "limit": 200000}})  # a YAML number
    q = ratelimit_queries(s)
    assert q["ratelimit:tokens:remaining"] == "min(app_tokens_left)"
    assert q["ratelimit:tokens:limit"] == "200000"
    (f,) = ratelimit_figures({"ratelimit:tokens:remaining": vector(150000),
                              "ratelimit:tokens:limit": [0, "200000"]}, s)  # a scalar answer
    assert (f["left_percent"], f["discovered"]) == (75.0, False)
    assert ratelimit_text(f) == "tokens: 150000 left of 200000 (75 %)"


@given(st.floats(min_value=0, max_value=1e9), st.floats(min_value=1e-3, max_value=1e9))
def test_percent_left_stays_within_0_and_100(remaining, limit):
    s = RateLimitSettings.model_validate({"requests": {"remaining": "r", "limit": "l"}})
    (f,) = ratelimit_figures({"ratelimit:requests:remaining": vector(remaining),
                              "ratelimit:requests:limit": vector(limit)}, s)
    assert 0.0 <= f["left_percent"] <= 100.0


def test_rows_take_the_openai_rows_levels_and_apply_only_with_a_percent():
    config = parse_config("cost: {}\nthresholds: [{component: openai, metric: "
                          "rate_limit_tokens_left, target: 30}]", "<t>", {})
    rows = {r.metric: r for r in cost_rows(config)}
    assert (rows["rate_limit_requests_left"].target, rows["rate_limit_requests_left"].alert) \
        == (20, 5)
    assert rows["rate_limit_tokens_left"].target == 30  # follows the override
    from vocab.model import ProbeResult, Reading

    empty = evaluate({COMPONENT: ProbeResult(COMPONENT, Status.OK, "ok")}, tuple(rows.values()),
                     0.0)
    assert empty.metrics == () and empty.blind_spots == ()  # no figure: no row, no blind spot
    low = ProbeResult(COMPONENT, Status.OK, "ok",
                      readings={"app_ratelimit_requests_left_percent": Reading(3.0, "percent")})
    (m,) = evaluate({COMPONENT: low}, tuple(rows.values()), 0.0).metrics
    assert (m.name, m.status) == ("rate_limit_requests_left", Status.CRITICAL)


# -- end to end: a real Prometheus scraping LiteLLM-shaped gauges and session counters ----

LABELS = ('api_provider="openai",model_group="gpt-4o",litellm_model_name="gpt-4o",'
          'hashed_api_key="h1",api_key_alias="alice"')
EXPOSITION = f"""\
# HELP litellm_remaining_requests_metric remaining requests for model (x-ratelimit header)
# TYPE litellm_remaining_requests_metric gauge
litellm_remaining_requests_metric{{api_base="https://api.openai.com/v1",{LABELS}}} 4200
litellm_remaining_requests_metric{{api_base="https://eu.api.openai.com/v1",{LABELS}}} 900
# HELP litellm_remaining_tokens_metric remaining tokens for model (x-ratelimit header)
# TYPE litellm_remaining_tokens_metric gauge
litellm_remaining_tokens_metric{{api_base="https://api.openai.com/v1",{LABELS}}} 150000
# HELP alice_realtime_session_tokens_total Realtime tokens used by each voice session
# TYPE alice_realtime_session_tokens_total counter
alice_realtime_session_tokens_total{{session="abc123",type="audio_out"}} 2400
alice_realtime_session_tokens_total{{session="abc123",type="text_in"}} 100
alice_realtime_session_tokens_total{{session="def456",type="audio_in"}} 600
""".encode()


class Exporter(QuietHandler):
    def do_GET(self) -> None:
        reply(self, 200, EXPOSITION, "text/plain; version=0.0.4")


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    with serving(Exporter) as port:
        with running_prometheus(tmp_path_factory.mktemp("prom"), {"app": f"127.0.0.1:{port}"},
                                interval_s=0.5) as url:
            wait_for_query(url, "litellm_remaining_tokens_metric")
            wait_for_query(url, "alice_realtime_session_tokens_total")
            yield url


@pytest.mark.integration
def test_cost_reads_litellms_gauges_and_the_sessions_from_prometheus(prometheus, tmp_path,
                                                                      capsys):
    path = tmp_path / "alice-ops.yaml"
    path.write_text(f'targets: {{prometheus: {{url: "{prometheus}"}}}}\n'
                    "cost: {session_cap_usd: 0.25, timezone: UTC,\n"
                    "       session_usage: {model: gpt-4o-realtime-preview-2024-10-01},\n"
                    "       rate_limits: {requests: {limit: '5000'}}}\n")
    assert main(["cost", "--json", "--config", str(path)]) == 2  # abc123 is over its cap
    doc = json.loads(capsys.readouterr().out)
    limits = {f["kind"]: f for f in doc["rate_limits"]}
    assert limits["requests"]["remaining"] == 900 and limits["requests"]["left_percent"] == 18
    assert limits["tokens"]["left_percent"] is None and limits["tokens"]["discovered"]
    per = doc["per_session"]
    assert per["text"] == "session abc123 spent 0.48 USD > cap 0.25 USD"  # 2400 x 0.2 / 1k
    assert doc["audio"]["measured"]["input_minutes"] == 1.0
    assert doc["audio"]["measured"]["output_minutes"] == 2.0
    main(["cost", "--config", str(path)])
    out = " ".join(capsys.readouterr().out.split())  # as read, whatever the terminal width
    assert "rate limit (app metrics, min(litellm_remaining_requests_metric)): requests: 900 " \
           "left of 5000 (18 %)" in out


@pytest.mark.integration
async def test_the_cost_job_judges_the_apps_headroom(prometheus):
    config = parse_config(f'targets: {{prometheus: {{url: "{prometheus}"}}}}\n'
                          "cost: {rate_limits: {requests: {limit: '5000'}}}", "<t>", {})
    result = await CostJob(config)()
    report = evaluate({COMPONENT: result}, cost_rows(config), 0.0)
    metrics = {m.name: m for m in report.metrics}
    assert metrics["rate_limit_requests_left"].status is Status.WARNING  # 18 %: below 20
    assert "rate_limit_tokens_left" not in metrics  # no limit: shown, not judged
    assert "session_cap" not in metrics and report.blind_spots == ()  # no cap: off


# -- one fact, one row: with an openai target its rows judge the headroom -----------------

OPENAI = 'targets: {openai: {api_key: sk-test-0000, base_url: "http://127.0.0.1:9/v1"%s}, ' \
         'prometheus: {url: "%s"}}\n'


def rate_rows(config) -> dict[tuple[str, str], object]:
    from agent.check import threshold_rows

    return {r.key: r for r in threshold_rows(config) + cost_rows(config)
            if r.metric.startswith("rate_limit_")}


def test_with_an_openai_target_its_rows_read_the_apps_figure_and_no_cost_row_exists():
    config = parse_config(OPENAI % ("", "http://127.0.0.1:9") + (
        "cost: {rate_limits: {requests: {limit: 5000},\n"
        "       tokens: {remaining: 'min(app_tokens_left)', limit: 'max(app_tokens_limit)'}}}"),
        "<t>", {})
    rows = rate_rows(config)
    assert set(rows) == {("openai", "rate_limit_requests_left"),
                         ("openai", "rate_limit_tokens_left")}  # no cost/rate_limit_* rows
    requests, tokens = rows[("openai", "rate_limit_requests_left")], \
        rows[("openai", "rate_limit_tokens_left")]
    assert (requests.probe, requests.promql) == (None, "clamp_max(clamp_min(100 * (min("
                                                 "litellm_remaining_requests_metric)) / 5000, "
                                                 "0), 100)")
    assert requests.title.endswith("(app metrics)") and (requests.target, requests.alert) \
        == (20, 5)
    assert tokens.promql == ("clamp_max(clamp_min(100 * (min(min(app_tokens_left))) / "
                             "(min(max(app_tokens_limit)) > 0), 0), 100)")


def test_the_deep_probe_keeps_its_rows_and_nothing_else_judges_the_fact():
    config = parse_config(OPENAI % (", deep_probe: true", "http://127.0.0.1:9")
                          + "cost: {rate_limits: {requests: {limit: 5000}}}", "<t>", {})
    rows = rate_rows(config)
    assert set(rows) == {("openai", "rate_limit_requests_left"),
                         ("openai", "rate_limit_tokens_left")}
    assert rows[("openai", "rate_limit_requests_left")].probe == "ratelimit_requests_left_percent"


def test_a_zero_limit_or_a_source_the_config_chose_is_not_bound():
    config = parse_config(OPENAI % ("", "http://127.0.0.1:9") + (
        "cost: {rate_limits: {requests: {limit: 0}, tokens: {limit: 800000}}}\n"
        "thresholds: [{component: openai, metric: rate_limit_tokens_left, "
        "promql: 'my_tokens_left_percent'}]"), "<t>", {})
    rows = rate_rows(config)
    assert rows[("openai", "rate_limit_requests_left")].probe == \
        "ratelimit_requests_left_percent"  # a zero limit says nothing: the deep probe's row
    assert rows[("openai", "rate_limit_tokens_left")].promql == "my_tokens_left_percent"


@pytest.mark.integration
async def test_one_fact_pages_once_the_openai_row_reads_the_apps_headroom(prometheus):
    """LiteLLM's gauges say 900 of 5000 requests left (18 %): the openai row is WARNING, and
    no second row (the cost component's) judges the same figure."""
    from agent.check import probe_jobs, threshold_rows
    from vocab.model import ProbeResult

    config = parse_config(OPENAI % ("", prometheus)
                          + "cost: {rate_limits: {requests: {limit: '5000'}}}", "<t>", {})
    rows = threshold_rows(config) + cost_rows(config)
    factory, _ = probe_jobs(config, rows)["prometheus"]
    results = {"openai": ProbeResult("openai", Status.OK, "API reachable"),
               "prometheus": await factory(), COMPONENT: await CostJob(config)()}
    assert results[COMPONENT].details["section"]["rate_limits"][0]["left_percent"] == 18
    report = evaluate(results, rows, 0.0)
    judged = [(m.component, m.name, m.status, m.value) for m in report.metrics
              if m.name.startswith("rate_limit_")]
    assert judged == [("openai", "rate_limit_requests_left", Status.WARNING, 18.0)]
