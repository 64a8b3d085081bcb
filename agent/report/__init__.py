"""The weekly performance report (the guide's Weekly Operations Tasks: "Generate weekly
performance report"): read seven days of history from state.db, build, render.

    report = weekly_report(config, store, now)      # -> WeeklyReport (plain data)
    write_report(report, Path("report.html"), "html")   # or "md"
"""

from __future__ import annotations

from pathlib import Path

from agent.config import Config
from agent.report.render import to_html, to_markdown
from agent.report.weekly import LatencyMetric, WeeklyReport, build_weekly, week_start
from agent.store import Store

__all__ = ["WeeklyReport", "latency_metrics", "weekly_report", "write_report"]

LATENCY_ROWS = (("backend", "intent_routing_latency_p95"),
                ("openai", "openai_response_latency_p95"),
                ("ollama", "local_ai_processing_time_p95"),
                ("backend", "tool_execution_time_p95"))
HISTORY = (("cost", "daily_spent_usd"), ("cost", "fast_share_percent"))


def latency_metrics(config: Config) -> tuple[LatencyMetric, ...]:
    """The latency rows of the threshold table in force (titles, targets, alerts)."""
    from agent.check import threshold_rows

    rows = {r.key: r for r in threshold_rows(config)}
    return tuple(LatencyMetric(c, m, rows[(c, m)].title, rows[(c, m)].target,
                               rows[(c, m)].alert) for c, m in LATENCY_ROWS if (c, m) in rows)


def weekly_report(config: Config, store: Store, now: float) -> WeeklyReport:
    """Blocking (SQLite): the seven local days ending today, in the cost time zone."""
    from agent.cost import cost_table
    from agent.cost.sources import local_zone

    tz = local_zone(config.cost.timezone if config.cost else None)
    start = week_start(now, tz)
    latency = latency_metrics(config)
    history = {}
    for component, metric in [(m.component, m.metric) for m in latency] + list(HISTORY):
        history[(component, metric)] = [(p.ts, p.value) for p in
                                        store.samples(component, metric, start, now)
                                        if p.value is not None]
    alerts = [(a.ts, a.target, a.outcome) for a in
              store.audit_log(limit=1_000_000, action="alert.firing") if a.ts >= start]
    table = cost_table(config)
    return build_weekly(history, alerts, latency, end=now, tz=tz,
                        daily_budget=table.budgets["daily"],
                        weekly_budget=table.budgets["weekly"], band=table.routing_band,
                        generated_at=now, levels=table.levels)


def write_report(report: WeeklyReport, path: Path, fmt: str) -> None:
    """Write atomically (a temporary file renamed into place)."""
    text = to_html(report) if fmt == "html" else to_markdown(report)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
