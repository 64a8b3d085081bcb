"""Spend against the daily budget with a burn-rate projection: lands with the cost issue.

Until a cost metric exists in the snapshot this widget says so in one plain line,
rather than drawing an empty gauge that could be mistaken for zero spend.
"""

from __future__ import annotations

from typing import Any, Mapping

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui import format as fmt

MISSING = "spend vs budget, burn rate: not built yet — lands with the cost issue"
MISSING_ASCII = MISSING.replace("—", "-")


def spend_text(snapshot: Mapping[str, Any] | None, width: int, ascii_only: bool = False) -> Text:
    """Pure: the gauge line when `cost_today_usd` and `daily_budget_usd` exist, else the
    not-built line."""
    spent = fmt.metric(snapshot, "cost_today_usd")
    budget = fmt.metric(snapshot, "daily_budget_usd")
    if not spent or not budget or spent.get("value") is None or not budget.get("value"):
        return Text(fmt.fit(MISSING_ASCII if ascii_only else MISSING, width, ascii_only),
                    style="dim")
    share = spent["value"] / budget["value"]
    head = f"spend ${spent['value']:.2f} of ${budget['value']:.2f} "
    tail = f" {share * 100:3.0f}%"
    text = Text(head)
    text.append(fmt.bar(share, max(10, width - len(head) - len(tail)), ascii_only),
                style="bold red" if share >= 0.95 else "yellow" if share >= 0.8 else "green")
    text.append(tail)
    return text


class SpendGauge(Widget):
    snapshot: reactive[dict | None] = reactive(None, always_update=True)

    @staticmethod
    def view_of(snapshot: Mapping[str, Any] | None) -> Any:
        """The part of a snapshot this widget draws (unchanged: no need to redraw)."""
        return fmt.metric(snapshot, "cost_today_usd"), fmt.metric(snapshot, "daily_budget_usd")

    def render(self) -> Text:
        text = spend_text(self.snapshot, self.content_size.width, self.app.ascii_only)
        text.no_wrap = True
        return text
