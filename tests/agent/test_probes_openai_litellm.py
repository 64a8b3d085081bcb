"""The OpenAI probe against a real OpenAI-compatible server's recorded answers (LiteLLM proxy,
`tests/data/litellm/`): it reports that server's own words, not a generic "HTTP 400"."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import OpenAITarget
from vocab.model import Status
from agent.probes import openai as probe_openai
from simulator.replay import ReplayTransport, load_recordings

DATA = Path(__file__).resolve().parent.parent / "data" / "litellm"
KEY = "sk-litellm-replay-valid-0000"


@pytest.fixture(scope="module")
def recordings():
    return load_recordings(DATA)


async def run(recordings, model: str, key: str = KEY, deep: bool = True):
    transport = ReplayTransport(recordings, KEY)
    result = await probe_openai.probe(OpenAITarget(
        base_url="http://litellm.test/v1", api_key=key, model=model, deep_probe=deep,
        timeout_ms=2000), transport)
    return result, transport.served


async def test_models_and_a_mocked_completion(recordings):
    result, served = await run(recordings, "gpt-4o-mini")
    assert served == ["models", "chat_ok"]
    assert result.status is Status.OK
    assert result.summary == "API reachable, 4 models, completion ok"
    assert "ratelimit_requests_left_percent" not in result.readings  # LiteLLM's mock sends none


async def test_reasoning_model_with_max_completion_tokens(recordings):
    result, served = await run(recordings, "o4-mini")
    assert served == ["models", "chat_reasoning"] and result.status is Status.OK


async def test_invalid_model_keeps_litellms_words_and_the_list_verdict(recordings):
    result, served = await run(recordings, "gpt-4o")
    assert served == ["models", "chat_invalid_model"]
    assert result.status is Status.CRITICAL
    assert result.summary.startswith("API reachable, 4 models; model gpt-4o not offered; "
                                     "completion failed: request rejected (HTTP 400): "
                                     "invalid_request_error: ")
    assert "Invalid model name passed in model=gpt-4o" in result.summary


async def test_bad_key_without_a_database(recordings):
    """A LiteLLM proxy without a database answers an unknown key with 400 no_db_connection."""
    result, served = await run(recordings, "gpt-4o-mini", key="sk-not-the-master-key-1234",
                               deep=False)
    assert served == ["models_bad_key"]
    assert result.summary == "request rejected (HTTP 400): no_db_connection: No connected db."


async def test_mocked_rate_limit_is_a_warning_on_one_line(recordings):
    result, served = await run(recordings, "rate-limited")
    assert served == ["models", "chat_rate_limited"]
    assert result.status is Status.WARNING
    assert result.summary.endswith("completion failed: rate limited (HTTP 429): "
                                   "throttling_error: litellm.RateLimitError: this is a mock "
                                   "rate limit error")


async def test_mocked_server_error(recordings):
    result, _ = await run(recordings, "broken")
    assert result.status is Status.CRITICAL
    assert "server error (HTTP 500): internal_server_error: litellm.InternalServerError: " \
           "this is a mock internal server error" in result.summary


def test_recordings_hold_no_key(recordings):
    text = "".join(p.read_text() for p in DATA.glob("*.json"))
    assert "sk-litellm-recorder" not in text and "<master-key>" in text
