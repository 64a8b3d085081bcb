"""The fake OpenAI API behaves like the real one where the probe depends on it: quota and
rate-limit 429 bodies, reasoning models refusing `max_tokens` and unsupported efforts, and a
Realtime WebSocket whose first event is `session.created`."""

from __future__ import annotations

import json

import openai
import pytest

KEY = "sk-sim-test-key"
PING = [{"role": "user", "content": "ping"}]


def client(sim) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=sim.urls["openai"], api_key=KEY, max_retries=0,
                              timeout=5.0)


async def test_quota_429_is_insufficient_quota_and_models_still_list(sim):
    sim.set_scenario("openai-quota")
    async with client(sim) as oa:
        assert (await oa.models.list()).data
        with pytest.raises(openai.RateLimitError) as caught:
            await oa.chat.completions.create(model="gpt-4o-mini", messages=PING)
    assert caught.value.code == "insufficient_quota" == caught.value.type
    assert caught.value.body["message"].startswith("You exceeded your current quota")


async def test_rate_limited_429_carries_the_spent_window(sim):
    sim.set_scenario("openai-rate-limited")
    async with client(sim) as oa:
        with pytest.raises(openai.RateLimitError) as caught:
            await oa.chat.completions.create(model="gpt-4o-mini", messages=PING)
    err = caught.value
    assert err.code == "rate_limit_exceeded" and err.type == "requests"
    assert err.response.headers["x-ratelimit-remaining-requests"] == "0"
    assert err.response.headers["retry-after"] == "20"


@pytest.mark.parametrize("model", ["o4-mini", "gpt-5-mini"])
async def test_reasoning_models_refuse_max_tokens(sim, model):
    async with client(sim) as oa:
        with pytest.raises(openai.BadRequestError) as caught:
            await oa.chat.completions.create(model=model, messages=PING, max_tokens=1)
        done = await oa.chat.completions.create(model=model, messages=PING,
                                                max_completion_tokens=16)
    assert caught.value.code == "unsupported_parameter" and caught.value.param == "max_tokens"
    assert "Use 'max_completion_tokens' instead." in caught.value.body["message"]
    assert done.usage.completion_tokens_details.reasoning_tokens > 0


@pytest.mark.parametrize(("model", "effort", "ok"), [
    ("gpt-5-mini", "minimal", True), ("o4-mini", "low", True), ("o4-mini", "minimal", False),
    ("gpt-4o-mini", "low", False),
])
async def test_reasoning_effort_support(sim, model, effort, ok):
    async with client(sim) as oa:
        call = oa.chat.completions.create(model=model, messages=PING, max_completion_tokens=16,
                                          reasoning_effort=effort)
        if ok:
            assert (await call).choices
        else:
            with pytest.raises(openai.BadRequestError) as caught:
                await call
            assert caught.value.param == "reasoning_effort"


async def test_realtime_session_created_through_the_sdk(sim):
    ws_base = sim.urls["openai"].replace("http://", "ws://")
    oa = openai.AsyncOpenAI(base_url=sim.urls["openai"], api_key=KEY, max_retries=0,
                            websocket_base_url=ws_base)
    async with oa, oa.realtime.connect(model="gpt-realtime") as connection:
        first = json.loads(await connection.recv_bytes())
    assert first["type"] == "session.created"
    assert first["session"]["type"] == "realtime" and first["session"]["model"] == "gpt-realtime"


async def test_realtime_checks_the_key_before_the_upgrade(sim, http):
    url = sim.urls["openai"] + "/realtime?model=gpt-realtime"
    response = await http.get(url, headers={"Authorization": "Bearer sk-wrong-000000000000"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
