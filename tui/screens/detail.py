"""Details of one component (enter on a tile) or one alert (enter on a row)."""

from __future__ import annotations

from typing import Any, Mapping

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui import format as fmt
from tui.screens.dialog import Dialog


def component_table(c: Mapping[str, Any], ascii_only: bool) -> Table:
    """Pure: every metric of a component against its target and alert threshold."""
    from rich import box

    table = Table(box=box.ASCII if ascii_only else box.SIMPLE_HEAD, expand=True,
                  show_edge=False)
    for col in ("metric", "value", "target", "alert", "status"):
        table.add_column(col, no_wrap=col != "metric",
                         overflow="crop" if ascii_only else "ellipsis")
    for m in c.get("metrics") or []:
        status = m.get("status")
        table.add_row(m.get("title") or m.get("name", ""),
                      fmt.format_value(m.get("value"), m.get("unit", "")),
                      m.get("target") or "", m.get("alert") or "",
                      Text(fmt.status_word(status), style=fmt.status_style(status)))
        if m.get("reason"):
            table.add_row(Text(f"  {m['reason']}", style="dim"), "", "", "", "")
    return table


def component_header(c: Mapping[str, Any], now: float, ascii_only: bool) -> Text:
    status = c.get("status")
    text = Text.assemble((f"{c.get('name')}  ", "bold"),
                         (f" {fmt.status_word(status)} ", fmt.status_style(status)),
                         f"  {c.get('summary', '')}\n")
    latency = c.get("latency_ms")
    text.append(f"probe latency {fmt.format_value(latency, 'ms')}   "
                f"last probe {fmt.age(c.get('last_probe_at'), now)}   "
                f"last good {fmt.age(c.get('last_good_at'), now)}\n")
    history = c.get("latency_history_ms") or []
    if any(v is not None for v in history):
        real = [v for v in history if v is not None]
        text.append("latency " + fmt.sparkline(history, 60, ascii_only), style="cyan")
        text.append(f"  min {min(real):.1f} / max {max(real):.1f} ms, "
                    f"{len(history)} probes\n")
    return text


class ComponentDetail(Dialog):
    def __init__(self, component: Mapping[str, Any], snapshot: Mapping[str, Any], now: float,
                 ascii_only: bool) -> None:
        super().__init__()
        self.component, self.snapshot_, self.now, self.ascii_only = (component, snapshot, now,
                                                                     ascii_only)

    def compose(self) -> ComposeResult:
        c = self.component
        alerts = [a for a in self.snapshot_.get("alerts") or []
                  if fmt.alert_component(a) == c.get("name")]
        with VerticalScroll(classes="dialog") as box:
            box.border_title = f"{c.get('name')}: details (esc closes)"
            yield Static(component_header(c, self.now, self.ascii_only))
            yield Static(component_table(c, self.ascii_only))
            lines = Text(f"\nalerts of {c.get('name')}: {len(alerts) or 'none'}\n", style="bold")
            for a in alerts:
                lines.append(f"  {a.get('state', ''):<9}{a.get('name', '')}  "
                             f"{a.get('summary', '')}\n", style="")
            yield Static(lines)


def alert_text(a: Mapping[str, Any], now: float, silences: list[Mapping[str, Any]]) -> Text:
    """Pure: every field of an alert, times as ages, and the silence muting it."""
    text = Text()
    sev = a.get("severity")
    text.append(f"{a.get('name')}  ", style="bold")
    text.append(f" {(sev or 'none').upper()} ", style=fmt.severity_style(sev))
    text.append(f"  {a.get('state', '').upper()}\n\n")
    text.append(f"{a.get('summary', '')}\n\n")
    rows = [("labels", ", ".join(f"{k}={v}" for k, v in (a.get("labels") or {}).items())),
            ("fingerprint", a.get("fingerprint")),
            ("value", "-" if a.get("value") is None else f"{a['value']:g}"),
            ("started", fmt.age(a.get("started_at"), now, "-")),
            ("fired", fmt.age(a.get("fired_at"), now, "-")),
            ("resolved", fmt.age(a.get("resolved_at"), now, "-")),
            ("flapping", "yes" if a.get("flapping") else "no"),
            ("acked", a.get("acked") or "no")]
    silence = next((s for s in silences if s.get("id") == a.get("silenced_by")), None)
    if a.get("silenced_by") and silence:
        rows += [("silenced", f"until {fmt.clock_time(silence.get('ends_at'), now)} by "
                              f"silence {silence.get('id')}"),
                 ("matchers", ", ".join(silence.get("matchers") or [])),
                 ("reason", f"{silence.get('comment')} ({silence.get('created_by')})")]
    else:
        rows.append(("silenced", a.get("silenced_by") or "no"))
    for key, value in rows:
        text.append(f"{key:>12}  ", style="bold")
        text.append(f"{value}\n")
    return text


class AlertDetail(Dialog):
    def __init__(self, alert: Mapping[str, Any], snapshot: Mapping[str, Any], now: float,
                 read_only: bool) -> None:
        super().__init__()
        self.alert, self.snapshot_, self.now, self.read_only = alert, snapshot, now, read_only

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog") as box:
            box.border_title = f"alert {self.alert.get('name')} (esc closes)"
            yield Static(alert_text(self.alert, self.now, self.snapshot_.get("silences") or []))
            if not self.read_only:
                from tui.keys import effective_key, key_display

                k = {a: key_display(effective_key(a, self.app.keys))
                     for a in ("silence", "ack", "expire")}
                yield Static(Text(f"On the Alerts screen: {k['silence']} silence, {k['ack']} "
                                  f"acknowledge, {k['expire']} end its silence.", style="dim"))
