"""`--demo`: start the built-in simulator on loopback and a config that points at it."""

from __future__ import annotations

import contextlib
from typing import AsyncIterator

from agent.config import Config, parse_config

DEMO_API_KEY = "sk-sim-demo-key-0000000000"


def demo_config(urls: dict[str, str], api_key: str = DEMO_API_KEY) -> Config:
    """A config for the simulator's URLs (deep Ollama probe on: it is free locally)."""
    text = f"""
targets:
  openai: {{base_url: "{urls['openai']}", api_key: "${{ALICE_DEMO_KEY}}", model: "gpt-4o-mini"}}
  ollama: {{url: "{urls['ollama']}", model: "gpt-oss:20b", deep_probe: true, deep_timeout_ms: 5000}}
  gateway: {{url: "{urls['gateway']}"}}
  backend: {{url: "{urls['backend']}"}}
  prometheus: {{url: "{urls['prometheus']}"}}
"""
    return parse_config(text, "<demo>", {"ALICE_DEMO_KEY": api_key})


def with_demo_capabilities(config: Config, data_path: str | None = None) -> Config:
    """The demo as an agent runs it (`alice-agent --demo`, `alice-tui --demo`): spend
    tracking (`cost: {}`) and the operations checklists (`checklists: {}`) on with every
    default, so the routing split, spend, budgets and today's checklist runs show the
    simulator's traffic; state in `data_path` when given."""
    from agent.config import ChecklistSettings, CostSettings

    update: dict = {}
    if data_path is not None:
        update["agent"] = config.agent.model_copy(update={"data_path": data_path})
    if config.cost is None:
        update["cost"] = CostSettings()
    if config.checklists is None:
        update["checklists"] = ChecklistSettings()
    return config.model_copy(update=update)


@contextlib.asynccontextmanager
async def demo_stack(scenario: str = "normal", warmup_s: float = 0.0
                     ) -> AsyncIterator[tuple[object, Config]]:
    """Simulator on free loopback ports plus its config, for the length of the block."""
    import asyncio

    from simulator.server import SimPorts, Simulator

    sim = Simulator(scenario=scenario, ports=SimPorts(0, 0, 0, 0, 0), api_key=DEMO_API_KEY)
    await sim.start()
    try:
        if warmup_s:
            await asyncio.sleep(warmup_s)  # let simulated traffic fill the metric windows
        yield sim, demo_config(sim.urls)
    finally:
        await sim.stop()
