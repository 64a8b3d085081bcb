"""Spend against the daily budget with the burn-rate projection, from the snapshot's
`cost` section (agent.cost: spend from Prometheus / the costs API / an estimate).

One line: the level as a word and colour, a bar of today's spend with a mark where the
current burn rate takes it by midnight, and the figures. Without a `cost:` section
nothing is drawn here (the routing line above says how to turn it on): an empty gauge
could be mistaken for zero spend.
"""

from __future__ import annotations

from typing import Any, Mapping

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui import format as fmt

LEVEL_STYLES = {"ok": "green", "warning": "yellow", "critical": "bold red",
                "exceeded": "bold red reverse", "unknown": "bold magenta"}


def budget_of(snapshot: Mapping[str, Any] | None, window: str = "daily"
              ) -> Mapping[str, Any] | None:
    cost = (snapshot or {}).get("cost") or {}
    for b in cost.get("budgets") or []:
        if b.get("window") == window:
            return b
    return None


def projection_bar(spent: float, projected: float | None, limit: float, width: int,
                   ascii_only: bool = False) -> str:
    """Pure: `width` cells, filled for spent/limit, shaded up to the projection, a '|'
    where the budget would be hit within the bar, '>' at the end when the projection
    goes past the budget."""
    width = max(4, width)
    full, proj, empty = ("#", "=", "-") if ascii_only else ("█", "▒", "░")
    filled = round(max(0.0, min(1.0, spent / limit)) * width) if limit > 0 else width
    ahead = filled
    if projected is not None and limit > 0:
        ahead = max(filled, round(max(0.0, min(1.0, projected / limit)) * width))
    cells = [full] * filled + [proj] * (ahead - filled) + [empty] * (width - ahead)
    if projected is not None and limit > 0 and projected > limit:
        cells[-1] = ">"
    return "".join(cells)


def spend_text(snapshot: Mapping[str, Any] | None, width: int,
               ascii_only: bool = False) -> Text:
    """Pure: 'spend OK  0.42/10.00 USD [bar]  4%  -> 1.41 by midnight, 0.29/h'."""
    b = budget_of(snapshot)
    if b is None:
        return Text("")
    level = str(b.get("level") or "unknown")
    spent, limit = b.get("spent_usd"), b.get("limit_usd") or 0.0
    word = Text(f" {level.upper()} ", style=LEVEL_STYLES.get(level, "bold"))
    if spent is None:
        reason = ((snapshot or {}).get("cost") or {}).get("reason") or "no spend figure"
        out = Text("spend ")
        out.append_text(word)
        out.append(fmt.fit(f" today's spend unknown: {reason}", max(0, width - 14),
                           ascii_only), style="dim")
        return out
    burn = ((snapshot or {}).get("cost") or {}).get("burn_rate_usd_per_hour")
    projected = b.get("projected_usd")
    head = f" {spent:.2f}/{limit:.2f} USD "
    tail = f" {b.get('percent') or 0:3.0f}%"
    if projected is not None:
        arrow = "->" if ascii_only else "→"
        tail += f" {arrow} {projected:.2f} by midnight"
    if burn is not None and width >= 100:
        tail += f", {burn:.2f}/h"
    out = Text("spend ")
    out.append_text(word)
    out.append(head)
    bar_w = max(8, width - len("spend ") - len(word.plain) - len(head) - len(tail))
    out.append(projection_bar(float(spent), projected, float(limit), bar_w, ascii_only),
               style=LEVEL_STYLES.get(level, ""))
    out.append(tail)
    return out


class SpendGauge(Widget):
    snapshot: reactive[dict | None] = reactive(None, always_update=True)

    @staticmethod
    def view_of(snapshot: Mapping[str, Any] | None) -> Any:
        """The part of a snapshot this widget draws (unchanged: no need to redraw)."""
        b = budget_of(snapshot)
        burn = ((snapshot or {}).get("cost") or {}).get("burn_rate_usd_per_hour")
        return None if b is None else (b.get("spent_usd"), b.get("limit_usd"),
                                       b.get("level"), b.get("projected_usd"), burn)

    def render(self) -> Text:
        text = spend_text(self.snapshot, self.content_size.width, self.app.ascii_only)
        text.no_wrap = True
        return text
