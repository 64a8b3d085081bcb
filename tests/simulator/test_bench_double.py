"""The benchmark's independent double of an Alice stack (simulator/bench/double.py): each of
`check`'s probes finds its component up on it, the key is checked, and the latency knob refuses
what is not a number of ms (the benchmark's figures are only as good as this stack)."""

from __future__ import annotations

import json

import httpx
import pytest
from aiohttp.test_utils import TestServer

from agent.check import check, run_probes, threshold_rows
from agent.config import Config
from vocab.model import Status
from simulator.bench.double import make_app

KEY = "sk-double-test-key-0000"


@pytest.fixture
async def double():
    async with TestServer(make_app(KEY), host="127.0.0.1") as server:
        yield str(server.make_url("")).rstrip("/")


def config(url: str, key: str = KEY) -> Config:
    return Config.model_validate({"targets": {
        "openai": {"base_url": f"{url}/v1", "api_key": key},
        "ollama": {"url": url, "gpu_check": "off"},
        "gateway": {"url": url}, "backend": {"url": url}, "prometheus": {"url": url}}})


async def test_every_probe_of_check_finds_its_component_up_on_the_double(double):
    """The probes' own verdicts (the double's Prometheus answers 42 to every query, so the
    threshold rows judge those figures, not the double's health)."""
    cfg = config(double)
    results = await run_probes(cfg, threshold_rows(cfg))
    for name in ("openai", "ollama", "gateway", "backend", "prometheus"):
        assert results[name].status is Status.OK, (name, results[name].summary)
    assert "WebSocket exchange ok" in results["gateway"].summary
    assert "gpt-oss:20b loaded (fully in VRAM, num_ctx 8192)" in results["ollama"].summary
    assert results["prometheus"].summary.endswith("queries answered")


async def test_a_wrong_key_is_refused_like_openai(double):
    report = await check(config(double, key="sk-not-the-double-key-00"))
    openai = next(c for c in report.components if c.name == "openai")
    assert openai.status is Status.CRITICAL
    assert openai.summary.startswith("authentication failed (HTTP 401): invalid_api_key")


async def test_the_backend_answers_compact_json_as_the_guide_greps_it(double):
    async with httpx.AsyncClient(timeout=5) as client:
        body = (await client.get(f"{double}/api/health")).text
    assert '"status":"healthy"' in body  # health_check.sh: grep -q '"status":"healthy"'


@pytest.mark.parametrize(("body", "status"), [
    ({"ms": 200}, 200), ({"ms": 0}, 200), ({"ms": -1}, 400), ({"ms": "soon"}, 400),
    ({}, 400), ({"ms": float("nan")}, 400),
])
async def test_the_latency_knob(double, body, status):
    async with httpx.AsyncClient(timeout=5) as client:
        r = await client.post(f"{double}/_double/latency", content=json.dumps(body),
                              headers={"content-type": "application/json"})  # NaN as is
    assert r.status_code == status, r.text
