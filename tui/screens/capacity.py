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
        yield Static(Text("scaling recommendations by user load (the guide's Capacity "
                          "Planning table): `alice-ops capacity` (the agent's snapshot does "
                          "not carry them)", style="dim"), id="capacity-note")

    def show(self, snapshot: dict) -> None:
        self.query_one(HostPanel).snapshot = snapshot
