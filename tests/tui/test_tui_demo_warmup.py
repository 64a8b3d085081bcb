"""`alice-tui --demo`'s start: the simulator runs in a process of its own that stops with
the dashboard, the shorter traffic warm-up (DEMO_WARMUP_S) gives the statuses the longer
one gave in the scenarios where a shorter one differed, and only the SDKs the first cycle
imports are preloaded (the demo's config needs only Ollama's)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from agent.check import check
from agent.demo import demo_config, demo_stack
from tui.source import DEMO_WARMUP_S, SimProcess, SourceError, sdks_to_preload

KEY = "sk-sim-demo-test-000000"


async def test_the_simulator_process_serves_and_stops_with_the_block():
    async with SimProcess("openai-outage", KEY) as sim:
        assert set(sim.urls) >= {"openai", "ollama", "gateway", "backend", "prometheus"}
        proc = sim._proc
        async with httpx.AsyncClient(trust_env=False) as client:
            models = await client.get(f"{sim.urls['openai']}/models",
                                      headers={"Authorization": f"Bearer {KEY}"})
            tags = await client.get(f"{sim.urls['ollama']}/api/tags")
        assert models.status_code >= 500  # the scenario it was started in
        assert tags.status_code == 200
    assert proc is not None and proc.returncode == 0  # stopped when its stdin closed


async def test_a_simulator_that_cannot_start_is_one_line():
    with pytest.raises(SourceError, match="the simulator did not start: .*no-such-scenario"):
        async with SimProcess("no-such-scenario", KEY):
            pass


async def _statuses(scenario: str, warmup_s: float) -> dict[str, str]:
    async with demo_stack(scenario, warmup_s=warmup_s) as (_sim, config):
        report = await check(config)
    return {c.name: c.status.name for c in report.components if c.name != "host"}


@pytest.mark.parametrize("scenario", ["normal", "gateway-down", "openai-quota",
                                      "openai-outage", "backend-degraded"])
async def test_the_demo_warmup_gives_the_statuses_a_longer_one_gives(scenario):
    short, long = await asyncio.gather(_statuses(scenario, DEMO_WARMUP_S),
                                       _statuses(scenario, 1.2))
    assert short == long


def test_only_the_sdks_the_first_cycle_imports_are_preloaded():
    urls = {k: f"http://127.0.0.1:{9000 + i}" for i, k in enumerate(
        ("openai", "ollama", "gateway", "backend", "prometheus", "nlu"))}
    urls["openai"] += "/v1"
    demo = demo_config(urls)
    assert sdks_to_preload(None, demo=True) == sdks_to_preload(demo, demo=False) == ["ollama"]
    plain = demo.model_copy(update={"targets": demo.targets.model_copy(update={
        "ollama": demo.targets.ollama.model_copy(update={"deep_probe": False})})})
    assert sdks_to_preload(plain, demo=False) == []
    deep = plain.model_copy(update={"targets": plain.targets.model_copy(update={
        "openai": plain.targets.openai.model_copy(update={"deep_probe": True})})})
    assert sdks_to_preload(deep, demo=False) == ["openai"]
