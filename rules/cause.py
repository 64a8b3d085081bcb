"""The cause line: what an alert is about, in a few words made where the fault was seen.

Pure. A component's health alert carries its probe's own verdict (`server error
(HTTP 503)`, `model gpt-oss:20b not in /api/tags (have: llama3)`); a threshold row
carries its figure against the line it crossed, always with the unit
(`p95 2725 ms > 500 ms`), or why there is no figure (`query returned no series: Q`).
"""

from __future__ import annotations

import re

from vocab.model import Status
from rules.evaluate import MetricStatus
from rules.thresholds import format_value

_STAT = re.compile(r"\b(p\d{2,3}|avg|max|min|median)$", re.IGNORECASE)
MAX_CAUSE = 160
"""Longest cause kept (a probe's verdict can quote a server's whole error message)."""


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_CAUSE else text[:MAX_CAUSE - 1] + "…"


def _op(value: float, limit_text: str) -> str:
    """`limit_text` is the row's `< 500 ms` / `> 2000 ms`: the comparison the value
    broke, turned around (a value not under 500 is `>= 500`, or `> 500` when above)."""
    op, _, rest = limit_text.partition(" ")
    number = rest.split(" ", 1)[0].rstrip("%")
    try:
        limit = float(number)
    except ValueError:
        return limit_text
    if op == "<":  # the target: OK below it, so a breach is at or above
        return f"{'>' if value > limit else '>='} {rest}"
    if op == ">":
        return f"{'<' if value < limit else '<='} {rest}"
    return limit_text


def metric_cause(m: MetricStatus) -> str:
    """The cause line of a threshold row's alert."""
    if m.absent:
        return _one_line(f"not exported: {m.reason}" if m.reason else "not exported")
    if m.value is None:
        return _one_line(m.reason or "no data")
    stat = _STAT.search(m.title.strip())
    shown = (f"{stat.group(1)} " if stat else "") + format_value(m.value, m.unit)
    if m.status is Status.CRITICAL:
        # the alert line is the one crossed: `> 2000 ms` means critical above 2000
        op, _, rest = m.alert.partition(" ")
        return _one_line(f"{shown} {op} {rest}" if rest else f"{shown} {m.alert}")
    if m.status is Status.WARNING:
        return _one_line(f"{shown} {_op(m.value, m.target)}")
    return _one_line(f"{shown} {m.target}")  # within target: `120 ms < 500 ms`


def probe_cause(summary: str, status: Status) -> str:
    """The cause line of a component's health alert: its probe's verdict."""
    text = summary.strip()
    if not text:
        return "no data" if status is Status.UNKNOWN else status.word
    return _one_line(text)
