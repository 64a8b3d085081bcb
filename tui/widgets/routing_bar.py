"""The live fast/think routing split against the guide's 60-70 % fast-path band, from the
snapshot's `cost.routing` (agent.cost: Prometheus fast/think request rates).

Without a `cost:` section in the config the agent publishes no routing figures: the
line says so plainly rather than drawing an empty bar.
"""

from __future__ import annotations

from typing import Any, Mapping

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui import format as fmt

BAND = (60.0, 70.0)  # guide, "Fast Path Efficiency": target 60-70 %
MISSING = "routing split and spend: add `cost: {}` to the config to see them"


def routing_of(snapshot: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    cost = (snapshot or {}).get("cost") or {}
    routing = cost.get("routing")
    return routing if isinstance(routing, Mapping) else None


def routing_text(snapshot: Mapping[str, Any] | None, width: int,
                 ascii_only: bool = False) -> Text:
    """Pure: 'routing fast  65% [bar] think  35%  in band 60-70%', or why there is none."""
    if not snapshot:
        return Text("")  # waiting for the first snapshot (the header says so)
    routing = routing_of(snapshot)
    if routing is None:
        return Text(fmt.fit(MISSING, width, ascii_only), style="dim")
    band = tuple(routing.get("band_percent") or BAND)[:2]
    share = routing.get("fast_share_percent")
    if share is None:
        verdict = routing.get("verdict") or "no figures"
        return Text(fmt.fit(f"routing split: {verdict} (band {band[0]:.0f}-{band[1]:.0f}% "
                            "fast)", width, ascii_only), style="dim")
    share = float(share)
    ok = fmt.in_band(share, band)
    head = f"routing fast {share:3.0f}% "
    verdict = str(routing.get("verdict") or ("in band" if ok else "out of band"))
    tail = f" think {100 - share:3.0f}%  {verdict.upper() if not ok else verdict} " \
           f"{band[0]:.0f}-{band[1]:.0f}%"
    bar_w = max(10, width - len(head) - len(tail) - 2)
    text = Text(head)
    text.append(fmt.routing_bar(share, bar_w, band, ascii_only), style="cyan")
    text.append(tail, style="" if ok else "bold yellow")
    return text


class RoutingBar(Widget):
    snapshot: reactive[dict | None] = reactive(None, always_update=True)

    @staticmethod
    def view_of(snapshot: Mapping[str, Any] | None) -> Any:
        """The part of a snapshot this widget draws (unchanged: no need to redraw)."""
        routing = routing_of(snapshot)
        return None if routing is None else (routing.get("fast_share_percent"),
                                             routing.get("verdict"),
                                             tuple(routing.get("band_percent") or ()))

    def render(self) -> Text:
        text = routing_text(self.snapshot, self.content_size.width, self.app.ascii_only)
        text.no_wrap = True
        return text
