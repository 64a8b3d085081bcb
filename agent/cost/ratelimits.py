"""Rate-limit headroom from the app's own metrics: requests and tokens left in the provider's
window, as the app's calls saw them in the x-ratelimit-* headers and exported them.

Queried in the cost round (`ratelimit_queries`): the configured query of
`cost.rate_limits.requests|tokens.remaining`, else the known gauges that real servers export
(LiteLLM's proxy: `litellm_remaining_requests_metric`, `litellm_remaining_tokens_metric`,
one series per deployment; the tightest counts). With a `limit` the figure is a percent left
and is judged; without one it is shown, not judged. Nothing found: no figure and no blind
spot, as before (the deep probe's headers still feed the openai rows).

One fact, one row (`bind_openai_rows`, called by agent.check.threshold_rows): with an
`openai` target the headroom is judged on its rows `openai/rate_limit_*_left` only: the deep
probe's headers while the deep probe is on, else the app's figure, read by PromQL
(`app_promql`); the cost rows then do not exist (agent.cost.component.ratelimit_rows). Without
an `openai` target the cost rows judge the app's figure.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from agent.config import RateLimitSettings

if TYPE_CHECKING:
    from agent.config import Config
    from rules.thresholds import ThresholdRow

KINDS = ("requests", "tokens")
KNOWN_GAUGES: dict[str, tuple[str, ...]] = {
    "requests": ("litellm_remaining_requests_metric",),
    "tokens": ("litellm_remaining_tokens_metric",),
}
PREFIX = "ratelimit:"


def ratelimit_queries(s: RateLimitSettings) -> dict[str, str]:
    """Query name -> PromQL: the configured remaining/limit, or one per known gauge."""
    q: dict[str, str] = {}
    for kind in KINDS:
        given = getattr(s, kind)
        if given.remaining:
            q[f"{PREFIX}{kind}:remaining"] = given.remaining
        else:
            for name in KNOWN_GAUGES[kind]:
                q[f"{PREFIX}{kind}:remaining:{name}"] = f"min({name})"
        if given.limit:
            q[f"{PREFIX}{kind}:limit"] = given.limit
    return q


def _value(result: Any) -> float | None:
    """The value of an instant vector's first row or of a scalar answer, if finite."""
    try:
        if isinstance(result, list) and len(result) == 2 and not isinstance(result[0], dict):
            value = float(result[1])  # a scalar: [time, "value"]
        elif isinstance(result, list) and result:
            value = min(float(r["value"][1]) for r in result)
        else:
            return None
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def ratelimit_figures(results: Mapping[str, Any], s: RateLimitSettings
                      ) -> list[dict[str, Any]]:
    """One entry per kind that has a remaining figure (pure)::

        [{"kind": "requests|tokens", "remaining": 4200.0, "limit": 5000.0 | null,
          "left_percent": 84.0 | null, "source": "min(litellm_remaining_requests_metric)",
          "discovered": bool}]
    """
    out = []
    for kind in KINDS:
        given = getattr(s, kind)
        found: tuple[float, str, bool] | None = None
        if given.remaining:
            value = _value(results.get(f"{PREFIX}{kind}:remaining"))
            if value is not None:
                found = (value, given.remaining, False)
        else:
            for name in KNOWN_GAUGES[kind]:
                value = _value(results.get(f"{PREFIX}{kind}:remaining:{name}"))
                if value is not None:
                    found = (value, f"min({name})", True)
                    break
        if found is None:
            continue
        remaining, source, discovered = found
        limit = _value(results.get(f"{PREFIX}{kind}:limit")) if given.limit else None
        percent = None if not limit or limit <= 0 else \
            round(max(0.0, min(100.0, 100 * remaining / limit)), 3)
        out.append({"kind": kind, "remaining": remaining, "limit": limit,
                    "left_percent": percent, "source": source, "discovered": discovered})
    return out


def ratelimit_text(f: Mapping[str, Any]) -> str:
    """"requests: 4200 left of 5000 (84 %)" / "tokens: 1200000 left (no limit configured)"."""
    left = f"{f['kind']}: {f['remaining']:.0f} left"
    if f["left_percent"] is None:
        return f"{left} (no limit configured: cost.rate_limits.{f['kind']}.limit)"
    return f"{left} of {f['limit']:.0f} ({f['left_percent']:.0f} %)"


def app_promql(s: RateLimitSettings, kind: str) -> str | None:
    """PromQL for the percent of `kind` left as the app's metrics show it (the tightest
    series, clamped to 0..100), or None without a usable limit (pure)."""
    given = getattr(s, kind)
    if not given.limit:
        return None
    remaining = (f"min({given.remaining})" if given.remaining
                 else " or ".join(f"min({name})" for name in KNOWN_GAUGES[kind]))
    try:
        number: float | None = float(given.limit)
    except ValueError:
        number = None
    if number is not None and not (math.isfinite(number) and number > 0):
        return None  # a zero limit says nothing (as for the deep probe's headers)
    divisor = given.limit.strip() if number is not None else f"(min({given.limit}) > 0)"
    return f"clamp_max(clamp_min(100 * ({remaining}) / {divisor}, 0), 100)"


def bind_openai_rows(rows: Sequence["ThresholdRow"], config: "Config"
                     ) -> tuple["ThresholdRow", ...]:
    """The openai rows `rate_limit_*_left` read the app's figure (by PromQL, titled
    "(app metrics)") when the deep probe, their own source, is off and `cost.rate_limits`
    gives a limit (pure). A row whose source the config's thresholds changed is left alone."""
    openai, cost = config.targets.openai, config.cost
    if openai is None or openai.deep_probe or cost is None or config.targets.prometheus is None:
        return tuple(rows)
    out = []
    for row in rows:
        kind = row.metric.removeprefix("rate_limit_").removesuffix("_left")
        query = app_promql(cost.rate_limits, kind) if kind in KINDS else None
        if (row.component == "openai" and row.metric == f"rate_limit_{kind}_left"
                and row.probe == f"ratelimit_{kind}_left_percent" and query is not None):
            row = replace(row, probe=None, promql=query, title=f"{row.title} (app metrics)")
        out.append(row)
    return tuple(out)
