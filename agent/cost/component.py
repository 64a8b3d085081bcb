"""The agent's `cost` component: a job that reads spend like a probe and feeds three rows.

Present only when the config has a `cost:` section (an explicit opt-in: nobody gets
spend alerts, or a `cost` tile, without asking). Rows `cost/hourly_budget`,
`cost/daily_budget`, `cost/weekly_budget` (percent of the budget used; target = the
warning level, alert = the critical level) give the alerts `cost_hourly_budget`,
`cost_daily_budget`, `cost_weekly_budget`: warning from 80 %, critical from 95 %.
The remediation playbooks `cost-warning` / `cost-critical` key on those names.

Burn-rate rows `cost/hourly_burn`, `cost/daily_burn` (minutes until the budget runs
out at the current rate; the window's length while it lasts the window) give the
alerts `cost_hourly_burn`, `cost_daily_burn`: a WARNING naming the time once it runs
out within `cost.burn_horizons_s` (default 15 min for the hour, 1 h for the day).

With `cost.session_cap_usd` set, the row `cost/session_cap` (the most expensive session's
spend in USD; target = the warning level of the cap, alert = its critical level) gives the
alert `cost_session_cap`, worded "session abc123 spent 0.42 USD > cap 0.25 USD". A cap whose
per-session series Prometheus has never had is a blind spot naming the series.

Rows `cost/rate_limit_requests_left` and `cost/rate_limit_tokens_left` (percent left, at the
openai rows' levels) judge the rate-limit headroom the app's own metrics show
(`cost.rate_limits`); they apply only while such a figure with a limit is read, and only
without an `openai` target (with one, its own rows judge it: one row per fact).
"""

from __future__ import annotations

import math
import time
from typing import Awaitable, Callable

import httpx

from agent.config import Config
from vocab.model import ProbeResult, Reading, Status
from rules.budget import WINDOWS
from rules.thresholds import ThresholdRow

COMPONENT = "cost"
COSTS_API_EVERY_S = 300.0
"""The costs API has daily buckets and lags; asking it every probe would only spend quota."""


def cost_rows(config: Config) -> tuple[ThresholdRow, ...]:
    if config.cost is None:
        return ()
    from agent.cost import cost_table

    levels = cost_table(config).levels
    budgets = tuple(ThresholdRow(component=COMPONENT, metric=f"{w}_budget",
                                 title=f"{w.capitalize()} budget used", unit="percent",
                                 probe=f"{w}_budget_percent", direction="lower",
                                 target=levels.warning * 100, alert=levels.critical * 100)
                    for w in WINDOWS)
    # runs out within the horizon: WARNING (never CRITICAL: the budget rows say that)
    burns = tuple(ThresholdRow(component=COMPONENT, metric=f"{w}_burn",
                               title=f"{w.capitalize()} budget runway", unit="minutes",
                               probe=f"{w}_burn_minutes", direction="higher",
                               target=h / 60, alert=0.0)
                  for w, h in burn_horizons(config).items())
    cap = config.cost.session_cap_usd
    session = () if cap is None else (ThresholdRow(
        component=COMPONENT, metric="session_cap", title="Most expensive session (cap)",
        unit="USD", probe="session_cap_usd", direction="lower",
        target=cap * levels.warning, alert=cap * levels.critical),)
    return budgets + burns + session + ratelimit_rows(config)


def ratelimit_rows(config: Config) -> tuple[ThresholdRow, ...]:
    """`cost/rate_limit_requests_left` and `_tokens_left`: the app's own headroom, at the
    levels of the openai rows (the deep probe's). They apply only while a figure with a limit
    is read (no figure: no reading, not a blind spot), and only without an `openai` target:
    with one, its own rows judge the headroom (agent.cost.ratelimits.bind_openai_rows), and a
    second row on the same fact would page twice."""
    from rules.thresholds import apply_overrides, default_rows

    if config.targets.openai is not None:
        return ()

    probe_rows = {r.metric: r for r in apply_overrides(default_rows(), config.thresholds)
                  if r.component == "openai"}
    rows = []
    for kind in ("requests", "tokens"):
        base = probe_rows.get(f"rate_limit_{kind}_left")
        target, alert = (base.target, base.alert) if base else (20.0, 5.0)
        rows.append(ThresholdRow(component=COMPONENT, metric=f"rate_limit_{kind}_left",
                                 title=f"{kind.capitalize()} left in the rate-limit window "
                                       "(app metrics)", unit="percent",
                                 probe=f"app_ratelimit_{kind}_left_percent",
                                 direction="higher", target=target, alert=alert))
    return tuple(rows)


def burn_horizons(config: Config) -> dict[str, float]:
    """Window -> burn-rate horizon in seconds, for the windows that have one."""
    from rules.budget import DEFAULT_HORIZONS_S

    given = config.cost.burn_horizons_s if config.cost is not None else {}
    return {w: h for w, h in {**DEFAULT_HORIZONS_S, **given}.items() if h is not None}


def reading_value(percent: float, critical_percent: float) -> float:
    """The percent as judged by the threshold table, where CRITICAL is "above alert":
    exactly at the critical level counts as crossed (the guide's "95 % of budget")."""
    if math.isfinite(percent) and percent >= critical_percent:
        return max(percent, math.nextafter(critical_percent, math.inf))
    return percent


def session_reading(per: dict, critical_level: float) -> Reading:
    """The session-cap row's reading from the report's `per_session` section: the top
    session's USD (0 with no session), absent when its series were never exported."""
    if not per["available"]:
        return Reading(None, "USD", reason=per["reason"], missing=tuple(per["missing"]))
    top = per["top"][0]["usd"] if per["top"] else 0.0
    # exactly at the critical level counts as crossed, as for the budgets
    return Reading(reading_value(top, per["cap_usd"] * critical_level), "USD")


class CostJob:
    """Callable factory for the runtime's job table; keeps the costs API answer between
    runs (refreshed every COSTS_API_EVERY_S)."""

    def __init__(self, config: Config, transport: httpx.AsyncBaseTransport | None = None,
                 clock: Callable[[], float] = time.time):
        self.config, self.transport, self.clock = config, transport, clock
        self.cache: dict = {}

    def __call__(self) -> Awaitable[ProbeResult]:
        return self.probe()

    async def probe(self) -> ProbeResult:
        from agent.cost import spend_report
        from agent.cost.ratelimits import ratelimit_text

        started = time.perf_counter()
        report = await spend_report(self.config, self.clock(), self.transport,
                                    costs_api_cache=self.cache,
                                    costs_api_every_s=COSTS_API_EVERY_S)
        latency = (time.perf_counter() - started) * 1000
        section = report.to_json()
        critical = section["levels_percent"]["critical"]
        readings, texts, history = {}, {}, {}
        for b in section["budgets"]:
            pct = b["percent"]
            if not b["measured"]:
                continue  # no configured source can measure it: the row does not apply
            if pct is None:
                readings[f"{b['window']}_budget_percent"] = Reading(
                    None, "percent", reason=report.reason or f"{b['window']} spend unknown")
            else:
                readings[f"{b['window']}_budget_percent"] = Reading(
                    reading_value(pct, critical), "percent")
                history[f"{b['window']}_spent_usd"] = b["spent_usd"]
            texts[f"{b['window']}_budget"] = b["text"]
        causes = {}
        for u in section.get("burn", ()):
            if u["minutes_left"] is None:
                continue  # no burn rate (or no spend): nothing to project, the row does not apply
            key = f"{u['window']}_burn"
            readings[f"{key}_minutes"] = Reading(u["minutes_left"], "minutes")
            texts[key] = causes[key] = u["text"]
        per = section.get("per_session") or {}
        if per and per["status"] != "off":
            readings["session_cap_usd"] = session_reading(per, critical / 100)
            texts["session_cap"] = causes["session_cap"] = per["text"]
        for f in section.get("rate_limits", ()):
            if f["left_percent"] is not None:
                readings[f"app_ratelimit_{f['kind']}_left_percent"] = Reading(
                    f["left_percent"], "percent")
                texts[f"rate_limit_{f['kind']}_left"] = ratelimit_text(f)
        routing = section["routing"]
        for key in ("fast_per_s", "think_per_s", "fast_share_percent"):
            if routing[key] is not None:
                history[key] = routing[key]
        if section["burn_rate_usd_per_hour"] is not None:
            history["burn_usd_per_hour"] = section["burn_rate_usd_per_hour"]
        known = any(b["spent_usd"] is not None for b in section["budgets"])
        status = Status.OK if known else Status.UNKNOWN
        summary = report.texts["daily"] if known else (report.reason or "no spend figure")
        if section["disagreements"]:
            summary += f"; sources disagree ({section['disagreements'][0]})"
        return ProbeResult(COMPONENT, status, summary, latency_ms=latency, readings=readings,
                           details={"section": section, "alert_text": texts,
                                    "alert_cause": causes, "history": history})


def cost_jobs(config: Config, transport: httpx.AsyncBaseTransport | None = None
              ) -> dict[str, tuple[Callable[[], Awaitable[ProbeResult]], float]]:
    """{"cost": (factory, budget_s)} when `cost:` is configured, else {}."""
    if config.cost is None:
        return {}
    t = config.targets
    budget_ms = max([t.prometheus.timeout_ms if t.prometheus else 0,
                     t.openai.timeout_ms if t.openai and t.openai.admin_key else 0, 1000])
    return {COMPONENT: (CostJob(config, transport),
                        min(budget_ms / 1000 + 2.0, config.check.deadline_s))}
