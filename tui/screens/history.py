"""Alert history (`h` on the Alerts screen): every transition the agent recorded in its
audit trail (fired, resolved, flapping), newest first, read a page at a time through the
source (the agent's `GET /api/v1/alerts/history` or its runtime); never all at once."""

from __future__ import annotations

from typing import Any, Mapping

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from tui import format as fmt
from tui.screens.base import DashboardScreen
from tui.source import CommandError
from tui.widgets.alert_table import AlertTable

COLUMNS = (("when", "when"), ("event", "event"), ("severity", "severity"),
           ("alert", "alert"), ("summary", "summary"))
EVENT_STYLES = {"firing": "bold red", "resolved": "green", "flapping": "yellow"}
RELOAD_EVERY_S = 5.0  # on the first page, new transitions appear within this
PAGE_SIZE = 200
"""Records a page. Each page is fetched (over HTTP when attached) and replaces the
table's rows: 500-row pages took ~65 ms a page turn, 200 stay under the 50 ms a key."""


def history_row(record: Mapping[str, Any], now: float) -> tuple:
    """Pure: the cells of one history record (event and severity as words, with colour)."""
    event = str(record.get("event", ""))
    severity = record.get("severity")
    detail = record.get("detail") or {}
    return (fmt.clock_time(record.get("ts"), now),
            Text(event.upper(), style=EVENT_STYLES.get(event, "")),
            Text(str(severity or "-").upper(), style=fmt.severity_style(severity)),
            str(record.get("alert", "")), str(detail.get("summary") or ""))


def page_info(page: int, shown: int, total: int, size: int = PAGE_SIZE) -> str:
    """Pure: 'records 501-1000 of 10,000, page 2/20 ...'."""
    if not total:
        return "no alert transitions recorded yet"
    pages = max(1, -(-total // size))
    first = page * size
    text = f"records {first + 1 if shown else 0}-{first + shown} of {total:,}"
    if pages > 1:
        text += (f", page {page + 1}/{pages} (pgdn on the last row / pgup on the first "
                 "turns the page)")
    return text + "; r reloads, esc back to Alerts"


class AlertHistoryScreen(DashboardScreen):
    NAME, TITLE, NUMBER = "alert-history", "Alert history", 2
    BINDINGS = [Binding("r", "reload", "reload", id="history.reload"),
                Binding("escape", "close", "back", id="history.back", show=False)]

    def __init__(self, page_size: int = PAGE_SIZE) -> None:
        super().__init__()
        self.page_size = page_size
        self.page = 0
        self._befores: list[int | None] = [None]  # the `before` cursor of each page seen
        self._next_before: int | None = None
        self.total = 0
        self.loaded_at: float | None = None
        self.loads = 0
        self.problem: str | None = None

    def compose_body(self) -> ComposeResult:
        yield AlertTable(COLUMNS, id="history")
        yield Static(id="history-info")

    def on_mount(self) -> None:
        self.query_one(AlertTable).focus()
        self._load(0)

    def on_screen_resume(self) -> None:
        """Shown again: the page is reloaded if it is older than RELOAD_EVERY_S (as the
        first page is reloaded that often while shown)."""
        self._reload_if_stale()

    def show(self, snapshot: dict) -> None:
        """A new snapshot: on the first page, reload now and then (new transitions)."""
        if self.page == 0:
            self._reload_if_stale()

    def _reload_if_stale(self) -> None:
        if self.loaded_at is not None and self.app.now - self.loaded_at >= RELOAD_EVERY_S:
            self.loaded_at = self.app.now  # one reload at a time
            self._load(self.page)

    def action_reload(self) -> None:
        self._load(self.page)

    def action_close(self) -> None:
        self.app.pop_screen()

    @on(AlertTable.PageRequest)
    def _turn_page(self, event: AlertTable.PageRequest) -> None:
        page = self.page + event.delta
        if event.delta > 0 and self._next_before is not None:
            del self._befores[page:]
            self._befores.append(self._next_before)
        if 0 <= page < len(self._befores):
            self._load(page, to_top=event.delta > 0)

    @work(exclusive=True, group="history", exit_on_error=False)
    async def _load(self, page: int, to_top: bool | None = None) -> None:
        try:
            got = await self.app.source.alert_history(self.page_size, self._befores[page])
        except CommandError as exc:
            self.problem = str(exc)
            self.query_one("#history-info", Static).update(
                Text(f"alert history unavailable: {exc}", style="bold red"))
            return
        self.problem = None
        self.loads += 1
        self.page, self.loaded_at = page, self.app.now
        self._next_before = got.get("next_before")
        self.total = int(got.get("total") or 0)
        records = got.get("records") or []
        table = self.query_one(AlertTable)
        table.has_previous = page > 0
        table.has_next = self._next_before is not None
        now = self.app.now
        table.sync([(str(r.get("id")), history_row(r, now)) for r in records])
        if to_top is not None and table.row_count:
            table.move_cursor(row=0 if to_top else table.row_count - 1, animate=False)
        self.query_one("#history-info", Static).update(page_info(page, len(records),
                                                                 self.total, self.page_size))
