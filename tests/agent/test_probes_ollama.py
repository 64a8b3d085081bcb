"""The Ollama probe against the simulator through the official client: it never causes the
reload it measures, tells a reload, a full queue and a stuck unload apart, steps aside while
live traffic proves generation, and checks `/api/ps` against a fake NVML at its boundary."""

from __future__ import annotations

import re
import time

import httpx
import ollama
import pytest
from fake_nvml import (FakeGpu, FakeNvml, NVMLError, NVMLError_DriverNotLoaded,  # tests/agent
                       NVMLError_LibraryNotFound)

from agent.config import OllamaTarget
from vocab.model import ProbeResult, Reading, Status
from agent.probes import ollama as probe_ollama
from agent.probes.host import GpuProcess, NoGpu, read_gpu_processes
from simulator.server import SimPorts, Simulator

MODEL = "gpt-oss:20b"
SIZE = 13_780_173_839  # the simulator's gpt-oss:20b
GIB = 1024 ** 3


@pytest.fixture
async def sim():
    async with Simulator(ports=SimPorts(), seed=13) as s:
        yield s


def target(sim, **kwargs) -> OllamaTarget:
    return OllamaTarget.model_validate({"url": sim.urls["ollama"], "deep_probe": True,
                                        "timeout_ms": 2000, "deep_timeout_ms": 3000,
                                        "gpu_check": "off", **kwargs})


async def runner_ctx(sim) -> int:
    async with httpx.AsyncClient() as http:  # the runner's context through ps, not internals
        ps = (await http.get(sim.urls["ollama"] + "/api/ps")).json()
    return ps["models"][0]["context_length"]


async def test_deep_probe_copies_num_ctx_and_causes_no_reload(sim):
    async with ollama.AsyncClient(host=sim.urls["ollama"]) as client:  # another app's options
        await client.generate(model=MODEL, prompt="x", options={"num_ctx": 4096})
    result = await probe_ollama.probe(target(sim))
    assert result.status is Status.OK, result.summary
    assert "loaded (fully in VRAM, num_ctx 4096)" in result.summary
    assert result.readings["load_duration_ms"].value < 100
    assert await runner_ctx(sim) == 4096  # the probe left the runner as it found it
    assert result.readings["tokens_per_s"].value == pytest.approx(40.0, rel=0.01)
    assert result.details["required"]["context_length"] == 4096


async def test_generates_the_configured_tokens(sim):
    result = await probe_ollama.probe(target(sim, deep_num_predict=16))
    eval_s = 16 / 40.0  # the simulator generates at 40 tokens/s
    assert result.readings["tokens_per_s"].value == pytest.approx(16 / eval_s, rel=0.01)


async def test_reload_on_a_loaded_model_is_a_warning(sim):
    sim.set_scenario("ollama-reload")
    result = await probe_ollama.probe(target(sim))
    assert result.status is Status.WARNING
    assert "model reloaded by the probe/options mismatch (load 2400 ms although /api/ps " \
           "listed it loaded)" in result.summary
    assert result.details["required"]["reloaded"] is True


async def test_a_cold_load_is_not_a_reload(sim):
    sim.set_scenario("model-missing")
    async with ollama.AsyncClient(host=sim.urls["ollama"]) as client:
        with pytest.raises(ollama.ResponseError):
            await client.generate(model=MODEL, prompt="x")  # unloads it
    sim.set_scenario("normal")
    result = await probe_ollama.probe(target(sim))
    assert result.status is Status.OK, result.summary
    assert "present, not loaded" in result.summary and "reloaded" not in result.summary
    assert result.readings["load_duration_ms"].value > 3000
    assert result.details["required"]["loaded_by_probe"] is True


async def test_queue_full_is_saturated_not_down(sim):
    sim.set_scenario("ollama-queue-full")
    result = await probe_ollama.probe(target(sim))
    assert result.status is Status.WARNING
    assert "saturated: server busy, the request queue is full" in result.summary
    assert "tokens_per_s" not in result.readings
    assert result.details["required"]["saturated"] is True


@pytest.mark.parametrize("deep", [False, True])
async def test_stuck_unloading(sim, deep):
    sim.set_scenario("ollama-stuck-unloading")
    result = await probe_ollama.probe(target(sim, deep_probe=deep))
    assert result.status is Status.WARNING
    assert re.search(r"stuck unloading: expires_at passed 60[01] s ago", result.summary)
    # the deep generate loads it again: that follows the unload, it is no options mismatch
    assert ("loaded again (2400 ms) after unloading" in result.summary) is deep
    assert "options mismatch" not in result.summary


async def test_expiry_just_passed_is_unloading_not_stuck(sim):
    # the simulator's expires_at is five minutes out: judge ten seconds past it
    result = await probe_ollama.probe(target(sim, deep_probe=False),
                                      now=lambda: time.time() + 5 * 60 + 10)
    assert result.status is Status.OK
    assert re.search(r"unloading \(keep_alive expired 1[01] s ago\)", result.summary), \
        result.summary


@pytest.mark.parametrize(("skip", "tested"), [(True, False), (False, True)])
async def test_live_traffic_replaces_the_deep_generate(sim, skip, tested):
    result = await probe_ollama.probe(target(sim, skip_deep_when_serving=skip), serving=True)
    assert result.status is Status.OK
    assert ("tokens_per_s" in result.readings) is tested
    assert ("generation proven by live traffic" in result.summary) is not tested


# --- /api/ps against NVML, with a fake NVML at its boundary -------------------------------

def reader(gpus, names, ollama_seen=True, **kwargs):
    """A fake NVML with these GPU processes; `ollama_seen`: psutil sees an Ollama here."""
    fake = FakeNvml([FakeGpu(processes=procs) for procs in gpus], **kwargs)

    def read() -> probe_ollama.GpuView:
        found = read_gpu_processes(fake, name_of=lambda pid: names.get(pid, ""))
        return probe_ollama.GpuView(found, ollama_seen)

    return fake, read


def test_read_gpu_processes_through_fake_nvml():
    fake, read = reader([[(100, 5 * GIB)], [(200, None), (300, 2**64 - 1)]],
                        {100: "ollama", 200: "python"})
    assert read().processes == [GpuProcess(100, "ollama", 0, 5 * GIB),
                                GpuProcess(200, "python", 1, None), GpuProcess(300, "", 1, None)]
    assert fake.shut == 1


def test_no_driver_is_no_gpu():
    fake, read = reader([], {}, init_error=NVMLError_LibraryNotFound())
    with pytest.raises(NoGpu):
        read()
    _, empty = reader([], {})
    with pytest.raises(NoGpu):
        empty()


async def test_ps_claims_gpu_runner_is_on_cpu(sim):
    _, read = reader([[(4242, 2 * GIB)]], {4242: "python3"})  # something else holds the GPU
    result = await probe_ollama.probe(target(sim, gpu_check="auto"), gpu_processes=read)
    assert result.status is Status.WARNING
    assert "ps claims GPU (13142 MiB in VRAM), runner is on CPU (NVML: no Ollama runner " \
           "among the GPU's processes)" in result.summary
    assert result.readings["vram_share_percent"].value == 0.0  # NVML's truth, not ps's


async def test_runner_holding_little_memory_is_on_cpu(sim):
    _, read = reader([[(77, 300 * 1024 * 1024)]], {77: "ollama"})
    result = await probe_ollama.probe(target(sim, gpu_check="auto"), gpu_processes=read)
    assert result.status is Status.WARNING
    assert "runner is on CPU (NVML: Ollama runners hold 300 MiB)" in result.summary
    assert result.readings["vram_share_percent"].value == pytest.approx(
        100 * 300 * 1024 * 1024 / SIZE, rel=1e-6)


async def test_runner_on_gpu_agrees(sim):
    _, read = reader([[(77, SIZE // 2)], [(78, SIZE // 2)]], {77: "ollama", 78: "ollama"})
    result = await probe_ollama.probe(target(sim, gpu_check="auto"), gpu_processes=read)
    assert result.status is Status.OK, result.summary
    assert result.readings["vram_share_percent"].value == 100.0
    assert result.details["required"]["runner_gpu_bytes"] == 2 * (SIZE // 2)


@pytest.mark.parametrize(("gpus", "names", "seen", "words"), [
    ([[(5, GIB)]], {}, True, "GPU processes not visible from here"),
    ([[(5, None)]], {5: "ollama"}, True, "the driver reports no per-process memory"),
    # Ollama in another container (or a simulator): nothing here to compare ps with
    ([[(5, GIB)]], {5: "python3"}, False, "no Ollama process visible on this machine"),
    ([[]], {}, False, "no Ollama process visible on this machine"),
])
async def test_cross_check_skips_what_it_cannot_see(sim, gpus, names, seen, words):
    _, read = reader(gpus, names, ollama_seen=seen)
    result = await probe_ollama.probe(target(sim, gpu_check="auto"), gpu_processes=read)
    assert result.status is Status.OK
    assert f"NVML cross-check skipped: {words}" in result.summary


async def test_nvml_error_is_a_note_and_no_gpu_is_silent(sim):
    _, broken = reader([[]], {}, init_error=NVMLError("Unknown Error"))
    result = await probe_ollama.probe(target(sim, gpu_check="auto"), gpu_processes=broken)
    assert result.status is Status.OK and "NVML cross-check skipped: Unknown Error" in \
        result.summary
    _, none = reader([], {}, init_error=NVMLError_DriverNotLoaded())
    result = await probe_ollama.probe(target(sim, gpu_check="auto"), gpu_processes=none)
    assert result.status is Status.OK and "NVML" not in result.summary


async def test_gpu_check_off_never_reads_nvml(sim):
    def must_not_run():
        raise AssertionError("NVML read with gpu_check: off")

    result = await probe_ollama.probe(target(sim, gpu_check="off"), gpu_processes=must_not_run)
    assert result.status is Status.OK


@pytest.mark.parametrize(("url", "local"), [
    ("http://localhost:11434", True), ("http://127.0.0.1:1", True), ("http://[::1]:2", True),
    ("http://gpu-box.lan:11434", False),
])
def test_nvml_only_sees_this_machine(url, local):
    assert probe_ollama.is_local(url) is local


@pytest.mark.parametrize(("readings", "proven"), [
    ({probe_ollama.SERVING_READING: Reading(840.0, "ms")}, True),
    ({probe_ollama.SERVING_READING: Reading(float("nan"), "ms")}, False),  # no traffic
    ({probe_ollama.SERVING_READING: Reading(None, "ms", "query failed")}, False),
    ({}, False),
])
def test_generation_proven_by_the_apps_think_path_metrics(readings, proven):
    prom = ProbeResult("prometheus", Status.OK, "", readings=readings)
    assert probe_ollama.generation_proven(prom) is proven
    assert probe_ollama.generation_proven(None) is False


@pytest.mark.parametrize(("scenario", "slow"), [("normal", False), ("local-ai-degraded", True)])
async def test_tokens_per_s_against_the_baseline(sim, scenario, slow):
    sim.set_scenario(scenario)
    result = await probe_ollama.probe(target(sim, baseline_tokens_per_s=38))
    assert ("under half the baseline 38 (model partly on CPU?)" in result.summary) is slow
    assert (result.status is Status.WARNING) is slow
