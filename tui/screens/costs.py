"""Screen 4, Costs: spend in each window against its budget with the burn-rate
projection, the most expensive sessions against the per-session cap, the cost per audio
minute (measured or list price), the rate-limit headroom, where the figures came from
(and where sources disagree), and the routing split with the guide's advice; all from the
snapshot's `cost` section (agent.cost) and, for the rate-limit rows' verdicts, its
components."""

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


def _count(value: Any) -> str:
    """A token or request count in a few cells: 950, 12.3k, 1.2M."""
    v = float(value)
    for div, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:.1f}{suffix}"
    return f"{v:.0f}"


def tokens_text(tokens: Mapping[str, Any]) -> str:
    """Pure: a session's tokens by type in few cells: 'text 52.4k/3, audio 8/68, cached
    1.2k' (in/out; cached: cached input, text and audio)."""
    parts = []
    for kind in ("text", "audio"):
        i, o = tokens.get(f"{kind}_in"), tokens.get(f"{kind}_out")
        if i or o:
            parts.append(f"{kind} {_count(i or 0)}/{_count(o or 0)}")
    cached = sum(float(tokens.get(k) or 0) for k in ("cached_text_in", "cached_audio_in"))
    if cached:
        parts.append(f"cached {_count(cached)}")
    return ", ".join(parts) or "-"


def sessions_lines(cost: Mapping[str, Any], ascii_only: bool = False) -> list[Any]:
    """Pure: the per-session cap as a word with its cause, then the most expensive
    sessions (USD, share of the cap, level, tokens by type); nothing without the section."""
    per = cost.get("per_session")
    if not per:
        return []
    status = str(per.get("status") or "unknown")
    head = Text("sessions", style="bold")
    cap = per.get("cap_usd")
    if status == "off":
        head.append("  no cap (cost.session_cap_usd)", style="dim")
    else:
        head.append("  ")
        head.append(f" {fmt.status_word(status)} ", style=fmt.status_style(status))
        head.append(f"  cap {float(cap):.2f} USD" if cap is not None else "")
    head.append(f"  {per.get('count', 0)} sessions, {per.get('model', '?')} prices",
                style="dim")
    parts: list[Any] = [head]
    if not per.get("available"):
        note = "not measured, a blind spot: " if status == "absent" else ""
        parts.append(Text(f"  {note}{per.get('reason') or per.get('text') or ''}",
                          style="dim" if status in ("absent", "off") else "bold yellow"))
        return parts
    if status != "off" and per.get("text"):
        parts.append(Text(f"  {per['text']}", style=fmt.status_style(status)
                          if status != "ok" else ""))
    top = per.get("top") or []
    if not top:
        return parts
    table = _table(("session", "USD", "of cap", "level", "tokens in/out"), ascii_only,
                   wrap=("tokens",))
    for t in top:
        level = str(t.get("level") or "ok") if cap is not None else None
        tokens = tokens_text(t.get("tokens") or {})
        if t.get("unpriced"):
            tokens += f" (unpriced: {', '.join(t['unpriced'])})"
        pct = t.get("percent_of_cap")
        table.add_row(str(t.get("session", "")), f"{float(t.get('usd') or 0):.4f}",
                      "-" if pct is None else f"{pct:.0f}%",
                      Text(level.upper(), style=LEVEL_STYLES.get(level, "bold"))
                      if level else Text("-"), tokens)
    parts.append(table)
    return parts


def audio_lines(cost: Mapping[str, Any]) -> list[Text]:
    """Pure: the cost per audio minute with its basis: measured (what the sessions' audio
    cost, all tokens in) and the price row's list price, or that the row has no audio price."""
    audio = cost.get("audio")
    if not audio:
        return []
    head = Text("audio", style="bold")
    head.append(f"  {audio.get('model', '?')}, basis: {audio.get('basis', '?')}", style="dim")
    lines = [head]
    listed = audio.get("list_usd_per_minute")
    m = audio.get("measured")
    if m:
        lines.append(Text(f"  measured {m['usd_per_audio_minute']:.4f} USD/min all in "
                          f"({m['input_minutes']:.1f} min in + {m['output_minutes']:.1f} out: "
                          f"{m['usd']:.4f} USD)"))
    if listed:
        lines.append(Text(f"  list price {listed['input']:.4f} USD/min in, "
                          f"{listed['output']:.4f} USD/min out", style="" if not m else "dim"))
    else:
        lines.append(Text("  no audio price in the price table (cost.prices adds one)",
                          style="dim"))
    return lines


RATE_KINDS = ("requests", "tokens")


def judged_ratelimits(snapshot: Mapping[str, Any] | None) -> dict[str, dict]:
    """kind -> the row that judged it this cycle ({component, status, value, ...}): the
    openai row (deep probe's headers) or the cost row (app metrics); one per kind."""
    found: dict[str, dict] = {}
    for c in (snapshot or {}).get("components") or []:
        if c.get("name") not in ("openai", "cost"):
            continue
        for m in c.get("metrics") or []:
            kind = str(m.get("name", "")).removeprefix("rate_limit_").removesuffix("_left")
            if kind in RATE_KINDS and m.get("name") == f"rate_limit_{kind}_left":
                found.setdefault(kind, {**m, "component": c["name"]})
    return found


def ratelimit_lines(snapshot: Mapping[str, Any] | None, cost: Mapping[str, Any]
                    ) -> list[Text]:
    """Pure: requests and tokens left in the provider's window, as a word when a row judged
    them (naming the row and its source), with the app's own figure and its query."""
    judged = judged_ratelimits(snapshot)
    app = {f.get("kind"): f for f in cost.get("rate_limits") or []}
    if not judged and not app:
        return []
    lines = [Text("rate limits", style="bold")]
    for kind in RATE_KINDS:
        m, f = judged.get(kind), app.get(kind)
        if m is None and f is None:
            continue
        line, notes = Text(f"  {kind:<8} "), []
        if m is not None:
            status = str(m.get("status") or "unknown")
            line.append(f" {fmt.status_word(status)} ", style=fmt.status_style(status))
            value = m.get("value")
            line.append(f" {'-' if value is None else f'{float(value):.0f}'} % left")
            via = ("app metrics" if m["component"] == "cost"
                   or "(app metrics)" in str(m.get("title", "")) else "deep probe headers")
            notes.append(f"judged on {m['component']}/rate_limit_{kind}_left ({via})")
        else:
            line.append(" not judged", style="dim")
        if f is not None:
            figure = f"{_count(f['remaining'])} {kind} left"
            if f.get("limit"):
                figure += f" of {_count(f['limit'])}"
                if f.get("left_percent") is not None and (m is None or via != "app metrics"):
                    figure += f" ({f['left_percent']:.0f} %)"
            line.append(f"; app metrics: {figure}" if m is not None else f": {figure}")
            if not f.get("limit"):
                notes.append(f"set cost.rate_limits.{kind}.limit to judge it")
            notes.append(f"from {f.get('source', '?')}")
        lines += [line, Text("    " + "; ".join(notes), style="dim")]
    return lines


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
    parts += sessions_lines(cost, ascii_only)
    parts += audio_lines(cost)
    parts += ratelimit_lines(snapshot, cost)
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
        key = (repr(cost), repr(judged_ratelimits(snapshot)), width,
               int(self.app.now) // 60)  # clock times: per minute
        if key == self._shown:
            return
        self._shown = key
        self.query_one("#costs", Static).update(
            cost_view(snapshot, self.app.now, width, self.app.ascii_only))

    def on_resize(self) -> None:
        self._shown = None
        if self.app.snapshot is not None:
            self.show(self.app.snapshot)
