"""The Alerts screen's table: keyed by fingerprint, updated in place, windowed.

At most `PAGE_SIZE` rows are in the DataTable at once (it slows down with many);
pgdn on the last row asks for the next window, pgup on the first for the previous.
"""

from __future__ import annotations

from typing import Any, Mapping

from rich.text import Text
from textual.message import Message

from tui import format as fmt
from tui.widgets.keyed_table import KeyedTable

PAGE_SIZE = 500
COLUMNS = (("state", "state"), ("severity", "severity"), ("since", "since"),
           ("cause", "cause"), ("alert", "name"))
"""The status words and the cause (with the marks: silenced, acked, flapping, inhibited)
come first: a narrow terminal cuts the alert's name, never them."""
STATE_STYLES = {"firing": "bold red", "pending": "yellow", "resolved": "green"}


def alert_row(a: Mapping[str, Any], now: float) -> tuple:
    """Pure: the cells of one alert (state and severity as words, with colour)."""
    state = a.get("state", "")
    sev = a.get("severity")
    marks = fmt.alert_marks(a)
    cause = fmt.alert_cause(a)
    if a.get("inhibited_by"):  # shown under its cause, and says which one
        cause += f"; follows from {a['inhibited_by']}"
    if marks:  # first: a long cause (a provider's whole error message) may run off screen
        cause = f"[{marks}] {cause}"
    return (Text(state.upper(), style=STATE_STYLES.get(state, "")),
            Text((sev or "-").upper(), style=fmt.severity_style(sev)),
            fmt.clock_time(a.get("fired_at") or a.get("started_at"), now),
            Text(cause), a.get("name", ""))  # Text: a provider's "[...]" is not markup


def page_of(items: list, page: int, size: int = PAGE_SIZE) -> tuple[list, int, int]:
    """Pure: (window, page clamped to what exists, number of pages)."""
    pages = max(1, -(-len(items) // size))
    page = max(0, min(page, pages - 1))
    return items[page * size:(page + 1) * size], page, pages


class AlertTable(KeyedTable):
    class PageRequest(Message):
        def __init__(self, delta: int) -> None:
            super().__init__()
            self.delta = delta

    def __init__(self, columns: tuple[tuple[str, str], ...] = COLUMNS, **kwargs: Any) -> None:
        super().__init__(columns, **kwargs)
        self.has_next = False
        self.has_previous = False

    def action_page_down(self) -> None:
        if self.has_next and self.cursor_row >= self.row_count - 1:
            self.post_message(self.PageRequest(+1))
            return
        super().action_page_down()

    def action_page_up(self) -> None:
        if self.has_previous and self.cursor_row <= 0:
            self.post_message(self.PageRequest(-1))
            return
        super().action_page_up()
