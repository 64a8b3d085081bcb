"""The agent's /metrics exports what the Ollama probe learned from the simulator: residency,
VRAM share, context length, load events, saturation and version (fresh registry,
`get_sample_value`)."""

from __future__ import annotations

import time

import ollama
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest

from agent.config import OllamaTarget
from agent.exporter import DurationHistogram, SnapshotCollector
from vocab.model import ProbeResult, Status
from agent.ollama_exporter import LoadCounter
from agent.probes import ollama as probe_ollama
from agent.snapshot import AgentStats, Snapshot
from rules.evaluate import evaluate
from simulator.server import SimPorts, Simulator

MODEL = "gpt-oss:20b"
SIZE = 13_780_173_839


@pytest.fixture
async def sim():
    async with Simulator(ports=SimPorts(), seed=17) as s:
        yield s


class Agent:
    """The two things the collector reads: a snapshot and the latest probe results."""

    def __init__(self) -> None:
        self.results: dict[str, ProbeResult] = {}
        self.snapshot = Snapshot(seq=1, taken_at=time.time(),
                                 report=evaluate({}, (), time.time(), ()), alerts=(),
                                 silences=(), stats=AgentStats(started_at=time.time()))
        self.registry = CollectorRegistry()
        self.registry.register(SnapshotCollector(lambda: self.snapshot, DurationHistogram(),
                                                 DurationHistogram(),
                                                 probe_results=lambda: self.results))

    def value(self, name: str, **labels: str) -> float | None:
        return self.registry.get_sample_value(name, labels)


async def probe(sim, agent: Agent, **kwargs) -> ProbeResult:
    target = OllamaTarget(url=sim.urls["ollama"], deep_probe=True, gpu_check="off",
                          timeout_ms=2000, deep_timeout_ms=3000, **kwargs)
    agent.results["ollama"] = await probe_ollama.probe(target)
    return agent.results["ollama"]


async def test_residency_version_and_context(sim):
    agent = Agent()
    await probe(sim, agent)
    assert agent.value("alice_ops_ollama_up") == 1
    assert agent.value("alice_ops_ollama_version_info", version="0.6.0") == 1
    assert agent.value("alice_ops_ollama_model_loaded", model=MODEL) == 1
    assert agent.value("alice_ops_ollama_model_size_bytes", model=MODEL) == SIZE
    assert agent.value("alice_ops_ollama_model_vram_ratio", model=MODEL) == 1.0
    assert agent.value("alice_ops_ollama_model_context_length_tokens", model=MODEL) == 8192
    assert agent.value("alice_ops_ollama_model_expires_timestamp_seconds",
                       model=MODEL) > time.time()
    assert agent.value("alice_ops_ollama_saturated") == 0
    assert agent.value("alice_ops_ollama_probe_generation_tokens_per_second",
                       model=MODEL) == pytest.approx(40.0, rel=0.01)
    assert agent.value("alice_ops_ollama_probe_load_duration_seconds", model=MODEL) < 0.1
    assert agent.value("alice_ops_ollama_model_loads_total", model=MODEL) is None


async def test_partial_offload_and_saturation(sim):
    agent = Agent()
    sim.set_scenario("local-ai-degraded")
    await probe(sim, agent)
    assert agent.value("alice_ops_ollama_model_vram_ratio", model=MODEL) == pytest.approx(0.6)
    sim.set_scenario("ollama-queue-full")
    await probe(sim, agent)
    assert agent.value("alice_ops_ollama_saturated") == 1


async def test_load_events_are_counted_once_each(sim):
    agent = Agent()
    await probe(sim, agent)  # the baseline: already loaded, nothing counted
    assert agent.value("alice_ops_ollama_model_loads_total", model=MODEL) is None  # a scrape
    async with ollama.AsyncClient(host=sim.urls["ollama"]) as client:
        await client.generate(model=MODEL, prompt="x", options={"num_ctx": 4096})
    await probe(sim, agent)  # ps shows another client's reload (context 8192 -> 4096)
    assert agent.value("alice_ops_ollama_model_loads_total", model=MODEL) == 1
    generate_latest(agent.registry)  # a second scrape of the same result counts nothing
    assert agent.value("alice_ops_ollama_model_loads_total", model=MODEL) == 1
    sim.set_scenario("ollama-reload")
    result = await probe(sim, agent)  # the probe's own generate reloads it
    assert result.status is Status.WARNING
    assert agent.value("alice_ops_ollama_model_loads_total", model=MODEL) == 2
    assert agent.value("alice_ops_ollama_probe_load_duration_seconds", model=MODEL) == 2.4


def test_down_and_not_probed():
    agent = Agent()
    assert agent.value("alice_ops_ollama_up") is None  # no Ollama target: no family at all
    agent.results["ollama"] = ProbeResult.failed("ollama", Status.CRITICAL, "connection refused")
    assert agent.value("alice_ops_ollama_up") == 0
    assert agent.value("alice_ops_ollama_model_loaded", model=MODEL) is None


def test_load_counter_ignores_the_first_result_and_repeats():
    counter = LoadCounter()
    first = ProbeResult("ollama", Status.OK, "", details={
        "model": "m", "models": [{"name": "m", "context_length": 4096}]})
    counter.observe(first)
    counter.observe(first)
    assert counter.totals == {}
    appeared = ProbeResult("ollama", Status.OK, "", details={
        "model": "m", "models": [{"name": "m", "context_length": 4096},
                                 {"name": "embed", "context_length": 2048}]})
    counter.observe(appeared)
    assert counter.totals == {"embed": 1}
