"""The fake Ollama's scheduler through the official client: a different `num_ctx` reloads the
model (as ollama `server/sched.go` needsReload does), `/api/ps` reports `context_length`, a
full queue answers 503 "server busy", and a stuck unload shows an `expires_at` in the past."""

from __future__ import annotations

from datetime import datetime, timezone

import ollama
import pytest

MODEL = "gpt-oss:20b"
MS = 1_000_000


async def test_ps_reports_the_runners_context_length(sim):
    async with ollama.AsyncClient(host=sim.urls["ollama"]) as client:
        ps = await client.ps()
    assert ps.models[0].context_length == 8192
    assert ps.models[0].expires_at > datetime.now(timezone.utc)


async def test_a_different_num_ctx_reloads_and_the_same_does_not(sim):
    async with ollama.AsyncClient(host=sim.urls["ollama"]) as client:
        same = await client.generate(model=MODEL, prompt="ping",
                                     options={"num_predict": 1, "num_ctx": 8192})
        other = await client.generate(model=MODEL, prompt="ping",
                                      options={"num_predict": 1, "num_ctx": 4096})
        after = await client.ps()
        default = await client.generate(model=MODEL, prompt="ping", options={"num_predict": 1})
    assert same.load_duration < 100 * MS
    assert other.load_duration > 2000 * MS
    assert after.models[0].context_length == 4096
    assert default.load_duration > 2000 * MS  # back to the default 8192: another reload


async def test_reload_scenario_reloads_every_request(sim):
    sim.set_scenario("ollama-reload")
    async with ollama.AsyncClient(host=sim.urls["ollama"]) as client:
        for _ in range(2):
            answer = await client.generate(model=MODEL, prompt="ping",
                                           options={"num_predict": 1, "num_ctx": 8192})
            assert answer.load_duration > 2000 * MS


async def test_queue_full_is_503_server_busy(sim):
    sim.set_scenario("ollama-queue-full")
    async with ollama.AsyncClient(host=sim.urls["ollama"]) as client:
        assert (await client.ps()).models  # the scheduler's queue does not guard ps
        with pytest.raises(ollama.ResponseError) as caught:
            await client.generate(model=MODEL, prompt="ping")
    assert caught.value.status_code == 503
    assert caught.value.error == ("server busy, please try again.  maximum pending requests "
                                  "exceeded")


async def test_stuck_unloading_lists_an_expired_model(sim):
    sim.set_scenario("ollama-stuck-unloading")
    async with ollama.AsyncClient(host=sim.urls["ollama"]) as client:
        ps = await client.ps()
    past = (datetime.now(timezone.utc) - ps.models[0].expires_at).total_seconds()
    assert 500 < past < 700  # what `ollama ps` shows as "Stopping..."
