"""What every numbered screen shares: the status header, the footer, and redrawing from
the app's `snapshot` reactive (only while the screen is shown; caught up on resume)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from tui.widgets.footer import DashboardFooter
from tui.widgets.header import StatusHeader


class DashboardScreen(Screen):
    NAME = ""
    TITLE = ""
    NUMBER = 0

    def __init__(self) -> None:
        super().__init__()
        self._texts: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield StatusHeader(self.TITLE, self.NUMBER)
        yield from self.compose_body()
        yield DashboardFooter(compact=True, show_command_palette=not self.app.ascii_only)

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        # Textual runs the handler of every class along the MRO itself (subclass first):
        # a screen's own on_mount / on_screen_resume must not call super() too.
        self.watch(self.app, "snapshot", self._snapshot_changed, init=False)
        if self.app.snapshot is not None:
            self.show(self.app.snapshot)
            # this screen lives as long as the app
            self.call_after_refresh(self.app.freeze_long_lived)

    def on_screen_resume(self) -> None:
        self.query_one(StatusHeader).changed()
        if self.app.snapshot is not None:
            self.show(self.app.snapshot)

    def _snapshot_changed(self, snapshot: dict | None) -> None:
        if snapshot is not None and self.is_current:
            self.show(snapshot)

    def show(self, snapshot: dict) -> None:
        """Draw `snapshot`; screens override."""

    def set_text(self, selector: str, text: str) -> None:
        """Static.update asks for a new layout every time; only when the text changed."""
        if self._texts.get(selector) != text:
            self._texts[selector] = text
            self.query_one(selector, Static).update(text)
