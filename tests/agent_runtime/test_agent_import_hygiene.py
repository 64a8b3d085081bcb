"""The headless agent's modules never load textual on import (after running its cycles:
test_agent_footprint.py, which checks textual among the rest)."""

from __future__ import annotations

import json
import subprocess
import sys

from agentproc import ROOT


def test_agent_modules_do_not_import_textual():
    code = ("import sys, json, agent.cli.agent_main, agent.runtime, agent.scheduler, agent.api, "
            "agent.snapshot, agent.silences, agent.exporter; "
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'textual')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=ROOT)
    assert json.loads(out.stdout.splitlines()[-1]) == []
