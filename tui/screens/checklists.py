"""Screen 5, Checklists: today's daily run and this week's weekly run of the guide's
operations checklists (agent.checklists): every item with its result, the ones the agent
verified automatically with their evidence, the deadline; t (or enter) ticks the
selected item, w switches between daily and weekly. From the snapshot's `checklists`."""

from __future__ import annotations

from typing import Any, Mapping

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from tui import format as fmt
from tui.screens.base import DashboardScreen
from tui.source import CommandError
from tui.widgets.keyed_table import KeyedTable

COLUMNS = (("result", "result"), ("how", "how"), ("item", "text"), ("evidence / note", "note"),
           ("section", "section"))
RESULT_STYLES = {"pass": "green", "warn": "yellow", "fail": "bold red",
                 "unknown": "bold magenta", "skipped": "dim"}


def item_row(item: Mapping[str, Any]) -> tuple:
    """Pure: the cells of one item; an open one reads OPEN, automatic ones say AUTO."""
    result = item.get("result")
    word = str(result).upper() if result else "OPEN"
    how = "auto" if item.get("kind") == "automatic" else "manual"
    if item.get("source") == "manual" and how == "auto":
        how = "auto, answered"
    note = " ".join(str(x) for x in (item.get("evidence"), item.get("note")) if x)
    if item.get("by") and item.get("source") == "manual":
        note = f"{note} ({item['by']})".strip()
    return (Text(word, style=RESULT_STYLES.get(str(result), "bold")), how,
            str(item.get("text", "")), note, str(item.get("section") or ""))


def item_detail(item: Mapping[str, Any] | None, now: float) -> str:
    """Pure: the highlighted item whole (the table's columns are cut at 80 columns):
    its text, then its evidence or note, who answered and when."""
    if not item:
        return ""
    lines = [str(item.get("text", ""))]
    if item.get("evidence"):
        lines.append(f"evidence: {item['evidence']}")
    if item.get("note") and item.get("note") != item.get("evidence"):
        lines.append(f"note: {item['note']}")
    if item.get("by"):
        when = f" at {fmt.clock_time(item['at'], now)}" if item.get("at") else ""
        lines.append(f"answered by {item['by']}{when}")
    return "\n".join(lines)


def run_summary(kind: str, run: Mapping[str, Any] | None,
                schedule: Mapping[str, Any] | None, now: float) -> str:
    """Pure: 'daily 2026-11-25: WARNING, 12 of 18 answered (5 open); deadline 10:00 ...'."""
    if not run:
        return f"{kind}: no run yet (the agent starts it at its schedule, or answer an item)"
    counts = run.get("counts") or {}
    total = sum(counts.values())
    open_ = counts.get("open", 0)
    text = (f"{kind} {run.get('period', '')}: {fmt.status_word(run.get('status'))}, "
            f"{total - open_} of {total} answered")
    text += " - complete" if run.get("complete") else f" ({open_} open)"
    if kind == "daily" and schedule:
        text += f"; runs at {schedule.get('daily_at')}, deadline {schedule.get('deadline')}"
        if schedule.get("overdue"):
            text += " - OVERDUE"
    return text


class ChecklistsScreen(DashboardScreen):
    NAME, TITLE, NUMBER = "checklists", "Checklists", 5
    BINDINGS = [Binding("t", "tick", "tick item", id="tick"),
                Binding("w", "switch_kind", "daily/weekly", id="weekly")]

    def __init__(self) -> None:
        super().__init__()
        self.kind = "daily"
        self._items: dict[str, dict] = {}
        self.answered: dict | None = None

    def compose_body(self) -> ComposeResult:
        yield Static(id="checklist-info")
        yield KeyedTable(COLUMNS, id="checklist")
        yield Static(id="checklist-detail")

    def on_mount(self) -> None:
        self.query_one("#checklist", KeyedTable).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "tick" and self.app.read_only:
            return False
        return True

    def show(self, snapshot: dict) -> None:
        section = snapshot.get("checklists") or {}
        run = section.get(self.kind) or {}
        items = run.get("items") or []
        self._items = {i["id"]: i for i in items}
        table = self.query_one("#checklist", KeyedTable)
        table.sync([(i["id"], item_row(i)) for i in items])
        info = run_summary(self.kind, run, section.get("schedule"), self.app.now)
        if section.get("error"):
            info += f"; error: {section['error']}"
        other = "weekly" if self.kind == "daily" else "daily"
        keys = "w: " + other + ("" if self.app.read_only else ", t / enter: tick the item")
        if not section:
            info = "no checklists in this agent's snapshot"
        self.set_text("#checklist-info", f"{info}   {keys}")
        self._show_detail()

    @on(DataTable.RowHighlighted, "#checklist")
    def _show_detail(self) -> None:
        self.set_text("#checklist-detail", item_detail(self.selected_item(), self.app.now))

    def selected_item(self) -> dict | None:
        key = self.query_one("#checklist", KeyedTable).selected_key()
        return self._items.get(key) if key else None

    def action_switch_kind(self) -> None:
        self.kind = "weekly" if self.kind == "daily" else "daily"
        self.query_one("#checklist", KeyedTable).move_cursor(row=0, animate=False)
        if self.app.snapshot is not None:
            self.show(self.app.snapshot)

    @on(DataTable.RowSelected, "#checklist")
    def _enter(self) -> None:
        if not self.app.read_only:
            self.action_tick()

    def action_tick(self) -> None:
        item = self.selected_item()
        if item is None:
            self.notify("No checklist item selected.", severity="warning")
            return
        self.tick_item(self.kind, item["id"])

    def tick_item(self, kind: str, item_id: str) -> None:
        """The answer form for one item, then the answer (the palette comes here too)."""
        from tui.screens.tick_form import TickForm

        run = ((self.app.snapshot or {}).get("checklists") or {}).get(kind) or {}
        item = next((i for i in run.get("items") or [] if i.get("id") == item_id), None)
        if item is None or self.app.read_only:
            return

        def answered(answer: dict | None) -> None:
            if answer:
                self.answer(kind, item["id"], answer["result"], answer["note"])

        self.app.push_screen(TickForm(kind, item), answered)

    @work(group="checklists", exit_on_error=False)
    async def answer(self, kind: str, item_id: str, result: str, note: str) -> None:
        try:
            self.answered = await self.app.source.checklist_answer(kind, item_id, result, note,
                                                                   self.app.user)
        except CommandError as exc:
            self.notify(str(exc), title="answer refused", severity="error", timeout=8)
            return
        self.notify(f"{kind}: {item_id} {result.upper()}", title="checklist")
