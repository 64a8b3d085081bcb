"""Screen 1, Overview: everything that matters on one 80x24 screen.

A tile per component (the spend line stands for the cost component), the routing split,
the spend gauge with its projection, firing alerts newest first;
the header carries the overall status and the data's age (STALE when updates stop).
"""

from __future__ import annotations

from typing import Any, Mapping

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid

from tui.screens.base import DashboardScreen
from tui.widgets.component_tile import ComponentTile
from tui.widgets.firing_alerts import FiringAlerts
from tui.widgets.routing_bar import RoutingBar
from tui.widgets.spend_gauge import SpendGauge, budget_of

COST_COMPONENT = "cost"


def tile_components(snapshot: Mapping[str, Any]) -> list[dict]:
    """Pure: the components that get a tile. The `cost` component's status is the
    spend gauge's (level word, bar, projection) when the snapshot has a cost section:
    no tile for it, so six Alice components still fit 80x24."""
    components = snapshot.get("components") or []
    if budget_of(snapshot) is None:
        return list(components)
    return [c for c in components if c.get("name") != COST_COMPONENT]


class OverviewScreen(DashboardScreen):
    NAME, TITLE, NUMBER = "overview", "Overview", 1

    def __init__(self) -> None:
        super().__init__()
        self._tiles: dict[str, ComponentTile] = {}
        self._views: dict[str | None, object] = {}  # what each widget below the tiles shows

    def compose_body(self) -> ComposeResult:
        yield Grid(id="tiles")
        yield RoutingBar(id="routing")
        yield SpendGauge(id="spend")
        yield FiringAlerts(id="firing")

    def show(self, snapshot: dict) -> None:
        components = {c["name"]: c for c in tile_components(snapshot)}
        if list(self._tiles) != list(components):  # first snapshots, or the config changed
            self._arrange(components)
        else:
            for name, c in components.items():
                tile = self._tiles[name]
                if tile.component != c:  # most snapshots change a few components only
                    tile.component = c  # in place: no remount, no flicker
        for widget in (self.query_one(RoutingBar), self.query_one(SpendGauge),
                       self.query_one(FiringAlerts)):
            view = widget.view_of(snapshot)
            if widget.snapshot is None or view != self._views.get(widget.id):
                self._views[widget.id] = view
                widget.snapshot = snapshot  # redraws it

    def _arrange(self, components: dict[str, dict]) -> None:
        """Tiles for a new list of components. The agent lists a component once it has
        been probed, so at start-up the list grows a few at a time: the tiles already
        there stay (updated in place) and only the new ones are mounted, in order."""
        grid = self.query_one("#tiles", Grid)
        old, names = self._tiles, list(components)
        kept = [name for name in names if name in old]
        if kept != list(old):  # one went, or the order changed: start over
            grid.remove_children()
            self._tiles = {name: ComponentTile(name, c) for name, c in components.items()}
            grid.mount(*self._tiles.values())
            return
        tiles: dict[str, ComponentTile] = {}
        pending: list[ComponentTile] = []  # new tiles to mount before the next kept one
        for name in names:
            if name in old:
                tile = tiles[name] = old[name]
                if tile.component != components[name]:
                    tile.component = components[name]
                if pending:
                    grid.mount(*pending, before=tile)
                    pending = []
            else:
                tiles[name] = ComponentTile(name, components[name])
                pending.append(tiles[name])
        if pending:
            grid.mount(*pending)
        self._tiles = tiles

    @on(ComponentTile.Selected)
    def _details(self, event: ComponentTile.Selected) -> None:
        from tui.screens.detail import ComponentDetail

        snapshot = self.app.snapshot or {}
        for c in snapshot.get("components") or []:
            if c["name"] == event.name:
                self.app.push_screen(ComponentDetail(c, snapshot, self.app.now,
                                                     self.app.ascii_only))
