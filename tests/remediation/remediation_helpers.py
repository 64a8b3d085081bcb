"""Shared bits of the remediation tests (a module name no other test dir uses)."""

from __future__ import annotations

import asyncio
import time

from agent.config import Config, parse_config

SIM_KEY = "sk-sim-remediation-test-0000000000"


def agent_yaml(sim, tmp_path, key: str = SIM_KEY) -> str:
    """The `targets` (openai with `key`, backend) and `agent` sections of the config of a
    real agent on `sim` whose state lives in `tmp_path`; callers add the rest."""
    return f"""
targets:
  openai: {{base_url: "{sim.urls['openai']}", api_key: "{key}"}}
  backend: {{url: "{sim.urls['backend']}"}}
agent:
  listen: "127.0.0.1:0"
  data_path: "{tmp_path / 'state.db'}"
  intervals: {{fast_s: 0.2}}
"""


def storm_config(sim, tmp_path, hook_url: str, key: str = SIM_KEY) -> Config:
    """An agent that restarts the flapping OpenAI (openai-outage in execute) at most twice in
    ten minutes, then gives up: remediation_gave_up goes to the webhook at `hook_url`."""
    return parse_config(agent_yaml(sim, tmp_path, key) + f"""\
alerts: {{success_threshold: 1, flap_window_s: 0}}
notifiers:
  webhooks: [{{name: ops, url: "{hook_url}"}}]
remediation:
  compose_dir: "{tmp_path}"
  cooldown_s: 0.3
  limit: 2
  window_s: 600
  playbooks: {{openai-outage: {{mode: execute}}}}
""", "<test>")


async def wait_for(predicate, timeout_s: float = 15.0, interval_s: float = 0.1):
    """Poll the async `predicate` until it returns something truthy, or fail."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(interval_s)
    raise AssertionError("condition not met in time")


async def cycles_pass(service, component: str, n: int, timeout_s: float = 15.0) -> None:
    """Wait until `component`'s probe job has run `n` more cycles, so a check that nothing
    more happened covers real cycles rather than a guess at how many fit in a second."""
    def count() -> int:
        snap = service.runtime.snapshot
        return snap.stats.cycles_total.get(component, 0) if snap is not None else 0

    start = count()

    async def passed() -> bool:
        return count() >= start + n
    await wait_for(passed, timeout_s=timeout_s)


def endpoints_config(sim, tmp_path, endpoints: int):
    """The healthy backend plus `endpoints` extra endpoints, each probed every 0.2 s."""
    backend = sim.urls["backend"]
    names = [f"tool-{i:02d}" for i in range(endpoints)]
    listed = "".join(f'\n    - {{name: {n}, url: "{backend}/tools/{n}/health"}}' for n in names)
    per_component = ", ".join(f"{n}: 0.2" for n in names)
    return parse_config(f"""
targets:
  backend: {{url: "{backend}"}}
  endpoints:{listed}
agent:
  listen: "127.0.0.1:0"
  data_path: "{tmp_path / 'state.db'}"
  intervals: {{per_component: {{{per_component}}}}}
""", "<test>")


async def run_healthy_agent_with_endpoints(sim, tmp_path, jobs: int = 300,
                                           endpoints: int = 30) -> tuple[int, dict]:
    """An in-process agent probing the healthy backend and `endpoints` extra endpoints every
    0.2 s until `jobs` jobs ran: (jobs done, its alert states). For counting work that
    should follow alert changes, not the number of jobs."""
    from agent.service import AgentService

    service = await AgentService.start(endpoints_config(sim, tmp_path, endpoints))
    try:
        def done() -> int:
            snap = service.runtime.snapshot
            return sum(snap.stats.cycles_total.values()) if snap is not None else 0

        async def enough() -> bool:
            return done() >= jobs

        await wait_for(enough, timeout_s=60)
        return done(), dict(service.runtime.states)
    finally:
        await service.stop()


def docker_that_succeeds(tmp_path, monkeypatch) -> None:
    """A `docker` on PATH that exits 0 for every command, and the local-only compose file a
    playbook verifies before it runs: remediation that would act, acting on nothing."""
    import os
    import sys

    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "docker").write_text(f"#!{sys.executable}\nimport sys\nsys.exit(0)\n")
    (bindir / "docker").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    (tmp_path / "docker-compose.local-only.yml").write_text(
        "services:\n  alice-backend: {image: alice}\n  voice-gateway: {image: gw}\n")
