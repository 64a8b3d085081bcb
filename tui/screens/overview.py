"""Screen 1, Overview: everything that matters on one 80x24 screen.

A tile per component, the routing split, the spend line, firing alerts newest first;
the header carries the overall status and the data's age (STALE when updates stop).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid

from tui.screens.base import DashboardScreen
from tui.widgets.component_tile import ComponentTile
from tui.widgets.firing_alerts import FiringAlerts
from tui.widgets.routing_bar import RoutingBar
from tui.widgets.spend_gauge import SpendGauge


class OverviewScreen(DashboardScreen):
    NAME, TITLE, NUMBER = "overview", "Overview", 1

    def __init__(self) -> None:
        super().__init__()
        self._tiles: dict[str, ComponentTile] = {}

    def compose_body(self) -> ComposeResult:
        yield Grid(id="tiles")
        yield RoutingBar(id="routing")
        yield SpendGauge(id="spend")
        yield FiringAlerts(id="firing")

    def show(self, snapshot: dict) -> None:
        components = {c["name"]: c for c in snapshot.get("components") or []}
        if list(self._tiles) != list(components):  # first snapshot, or the config changed
            grid = self.query_one("#tiles", Grid)
            grid.remove_children()
            self._tiles = {name: ComponentTile(name, c) for name, c in components.items()}
            grid.mount(*self._tiles.values())
        else:
            for name, c in components.items():
                self._tiles[name].component = c  # in place: no remount, no flicker
        self.query_one(RoutingBar).snapshot = snapshot
        self.query_one(SpendGauge).snapshot = snapshot
        self.query_one(FiringAlerts).snapshot = snapshot

    @on(ComponentTile.Selected)
    def _details(self, event: ComponentTile.Selected) -> None:
        from tui.screens.detail import ComponentDetail

        snapshot = self.app.snapshot or {}
        for c in snapshot.get("components") or []:
            if c["name"] == event.name:
                self.app.push_screen(ComponentDetail(c, snapshot, self.app.now,
                                                     self.app.ascii_only))
