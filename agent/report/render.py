"""The weekly report as a self-contained HTML page (inline CSS and SVG, nothing fetched) or as
Markdown (tables and text sparklines), from a `WeeklyReport` (pure)."""

from __future__ import annotations

from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from agent.report import svg
from agent.report.weekly import WeeklyReport
from rules.budget import Level, Levels, level

DEMO_BANNER = ("DEMO DATA — simulated week (alice-ops report weekly --demo), not this "
               "deployment's history")
CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 780px; color: #111827; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border-bottom: 1px solid #e5e7eb; padding: 0.25rem 0.6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.ok { color: #15803d; } .warning { color: #b45309; } .critical { color: #b91c1c; }
.muted { color: #6b7280; font-size: 0.9rem; }
"""


def _num(value: float | None, fmt: str = "{:.0f}") -> str:
    return "–" if value is None else fmt.format(value)


def _stamp(ts: float, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M")


def _verdict_class(verdict: str) -> str:
    return {"meets target": "ok", "misses target": "warning", "above alert": "critical"}.get(
        verdict, "")


def _spend_class(percent: float | None, levels: Levels) -> str:
    """The CSS class of spend at `percent` of its budget, by the configured levels."""
    if percent is None:
        return ""
    found = level(percent, 100.0, levels)
    return "ok" if found is Level.OK else ("warning" if found is Level.WARNING else "critical")


def _origin(r: WeeklyReport) -> str:
    return "the simulator's demo week" if r.demo else "the alice-agent's stored history"


def to_html(r: WeeklyReport) -> str:
    tz = ZoneInfo(r.timezone)
    day_labels = [d.day.strftime("%a %d") for d in r.days]
    out = [*([f"<!-- {DEMO_BANNER} -->"] if r.demo else []),  # comments may precede it
           "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{'DEMO DATA: ' if r.demo else ''}Alice weekly performance report</title>",
           f"<style>{CSS}</style></head><body>",
           *([f'<p class="demo"><strong>{DEMO_BANNER}</strong></p>'] if r.demo else []),
           "<h1>Alice weekly performance report</h1>",
           f'<p class="muted">{_stamp(r.start, tz)} to {_stamp(r.end, tz)} ({escape(r.timezone)}); '
           f"generated {_stamp(r.generated_at, tz)} from {_origin(r)}.</p>"]
    # latency
    out.append("<h2>Latency percentiles</h2>")
    out.append(svg.line_chart("Latency p95 (hourly mean)",
                              [(s.name, s.points) for s in r.latency_series],
                              r.start, r.end, tz, unit=" ms"))
    out.append("<table><tr><th>metric</th><th>p50</th><th>p95</th><th>p99</th><th>worst</th>"
               "<th>target</th><th>alert</th><th>verdict (p95)</th></tr>")
    for row in r.latency:
        out.append(f"<tr><td>{escape(row.title)}</td><td>{_num(row.p50)}</td>"
                   f"<td>{_num(row.p95)}</td><td>{_num(row.p99)}</td><td>{_num(row.worst)}</td>"
                   f"<td>&lt; {row.target:g} ms</td><td>&gt; {row.alert:g} ms</td>"
                   f'<td class="{_verdict_class(row.verdict)}">{row.verdict}</td></tr>')
    out.append("</table>")
    out.append('<p class="muted">Percentiles over the week of the p95 the agent sampled '
               "(Prometheus histograms, 5-minute windows); the verdict judges their p95.</p>")
    # routing split
    low, high = r.band
    out.append("<h2>Routing split</h2>")
    out.append(svg.line_chart(f"Fast-path share (target {low:g}-{high:g} %)",
                              [("fast share %", r.share_series.points)], r.start, r.end, tz,
                              unit=" %", band=r.band))
    share = r.fast_share
    out.append(f"<p>Average fast-path share: <b>{_num(share)} %</b> (target {low:g}-{high:g} %"
               f"{'' if share is None else ': ' + _band_word(share, r.band)}).</p>")
    # spend
    out.append("<h2>Spend vs budget</h2>")
    out.append(svg.bar_chart("OpenAI spend per day (USD)", day_labels,
                             [("spend", [d.spend_usd or 0.0 for d in r.days])], unit="",
                             hlines=[(f"daily budget {r.daily_budget:.2f}", r.daily_budget)]))
    out.append("<table><tr><th>day</th><th>spend USD</th><th>budget USD</th><th>used</th>"
               "<th>fast share</th><th>alerts (warning / critical)</th></tr>")
    for d in r.days:
        out.append(f"<tr><td>{d.day.isoformat()} {d.day.strftime('%a')}</td>"
                   f"<td>{_num(d.spend_usd, '{:.2f}')}</td><td>{d.budget_usd:.2f}</td>"
                   f'<td class="{_spend_class(d.percent, r.levels)}">{_num(d.percent)} %</td>'
                   f"<td>{_num(d.fast_share)} %</td><td>{d.warnings} / {d.criticals}</td></tr>")
    week, pct = r.week_spend, r.week_percent
    out.append(f'<tr><td><b>week</b></td><td><b>{_num(week, "{:.2f}")}</b></td>'
               f"<td>{r.weekly_budget:.2f}</td>"
               f'<td class="{_spend_class(pct, r.levels)}"><b>{_num(pct)} %</b></td>'
               f"<td>{_num(share)} %</td>"
               f"<td>{sum(d.warnings for d in r.days)} / {sum(d.criticals for d in r.days)}"
               "</td></tr></table>")
    # alerts
    out.append("<h2>Alerts</h2>")
    out.append(svg.bar_chart("Alerts fired per day", day_labels,
                             [("warning", [d.warnings for d in r.days]),
                              ("critical", [d.criticals for d in r.days])]))
    if r.alert_counts:
        out.append("<table><tr><th>alert</th><th>warning</th><th>critical</th></tr>")
        for name, w, c in r.alert_counts:
            out.append(f"<tr><td>{escape(name)}</td><td>{w}</td><td>{c}</td></tr>")
        out.append("</table>")
    else:
        out.append("<p>No alerts fired this week.</p>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _band_word(share: float, band: tuple[float, float]) -> str:
    if share < band[0]:
        return "below the band"
    return "above the band" if share > band[1] else "in the band"


def to_markdown(r: WeeklyReport) -> str:
    tz = ZoneInfo(r.timezone)
    low, high = r.band
    lines = [*([f"**{DEMO_BANNER}**", ""] if r.demo else []),
             "# Alice weekly performance report", "",
             f"{_stamp(r.start, tz)} to {_stamp(r.end, tz)} ({r.timezone}); generated "
             f"{_stamp(r.generated_at, tz)} from {_origin(r)}.", "",
             "## Latency percentiles", "",
             "| metric | p50 | p95 | p99 | worst | target | alert | verdict (p95) | week |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for row, series in zip(r.latency, r.latency_series):
        lines.append(f"| {row.title} | {_num(row.p50)} | {_num(row.p95)} | {_num(row.p99)} | "
                     f"{_num(row.worst)} | < {row.target:g} ms | > {row.alert:g} ms | "
                     f"{row.verdict} | {svg.sparkline(_daily(series.points, r, tz))} |")
    share = r.fast_share
    lines += ["", "## Routing split", "",
              f"Average fast-path share: **{_num(share)} %** (target {low:g}-{high:g} %"
              f"{'' if share is None else ': ' + _band_word(share, r.band)}).", "",
              "## Spend vs budget", "",
              "| day | spend USD | budget USD | used | fast share | alerts (warning / critical) |",
              "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for d in r.days:
        lines.append(f"| {d.day.isoformat()} {d.day.strftime('%a')} | "
                     f"{_num(d.spend_usd, '{:.2f}')} | {d.budget_usd:.2f} | {_num(d.percent)} % | "
                     f"{_num(d.fast_share)} % | {d.warnings} / {d.criticals} |")
    week, pct = r.week_spend, r.week_percent
    lines.append(f"| **week** | **{_num(week, '{:.2f}')}** | {r.weekly_budget:.2f} | "
                 f"**{_num(pct)} %** | {_num(share)} % | {sum(d.warnings for d in r.days)} / "
                 f"{sum(d.criticals for d in r.days)} |")
    lines += ["", "## Alerts", ""]
    if r.alert_counts:
        lines += ["| alert | warning | critical |", "| --- | ---: | ---: |"]
        lines += [f"| {name} | {w} | {c} |" for name, w, c in r.alert_counts]
    else:
        lines.append("No alerts fired this week.")
    return "\n".join(lines) + "\n"


def _daily(points, r: WeeklyReport, tz: ZoneInfo) -> list[float | None]:
    by_day: dict = {}
    for ts, v in points:
        by_day.setdefault(datetime.fromtimestamp(ts, tz).date(), []).append(v)
    return [sum(by_day[d.day]) / len(by_day[d.day]) if d.day in by_day else None
            for d in r.days]
