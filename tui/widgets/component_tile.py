"""A tile per component: status word and colour, the headline metric against its target
and alert threshold, a probe-latency sparkline, and the time since the last good probe."""

from __future__ import annotations

from typing import Any, Mapping

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from tui import format as fmt


def _metric_line(m: Mapping[str, Any], width: int) -> Text:
    value = fmt.format_value(m.get("value"), m.get("unit", ""))
    line = fmt.threshold_line(value, m.get("target"), m.get("alert"), width)
    return Text(line, style=_metric_colour(m.get("status")))


def _metric_colour(status: str | None) -> str:
    return {"ok": "", "warning": "yellow", "critical": "bold red",
            "unknown": "magenta", "absent": "dim"}.get(status or "unknown", "")


def _spark_line(c: Mapping[str, Any], now: float, width: int, ascii_only: bool) -> Text:
    good = "good " + fmt.age(c.get("last_good_at"), now)
    if c.get("last_good_at") is None:
        good = "never good"
    tail = f" {good}"
    spark_w = max(0, width - len(tail))
    history = c.get("latency_history_ms") or []
    out = Text()
    if spark_w:
        if any(v is not None for v in history):
            out.append(fmt.sparkline(history, spark_w, ascii_only).ljust(spark_w), style="cyan")
        else:
            out.append(fmt.fit("no latency", spark_w, ascii_only).ljust(spark_w), style="dim")
    # how long ago it last worked matters most while it does not
    out.append(fmt.fit(tail, width - spark_w, ascii_only),
               style="" if c.get("status") == "ok" else "bold")
    return out


def tile_lines(c: Mapping[str, Any], now: float, width: int, height: int,
               ascii_only: bool = False) -> list[Text]:
    """Pure: the content lines of a tile of `width` x `height` cells (inside its border).

    First the component's summary, last the sparkline with latency and last good
    probe; between them as many metrics as fit, worst first: each its title and
    status word, then its value against target and alert.
    """
    width, height = max(8, width), max(2, height)
    summary = " ".join((c.get("summary") or "").split())
    # the summary is the cause in words: never cut while two lines can hold it (a tile of
    # 80x24 is 22 cells wide: `server error (HTTP 503)` needs two); a metric title is cut
    cause_lines = 2 if len(summary) > width and height >= 4 else 1
    lines = [Text(line, style="italic")
             for line in fmt.wrap(summary, width, cause_lines, ascii_only)]
    metrics = list(c.get("metrics") or [])
    room = height - 1 - len(lines)
    worst_first = sorted(range(len(metrics)),
                         key=lambda i: (-fmt.status_rank(metrics[i].get("status")), i))
    pairs = room // 2
    chosen = worst_first[: max(pairs, 1 if room == 1 else 0)]
    if not metrics and room:
        lines.append(Text("no threshold rows", style="dim"))
    for i in sorted(chosen):
        m = metrics[i]
        word = fmt.status_word(m.get("status"))
        title = fmt.fit(m.get("title") or m.get("name", ""), width - len(word) - 1, ascii_only)
        lines.append(Text.assemble((title.ljust(width - len(word)), "bold"),
                                   (word, _metric_colour(m.get("status")))))
        if pairs:  # with room for one line only: the status word, not the value
            lines.append(_metric_line(m, width))
    while len(lines) < height - 1:
        lines.append(Text(""))
    lines = lines[: height - 1]
    lines.append(_spark_line(c, now, width, ascii_only))
    return lines


def tile_title(c: Mapping[str, Any]) -> Text:
    status = c.get("status")
    return Text.assemble((f" {c.get('name', '?')} ", "bold"),
                         (f" {fmt.status_word(status)} ", fmt.status_style(status)))


class ComponentTile(Widget, can_focus=True):
    """Focusable (tab moves between tiles); enter opens the component's details."""

    BINDINGS = [Binding("enter", "details", "details", show=False)]

    component: reactive[dict | None] = reactive(None, always_update=True)

    class Selected(Message):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(self, name: str, component: dict | None = None) -> None:
        super().__init__()
        self.name_ = name
        self.painted: dict | None = None  # the component last drawn (benchmark hook)
        self._title: tuple | None = None
        self._subtitle: str | None = None
        self.set_reactive(ComponentTile.component, component)

    def on_mount(self) -> None:
        self.watch_component(self.component)
        self.watch(self.app, "now", lambda _now: self.refresh(), init=False)

    def watch_component(self, c: dict | None) -> None:
        if c is None:
            return
        title = (c.get("name", "?"), c.get("status"))
        if title != self._title:  # setting a border title always repaints
            self._title = title
            self.border_title = tile_title(c)
        latency = c.get("latency_ms")
        subtitle = f"probe {fmt.format_value(latency, 'ms')}" if latency is not None else ""
        if subtitle != self._subtitle:
            self._subtitle = subtitle
            self.border_subtitle = subtitle
        for status in ("ok", "warning", "critical", "unknown"):
            self.set_class(c.get("status") == status, f"-{status}")

    def render(self) -> Text:
        c = self.painted = self.component
        if c is None:
            return Text("")
        w, h = self.content_size
        text = Text("\n").join(tile_lines(c, self.app.now, w, h, self.app.ascii_only))
        text.no_wrap = True
        text.overflow = "crop"
        return text

    def action_details(self) -> None:
        self.post_message(self.Selected(self.name_))

    def on_click(self) -> None:
        self.post_message(self.Selected(self.name_))
