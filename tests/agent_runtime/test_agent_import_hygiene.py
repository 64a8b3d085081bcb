"""The headless agent never loads textual: not on import, not after running its cycles."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

from agentproc import ROOT, write_config

RUN_AND_CHECK = ("import sys; from agent.cli.agent_main import main; rc = main(sys.argv[1:]); "
                 "assert 'textual' not in sys.modules, 'textual was imported'; "
                 "print('textual-free', rc)")


def test_agent_modules_do_not_import_textual():
    code = ("import sys, json, agent.cli.agent_main, agent.runtime, agent.scheduler, agent.api, "
            "agent.snapshot, agent.silences, agent.exporter; "
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'textual')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=ROOT)
    assert json.loads(out.stdout.splitlines()[-1]) == []


async def test_a_running_agent_never_imports_textual(tmp_path, sim, start_agent):
    config = write_config(tmp_path / "alice-ops.yaml", sim.urls, data_path=tmp_path / "state.db",
                          components=("openai", "ollama", "gateway", "backend", "prometheus"))
    agent = start_agent.make(config, launcher=("-c", RUN_AND_CHECK))
    await agent.start()
    await agent.wait_for(lambda s: len(s["agent"]["cycles_total"]) == 6
                         and min(s["agent"]["cycles_total"].values()) >= 2,
                         "every probe run twice")
    agent.signal(signal.SIGTERM)
    assert await agent.wait_exit() == 0, agent.tail()
    assert agent.out_path.read_text().split() == ["textual-free", "0"]
