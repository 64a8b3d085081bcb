"""Only agent/runtime.py touches the runtime's private attributes: every other module
(the checklist and remediation controllers above all) goes through its public methods
or the `agent.cycle_port.CyclePort` it is given."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("agent", "tui", "alerts", "rules")
RUNTIME_NAMES = {"rt", "runtime", "port"}  # what a holder of the runtime calls it


def _holder(node: ast.expr) -> str | None:
    """The name an expression is known by: `self._rt` -> `_rt`, `service.runtime`
    -> `runtime`, `rt` -> `rt`."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def private_accesses(source: str) -> list[tuple[int, str]]:
    """(line, text) of every `<runtime>._name` access in `source`, `<runtime>` being any
    expression named rt, _rt, runtime, _runtime, port or _port (dunders excepted)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Attribute) or not node.attr.startswith("_") \
                or node.attr.startswith("__"):
            continue
        holder = _holder(node.value)
        if holder is not None and holder.lstrip("_") in RUNTIME_NAMES:
            found.append((node.lineno, f"{holder}.{node.attr}"))
    return sorted(found)


def test_the_walk_finds_real_violations():
    sample = ("def f(self, service, rt):\n"
              "    self._rt._clock()\n"
              "    service.runtime._store\n"
              "    rt._publish(1)\n"
              "    self._rt.now(); self._rt.__class__; self._other._x\n")
    assert private_accesses(sample) == [(2, "_rt._clock"), (3, "runtime._store"),
                                        (4, "rt._publish")]


def test_no_module_but_the_runtime_reaches_into_it():
    offenders = []
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == ROOT / "agent" / "runtime.py":
                continue
            for line, text in private_accesses(path.read_text(encoding="utf-8")):
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {text}")
    assert not offenders, "\n".join(offenders)
