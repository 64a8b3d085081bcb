"""The agent wires the Ollama probe's extras: its exporter on /metrics (load events counted
across scrapes), the deep generate stepping aside while live traffic proves generation, and
one Xid watcher for the agent's life."""

from __future__ import annotations

import asyncio
import re
import time

import yaml
from agentproc import write_config

from agent.check import probe_jobs, threshold_rows
from agent.config import parse_config
from vocab.model import ProbeResult, Reading, Status
from agent.probes.ollama import SERVING_READING


def _sample(text: str, name: str, **labels: str) -> float | None:
    for line in text.splitlines():
        m = re.match(rf"^{name}(\{{[^}}]*\}})? (\S+)$", line)
        if m and all(f'{k}="{v}"' in (m.group(1) or "") for k, v in labels.items()):
            return float(m.group(2))
    return None


def _with_deep_ollama(path) -> None:
    doc = yaml.safe_load(path.read_text())
    doc["targets"]["ollama"].update(deep_probe=True, deep_timeout_ms=5000)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


async def test_metrics_carry_the_ollama_exporter_and_its_load_events_add_up(
        tmp_path, sim, start_agent):
    config = write_config(tmp_path / "alice-ops.yaml", sim.urls, data_path=tmp_path / "state.db",
                          components=("ollama",))
    _with_deep_ollama(config)
    agent = await start_agent(config)
    sim.set_scenario("ollama-reload")  # every deep generate reloads the model
    deadline, loads, text = time.monotonic() + 30, None, ""
    while time.monotonic() < deadline:
        text = (await agent.get("/metrics")).text
        loads = _sample(text, "alice_ops_ollama_model_loads_total", model="gpt-oss:20b")
        if loads is not None and loads >= 3:
            break
        await asyncio.sleep(0.3)
    assert _sample(text, "alice_ops_ollama_up") == 1.0, text[-2000:]
    # a counter built anew for every scrape would never pass one step's worth
    assert loads is not None and loads >= 3, text[-2000:]


async def test_the_deep_generate_steps_aside_while_live_traffic_proves_generation(tmp_path, sim):
    doc = {"targets": {"ollama": {"url": sim.urls["ollama"], "deep_probe": True,
                                  "deep_timeout_ms": 5000}, "host": {"gpu": "off"}}}
    config = parse_config(yaml.safe_dump(doc), "alice-ops.yaml")
    rows = threshold_rows(config)
    serving = ProbeResult("prometheus", Status.OK, "ok",
                          readings={SERVING_READING: Reading(812.0, "ms")})
    idle = ProbeResult("prometheus", Status.OK, "ok",
                       readings={SERVING_READING: Reading(None, reason="no series")})
    for latest, skipped in ((serving, True), (idle, False), (None, False)):
        jobs = probe_jobs(config, rows, latest=lambda name, r=latest: r if name == "prometheus"
                          else None)
        result = await jobs["ollama"][0]()
        assert ("deep probe skipped" in result.summary) is skipped, result.summary
    one_shot = await probe_jobs(config, rows)["ollama"][0]()  # a check has no latest results
    assert "deep probe skipped" not in one_shot.summary


async def test_the_host_job_polls_the_agents_xid_watcher():
    config = parse_config(yaml.safe_dump({"targets": {"host": {"gpu": "auto"}}}), "a.yaml")
    polled = []

    def xids():
        polled.append(1)
        return []

    await probe_jobs(config, threshold_rows(config), xids=xids)["host"][0]()
    assert polled == [1]
    off = parse_config(yaml.safe_dump({"targets": {"host": {"gpu": "off"}}}), "a.yaml")
    await probe_jobs(off, threshold_rows(off), xids=xids)["host"][0]()
    assert polled == [1]  # gpu: off reads no NVML at all
