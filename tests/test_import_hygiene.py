"""Boundaries that keep the CLI fast and the layers honest (harlequin's import-hygiene test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys, json\n"
                          "print(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint)], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:]


def test_cli_start_does_not_load_heavy_clients():
    loaded = _modules_after("from agent.cli.main import build_parser; build_parser()")
    for heavy in ("openai", "ollama", "textual", "prometheus_api_client", "psutil", "pynvml"):
        assert heavy not in loaded, heavy


def test_the_agent_side_never_imports_textual():
    loaded = _modules_after("import agent.check, agent.config, agent.store, agent.api, "
                            "agent.exporter, alerts.dispatch, rules.alerting")
    assert "textual" not in loaded
