"""Spend sources (the I/O edge): Prometheus counters, OpenAI's organization costs API, and
an estimate from request and token counts times the price table.

Each source answers with `SourceFigures`; a source that cannot be read says why in
one line (never with a key in it) and the others still count.
"""

from __future__ import annotations

import asyncio
import math
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, Mapping
from zoneinfo import ZoneInfo

import httpx

from agent.config import CostMetricNames, OpenAITarget, PrometheusTarget
from agent.cost.reconcile import SourceFigures, Traffic
from agent.cost.sessions import instant_value
from vocab.redact import redact
from rules.budget import WINDOWS, window_bounds
from rules.cost_table import CostTable

DAY_S = 86400
COSTS_API_WINDOWS = ("daily", "weekly")
BURN_RANGE = "1h"
RATE_RANGE = "5m"


def _range(now: float, start: float) -> str:
    return f"{max(1, math.ceil(now - start))}s"


def prometheus_queries(m: CostMetricNames, now: float, tz: ZoneInfo, week_start: int
                       ) -> dict[str, str]:
    """Every query the cost figures need, by name. Spend per window is the counter's
    increase since the window started (not over the last 24 h)."""
    q: dict[str, str] = {
        "cost_series": f"count({m.cost})",
        "burn": f"sum(rate({m.cost}[{BURN_RANGE}])) * 3600",
        "fast": f"sum(rate({m.fast}[{RATE_RANGE}]))",
        "think": f"sum(rate({m.think}[{RATE_RANGE}]))",
        "total": f"sum(rate({m.total}[{RATE_RANGE}]))",
        "sessions": f"sum({m.sessions})",
        "tokens_burn": f"sum by ({m.token_label}) (rate({m.tokens}[{BURN_RANGE}])) * 3600",
        "fast_burn": f"sum(rate({m.fast}[{BURN_RANGE}])) * 3600",
    }
    for window in WINDOWS:
        start, _ = window_bounds(window, now, tz, week_start)
        rng = _range(now, start)
        q[f"cost_{window}"] = f"sum(increase({m.cost}[{rng}]))"
        q[f"tokens_{window}"] = f"sum by ({m.token_label}) (increase({m.tokens}[{rng}]))"
        q[f"fast_{window}"] = f"sum(increase({m.fast}[{rng}]))"
    return q


def _run_queries(target: PrometheusTarget, queries: Mapping[str, str]
                 ) -> tuple[dict[str, list], str]:
    """Blocking: every query in its own thread; returns raw results and a failure reason."""
    from agent.probes.prometheus import _query_reason, make_connection

    conn = make_connection(target)
    pool = ThreadPoolExecutor(max_workers=len(queries), thread_name_prefix="costq")  # all at once
    try:
        futures = {name: pool.submit(conn.custom_query, query) for name, query in queries.items()}
        # one deadline for all: they run at once, so waiting on each in turn must not
        # give every query a fresh timeout
        deadline = time.monotonic() + target.timeout_ms / 1000 + 1
        results: dict[str, list] = {}
        failures: list[str] = []
        for name, fut in futures.items():
            try:
                results[name] = fut.result(timeout=max(0.0, deadline - time.monotonic()))
            except Exception as exc:  # each failed query is a missing figure
                failures.append(_query_reason(exc, target.timeout_ms)
                                if not isinstance(exc, TimeoutError)
                                else f"no answer within {target.timeout_ms} ms")
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        conn.close()
    reason = redact(f"{len(failures)} queries failed ({failures[0]})", _secrets(target)) \
        if failures else ""
    return results, reason


def _secrets(target: PrometheusTarget) -> list[str]:
    return [target.bearer_token.get_secret_value()] if target.bearer_token else []


def _scalar(result: list | None) -> float | None:
    return instant_value(result[0]) if result else None


def _by_label(result: list | None, label: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for row in result or []:
        value = instant_value(row)
        if value is not None:
            out[str(row.get("metric", {}).get(label, ""))] = value
    return out


def from_prometheus(results: Mapping[str, list], reason: str, m: CostMetricNames,
                    table: CostTable, model: str | None
                    ) -> tuple[SourceFigures, SourceFigures, Traffic]:
    """(prometheus counter source, estimate source, traffic) from the query answers."""
    has_counter = _scalar(results.get("cost_series")) not in (None, 0.0)
    spent: dict[str, float | None] = {}
    for window in WINDOWS:
        value = _scalar(results.get(f"cost_{window}"))
        # a window younger than two scrapes has no increase yet: nothing spent in it
        spent[window] = max(0.0, value) if value is not None else (0.0 if has_counter else None)
    prom = SourceFigures(
        "prometheus", available=has_counter,
        reason="" if has_counter else (reason or f"no series {m.cost} in Prometheus"),
        spent=spent if has_counter else {}, burn_usd_per_h=_scalar(results.get("burn"))
        if has_counter else None, note=f"increase({m.cost}) since each window started")

    price_name, price = table.price(model)
    per_window = {w: _by_label(results.get(f"tokens_{w}"), m.token_label) for w in WINDOWS}
    burn_tokens = _by_label(results.get("tokens_burn"), m.token_label)
    # one method for every window: token counts when the series exists (a window without
    # an increase yet spent nothing), else fast requests x tokens per request
    tokens_seen = any(m.prompt_value in t or m.completion_value in t
                      for t in [*per_window.values(), burn_tokens])
    fast_seen = any(_scalar(results.get(f"fast_{w}")) is not None for w in WINDOWS)
    tpr_prompt, tpr_completion = table.tokens_per_request

    def by_requests(count: float | None) -> float | None:
        return None if count is None else price.cost(count * tpr_prompt, count * tpr_completion)

    est_spent: dict[str, float | None] = {}
    for window in WINDOWS:
        if tokens_seen:
            tokens = per_window[window]
            est_spent[window] = price.cost(tokens.get(m.prompt_value, 0.0),
                                           tokens.get(m.completion_value, 0.0))
        else:
            fast = _scalar(results.get(f"fast_{window}"))
            est_spent[window] = by_requests(fast if fast is not None else
                                            (0.0 if fast_seen else None))
    if tokens_seen:
        est_burn = price.cost(burn_tokens.get(m.prompt_value, 0.0),
                              burn_tokens.get(m.completion_value, 0.0)) if burn_tokens else None
    else:
        est_burn = by_requests(_scalar(results.get("fast_burn")))
    est_ok = any(v is not None for v in est_spent.values())
    how = "token counts" if tokens_seen else (
        f"fast requests x {table.tokens_per_request[0]:g}+{table.tokens_per_request[1]:g} tokens")
    estimate = SourceFigures(
        "estimate", available=est_ok,
        reason="" if est_ok else (reason or f"no series {m.tokens} or {m.fast} in Prometheus"),
        spent=est_spent if est_ok else {}, burn_usd_per_h=est_burn if est_ok else None,
        note=f"{how} x price of {price_name} ({price.input_per_1k:g}/"
             f"{price.output_per_1k:g} USD per 1k in/out)")
    traffic = Traffic(fast_per_s=_scalar(results.get("fast")),
                      think_per_s=_scalar(results.get("think")),
                      total_per_s=_scalar(results.get("total")),
                      sessions=_scalar(results.get("sessions")), reason=reason)
    return prom, estimate, traffic


async def query_prometheus(target: PrometheusTarget, queries: Mapping[str, str]
                           ) -> tuple[dict[str, list], str]:
    """Run the queries off the loop; a dead Prometheus is a reason, not an exception."""
    try:
        return await asyncio.to_thread(_run_queries, target, queries)
    except Exception as exc:  # connection set-up failures
        return {}, redact(f"prometheus: {exc.__class__.__name__}: {exc}", _secrets(target))[:200]


# -- OpenAI organization costs API -------------------------------------------------------

class CostsApiError(Exception):
    """The costs API could not be read; the message is one line without the key."""


def _costs_error(exc: BaseException, target: OpenAITarget) -> str:
    import openai

    from agent.probes.http import describe_error

    if isinstance(exc, openai.AuthenticationError):
        return ("costs API: authentication failed (HTTP 401): targets.openai.admin_key is "
                "not a valid admin key")
    if isinstance(exc, openai.PermissionDeniedError):
        return ("costs API: permission denied (HTTP 403): targets.openai.admin_key needs "
                "read access to usage (an organization admin key)")
    if isinstance(exc, openai.RateLimitError):
        return "costs API: rate limited (HTTP 429)"
    if isinstance(exc, openai.APITimeoutError):
        return f"costs API: no answer within {target.timeout_ms} ms"
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc
        return f"costs API: network error: {describe_error(cause, target.timeout_ms)}"
    if isinstance(exc, openai.APIStatusError):
        return f"costs API: HTTP {exc.status_code}"
    return f"costs API: unreadable answer ({exc.__class__.__name__})"


async def fetch_daily_costs(target: OpenAITarget, start: float, end: float,
                            transport: httpx.AsyncBaseTransport | None = None
                            ) -> dict[int, float]:
    """USD per UTC day (bucket start -> amount) from `/v1/organization/costs`, through the
    official client's HTTP layer with the admin key. Raises CostsApiError."""
    from agent.probes.http import make_client
    from agent.probes.lazy import load

    if target.admin_key is None:
        raise CostsApiError("costs API: targets.openai.admin_key is not set")
    openai = await load("openai")
    key = target.admin_key.get_secret_value()
    client = openai.AsyncOpenAI(base_url=target.base_url, api_key=key, max_retries=0,
                                timeout=target.timeout_ms / 1000,
                                http_client=make_client(target.timeout_ms, transport))
    days: dict[int, float] = {}
    params: dict[str, Any] = {"start_time": int(start // DAY_S * DAY_S),
                              "end_time": math.ceil(end), "bucket_width": "1d",
                              "limit": 31}
    try:
        async with client:
            for _ in range(10):  # pages; a week fits in one
                page = await client.get("/organization/costs", cast_to=object,
                                        options={"params": params})
                if not isinstance(page, dict) or not isinstance(page.get("data"), list):
                    raise CostsApiError("costs API: answer is not a page of cost buckets")
                for bucket in page["data"]:
                    day = int(bucket["start_time"])
                    amount = sum(float(r["amount"]["value"]) for r in bucket.get("results")
                                 or [] if (r.get("amount") or {}).get("currency", "usd")
                                 == "usd")
                    days[day] = days.get(day, 0.0) + amount
                if not page.get("has_more") or not page.get("next_page"):
                    break
                params = {**params, "page": page["next_page"]}
    except CostsApiError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise CostsApiError(f"costs API: unreadable bucket ({exc.__class__.__name__})") \
            from None
    except Exception as exc:  # every client failure becomes one line
        raise CostsApiError(redact(_costs_error(exc, target), [key])) from None
    return days


def costs_api_figures(days: Mapping[int, float], now: float, tz: ZoneInfo, week_start: int
                      ) -> SourceFigures:
    """Daily and weekly spend from UTC-day buckets. Exact when the time zone is UTC;
    elsewhere the buckets are the API's UTC days (shown, not compared)."""
    today = int(now // DAY_S * DAY_S)
    week_from, _ = window_bounds("weekly", now, tz, week_start)
    first = int(week_from // DAY_S * DAY_S)
    utc = datetime.fromtimestamp(now, tz).utcoffset().total_seconds() == 0
    return SourceFigures(
        "costs_api", available=True,
        spent={"hourly": None, "daily": days.get(today, 0.0),
               "weekly": sum(v for d, v in days.items() if first <= d <= today)},
        note="daily buckets (UTC days); no hourly figure" + ("" if utc else
                                                             ", not comparable in this zone"),
        comparable=utc, windows=COSTS_API_WINDOWS)


def local_zone(name: str | None) -> ZoneInfo:
    """The configured zone, else the system's (/etc/localtime, $TZ), else UTC."""
    import os

    if name:
        return ZoneInfo(name)
    env = os.environ.get("TZ", "").lstrip(":")
    if env:
        try:
            return ZoneInfo(env)
        except Exception:  # a POSIX TZ string rather than a zone name
            pass
    try:
        link = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in link:
            return ZoneInfo(link.split("zoneinfo/", 1)[1])
    except Exception:  # no zone database entry for it
        pass
    return ZoneInfo("UTC")

