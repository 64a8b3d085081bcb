"""The overview's list of firing alerts, by severity then age, as many as fit."""

from __future__ import annotations

from typing import Any, Mapping

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui import format as fmt


def firing_lines(snapshot: Mapping[str, Any] | None, now: float, width: int, height: int,
                 ascii_only: bool = False) -> list[Text]:
    """Pure: a title line, then one line per firing alert, by severity then age.

    Each line: severity word, age, the alert's name and its cause; the name is cut
    first, so the severity word and the cause are never cut while the line can hold
    them. Alerts inhibited by another firing one are not listed on their own: their
    cause's line counts them (`+3 under it`).
    """
    alerts = (snapshot or {}).get("alerts") or []
    ordered = fmt.order_alerts(a for a in alerts if a.get("state") == "firing")
    names = {a.get("name") for a in ordered}
    under: dict[str, int] = {}
    for a in ordered:
        if a.get("inhibited_by") in names:
            under[a["inhibited_by"]] = under.get(a["inhibited_by"], 0) + 1
    firing = [a for a in ordered if a.get("inhibited_by") not in names]
    pending = sum(1 for a in alerts if a.get("state") == "pending")
    held = len(ordered) - len(firing)
    title = Text(f"Firing alerts ({len(ordered)}), by severity"
                 + (f"; {held} follow from the others" if held else ""),
                 style="bold underline")
    if pending:
        title.append(f"   {pending} pending", style="yellow")
    lines = [title]
    if not firing:
        lines.append(Text("No alert is firing." if snapshot is not None else "", style="green"))
        return lines
    room = max(1, height - 1)
    shown = firing if len(firing) <= room else firing[: room - 1]
    for a in shown:
        sev = (a.get("severity") or "warning").upper()
        since = fmt.age(a.get("fired_at") or a.get("started_at"), now).replace(" ago", "")
        marks = " ".join(m for m in (fmt.alert_marks(a), f"+{under[a['name']]} under it"
                                     if under.get(a.get("name")) else "") if m)
        right = f" [{marks}]" if marks else ""
        line = Text()
        line.append(f"{sev:<8}", style=fmt.severity_style(a.get("severity")))
        line.append(f" {since:>5} ", style="dim")
        rest = max(0, width - line.cell_len - len(right))
        cause = fmt.alert_cause(a)
        # the cause whole, the name cut to what is left (at least a few letters of it)
        full = a.get("name", "")
        name_w = min(len(full), max(8, rest - len(cause) - 2), rest)
        name = fmt.fit(full, name_w, ascii_only)
        line.append(name + ": ")
        cause_w = max(0, rest - len(name) - 2)
        line.append(fmt.fit(cause, cause_w, ascii_only).ljust(cause_w))
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
