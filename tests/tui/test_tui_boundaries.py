"""The dashboard only reads snapshots and sends commands: checked on the source text
(the import-linter contracts in pyproject.toml belong to the agent side)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TUI = Path(__file__).resolve().parents[2] / "tui"
NEVER = ("agent.probes", "agent.store", "agent.runtime", "agent.check", "agent.api",
         "sqlite3", "rules", "alerts", "psutil", "pynvml", "openai", "ollama")
ONLY_IN_SOURCE = ("agent.service", "agent.demo")


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


# bench.py is the benchmark harness (`python -m tui.bench`), not the dashboard: it
# measures processes with psutil and starts the simulator and an agent to attach to.
FILES = sorted(p for p in TUI.rglob("*.py") if p.name != "bench.py")


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(TUI)))
def test_no_probing_or_sql_in_the_dashboard(path):
    for name in imports(path):
        assert not any(name == bad or name.startswith(bad + ".") for bad in NEVER), name
        if path.name != "source.py":
            assert name not in ONLY_IN_SOURCE, f"{name}: only tui/source.py starts the agent"
        if path.parent.name in ("widgets", "screens") or path.name in ("app.py", "format.py"):
            assert not name.startswith(("agent", "simulator")), f"{name} in a widget/screen"


def test_format_is_pure():
    assert not any(n.startswith(("textual", "httpx", "asyncio")) for n in
                   imports(TUI / "format.py"))
