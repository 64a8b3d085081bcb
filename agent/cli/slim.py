"""Start-up kept lean: what every command-line program (alice-ops check, alice-agent,
alice-tui) does before its first heavy import. Imports nothing but `sys`, so the dashboard
may call it too (tests/tui/test_tui_boundaries.py keeps probes out of the TUI)."""

from __future__ import annotations

import sys


def without_httpx_cli() -> None:
    """Keep httpx from importing its own command-line client (`httpx._main`: click, rich and
    pygments, ~40-80 ms and ~4-6 MB) by marking it unimportable; httpx then goes without it,
    and nothing of ours calls it. Only when httpx is not loaded yet, so nothing already
    imported changes (a process that imported httpx keeps what it has)."""
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[assignment]
