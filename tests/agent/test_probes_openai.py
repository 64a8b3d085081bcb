"""The OpenAI probe against the simulator through the official client: the server's own error
words, quota versus rate limit, rate-limit figures from the completion, reasoning models, and
the Realtime session."""

from __future__ import annotations

import time

import httpx
import pytest
from faults import fault_server  # tests/agent is on sys.path (rootdir-less test dir)

from agent.config import OpenAITarget
from vocab.model import Status
from agent.probes import openai as probe_openai
from agent.probes.openai import rate_limits, reasoning_effort, reset_seconds
from agent.probes.openai_realtime import probe_realtime
from simulator.server import SimPorts, Simulator

KEY = "sk-sim-openai-probe-key-0000"


@pytest.fixture
async def sim():
    async with Simulator(ports=SimPorts(), seed=11, api_key=KEY) as s:
        yield s


def target(sim, **kwargs) -> OpenAITarget:
    fields = {"base_url": sim.urls["openai"], "api_key": KEY, "timeout_ms": 2000, **kwargs}
    return OpenAITarget.model_validate(fields)


async def test_models_list_alone_reads_no_rate_limits(sim):
    result = await probe_openai.probe(target(sim))
    assert result.status is Status.OK, result.summary
    assert "ratelimit_requests_left_percent" not in result.readings
    assert "requests left" not in result.summary


async def test_deep_probe_reads_rate_limits_from_the_completion(sim):
    result = await probe_openai.probe(target(sim, deep_probe=True))
    assert result.status is Status.OK, result.summary
    assert "completion ok" in result.summary and "requests left in window" in result.summary
    requests = result.readings["ratelimit_requests_left_percent"]
    tokens = result.readings["ratelimit_tokens_left_percent"]
    assert 99.0 < requests.value < 100.0 and requests.unit == "percent"
    assert 99.0 < tokens.value < 100.0
    assert result.details["rate_limits"]["headers"]["x-ratelimit-limit-requests"] == "10000"


async def test_insufficient_quota_is_critical_billing(sim):
    sim.set_scenario("openai-quota")
    result = await probe_openai.probe(target(sim, deep_probe=True))
    assert result.status is Status.CRITICAL
    assert "API reachable" in result.summary  # the free list still works: keep its verdict
    assert "billing: insufficient_quota (HTTP 429: insufficient_quota: You exceeded your " \
           "current quota" in result.summary


async def test_plain_rate_limit_is_a_warning_with_the_figures(sim):
    sim.set_scenario("openai-rate-limited")
    result = await probe_openai.probe(target(sim, deep_probe=True))
    assert result.status is Status.WARNING, result.summary
    assert "rate limited (HTTP 429): rate_limit_exceeded: Rate limit reached for gpt-4o-mini" \
        in result.summary
    assert "ratelimit_requests_left_percent" not in result.readings  # the 429 is the verdict
    assert result.details["rate_limits"]["headers"]["x-ratelimit-remaining-requests"] == "0"
    assert result.details["rate_limits"]["reset_s"]["requests"] == 20.0


async def test_model_not_offered_keeps_the_list_verdict_next_to_the_completion(sim):
    result = await probe_openai.probe(target(sim, deep_probe=True, model="llama-nope"))
    assert result.status is Status.CRITICAL
    assert "; model llama-nope not offered; completion failed: request rejected (HTTP 404): " \
           "model_not_found: The model `llama-nope` does not exist" in result.summary


@pytest.mark.parametrize(("model", "effort"), [("o4-mini", "low"), ("gpt-5-mini", "minimal")])
async def test_reasoning_model_deep_probe(sim, model, effort):
    """max_completion_tokens and a supported effort: the simulator refuses anything else, as
    the real API does (see test_sim_openai_realism)."""
    t = target(sim, deep_probe=True, model=model)
    assert reasoning_effort(t) == effort
    result = await probe_openai.probe(t)
    assert result.status is Status.OK, result.summary
    assert "completion ok" in result.summary


async def test_a_wrong_effort_shows_the_servers_words(sim):
    t = target(sim, deep_probe=True, model="o4-mini", reasoning_models={"o4*": "minimal"})
    result = await probe_openai.probe(t)
    assert result.status is Status.CRITICAL
    assert "unsupported_value: Unsupported value: 'reasoning_effort' does not support " \
           "'minimal' with this model." in result.summary


async def test_wrong_key_keeps_the_servers_message_redacted(sim):
    wrong = "sk-wrong-key-abcdefghijkl"
    result = await probe_openai.probe(target(sim, api_key=wrong))
    assert result.status is Status.CRITICAL
    assert result.summary.startswith("authentication failed (HTTP 401): invalid_api_key: "
                                     "Incorrect API key provided:")
    assert wrong not in result.summary and "\n" not in result.summary


async def test_realtime_session_opens_and_closes_silently(sim, http_client):
    t = target(sim, realtime={"enabled": True, "model": "gpt-realtime"})
    result = await probe_openai.probe(t)
    assert result.status is Status.OK, result.summary
    assert "Realtime session ok (gpt-realtime," in result.summary
    assert result.readings["realtime_session_ms"].value > 0
    counters = (await http_client.get(sim.urls["openai"].removesuffix("/v1")
                                      + "/_sim/openai")).json()
    assert counters == {"realtime_sessions": 1, "realtime_received": 0}  # no audio, no event


async def test_realtime_beta_header_and_explicit_url(sim):
    ws = sim.urls["openai"].replace("http://", "ws://") + "/realtime"
    t = target(sim, realtime={"enabled": True, "url": ws, "beta_header": True,
                              "model": "gpt-4o-realtime-preview-2024-10-01"})
    result = await probe_openai.probe(t)
    assert result.status is Status.OK, result.summary


@pytest.mark.parametrize(("scenario", "realtime", "words"), [
    ("normal", {"model": "gpt-4o-mini"}, "Realtime error event: model_not_found"),
    ("openai-auth-failure", {}, "Realtime authentication failed (HTTP 401): invalid_api_key"),
    ("openai-outage", {}, "Realtime upgrade refused (HTTP 503): server_error"),
    ("hang", {"timeout_ms": 300}, "Realtime no session.created within 300 ms"),
])
async def test_realtime_failures(sim, scenario, realtime, words):
    sim.set_scenario(scenario)
    t = target(sim, timeout_ms=400, realtime={"enabled": True, **realtime})
    result = await probe_openai.probe(t)
    assert result.status is Status.CRITICAL
    assert words in result.summary, result.summary
    assert KEY not in result.summary


@pytest.mark.parametrize(("text", "seconds"), [
    ("1s", 1.0), ("6m0s", 360.0), ("20ms", 0.02), ("1h2m3.5s", 3723.5), ("", None),
    ("soon", None), ("5x", None),
])
def test_reset_durations(text, seconds):
    assert reset_seconds(text) == seconds


def test_rate_limit_shares_ignore_unusable_headers():
    details, readings = rate_limits(httpx.Headers({
        "x-ratelimit-limit-requests": "0", "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-limit-tokens": "1000", "x-ratelimit-remaining-tokens": "250",
        "x-ratelimit-reset-tokens": "bogus"}))
    assert "ratelimit_requests_left_percent" not in readings  # a zero limit says nothing
    assert readings["ratelimit_tokens_left_percent"].value == 25.0
    assert details["reset_s"] == {"tokens": None}


@pytest.fixture
async def http_client():
    async with httpx.AsyncClient(timeout=5.0) as client:
        yield client


# --- the Realtime probe against servers that fail on the wire ------------------------------

@pytest.mark.parametrize(("fault", "words"), [
    ("refused", "Realtime connection refused"),
    ("hang", "Realtime no session.created within 400 ms"),
    ("status503", "Realtime upgrade refused (HTTP 503)"),
    ("garbage", "Realtime upgrade refused (HTTP 200)"),
])
async def test_realtime_on_the_fault_servers(fault, words):
    async with fault_server(fault) as url:
        t = OpenAITarget(base_url=f"{url}/v1", api_key=KEY, timeout_ms=400,
                         realtime={"enabled": True})
        started = time.perf_counter()
        verdict = await probe_realtime(t)
        elapsed = time.perf_counter() - started
    assert verdict.status is Status.CRITICAL and verdict.session_ms is None
    assert verdict.summary.startswith(words), verdict.summary
    assert elapsed < 1.4 and KEY not in verdict.summary


async def test_rate_limit_rows_judge_the_completions_figures(sim):
    """Through the threshold table: the deep probe's shares feed the two rate-limit rows; a
    models.list alone leaves them out of the report."""
    from agent.check import check
    from agent.config import Config

    def config(deep: bool) -> Config:
        return Config.model_validate({"targets": {"openai": {
            "base_url": sim.urls["openai"], "api_key": KEY, "deep_probe": deep}}})

    deep = {m.name: m for m in (await check(config(True))).metrics if m.component == "openai"}
    assert deep["rate_limit_requests_left"].status is Status.OK
    assert deep["rate_limit_tokens_left"].value > 99
    shallow = {m.name for m in (await check(config(False))).metrics}
    assert "rate_limit_requests_left" not in shallow
