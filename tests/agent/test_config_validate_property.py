"""Property: whatever `parse_config` (so `config validate`) accepts, `check` runs and the
agent's runtime builds and starts on, without an unexpected error; whatever it refuses is
refused in lines that each name the file.

Configs are drawn from a strategy over the schema, overrides included: targets on closed
loopback ports with short timeouts (probes fail fast), threshold and alert overrides that
match a row or alert or do not, receivers with and without names, playbook settings.
"""

from __future__ import annotations

import asyncio
import socket
from concurrent.futures import ThreadPoolExecutor

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.check import check
from agent.config import ConfigError, parse_config
from vocab.model import Status
from rules.playbooks import default_playbooks
from rules.thresholds import default_rows


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PORT = _closed_port()  # nothing listens there: connection refused at once
URL = f"http://127.0.0.1:{PORT}"
ROWS = [(r.component, r.metric) for r in default_rows()]
ALERTS = [f"{c}_health" for c in ("openai", "ollama", "gateway", "backend", "prometheus",
                                  "host")] + [m if m.startswith(f"{c}_") else f"{c}_{m}"
                                              for c, m in ROWS]
PLAYBOOKS = [p.name for p in default_playbooks()]
timeouts = st.integers(50, 300)
floats = st.floats(0, 1000, allow_nan=False)


def optional(strategy):
    return st.none() | strategy


targets = st.fixed_dictionaries({}, optional={
    "openai": st.fixed_dictionaries({"base_url": st.just(f"{URL}/v1"), "api_key": st.just("k"),
                                     "timeout_ms": timeouts}),
    "ollama": st.fixed_dictionaries({"url": st.just(URL), "timeout_ms": timeouts}),
    "gateway": st.fixed_dictionaries({"url": st.just(URL), "timeout_ms": timeouts}),
    "backend": st.fixed_dictionaries({"url": st.just(URL), "timeout_ms": timeouts}),
    "prometheus": st.fixed_dictionaries({"url": st.just(URL), "timeout_ms": timeouts}),
    "host": st.fixed_dictionaries({}, optional={
        "gpu": st.sampled_from(["auto", "required", "off", False, True, "on"])}),
    "endpoints": st.lists(st.fixed_dictionaries(
        {"name": st.sampled_from(["calendar", "spotify", "host"]), "url": st.just(URL),
         "timeout_ms": timeouts},
        optional={"latency_target_ms": st.floats(1, 500), "latency_alert_ms": st.floats(1, 500)}),
        max_size=2),
})
component_metric = st.sampled_from(ROWS) | st.tuples(
    st.sampled_from(["openai", "backend", "calendar"]), st.sampled_from(["made_up", "x_ms"]))
threshold = component_metric.flatmap(lambda cm: st.fixed_dictionaries(
    {"component": st.just(cm[0]), "metric": st.just(cm[1])},
    optional={"target": floats, "alert": floats, "enabled": st.booleans(),
              "direction": st.sampled_from(["lower", "higher"]), "title": st.just("t"),
              "unit": st.sampled_from(["ms", "%", ""]), "probe": st.just("latency_ms")}))
alert_rule = st.fixed_dictionaries(
    {"alert": st.sampled_from(ALERTS) | st.sampled_from(["openai_helth", "calendar_health",
                                                         "calendar_latency_ms"])},
    optional={"for_s": st.floats(0, 60), "failure_threshold": st.integers(1, 3),
              "severity_floor": st.sampled_from(["warning", "critical"])})
receiver = st.fixed_dictionaries(
    {"url": st.sampled_from(["http://am-a:9093", "http://am-b:9093", "https://hook.example/x"])},
    optional={"name": st.sampled_from(["pager", "log", "am"])})
configs = st.fixed_dictionaries({}, optional={
    "targets": targets,
    "check": st.fixed_dictionaries({"deadline_s": st.floats(0.5, 2)}),
    "thresholds": st.lists(threshold, max_size=3),
    "alerts": st.fixed_dictionaries({"rules": st.lists(alert_rule, max_size=3)}),
    "notifiers": st.fixed_dictionaries({}, optional={"alertmanagers": st.lists(receiver,
                                                                                max_size=2),
                                                     "webhooks": st.lists(receiver,
                                                                          max_size=2)}),
    "remediation": st.fixed_dictionaries({"playbooks": st.dictionaries(
        st.sampled_from([*PLAYBOOKS[:3], "no-such-playbook"]),
        st.fixed_dictionaries({"mode": st.sampled_from(["off", "dry-run", False])}),
        max_size=2)}),
    "cost": st.just({}),
})


async def _agent_loads(config, tmp_path) -> None:
    """The agent's construction on this config, as AgentService.start does it (store,
    notifiers, runtime, its start), without serving or scheduling probes."""
    from agent.runtime import Runtime
    from agent.service import make_notifiers
    from agent.store import Store

    loop = asyncio.get_running_loop()
    executor = ThreadPoolExecutor(1)  # the store lives on its thread, as in the agent
    store = await loop.run_in_executor(executor, Store.open, tmp_path / "state.db")
    try:
        runtime = Runtime(config, store, executor, make_notifiers(config))
        await runtime.start()
        await runtime.stop()
    finally:
        await loop.run_in_executor(executor, store.close)
        executor.shutdown(wait=True)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=configs)
def test_what_validate_accepts_check_and_the_agent_load(data, tmp_path_factory):
    text = yaml.safe_dump(data, sort_keys=False)
    try:
        config = parse_config(text, "gen.yaml", {})
    except ConfigError as exc:
        assert exc.problems and all(line.startswith("gen.yaml") and "\n" not in line
                                    for line in exc.problems)
        return
    config = config.model_copy(update={"check": config.check.model_copy(
        update={"deadline_s": min(config.check.deadline_s, 2.0)})})
    report = asyncio.run(check(config))
    assert isinstance(report.status, Status)
    asyncio.run(_agent_loads(config, tmp_path_factory.mktemp("agent")))


def test_the_strategy_reaches_both_sides():
    """The property is not vacuous: drawn configs are accepted and refused alike."""
    from hypothesis import find

    for section in (lambda d: d.get("thresholds"), lambda d: d.get("alerts", {}).get("rules"),
                    lambda d: d.get("notifiers", {}).get("alertmanagers"),
                    lambda d: d.get("remediation", {}).get("playbooks")):
        find(configs, lambda d, section=section: bool(section(d)) and _accepted(d))
        find(configs, lambda d, section=section: bool(section(d)) and not _accepted(d))


def _accepted(data) -> bool:
    try:
        parse_config(yaml.safe_dump(data), "gen.yaml", {})
    except ConfigError:
        return False
    return True
