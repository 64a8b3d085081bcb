"""The fake Ollama server through the official `ollama` client."""

from __future__ import annotations

import json

import ollama
import pytest

MODEL = "gpt-oss:20b"


async def test_version_root_and_models(sim, http):
    assert (await http.get(sim.urls["ollama"] + "/api/version")).json() == {"version": "0.6.0"}
    root = await http.get(sim.urls["ollama"] + "/")
    assert root.text == "Ollama is running"
    assert (await http.head(sim.urls["ollama"] + "/")).status_code == 200
    async with ollama.AsyncClient(host=sim.urls["ollama"]) as client:
        tags = await client.list()
        ps = await client.ps()
    names = [m.model for m in tags.models]
    assert MODEL in names and "nomic-embed-text:latest" in names
    entry = next(m for m in tags.models if m.model == MODEL)
    assert entry.size > 0 and entry.digest and entry.details.family and entry.modified_at
    loaded = [m for m in ps.models if m.model == MODEL]
    assert loaded and loaded[0].size_vram == loaded[0].size
    assert loaded[0].expires_at is not None and loaded[0].details.parameter_size


async def test_generate_and_chat_report_nanoseconds(sim):
    sim.set_scenario("model-missing")  # unloads the model, so the next request loads it cold
    async with ollama.AsyncClient(host=sim.urls["ollama"]) as client:
        with pytest.raises(ollama.ResponseError):
            await client.generate(model=MODEL, prompt="ping")
        sim.set_scenario("normal")
        assert (await client.ps()).models == []
        cold = await client.generate(model=MODEL, prompt="ping", options={"num_predict": 1})
        warm = await client.generate(model=MODEL, prompt="ping", options={"num_predict": 1})
        chat = await client.chat(model=MODEL, messages=[{"role": "user", "content": "Hej"}])
    assert cold.done and cold.eval_count == 1 and cold.done_reason == "length"
    assert cold.load_duration >= 3e9 > warm.load_duration
    tokens_per_s = warm.eval_count / (warm.eval_duration / 1e9)
    assert 30 <= tokens_per_s <= 50
    assert warm.total_duration >= warm.eval_duration + warm.prompt_eval_duration
    assert chat.message.role == "assistant" and chat.message.content
    assert chat.done_reason == "stop" and chat.eval_count > 1


async def test_streaming_generate(sim):
    async with ollama.AsyncClient(host=sim.urls["ollama"]) as client:
        parts = [p async for p in await client.generate(model=MODEL, prompt="hej", stream=True)]
    assert parts[-1].done and not parts[0].done
    assert "".join(p.response for p in parts).startswith("Hej!")


async def test_degraded_is_slow_and_partly_on_cpu(sim):
    sim.set_scenario("local-ai-degraded")
    async with ollama.AsyncClient(host=sim.urls["ollama"]) as client:
        ps = await client.ps()
        result = await client.generate(model=MODEL, prompt="ping", options={"num_predict": 3})
    model = ps.models[0]
    assert 0.5 < model.size_vram / model.size < 0.7
    assert result.eval_count / (result.eval_duration / 1e9) == pytest.approx(1.5, rel=0.01)


async def test_model_missing(sim):
    sim.set_scenario("model-missing")
    async with ollama.AsyncClient(host=sim.urls["ollama"]) as client:
        assert MODEL not in [m.model for m in (await client.list()).models]
        assert (await client.ps()).models == []
        with pytest.raises(ollama.ResponseError) as caught:
            await client.generate(model=MODEL, prompt="ping")
        assert caught.value.status_code == 404
        assert caught.value.error == f"model '{MODEL}' not found"
        with pytest.raises(ollama.ResponseError):
            await client.chat(model=MODEL, messages=[{"role": "user", "content": "x"}])


async def test_unknown_model_always_404(sim, http):
    response = await http.post(sim.urls["ollama"] + "/api/generate",
                               json={"model": "nope:1b", "prompt": "x", "stream": False})
    assert response.status_code == 404
    assert response.json() == {"error": "model 'nope:1b' not found"}


async def test_stream_is_the_default_like_real_ollama(sim, http):
    response = await http.post(sim.urls["ollama"] + "/api/generate",
                               json={"model": MODEL, "prompt": "x"})
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert lines[-1]["done"] is True and lines[-1]["eval_count"] > 0
