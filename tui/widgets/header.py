"""The one-line header: overall status, screen, the data's age, and STALE when updates stop."""

from __future__ import annotations

from typing import Any, Mapping

from rich.text import Text
from textual.widget import Widget

from tui import format as fmt

STALE_STYLE = "bold reverse yellow"


def header_text(snapshot: Mapping[str, Any] | None, *, now: float, stale: str | None,
                screen: str, number: int, source: str, read_only: bool,
                ascii_only: bool = False) -> Text:
    """Pure: the header line for a snapshot (None while waiting for the first)."""
    sep = " | " if ascii_only else " │ "
    text = Text()
    text.append(" alice-ops ", style="bold reverse")
    text.append(" ")
    if snapshot is None:
        if stale:
            text.append(" STALE ", style=STALE_STYLE)
            text.append(f" {stale}")
        else:
            text.append("waiting for the first snapshot", style="italic")
    else:
        status = snapshot.get("status")
        if stale:
            text.append(" STALE ", style=STALE_STYLE)
            text.append(f" {stale}; last known ")
            text.append(fmt.status_word(status), style=fmt.status_style(status))
        else:
            text.append(f" {fmt.status_word(status)} ", style=fmt.status_style(status))
            firing = sum(1 for a in snapshot.get("alerts") or [] if a.get("state") == "firing")
            if firing:
                text.append(f" {firing} firing", style="bold")
    text.append(sep)
    text.append(f"{number} {screen}", style="bold")
    if snapshot is not None:
        text.append(sep)
        text.append("data " + fmt.age(snapshot.get("taken_at_unix") or
                                      snapshot.get("taken_at"), now),
                    style=STALE_STYLE if stale else "")
    text.append(sep)
    text.append(source + (" (read-only)" if read_only else ""), style="dim")
    return text


class StatusHeader(Widget):
    """Redraws when a snapshot arrives and on the app's 1 s tick (for the age), while its
    screen is shown; `changed()` catches it up."""

    def __init__(self, screen_title: str, number: int) -> None:
        super().__init__()
        self.screen_title, self.number = screen_title, number
        self._drawn: Text | None = None

    def on_mount(self) -> None:
        for attr in ("snapshot", "now", "stale"):
            self.watch(self.app, attr, self.changed, init=False)

    def changed(self, _value: object = None) -> None:
        # Every screen shown once keeps its header: only the shown one's is drawn (behind
        # a dialog too); another screen catches it up on resume (DashboardScreen).
        if self.screen not in self.app.screen_stack:
            return
        if self._text() != self._drawn:  # most snapshots and ticks change nothing here
            self.refresh()

    def _text(self) -> Text:
        app = self.app
        return header_text(app.snapshot, now=app.now, stale=app.stale,
                           screen=self.screen_title, number=self.number,
                           source=app.source.label, read_only=app.read_only,
                           ascii_only=app.ascii_only)

    def render(self) -> Text:
        text = self._drawn = self._text()
        text = text.copy()
        text.no_wrap = True
        text.overflow = "ellipsis"
        return text
