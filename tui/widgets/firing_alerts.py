"""The overview's list of firing alerts, newest first, as many as fit."""

from __future__ import annotations

from typing import Any, Mapping

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui import format as fmt


def firing_lines(snapshot: Mapping[str, Any] | None, now: float, width: int, height: int,
                 ascii_only: bool = False) -> list[Text]:
    """Pure: a title line, then one line per firing alert (newest first)."""
    alerts = (snapshot or {}).get("alerts") or []
    firing = fmt.newest_first(a for a in alerts if a.get("state") == "firing")
    pending = sum(1 for a in alerts if a.get("state") == "pending")
    title = Text(f"Firing alerts ({len(firing)}), newest first", style="bold underline")
    if pending:
        title.append(f"   {pending} pending", style="yellow")
    lines = [title]
    if not firing:
        lines.append(Text("No alert is firing." if snapshot is not None else "", style="green"))
        return lines
    room = max(1, height - 1)
    shown = firing if len(firing) <= room else firing[: room - 1]
    name_w = min(30, max(12, width // 3))
    for a in shown:
        sev = (a.get("severity") or "warning").upper()
        since = fmt.age(a.get("fired_at") or a.get("started_at"), now).replace(" ago", "")
        marks = fmt.alert_marks(a)
        right = f" [{marks}]" if marks else ""
        line = Text()
        line.append(f"{sev:<8}", style=fmt.severity_style(a.get("severity")))
        line.append(f" {since:>5} ", style="dim")
        line.append(fmt.fit(a.get("name", ""), name_w, ascii_only).ljust(name_w) + " ")
        summary_w = max(0, width - line.cell_len - len(right))
        line.append(fmt.fit(a.get("summary", ""), summary_w, ascii_only).ljust(summary_w))
        line.append(right, style="bold")
        lines.append(line)
    if len(shown) < len(firing):
        lines.append(Text(f"... and {len(firing) - len(shown)} more on the Alerts screen",
                          style="bold"))
    return lines


class FiringAlerts(Widget):
    snapshot: reactive[dict | None] = reactive(None, always_update=True)

    @staticmethod
    def view_of(snapshot: Mapping[str, Any] | None) -> Any:
        """The part of a snapshot this widget draws (unchanged: no need to redraw)."""
        if snapshot is None:
            return None
        alerts = snapshot.get("alerts") or []
        return ([a for a in alerts if a.get("state") == "firing"],
                sum(1 for a in alerts if a.get("state") == "pending"))

    def on_mount(self) -> None:
        self.watch(self.app, "now", lambda _now: self.refresh(), init=False)

    def render(self) -> Text:
        w, h = self.content_size
        text = Text("\n").join(firing_lines(self.snapshot, self.app.now, w, h,
                                            self.app.ascii_only))
        text.no_wrap = True
        text.overflow = "crop"
        return text
