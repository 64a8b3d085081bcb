"""The live fast/think routing split against the guide's 60-70 % fast-path band.

Drawn only when the snapshot carries a `fast_path_share` metric (it arrives with
the cost issue); until then it says so plainly.
"""

from __future__ import annotations

from typing import Any, Mapping

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui import format as fmt

BAND = (60.0, 70.0)  # guide, "Fast Path Efficiency": target 60-70 %
MISSING = "routing split: needs the cost issue"


def routing_text(snapshot: Mapping[str, Any] | None, width: int,
                 ascii_only: bool = False) -> Text:
    """Pure: 'routing fast 62% [bar] think 38%  in band 60-70%' or the plain missing line."""
    m = fmt.metric(snapshot, "fast_path_share")
    if m is None or m.get("value") is None:
        return Text(MISSING, style="dim")
    share = float(m["value"])
    share = share * 100 if share <= 1.0 and m.get("unit") != "percent" else share
    head = f"routing fast {share:3.0f}% "
    verdict = "in band" if fmt.in_band(share, BAND) else "OUT OF BAND"
    tail = f" think {100 - share:3.0f}%  {verdict} {BAND[0]:.0f}-{BAND[1]:.0f}%"
    bar_w = max(10, width - len(head) - len(tail) - 2)
    text = Text(head)
    text.append(fmt.routing_bar(share, bar_w, BAND, ascii_only), style="cyan")
    text.append(tail, style="" if fmt.in_band(share, BAND) else "bold yellow")
    return text


class RoutingBar(Widget):
    snapshot: reactive[dict | None] = reactive(None, always_update=True)

    @staticmethod
    def view_of(snapshot: Mapping[str, Any] | None) -> Any:
        """The part of a snapshot this widget draws (unchanged: no need to redraw)."""
        return fmt.metric(snapshot, "fast_path_share")

    def render(self) -> Text:
        text = routing_text(self.snapshot, self.content_size.width, self.app.ascii_only)
        text.no_wrap = True
        return text
