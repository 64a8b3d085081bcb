"""A screen whose feature has not landed: it says so plainly, and what it will show."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from tui.screens.base import DashboardScreen


class NotBuiltScreen(DashboardScreen):
    ISSUE = ""
    WILL_SHOW: tuple[str, ...] = ()

    def compose_body(self) -> ComposeResult:
        dash = "-" if self.app.ascii_only else "—"
        text = Text(f"not built yet {dash} lands with the {self.ISSUE} issue\n\n",
                    style="bold")
        text.append("It will show:\n", style="dim")
        for line in self.WILL_SHOW:
            text.append(f"  {'*' if self.app.ascii_only else '•'} {line}\n", style="dim")
        yield Static(text, classes="not-built")
