"""Config and state for the checklist tests: every target at the simulator."""

from __future__ import annotations

import time
from pathlib import Path

import yaml

from agent.store import Store

SIM_KEY = "sim-openai-key-checklists-4b1d"


def write_config(tmp_path: Path, urls: dict[str, str], **checklists) -> Path:
    """Every component at the simulator; host thresholds out of reach (the test box's
    own load is not what these tests judge); logs and a fresh backup in tmp_path."""
    logs = tmp_path / "logs"
    logs.mkdir(exist_ok=True)
    (logs / "alice.log").write_text("INFO started\nINFO ready\n")
    backups = tmp_path / "backups"
    backups.mkdir(exist_ok=True)
    (backups / "alice-1.tar.gz").write_bytes(b"x")
    doc = {
        "targets": {"openai": {"base_url": urls["openai"], "api_key": SIM_KEY},
                    "ollama": {"url": urls["ollama"]}, "gateway": {"url": urls["gateway"]},
                    "backend": {"url": urls["backend"]},
                    "prometheus": {"url": urls["prometheus"]}, "host": {"gpu": "off"}},
        "thresholds": [{"component": "host", "metric": m, "target": 101, "alert": 101}
                       for m in ("cpu_percent", "memory_percent", "disk_percent")],
        "agent": {"data_path": str(tmp_path / "state.db")},
        "security": {"log_globs": [str(logs / "*.log")]},
        "cost": {"budgets": {"daily_usd": 50}},
        "checklists": {"backups": [{"path": str(backups / "*.tar.gz"), "max_age_h": 26}],
                       **checklists},
    }
    path = tmp_path / "alice-ops.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def agent_has_run(tmp_path: Path, events: list[tuple[str, str, str]] = ()) -> None:
    """What a running alice-agent leaves in state.db: a committed cycle and its alert
    audit records (`(rule, firing|resolved, severity)`)."""
    from agent.store import AuditRecord

    now = time.time()
    with Store.open(tmp_path / "state.db") as store:
        store.commit_cycle(now - 3600, audit=[
            AuditRecord(now - 3600 + n, "agent", f"alert.{kind}", rule, sev, {})
            for n, (rule, kind, sev) in enumerate(events)])
