"""Screen 2, Alerts: every alert the agent tracks (firing, pending, resolved) and the
active silences; `/` filters, s silences and a acknowledges the selected alert (with
a reason and a duration, in a form), x ends its silence, enter shows its details."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, Static

from tui import format as fmt
from tui.keys import effective_key, key_display
from tui.screens.base import DashboardScreen
from tui.widgets.alert_table import PAGE_SIZE, AlertTable, alert_row, page_of
from tui.widgets.keyed_table import KeyedTable

SILENCE_COLUMNS = (("silence", "id"), ("matchers", "matchers"), ("ends", "ends"),
                   ("by", "by"), ("reason", "comment"))


def silence_row(s: dict, now: float) -> tuple:
    return (s.get("id", ""), ", ".join(s.get("matchers") or []),
            fmt.clock_time(s.get("ends_at"), now), s.get("created_by", ""), s.get("comment", ""))


class AlertsScreen(DashboardScreen):
    NAME, TITLE, NUMBER = "alerts", "Alerts", 2
    BINDINGS = [Binding("s", "app.silence", "silence", id="silence"),
                Binding("a", "app.ack", "ack", id="ack"),
                Binding("x", "app.expire", "unsilence", id="expire"),
                Binding("escape", "back", "back", id="back", show=False)]

    def __init__(self) -> None:
        super().__init__()
        self.page = 0
        self.query_text = ""
        self._by_fp: dict[str, dict] = {}

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder="filter: words match state, severity, name, labels, summary",
                    id="filter")
        yield AlertTable(id="alerts")
        yield Static(id="page-info")
        yield Static("Silences", id="silences-title")
        yield KeyedTable(SILENCE_COLUMNS, id="silences")

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        super().on_mount()
        self.query_one(AlertTable).focus()

    # -- drawing -------------------------------------------------------------------------

    def show(self, snapshot: dict) -> None:
        now = self.app.now
        alerts = fmt.order_alerts(snapshot.get("alerts") or [])
        self._by_fp = {a["fingerprint"]: dict(a) for a in alerts}
        matching = [a for a in alerts if fmt.alert_matches(a, self.query_text)]
        window, self.page, pages = page_of(matching, self.page)
        table = self.query_one(AlertTable)
        table.has_next, table.has_previous = self.page < pages - 1, self.page > 0
        table.sync([(a["fingerprint"], alert_row(a, now)) for a in window])
        first = self.page * PAGE_SIZE
        info = (f"{len(matching)} of {len(alerts)} alerts" if self.query_text
                else f"{len(alerts)} alerts")
        if pages > 1:
            info += (f"; rows {first + 1}-{first + len(window)}, page {self.page + 1}/{pages} "
                     "(pgdn on the last row / pgup on the first turns the page)")
        if self.query_text:
            back = key_display(effective_key("back", self.app.keys))
            info += f"; filter: {self.query_text!r} ({back} clears)"
        self.query_one("#page-info", Static).update(info)
        silences = snapshot.get("silences") or []
        self.query_one("#silences-title", Static).update(f"Silences ({len(silences)} active)")
        self.query_one("#silences", KeyedTable).sync(
            [(s["id"], silence_row(s, now)) for s in silences])

    def _redraw(self) -> None:
        if self.app.snapshot is not None:
            self.show(self.app.snapshot)

    # -- selection, used by the app's silence/ack/expire actions -------------------------

    def selected_alert(self) -> dict | None:
        key = self.query_one(AlertTable).selected_key()
        return self._by_fp.get(key) if key else None

    def selected_silence_id(self) -> str | None:
        silences = self.query_one("#silences", KeyedTable)
        if silences.has_focus:
            return silences.selected_key()
        return (self.selected_alert() or {}).get("silenced_by")

    # -- filter and paging ---------------------------------------------------------------

    def open_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value
        self.page = 0
        self._redraw()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one(AlertTable).focus()

    def action_back(self) -> None:
        box = self.query_one("#filter", Input)
        if box.display:
            box.value = ""
            box.display = False
            self.query_text = ""
            self._redraw()
            self.query_one(AlertTable).focus()
        else:
            self.app.action_back()

    @on(AlertTable.PageRequest)
    def _turn_page(self, event: AlertTable.PageRequest) -> None:
        self.page += event.delta
        self._redraw()
        table = self.query_one(AlertTable)
        table.move_cursor(row=0 if event.delta > 0 else table.row_count - 1, animate=False)

    @on(DataTable.RowSelected, "#alerts")
    def _details(self, event: DataTable.RowSelected) -> None:
        from tui.screens.detail import AlertDetail

        alert = self._by_fp.get(event.row_key.value)
        if alert is not None:
            self.app.push_screen(AlertDetail(alert, self.app.snapshot or {}, self.app.now,
                                             self.app.read_only))
