"""The running agent carries only what its cycles use (issue 15: RSS and start-up CPU): after
it has probed every component twice and stopped, its process never imported the dashboard,
the SDKs of the deep probes, the Grafana SDK or httpx's command-line client."""

from __future__ import annotations

import json
import signal

from agentproc import write_config

# Run alice-agent's main() and, once it stopped cleanly, print what the process imported.
RUN_AND_LIST = ("import sys, json; from agent.cli.agent_main import main; rc = main(sys.argv[1:]); "
                "print(json.dumps({'rc': rc, 'modules': sorted(m for m, v in sys.modules.items() "
                "if v is not None)}))")

# Never needed by a running agent without deep probes: the TUI (textual, rich), httpx's CLI
# (click, pygments), the official SDKs (only deep probes import them), Grafana's SDK (only
# `alice-ops grafana`), and the requests stack of prometheus-api-client.
NOT_AT_RUN_TIME = ("textual", "rich", "click", "pygments", "httpx._main", "openai", "ollama",
                   "grafana_foundation_sdk", "prometheus_api_client", "requests", "agent.grafana",
                   "tui")


async def test_a_running_agent_loads_only_what_its_cycles_use(tmp_path, sim, start_agent):
    config = write_config(tmp_path / "alice-ops.yaml", sim.urls, data_path=tmp_path / "state.db",
                          components=("openai", "ollama", "gateway", "backend", "prometheus"))
    agent = start_agent.make(config, launcher=("-c", RUN_AND_LIST))
    await agent.start()
    await agent.wait_for(lambda s: len(s["agent"]["cycles_total"]) == 6
                         and min(s["agent"]["cycles_total"].values()) >= 2,
                         "every probe run twice")
    agent.signal(signal.SIGTERM)
    assert await agent.wait_exit() == 0, agent.tail()
    report = json.loads(agent.out_path.read_text().splitlines()[-1])
    assert report["rc"] == 0
    modules = set(report["modules"])
    assert "agent.runtime" in modules and "httpx" in modules  # it did run its cycles
    loaded = sorted(m for m in modules
                    if any(m == name or m.startswith(name + ".") for name in NOT_AT_RUN_TIME))
    assert loaded == []
