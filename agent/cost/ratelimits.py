"""Rate-limit headroom from the app's own metrics: requests and tokens left in the provider's
window, as the app's calls saw them in the x-ratelimit-* headers and exported them.

Queried in the cost round (`ratelimit_queries`): the configured query of
`cost.rate_limits.requests|tokens.remaining`, else the known gauges that real servers export
(LiteLLM's proxy: `litellm_remaining_requests_metric`, `litellm_remaining_tokens_metric`,
one series per deployment; the tightest counts). With a `limit` the figure is a percent left
and is judged; without one it is shown, not judged. Nothing found: no figure and no blind
spot, as before (the deep probe's headers still feed the openai rows).
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from agent.config import RateLimitSettings

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
