"""Every probe against the simulator through the official clients, in every scenario:
the right status and a reason a human understands."""

from __future__ import annotations

import asyncio

import pytest
from waiting import wait_for

from agent.check import check
from agent.config import parse_config
from vocab.model import Status
from simulator.scenarios import SCENARIOS
from simulator.server import run_in_thread

KEY = "sk-sim-probe-test-key-0000"
NETWORK = ("openai", "ollama", "gateway", "backend", "prometheus")
OK, WARN, CRIT = Status.OK, Status.WARNING, Status.CRITICAL

# scenario -> {component: (status, words the summary must contain)}; unlisted network
# components must be OK.
EXPECTED = {
    "normal": {},
    "openai-outage": {"openai": (CRIT, "server error (HTTP 503)")},
    "openai-slow": {"openai": (CRIT, "latency p95")},
    "openai-auth-failure": {"openai": (CRIT, "authentication failed")},
    "local-ai-degraded": {"ollama": (CRIT, "")},
    "model-missing": {"ollama": (CRIT, "model gpt-oss:20b not available")},
    "backend-degraded": {"backend": (WARN, "")},
    "gateway-down": {"gateway": (CRIT, "/health answered HTTP 503")},
    "accuracy-drop": {"backend": (CRIT, "accuracy")},
    "budget-burn": {},
    "hang": {name: (CRIT, "no answer within") for name in NETWORK},
    "garbage": {"openai": (CRIT, "not a models list"), "ollama": (CRIT, "non-JSON"),
                "gateway": (CRIT, "non-JSON"), "backend": (CRIT, "non-JSON"),
                "prometheus": (CRIT, "not Prometheus JSON")},
    # deep_probe is off for openai here: the quota and rate limits show in the error rate
    "openai-quota": {"openai": (CRIT, "error rate")},
    "openai-rate-limited": {"openai": (CRIT, "error rate")},
    "ollama-reload": {"ollama": (WARN, "model reloaded by the probe/options mismatch")},
    "ollama-queue-full": {"ollama": (CRIT, "saturated: server busy")},
    "ollama-stuck-unloading": {"ollama": (WARN, "stuck unloading")},
    "session-runaway": {},  # a cost matter (the session cap), not a component's health
}


def test_every_scenario_has_expectations():
    assert set(EXPECTED) == set(SCENARIOS)


@pytest.fixture(scope="module")
def stack():
    with run_in_thread(seed=5, api_key=KEY) as sim:
        u = sim.urls
        config = parse_config(f"""
targets:
  openai: {{base_url: "{u['openai']}", api_key: "{KEY}", timeout_ms: 1500}}
  ollama: {{url: "{u['ollama']}", deep_probe: true, timeout_ms: 1000, deep_timeout_ms: 1500}}
  gateway: {{url: "{u['gateway']}", timeout_ms: 1000}}
  backend: {{url: "{u['backend']}", timeout_ms: 1000}}
  prometheus: {{url: "{u['prometheus']}", timeout_ms: 1000}}
""", "<test>", {})
        yield sim, config


@pytest.mark.parametrize("scenario", list(EXPECTED))
def test_scenario(stack, scenario):
    sim, config = stack
    sim.set_scenario(scenario)
    reports = []

    def as_expected() -> bool:  # once the simulator's metric window follows (about 1 s)
        reports.append(asyncio.run(check(config)))
        return not mismatches(scenario, reports[-1])

    try:
        wait_for(as_expected, timeout=20, step=0.1)
    finally:
        sim.set_scenario("normal")
    assert mismatches(scenario, reports[-1]) == []


def mismatches(scenario: str, report) -> list[str]:
    components = {c.name: c for c in report.components}
    wrong = []
    for name in NETWORK:
        want_status, words = EXPECTED[scenario].get(name, (OK, ""))
        got = components[name]
        if got.status is not want_status or words.lower() not in got.summary.lower():
            wrong.append(f"{scenario}/{name}: {got.status.word}: {got.summary} "
                         f"(want {want_status.word}, {words!r})")
        if not got.summary or "Traceback" in got.summary or KEY in got.summary:
            wrong.append(f"{scenario}/{name}: summary empty, a traceback or the key")
    return wrong
