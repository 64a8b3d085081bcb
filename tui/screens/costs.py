"""Screen 4, Costs: spend in each window against its budget with the burn-rate
projection, where the figures came from (and where sources disagree), and the routing
split with the guide's advice; all from the snapshot's `cost` section (agent.cost)."""

from __future__ import annotations

from typing import Any, Mapping

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui import format as fmt
from tui.screens.base import DashboardScreen
from tui.widgets.routing_bar import MISSING, routing_text
from tui.widgets.spend_gauge import LEVEL_STYLES, projection_bar


def _usd(value: Any) -> str:
    return "-" if value is None else f"{float(value):.2f}"


def _table(columns: tuple[str, ...], ascii_only: bool, wrap: tuple[str, ...] = ()) -> Table:
    """An empty table with these columns: one line per row (except `wrap`), cropped
    rather than ellipsized in ASCII mode."""
    from rich import box

    table = Table(box=box.ASCII if ascii_only else box.SIMPLE_HEAD, show_edge=False,
                  expand=True)
    for col in columns:
        table.add_column(col, no_wrap=col not in wrap,
                         overflow="crop" if ascii_only else "ellipsis")
    return table


def budgets_table(cost: Mapping[str, Any], now: float, width: int,
                  ascii_only: bool = False) -> Table:
    """Pure: hourly, daily, weekly: spent / limit, a bar with the projection, level as a
    word, projected at the window's end, when the budget runs out, the figure's source."""
    table = _table(("window", "spent / budget USD", "used", "level", "at end", "runs out",
                    "source"), ascii_only)
    bar_w = max(0, min(24, width - 90))
    for b in cost.get("budgets") or []:
        level = str(b.get("level") or "unknown")
        spent, limit = b.get("spent_usd"), b.get("limit_usd") or 0.0
        used = Text(f"{b['percent']:.0f}%" if b.get("percent") is not None else "-")
        if bar_w and spent is not None:
            used = Text(projection_bar(float(spent), b.get("projected_usd"), float(limit),
                                       bar_w, ascii_only) + " ",
                        style=LEVEL_STYLES.get(level, "")) + used
        table.add_row(str(b.get("window", "")), f"{_usd(spent)} / {_usd(limit)}", used,
                      Text(level.upper(), style=LEVEL_STYLES.get(level, "bold")),
                      _usd(b.get("projected_usd")),
                      fmt.clock_time(b.get("exhausted_at"), now) if b.get("exhausted_at")
                      else "-", str(b.get("source") or "-"))
    return table


def sources_table(cost: Mapping[str, Any], ascii_only: bool = False) -> Table:
    """Pure: every spend source, whether it answered, its figures or why not."""
    table = _table(("source", "state", "today", "week", "USD/h", "note"), ascii_only,
                   wrap=("note",))
    for s in cost.get("sources") or []:
        ok = bool(s.get("available"))
        table.add_row(str(s.get("name", "")),
                      Text("OK" if ok else "DOWN", style="green" if ok else "bold yellow"),
                      _usd(s.get("daily_usd")), _usd(s.get("weekly_usd")),
                      _usd(s.get("burn_usd_per_hour")),
                      str(s.get("note") or s.get("reason") or ""))
    return table


def routing_lines(cost: Mapping[str, Any], width: int, ascii_only: bool = False) -> Group:
    """Pure: the split bar (one line), the rates, cost per session, the guide's advice."""
    routing = cost.get("routing") or {}
    bar = routing_text({"cost": cost}, width, ascii_only)
    bar.no_wrap = True
    text = Text()
    rates = [f"{label} {routing[key]:.1f}/s" for label, key in
             (("fast", "fast_per_s"), ("think", "think_per_s"), ("total", "total_per_s"))
             if routing.get(key) is not None]
    if routing.get("active_sessions") is not None:
        rates.append(f"{routing['active_sessions']:.0f} active sessions")
    if routing.get("cost_per_session_hour_usd") is not None:
        rates.append(f"{routing['cost_per_session_hour_usd']:.4f} USD per session-hour")
    if rates:
        text.append("  " + ", ".join(rates) + "\n", style="dim")
    advice = routing.get("advice") or {}
    if advice.get("text"):
        text.append(f"  advice: {advice['text']}\n")
    return Group(bar, text)


def cost_view(snapshot: Mapping[str, Any] | None, now: float, width: int,
              ascii_only: bool = False) -> Group | Text:
    cost = (snapshot or {}).get("cost") or {}
    if not cost:
        return Text(MISSING + "\n\nThe agent then reads OpenAI spend (Prometheus "
                    "openai_api_cost_usd_total, the OpenAI costs API, or an estimate from "
                    "tokens) and the fast/think request rates, and alerts at 80 % / 95 % "
                    "of the hourly, daily and weekly budgets.", style="dim")
    status = str(cost.get("status") or "unknown")
    head = Text.assemble(("spend ", "bold"), (f" {fmt.status_word(status)} ",
                                              fmt.status_style(status)))
    burn = cost.get("burn_rate_usd_per_hour")
    head.append(f"  burn rate {_usd(burn)} USD/h" if burn is not None
                else "  burn rate unknown")
    if cost.get("burn_source"):
        head.append(f" ({cost['burn_source']})", style="dim")
    levels = cost.get("levels_percent") or {}
    if levels:
        head.append(f"  alerts at {levels.get('warning', 80):.0f} % / "
                    f"{levels.get('critical', 95):.0f} %", style="dim")
    parts: list[Any] = [head]
    if cost.get("reason"):
        parts.append(Text(str(cost["reason"]), style="bold yellow"))
    parts.append(budgets_table(cost, now, width, ascii_only))
    parts.append(Text("routing", style="bold"))
    parts.append(routing_lines(cost, width, ascii_only))
    parts.append(Text("sources", style="bold"))
    parts.append(sources_table(cost, ascii_only))
    for d in cost.get("disagreements") or []:
        parts.append(Text(f"sources disagree: {d}", style="yellow"))
    return Group(*parts)


class CostsScreen(DashboardScreen):
    NAME, TITLE, NUMBER = "costs", "Costs", 4

    def __init__(self) -> None:
        super().__init__()
        self._shown: Any = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="costs-body"):
            yield Static(id="costs")

    def show(self, snapshot: dict) -> None:
        cost = snapshot.get("cost") or {}
        width = max(20, (self.size.width or 80) - 4)  # the body's padding, a scrollbar
        key = (repr(cost), width, int(self.app.now) // 60)  # clock times: per minute
        if key == self._shown:
            return
        self._shown = key
        self.query_one("#costs", Static).update(
            cost_view(snapshot, self.app.now, width, self.app.ascii_only))

    def on_resize(self) -> None:
        self._shown = None
        if self.app.snapshot is not None:
            self.show(self.app.snapshot)
