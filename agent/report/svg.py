"""Inline SVG charts for the weekly report (pure string building; no scripts, no fonts, no
network): a line chart over time and a bar chart per day, each with axes and a legend."""

from __future__ import annotations

import math
from datetime import datetime
from html import escape
from typing import Callable, Sequence
from zoneinfo import ZoneInfo

COLOURS = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2")
W, H = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 40


def _nice_max(value: float) -> float:
    if value <= 0 or not math.isfinite(value):
        return 1.0
    exp = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exp:
            return step * exp
    return 10 * exp


def _fmt(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 10 else f"{value:.2g}"


def _frame(title: str, y_max: float, unit: str) -> list[str]:
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" '
             f'height="{H}" role="img" aria-label="{escape(title)}" class="chart">',
             f'<title>{escape(title)}</title>',
             f'<rect x="0" y="0" width="{W}" height="{H}" fill="#ffffff"/>']
    for i in range(5):
        y = TOP + (H - TOP - BOTTOM) * i / 4
        value = y_max * (1 - i / 4)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{W - RIGHT}" y2="{y:.1f}" '
                     'stroke="#e5e7eb" stroke-width="1"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
                     f'fill="#374151">{_fmt(value)}{escape(unit)}</text>')
    parts.append(f'<line x1="{LEFT}" y1="{H - BOTTOM}" x2="{W - RIGHT}" y2="{H - BOTTOM}" '
                 'stroke="#6b7280" stroke-width="1"/>')
    return parts


def _y_scale(y_max: float) -> Callable[[float], float]:
    """Value -> y pixel in the plot area (values above `y_max` drawn at the top)."""
    plot_h = H - TOP - BOTTOM
    return lambda v: TOP + plot_h * (1 - min(v, y_max) / y_max)


def _hlines(hlines: Sequence[tuple[str, float]], y: Callable[[float], float]) -> list[str]:
    """Labelled dashed horizontal lines (targets, budgets)."""
    parts = []
    for label, value in hlines:
        parts.append(f'<line x1="{LEFT}" y1="{y(value):.1f}" x2="{W - RIGHT}" y2="{y(value):.1f}" '
                     'stroke="#f59e0b" stroke-width="1.5" stroke-dasharray="6 4"/>')
        parts.append(f'<text x="{W - RIGHT - 4}" y="{y(value) - 4:.1f}" text-anchor="end" '
                     f'font-size="11" fill="#b45309">{escape(label)}</text>')
    return parts


def _legend(names: Sequence[str]) -> list[str]:
    parts, x = [], LEFT
    for i, name in enumerate(names):
        colour = COLOURS[i % len(COLOURS)]
        parts.append(f'<rect x="{x}" y="{H - 14}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="{H - 5}" font-size="11" fill="#111827">'
                     f'{escape(name)}</text>')
        x += 24 + 6.5 * len(name)  # ~6.5 px per character at 11 px
    return parts


def line_chart(title: str, series: Sequence[tuple[str, Sequence[tuple[float, float]]]],
               start: float, end: float, tz: ZoneInfo, unit: str = "",
               band: tuple[float, float] | None = None,
               hlines: Sequence[tuple[str, float]] = ()) -> str:
    """Lines of (ts, value) points over [start, end], a day tick each local midnight,
    an optional shaded target band and labelled horizontal lines (targets, budgets)."""
    values = [v for _, pts in series for _, v in pts] + [v for _, v in hlines]
    if band:
        values += list(band)
    y_max = _nice_max(max(values, default=1.0) * 1.05)
    span = max(end - start, 1.0)
    plot_w = W - LEFT - RIGHT
    y = _y_scale(y_max)

    def x(ts: float) -> float:
        return LEFT + plot_w * (ts - start) / span

    parts = _frame(title, y_max, unit)
    if band:
        parts.append(f'<rect x="{LEFT}" y="{y(band[1]):.1f}" width="{plot_w}" '
                     f'height="{y(band[0]) - y(band[1]):.1f}" fill="#bbf7d0" opacity="0.6" '
                     'class="band"/>')
    day = datetime.fromtimestamp(start, tz).replace(hour=0, minute=0, second=0, microsecond=0)
    for _ in range(9):
        ts = day.timestamp()
        if start <= ts <= end:
            parts.append(f'<line x1="{x(ts):.1f}" y1="{TOP}" x2="{x(ts):.1f}" y2="{H - BOTTOM}" '
                         'stroke="#f3f4f6" stroke-width="1"/>')
            parts.append(f'<text x="{x(ts) + 3:.1f}" y="{H - BOTTOM + 14}" font-size="11" '
                         f'fill="#374151">{day.strftime("%a %d")}</text>')
        day = datetime.fromtimestamp(ts + 26 * 3600, tz).replace(hour=0, minute=0, second=0,
                                                                microsecond=0)
    parts += _hlines(hlines, y)
    for i, (name, pts) in enumerate(series):
        if not pts:
            continue
        d = " ".join(f"{'M' if j == 0 else 'L'}{x(t):.1f},{y(v):.1f}"
                     for j, (t, v) in enumerate(pts))
        parts.append(f'<path d="{d}" fill="none" stroke="{COLOURS[i % len(COLOURS)]}" '
                     f'stroke-width="1.6" class="series" data-name="{escape(name)}"/>')
    parts += _legend([name for name, _ in series])
    parts.append("</svg>")
    return "\n".join(parts)


def bar_chart(title: str, labels: Sequence[str], stacks: Sequence[tuple[str, Sequence[float]]],
              unit: str = "", hlines: Sequence[tuple[str, float]] = ()) -> str:
    """One bar per label, stacked from `stacks` (name, value per label)."""
    totals = [sum(values[i] for _, values in stacks) for i in range(len(labels))]
    y_max = _nice_max(max(totals + [v for _, v in hlines], default=1.0) * 1.05)
    slot = (W - LEFT - RIGHT) / max(1, len(labels))
    bar_w = slot * 0.6
    y = _y_scale(y_max)

    parts = _frame(title, y_max, unit)
    for i, label in enumerate(labels):
        x = LEFT + slot * i + (slot - bar_w) / 2
        base = 0.0
        for k, (name, values) in enumerate(stacks):
            v = values[i]
            if v > 0:
                parts.append(f'<rect x="{x:.1f}" y="{y(base + v):.1f}" width="{bar_w:.1f}" '
                             f'height="{y(base) - y(base + v):.1f}" '
                             f'fill="{COLOURS[k % len(COLOURS)]}" class="bar" '
                             f'data-name="{escape(name)}"><title>{escape(label)} '
                             f'{escape(name)}: {v:g}{escape(unit)}</title></rect>')
            base += v
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{H - BOTTOM + 14}" text-anchor="middle" '
                     f'font-size="11" fill="#374151">{escape(label)}</text>')
    parts += _hlines(hlines, y)
    parts += _legend([name for name, _ in stacks])
    parts.append("</svg>")
    return "\n".join(parts)


SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float | None]) -> str:
    """Text sparkline for Markdown ("·" where there is no value)."""
    known = [v for v in values if v is not None]
    if not known:
        return ""
    lo, hi = min(known), max(known)
    out = []
    for v in values:
        if v is None:
            out.append("·")
        else:
            i = 0 if hi == lo else round((v - lo) / (hi - lo) * (len(SPARKS) - 1))
            out.append(SPARKS[i])
    return "".join(out)
