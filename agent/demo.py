"""`--demo`: the built-in simulator on loopback, a config that points at it, and a sandbox.

A demo keeps all of its state in one temporary directory (`sandbox()`, removed at exit):
the state file, the remediation lock beside it, and a compose directory holding the `.env`
and compose files the playbooks name. Configs built here are `DemoConfig`s: remediation's
`compose` and `command` steps are recorded ("demo: would run docker compose ..."), never
run (`agent.remediation.steps.executor_for`). Nothing touches the XDG directories, the
current directory or a real agent's lock.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import AsyncIterator, Iterator

from agent.config import Config, parse_config
from agent.sandbox import DemoConfig, as_demo, is_demo  # noqa: F401 - re-exported

DEMO_API_KEY = "sk-sim-demo-key-0000000000"
SANDBOX_PREFIX = "alice-ops-demo-"
DEMO_ENV = """\
# The demo's stand-in for Alice's .env (alice-ops --demo sandbox; removed at exit)
VOICE_ARCHITECTURE=hybrid
FAST_PATH_ENABLED=true
FAST_PATH_THRESHOLD=0.85
FAST_RESPONSE_TIMEOUT_MS=300
"""


def demo_config(urls: dict[str, str], api_key: str = DEMO_API_KEY,
                profile: str = "guide") -> DemoConfig:
    """A config for the simulator's URLs (deep Ollama probe on: it is free locally).
    Profile alice-main: the real Alice main backend's surface (health sub-statuses, the
    WebSocket on the backend, its JSON metrics, its NLU agent), no separate gateway."""
    head = f"""
targets:
  openai: {{base_url: "{urls['openai']}", api_key: "${{ALICE_DEMO_KEY}}", model: "gpt-4o-mini"}}
  ollama: {{url: "{urls['ollama']}", model: "gpt-oss:20b", deep_probe: true, deep_timeout_ms: 5000}}
"""
    if profile == "alice-main":
        text = head + ALICE_MAIN_TARGETS.format(**urls)
    else:
        text = head + f"""\
  gateway: {{url: "{urls['gateway']}"}}
  backend: {{url: "{urls['backend']}"}}
  prometheus: {{url: "{urls['prometheus']}"}}
"""
    return as_demo(parse_config(text, "<demo>", {"ALICE_DEMO_KEY": api_key}))


# targets fitted to the simulator's alice-main profile (what discover finds on the real one)
ALICE_MAIN_TARGETS = """\
  backend:
    url: "{backend}"
    health:
      path: /api/health
      status_path: status
      sub_statuses: [database.status, "services.*"]
  gateway:
    url: "{backend}"
    health: null
    websocket:
      path: /ws/alice
      send: '{{"type": "ping"}}'
      expect: {{json_path: type, equals: pong}}
  nlu:
    url: "{nlu}"
    path: /nlu/classify
    intent_path: intent
    confidence_path: score
    latency_path: null
    # Alice's NLU agent TOOL_MAP (nlu-agent/), as docs/nlu-bench.md tells an operator to copy
    aliases: {{VOL_UP: SET_VOLUME, VOL_DOWN: SET_VOLUME, SET_VOL: SET_VOLUME,
              SET_VOL_MAX: SET_VOLUME, SET_VOL_MIN: SET_VOLUME, VOL_UP_SHORT: SET_VOLUME,
              VOL_DOWN_SHORT: SET_VOLUME, SEEK_FWD: SEEK, SEEK_BACK: SEEK, SEEK_TO: SEEK}}
  prometheus: {{url: "{prometheus}"}}
  json_metrics:
    - {{name: alice_metrics, component: backend, url: "{backend}/api/metrics"}}
"""


@contextlib.contextmanager
def sandbox(prefix: str = SANDBOX_PREFIX) -> Iterator[Path]:
    """A fresh temporary directory for one demo's state, removed when the block ends."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        yield Path(tmp)


def sandboxed(config: Config, root: Path) -> DemoConfig:
    """`config` with every piece of state in `root`: `state.db` (so the remediation lock
    beside it too), and `compose/` as remediation.compose_dir with a demo `.env` and the
    compose files the playbooks name (written here if missing)."""
    root = Path(root)
    compose = root / "compose"
    compose.mkdir(mode=0o700, exist_ok=True)
    env_file = compose / ".env"
    if not env_file.exists():
        env_file.write_text(DEMO_ENV, encoding="utf-8")
    rem = config.remediation
    for name in rem.compose_files.values():
        target = compose / name
        if target.resolve().is_relative_to(compose.resolve()) and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("# demo placeholder: compose steps are recorded, not run\n",
                              encoding="utf-8")
    return as_demo(config.model_copy(update={
        "agent": config.agent.model_copy(update={"data_path": str(root / "state.db")}),
        "remediation": rem.model_copy(update={"compose_dir": str(compose),
                                               "env_file": str(env_file)})}))


def with_demo_capabilities(config: Config, data_path: str | None = None) -> DemoConfig:
    """The demo as an agent runs it (`alice-agent --demo`, `alice-tui --demo`): spend
    tracking (`cost: {}`) and the operations checklists (`checklists: {}`) on with every
    default, so the routing split, spend, budgets and today's checklist runs show the
    simulator's traffic. With `data_path`, its directory is the demo's sandbox
    (`sandboxed`): state, lock, compose directory and `.env` all there."""
    from agent.config import ChecklistSettings, CostSettings

    update: dict = {}
    if config.cost is None:
        update["cost"] = CostSettings()
    if config.checklists is None:
        update["checklists"] = ChecklistSettings()
    config = as_demo(config.model_copy(update=update))
    if data_path is not None:
        config = sandboxed(config, Path(data_path).parent)
        config = config.model_copy(update={
            "agent": config.agent.model_copy(update={"data_path": str(data_path)})})
    return config


@contextlib.asynccontextmanager
async def demo_stack(scenario: str = "normal", warmup_s: float = 0.0, profile: str = "guide"
                     ) -> AsyncIterator[tuple[object, DemoConfig]]:
    """Simulator (of `profile`) on free loopback ports plus its config, for the block."""
    import asyncio

    from simulator.server import SimPorts, Simulator

    sim = Simulator(scenario=scenario, ports=SimPorts(0, 0, 0, 0, 0), api_key=DEMO_API_KEY,
                    profile=profile)
    await sim.start()
    try:
        if warmup_s:
            await asyncio.sleep(warmup_s)  # let simulated traffic fill the metric windows
        yield sim, demo_config(sim.urls, profile=profile)
    finally:
        await sim.stop()

