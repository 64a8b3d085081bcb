"""Help (`?`): every key in effect (after `tui.keys` overrides) and where it works."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.keys import ACTIONS, FIXED_KEYS, effective_key, key_display
from tui.screens.dialog import Dialog


def help_table(overrides: dict[str, str], read_only: bool, ascii_only: bool) -> Table:
    """Pure: key, what it does, where."""
    from rich import box

    table = Table(box=box.ASCII if ascii_only else box.SIMPLE_HEAD, show_edge=False,
                  expand=True)
    table.add_column("key", no_wrap=True, style="bold")
    table.add_column("does")
    table.add_column("where", no_wrap=True, style="dim")
    for a in ACTIONS:
        does = a.description + (" (off: read-only)" if a.mutating and read_only else "")
        table.add_row(key_display(effective_key(a.id, overrides)), does, a.where)
    for key, does, where in FIXED_KEYS:
        table.add_row(key, does, where)
    table.add_row("ctrl+q / ctrl+c", "quit (Textual's own)", "everywhere")
    return table


class HelpScreen(Dialog):
    BINDINGS = [Binding("question_mark", "back", "close", id="help")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog") as box:
            box.border_title = "keys (esc or ? closes)"
            yield Static(help_table(self.app.keys, self.app.read_only, self.app.ascii_only))
            yield Static(Text("Keys can be changed in alice-ops.yaml: "
                              "tui: {keys: {<action>: <key>}}, e.g. {quit: ctrl+q}.",
                              style="dim"))
