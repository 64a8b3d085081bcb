"""Spend against the daily budget with the burn-rate projection, from the snapshot's
`cost` section (agent.cost: spend from Prometheus / the costs API / an estimate).

One line: the level as a word and colour, a bar of today's spend with a mark where the
current burn rate takes it by midnight, and the figures. With a per-session cap
(`cost.session_cap_usd`) a second line judges the most expensive session against it, so
a session over its cap is not hidden behind a daily budget that is fine (the `cost`
component has no tile: these lines stand for it). Without a `cost:` section nothing is
drawn here (the routing line above says how to turn it on): an empty gauge could be
mistaken for zero spend.
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


def session_cap_of(snapshot: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The snapshot's `cost.per_session` section when a cap is set (status not "off")."""
    per = ((snapshot or {}).get("cost") or {}).get("per_session") or {}
    return per if per and per.get("status", "off") != "off" else None


def _short_id(session: str, room: int, ascii_only: bool) -> str:
    """A session id cut in the middle to `room` cells (both ends tell ids apart)."""
    if len(session) <= room or room < 5:
        return session
    mark = "~" if ascii_only else "…"
    head = (room - 1) // 2
    return session[:head] + mark + session[len(session) - (room - 1 - head):]


def session_text(snapshot: Mapping[str, Any] | None, width: int,
                 ascii_only: bool = False) -> Text:
    """Pure: the session-cap line, 'sessions CRITICAL sess_sim03 spent 0.16 USD > cap 0.10
    USD'. The word and the figures are never cut: a long session id is shortened in the
    middle instead; a reason (no figure) is cut at the end, the Costs screen has it all."""
    per = session_cap_of(snapshot)
    if per is None:
        return Text("")
    status = str(per.get("status") or "unknown")
    out = Text("sessions ")
    out.append(f" {fmt.status_word(status)} ", style=fmt.status_style(status))
    room = max(0, width - len(out.plain) - 1)
    top = per.get("top") or []
    if not per.get("available") or not top:
        cap = per.get("cap_usd")
        lead = "" if cap is None else f"cap {float(cap):.2f} USD: "
        if status == "absent":
            lead += "not measured (blind spot): "
        out.append(" " + fmt.fit(lead + str(per.get("text") or per.get("reason") or ""),
                                 room, ascii_only), style="" if top else "dim")
        return out
    sid = str(top[0].get("session", ""))
    text = str(per.get("text") or "").removeprefix("session ")
    if len(text) > room and sid and sid in text:
        text = text.replace(sid, _short_id(sid, max(5, len(sid) - (len(text) - room)),
                                           ascii_only), 1)
    count = per.get("count")
    if count and len(text) + len(f" ({count} sessions)") <= room:
        text += f" ({count} sessions)"
    out.append(" " + text)
    return out


class SpendGauge(Widget):
    snapshot: reactive[dict | None] = reactive(None, always_update=True)

    @staticmethod
    def view_of(snapshot: Mapping[str, Any] | None) -> Any:
        """The part of a snapshot this widget draws (unchanged: no need to redraw)."""
        b = budget_of(snapshot)
        burn = ((snapshot or {}).get("cost") or {}).get("burn_rate_usd_per_hour")
        per = session_cap_of(snapshot) if b is not None else None
        session = None if per is None else (per.get("status"), per.get("text"),
                                            per.get("count"))
        return None if b is None else (b.get("spent_usd"), b.get("limit_usd"),
                                       b.get("level"), b.get("projected_usd"), burn, session)

    def watch_snapshot(self, snapshot: dict | None) -> None:
        # a second line for the session cap (SpendGauge.-sessions in styles.tcss)
        self.set_class(budget_of(snapshot) is not None and session_cap_of(snapshot)
                       is not None, "-sessions")

    def render(self) -> Text:
        width = self.content_size.width
        text = spend_text(self.snapshot, width, self.app.ascii_only)
        if self.has_class("-sessions"):
            text.append("\n")
            text.append_text(session_text(self.snapshot, width, self.app.ascii_only))
        text.no_wrap = True
        return text
