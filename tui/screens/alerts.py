"""Screen 2, Alerts: every alert the agent tracks (firing, pending, resolved) and the
active silences; `/` filters, s silences and a acknowledges the selected alert (with
a reason and a duration, in a form), x ends its silence, enter shows its details, h opens
the alert history (tui/screens/history.py)."""

from __future__ import annotations

from datetime import date

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


def _hay_sig(a: dict) -> str:
    """Everything `fmt.alert_haystack` reads from an alert, as one string."""
    return (f"{a.get('name')}\0{a.get('state')}\0{a.get('severity')}\0{a.get('summary')}\0"
            f"{a.get('silenced_by')}\0{a.get('acked')}\0{a.get('flapping')}\0"
            f"{a.get('labels')}\0{a.get('cause')}\0{a.get('inhibited_by')}")


class AlertsScreen(DashboardScreen):
    NAME, TITLE, NUMBER = "alerts", "Alerts", 2
    BINDINGS = [Binding("s", "app.silence", "silence", id="silence"),
                Binding("a", "app.ack", "ack", id="ack"),
                Binding("x", "app.expire", "unsilence", id="expire"),
                Binding("h", "history", "history", id="history"),
                Binding("escape", "back", "back", id="back", show=False)]

    def __init__(self) -> None:
        super().__init__()
        self.page = 0
        self.query_text = ""
        # Derived from the snapshot's alert list, computed once per snapshot (not once per
        # key typed into the filter): the order, fingerprint -> alert, filter haystacks,
        # and the table rows of the alerts shown so far.
        self._alerts_of: list | None = None
        self._ordered: list[dict] = []
        self._by_fp: dict[str, dict] = {}
        self._hay: list[str] | None = None
        self._hay_sig: dict[str, str] = {}  # strings only: nothing for the GC to scan
        self._hay_by_fp: dict[str, str] = {}
        self._warming = False
        self._rows: dict[int, tuple] = {}
        self._rows_day: date | None = None

    def compose_body(self) -> ComposeResult:
        # Always in the layout (one line): `/` only moves the focus here. Showing a hidden
        # box changed the table's height: a relayout and resize, two more frames (~33 ms)
        # on the `/` key with 10,000 alerts.
        yield Input(placeholder=f"{key_display(effective_key('filter', self.app.keys))} "
                    "filter: words match state, severity, name, labels, summary",
                    id="filter")
        yield AlertTable(id="alerts")
        yield Static(id="page-info")
        yield Static("Silences", id="silences-title")
        yield KeyedTable(SILENCE_COLUMNS, id="silences")

    def on_mount(self) -> None:
        self.query_one(AlertTable).focus()

    # -- drawing -------------------------------------------------------------------------

    def _prepare(self, snapshot: dict) -> list[dict]:
        """The snapshot's alerts in display order (cached while the snapshot is shown;
        snapshots are immutable, a new one is a new list)."""
        alerts = snapshot.get("alerts") or []
        if alerts is not self._alerts_of:
            self._alerts_of = alerts
            self._ordered = fmt.order_alerts(alerts)
            self._by_fp = {a["fingerprint"]: a for a in self._ordered}
            self._hay = None
            self._rows = {}
        return self._ordered

    def _matching(self) -> list[dict]:
        words = fmt.query_words(self.query_text)
        if not words:
            return self._ordered
        if self._hay is None:
            self._hay = self._haystacks()
        return [a for a, hay in zip(self._ordered, self._hay)
                if all(word in hay for word in words)]

    def _warm_haystacks(self) -> None:
        self._warming = False
        if self._hay is None and self._ordered and self.is_current:
            self._hay = self._haystacks()

    def _haystacks(self) -> list[str]:
        """The filter's haystack of every alert, reusing the previous snapshot's for the
        alerts whose searched fields did not change (most of them, at 1 Hz)."""
        sigs, hays = self._hay_sig, self._hay_by_fp
        new_sigs: dict[str, str] = {}
        new_hays: dict[str, str] = {}
        out = []
        for a in self._ordered:
            fp, sig = a["fingerprint"], _hay_sig(a)
            hay = hays.get(fp) if sigs.get(fp) == sig else None
            if hay is None:
                hay = fmt.alert_haystack(a)
            new_sigs[fp], new_hays[fp] = sig, hay
            out.append(hay)
        self._hay_sig, self._hay_by_fp = new_sigs, new_hays
        return out

    def _row(self, a: dict, now: float) -> tuple:
        """alert_row, memoised per snapshot (its clock times change only with the date)."""
        row = self._rows.get(id(a))
        if row is None:
            row = self._rows[id(a)] = alert_row(a, now)
        return row

    def show(self, snapshot: dict) -> None:
        now = self.app.now
        alerts = self._prepare(snapshot)
        today = date.fromtimestamp(now)
        if today != self._rows_day:
            self._rows, self._rows_day = {}, today
        matching = self._matching()
        window, self.page, pages = page_of(matching, self.page)
        table = self.query_one(AlertTable)
        table.has_next, table.has_previous = self.page < pages - 1, self.page > 0
        table.sync([(a["fingerprint"], self._row(a, now)) for a in window])
        if not self._hay_by_fp and self._ordered and not self._warming:
            # The first filter keystroke would build every alert's haystack (~3 us an
            # alert); build them once the screen is painted, later ones reuse them.
            self._warming = True
            self.call_after_refresh(self._warm_haystacks)
        first = self.page * PAGE_SIZE
        info = (f"{len(matching)} of {len(alerts)} alerts" if self.query_text
                else f"{len(alerts)} alerts")
        if pages > 1:
            info += (f"; rows {first + 1}-{first + len(window)}, page {self.page + 1}/{pages} "
                     "(pgdn on the last row / pgup on the first turns the page)")
        if self.query_text:
            back = key_display(effective_key("back", self.app.keys))
            info += f"; filter: {self.query_text!r} ({back} clears)"
        self.set_text("#page-info", info)
        silences = snapshot.get("silences") or []
        self.set_text("#silences-title", f"Silences ({len(silences)} active)")
        self.query_one("#silences", KeyedTable).sync(
            [(s["id"], silence_row(s, now)) for s in silences])

    def _redraw(self) -> None:
        if self.app.snapshot is not None:
            self.show(self.app.snapshot)

    # -- selection, used by the app's silence/ack/expire actions -------------------------

    def selected_alert(self) -> dict | None:
        key = self.query_one(AlertTable).selected_key()
        alert = self._by_fp.get(key) if key else None
        return dict(alert) if alert is not None else None

    def selected_silence_id(self) -> str | None:
        silences = self.query_one("#silences", KeyedTable)
        if silences.has_focus:
            return silences.selected_key()
        return (self.selected_alert() or {}).get("silenced_by")

    # -- filter and paging ---------------------------------------------------------------

    def action_history(self) -> None:
        """Show the alert history; built once and kept (installed), so opening it again
        only reloads the page shown."""
        from tui.screens.history import AlertHistoryScreen

        if not self.app.is_screen_installed(AlertHistoryScreen.NAME):
            self.app.install_screen(AlertHistoryScreen(), AlertHistoryScreen.NAME)
        self.app.push_screen(AlertHistoryScreen.NAME)

    def open_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        if event.value == self.query_text:
            return  # already drawn (escape clears the filter and redraws at once)
        self.query_text = event.value
        self.page = 0
        self._redraw()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one(AlertTable).focus()

    def action_back(self) -> None:
        box = self.query_one("#filter", Input)
        if box.has_focus or box.value or self.query_text:
            box.value = ""
            self.query_text = ""
            self.page = 0
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
            self.app.push_screen(AlertDetail(dict(alert), self.app.snapshot or {}, self.app.now,
                                             self.app.read_only))
