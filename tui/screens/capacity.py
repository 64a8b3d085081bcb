"""Screen 6, Capacity / Host: CPU, memory, disk and GPU of this host and the think path's
headroom, from the snapshot's host and ollama components."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from tui.screens.base import DashboardScreen
from tui.widgets.host_panel import HostPanel


class CapacityScreen(DashboardScreen):
    NAME, TITLE, NUMBER = "capacity", "Capacity / Host", 6

    def compose_body(self) -> ComposeResult:
        yield HostPanel(id="host")
        dash = "-" if self.app.ascii_only else "—"
        yield Static(Text(f"scaling recommendations by user load (the guide's capacity table): "
                          f"not built yet {dash} lands with the capacity issue", style="dim"),
                     id="capacity-note")

    def show(self, snapshot: dict) -> None:
        self.query_one(HostPanel).snapshot = snapshot
