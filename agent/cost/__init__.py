"""Spend against budget: read every configured spend source, reconcile, judge the budgets.

The one entry point other capabilities call::

    from agent.cost import spend_report
    report = await spend_report(config, now)        # -> CostReport (plain data)
    report.status                                   # Status: worst of the three budgets
    report.budget("daily").spent_usd, .limit_usd, .percent, .level, .exhausted_at
    report.texts["daily"]  # "daily budget 10.00 USD: 8.42 spent, 84 %, exhausted at ..."
    report.to_json()       # the snapshot's `cost` section (shape documented there)

Sources, each used when it can be: Prometheus (`targets.prometheus`: the cost
counter, request and token counters), the OpenAI organization costs API
(`targets.openai.admin_key`), and an estimate (token or request counts from
Prometheus x the price table). Nothing configured gives status UNKNOWN with a reason.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the package is imported with agent.runtime, with or without `cost:`;
    # the sources, the reconciliation and the price table load on first use
    import httpx

    from agent.config import Config
    from agent.cost.reconcile import CostReport
    from rules.cost_table import CostTable

__all__ = ["cost_table", "spend_report", "week_start_of"]


def cost_table(config: Config) -> CostTable:
    from rules.cost_table import table_for

    return table_for(config.cost)


def week_start_of(config: Config) -> int:
    return 6 if config.cost is not None and config.cost.week_start == "sunday" else 0


async def spend_report(config: Config, now: float | None = None,
                       transport: httpx.AsyncBaseTransport | None = None, *,
                       costs_api_cache: dict | None = None,
                       costs_api_every_s: float = 0.0) -> CostReport:
    """Spend today / this hour / this week against the budgets, from every source.

    Never raises for an unreachable source: its `SourceFigures` says why. `transport`
    (tests) carries the costs API's HTTP. A caller that runs this often (the agent)
    passes a `costs_api_cache` dict: the costs API is then asked at most every
    `costs_api_every_s` seconds (and again when the week changes).
    """
    import asyncio
    from dataclasses import replace

    from agent.config import CostSettings, RealtimeProbe
    from agent.cost.ratelimits import ratelimit_figures, ratelimit_queries
    from agent.cost.sessions import (SessionUsage, per_session_section, section_status,
                                     session_queries, sessions_from_results)
    from rules.cost_table import audio_cost
    from rules.guide_metrics import series_names_in
    from vocab.model import Status
    from agent.cost.reconcile import SourceFigures, Traffic, build_report
    from agent.cost.sources import (
        COSTS_API_WINDOWS,
        CostsApiError,
        costs_api_figures,
        fetch_daily_costs,
        from_prometheus,
        local_zone,
        prometheus_queries,
        query_prometheus,
    )
    from rules.budget import DEFAULT_HORIZONS_S, window_bounds

    settings = config.cost or CostSettings()
    now = time.time() if now is None else now
    tz = local_zone(settings.timezone)
    week_start = week_start_of(config)
    table = cost_table(config)
    t = config.targets
    wanted = settings.sources
    model = settings.model or (t.openai.model if t.openai else None)

    async def prometheus():
        if t.prometheus is None:
            return None
        queries = {**session_queries(settings.session_usage),
                   **ratelimit_queries(settings.rate_limits)}
        if {"prometheus", "estimate"} & set(wanted):
            queries.update(prometheus_queries(settings.metrics, now, tz, week_start))
        return await query_prometheus(t.prometheus, queries)

    async def costs_api():
        if "costs_api" not in wanted or t.openai is None or t.openai.admin_key is None:
            return None
        start, _ = window_bounds("weekly", now, tz, week_start)
        cache = costs_api_cache if costs_api_cache is not None else {}
        fresh = cache.get("start") == start and now - cache.get("at", -1e18) < costs_api_every_s
        if not fresh:
            try:
                answer = await fetch_daily_costs(t.openai, start, now + 1, transport)
            except CostsApiError as exc:
                answer = SourceFigures("costs_api", available=False, reason=str(exc),
                                       windows=COSTS_API_WINDOWS)
            cache.update(start=start, at=now, answer=answer)
        answer = cache["answer"]
        if isinstance(answer, SourceFigures):
            return answer
        return costs_api_figures(answer, now, tz, week_start)

    prom_answer, api_figures = await asyncio.gather(prometheus(), costs_api())
    figures: list[SourceFigures] = []
    traffic = Traffic(reason="targets.prometheus is not configured")
    usage = SessionUsage(False, reason="targets.prometheus is not configured; per-session "
                                       "usage is read from it (cost.session_usage.promql)",
                         missing=tuple(sorted(series_names_in(settings.session_usage.promql))))
    limits: list[dict] = []
    if prom_answer is not None:
        results, reason = prom_answer
        usage = sessions_from_results(results, reason, settings.session_usage)
        limits = ratelimit_figures(results, settings.rate_limits)
    if prom_answer is not None and {"prometheus", "estimate"} & set(wanted):
        prom, estimate, traffic = from_prometheus(results, reason, settings.metrics, table,
                                                  model)
        if "prometheus" in wanted:
            figures.append(prom)
        if "estimate" in wanted:
            figures.append(estimate)
    if api_figures is not None:
        figures.append(api_figures)
    report = build_report(figures, traffic, table, now, tz, order=list(wanted),
                          primary=settings.primary, week_start=week_start,
                          tolerance_percent=settings.reconcile_tolerance_percent,
                          horizons={**DEFAULT_HORIZONS_S, **settings.burn_horizons_s})
    session_model = settings.session_usage.model or (
        t.openai.realtime.model if t.openai else RealtimeProbe().model)
    price_name, price = table.price(session_model)
    per_session = per_session_section(usage, price_name, price, settings.session_cap_usd,
                                      table.levels)
    added = section_status(per_session)
    report = replace(report, per_session=per_session, rate_limits=tuple(limits),
                     audio=audio_cost(price_name, price, usage.total if usage.available
                                      else None),
                     status=Status.worst([report.status, *([added] if added else [])]))
    if not figures:
        report = replace(report, reason="no spend source: configure targets.prometheus "
                                        "(cost counter) or targets.openai.admin_key "
                                        "(organization costs API)")
    return report
