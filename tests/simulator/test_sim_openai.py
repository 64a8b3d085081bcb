"""The fake OpenAI API through the official `openai` client."""

from __future__ import annotations

import openai
import pytest

KEY = "sk-sim-test-key"


def client(sim, key: str = KEY) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=sim.urls["openai"], api_key=key, max_retries=0,
                              timeout=5.0)


async def test_models_and_chat_completion(sim):
    async with client(sim) as oa:
        models = await oa.models.list()
        ids = [m.id for m in models.data]
        assert "gpt-4o-mini" in ids and all(m.object == "model" for m in models.data)
        done = await oa.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Hej Alice"}])
    assert done.object == "chat.completion"
    assert done.choices[0].message.role == "assistant"
    assert done.choices[0].message.content
    assert done.choices[0].finish_reason == "stop"
    usage = done.usage
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens > 0


async def test_max_tokens_truncates(sim):
    async with client(sim) as oa:
        done = await oa.chat.completions.create(
            model="gpt-4o-mini", max_tokens=1, messages=[{"role": "user", "content": "ping"}])
    assert done.usage.completion_tokens == 1
    assert done.choices[0].finish_reason == "length"


async def test_streaming_chat(sim):
    async with client(sim) as oa:
        stream = await oa.chat.completions.create(
            model="gpt-4o-mini", stream=True, messages=[{"role": "user", "content": "hi"}])
        parts = [c.choices[0].delta.content or "" async for c in stream if c.choices]
    assert "".join(parts).startswith("Hej!")


async def test_rate_limit_headers_on_completions_only(sim):
    """As the real API: `x-ratelimit-*` on chat completions, never on /v1/models."""
    async with client(sim) as oa:
        raw = await oa.models.with_raw_response.list()
        raw_chat = await oa.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    assert raw.headers.get("x-request-id")
    assert not [h for h in raw.headers if h.startswith("x-ratelimit-")]
    headers = raw_chat.headers
    for name in ("x-ratelimit-limit-requests", "x-ratelimit-remaining-requests",
                 "x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens",
                 "x-ratelimit-reset-requests", "x-request-id"):
        assert headers.get(name), name
    assert int(headers["x-ratelimit-remaining-requests"]) < int(
        headers["x-ratelimit-limit-requests"])
    assert raw.parse().data


async def test_wrong_key_is_401_and_redacted(sim):
    wrong = "sk-wrong-key-0123456789abcd"
    async with client(sim, wrong) as oa:
        with pytest.raises(openai.AuthenticationError) as caught:
            await oa.models.list()
    err = caught.value
    assert err.status_code == 401
    assert err.code == "invalid_api_key" and err.type == "invalid_request_error"
    assert wrong not in str(err.body) and "abcd" in err.body["message"]


async def test_missing_key_is_401(sim, http):
    response = await http.get(sim.urls["openai"] + "/models")
    assert response.status_code == 401
    assert "didn't provide an API key" in response.json()["error"]["message"]


async def test_outage_is_503(sim):
    sim.set_scenario("openai-outage")
    async with client(sim) as oa:
        with pytest.raises(openai.InternalServerError) as caught:
            await oa.models.list()
    assert caught.value.status_code == 503
    assert caught.value.type == "server_error"


async def test_auth_failure_scenario_rejects_the_right_key(sim):
    sim.set_scenario("openai-auth-failure")
    async with client(sim) as oa:
        with pytest.raises(openai.AuthenticationError):
            await oa.chat.completions.create(model="gpt-4o-mini",
                                             messages=[{"role": "user", "content": "x"}])


async def test_slow_scenario_adds_delay(sim):
    import time

    sim.set_scenario("openai-slow")
    async with client(sim) as oa:
        started = time.perf_counter()
        await oa.models.list()
    assert time.perf_counter() - started >= 0.7


async def test_unknown_model_is_404(sim):
    async with client(sim) as oa:
        with pytest.raises(openai.NotFoundError):
            await oa.chat.completions.create(model="llama-unknown",
                                             messages=[{"role": "user", "content": "x"}])


async def test_costs_need_admin_key_and_follow_the_counter(sim, http):
    import time

    from waiting import wait_for_async

    sim.set_scenario("budget-burn")

    async def spent() -> bool:  # the simulator runs on this loop: wait without blocking it
        return sim.metrics.value("openai_api_cost_usd_total") > 0

    assert await wait_for_async(spent, timeout=10)
    url = sim.urls["openai"] + "/organization/costs"
    params = {"start_time": int(time.time()) - 3 * 86400, "bucket_width": "1d", "limit": 7}
    denied = await http.get(url, params=params, headers={"Authorization": f"Bearer {KEY}"})
    assert denied.status_code == 401
    response = await http.get(url, params=params,
                              headers={"Authorization": "Bearer sk-admin-sim-key"})
    assert response.status_code == 200
    page = response.json()
    assert page["object"] == "page" and page["has_more"] is False and page["next_page"] is None
    assert len(page["data"]) == 4
    assert all(b["object"] == "bucket" and b["end_time"] - b["start_time"] == 86400
               for b in page["data"])
    today = page["data"][-1]["results"]
    assert today and today[0]["object"] == "organization.costs.result"
    assert today[0]["amount"]["currency"] == "usd" and today[0]["amount"]["value"] > 0
    assert page["data"][0]["results"] == []
    counter = sim.metrics.value("openai_api_cost_usd_total")
    assert today[0]["amount"]["value"] == pytest.approx(counter, rel=0.05, abs=1e-5)


async def test_costs_paginate_and_validate(sim, http):
    import time

    url = sim.urls["openai"] + "/organization/costs"
    auth = {"Authorization": "Bearer sk-admin-sim-key"}
    first = (await http.get(url, headers=auth, params={
        "start_time": int(time.time()) - 10 * 86400, "limit": 3})).json()
    assert len(first["data"]) == 3 and first["has_more"] and first["next_page"]
    nxt = (await http.get(url, headers=auth, params={
        "start_time": int(time.time()) - 10 * 86400, "limit": 3,
        "page": first["next_page"]})).json()
    assert nxt["data"][0]["start_time"] == first["data"][-1]["end_time"]
    missing = await http.get(url, headers=auth)
    assert missing.status_code == 400
    assert missing.json()["error"]["type"] == "invalid_request_error"
