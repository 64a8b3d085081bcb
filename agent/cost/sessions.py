"""Per-session usage: token counts per session and token type, read from Prometheus with the
configurable query of `cost.session_usage`, priced and judged against `cost.session_cap_usd`.

The queries run in the same round as the other cost queries (`session_queries`); turning
their answers into figures (`sessions_from_results`) and into the report's `per_session`
section (`per_session_section`) is pure. Neither the guide nor the real Alice (main) exports
per-session usage; the default query reads `alice_realtime_session_tokens_total{session,type}`,
the shape the simulator serves, and a deployment with another shape sets its own query.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from agent.config import SessionUsageSettings
from rules.budget import Level, Levels
from rules.cost_table import TOKEN_TYPES, Price, TokenUsage, cap_text, judge_sessions
from rules.guide_metrics import series_names_in
from vocab.model import Status

USAGE_QUERY = "session_usage"
SERIES_PREFIX = "session_series:"
TOP = 5
"""Sessions listed in the report, the most expensive first."""


@dataclass(frozen=True)
class SessionUsage:
    """What the per-session source said: tokens by type per session id."""

    available: bool
    usages: Mapping[str, TokenUsage] = field(default_factory=dict)
    reason: str = ""
    missing: tuple[str, ...] = ()
    """Series the query reads that Prometheus has never had: a blind spot, not an outage."""

    @property
    def total(self) -> TokenUsage:
        return sum(self.usages.values(), TokenUsage())


def session_queries(s: SessionUsageSettings) -> dict[str, str]:
    """The usage query and one presence check per series it reads."""
    queries = {USAGE_QUERY: s.promql}
    for name in sorted(series_names_in(s.promql)):
        queries[f"{SERIES_PREFIX}{name}"] = f"count({name})"
    return queries


def instant_value(row: Any) -> float | None:
    """The finite value of one instant-vector row (`{"metric":..., "value": [ts, "1.5"]}`),
    else None."""
    try:
        value = float(row["value"][1])
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def sessions_from_results(results: Mapping[str, list], reason: str, s: SessionUsageSettings
                          ) -> SessionUsage:
    """Token usage per session from the query answers (pure). A row without the session
    label, or with a type `s.types` does not map, is not counted."""
    if USAGE_QUERY not in results:
        return SessionUsage(False, reason=reason or "per-session usage query not answered")
    missing = tuple(key.removeprefix(SERIES_PREFIX) for key, rows in results.items()
                    if key.startswith(SERIES_PREFIX) and not rows)
    counts: dict[str, dict[str, float]] = {}
    for row in results[USAGE_QUERY] or []:
        labels = row.get("metric", {}) if isinstance(row, Mapping) else {}
        session = labels.get(s.session_label)
        kind = s.types.get(str(labels.get(s.type_label, "")))
        value = instant_value(row)
        if not session or kind is None or value is None:
            continue
        per = counts.setdefault(str(session), {})
        per[kind] = per.get(kind, 0.0) + max(0.0, value)
    # a session that has used no token yet (a series exposed at 0) is not counted
    usages = {sid: TokenUsage(**{t: per.get(t, 0.0) for t in TOKEN_TYPES})
              for sid, per in counts.items() if any(per.values())}
    rows = [r for r in results[USAGE_QUERY] or [] if isinstance(r, Mapping)]
    if rows and not counts:  # series there, but not in the configured shape: say what is
        labels = sorted({k for r in rows for k in r.get("metric", {})})
        return SessionUsage(False, reason=(
            f"cost.session_usage.promql answers {len(rows)} series, none with labels "
            f"{s.session_label!r} and a {s.type_label!r} value of cost.session_usage.types "
            f"(labels seen: {', '.join(labels) or 'none'}); set session_label, type_label "
            "and types to match"))
    if not usages and missing:
        return SessionUsage(False, reason=f"no series {', '.join(missing)} in Prometheus "
                                          "(cost.session_usage.promql reads it)",
                            missing=missing)
    return SessionUsage(True, usages)


def per_session_section(usage: SessionUsage, price_name: str, price: Price,
                        cap_usd: float | None, levels: Levels) -> dict[str, Any]:
    """The report's `per_session` section (pure)::

        {"cap_usd": 0.25 | null, "model": "gpt-realtime", "available": bool,
         "reason": "", "missing": [series never exported], "count": 3,
         "status": "off|ok|warning|critical|unknown|absent",  # off: no cap; absent: a
                                                              # cap with no source (blind spot)
         "top": [{"session": "abc123", "usd": 0.42, "level": "ok|warning|critical|exceeded",
                  "percent_of_cap": 168.0 | null, "tokens": {"audio_in": 1200.0, ...},
                  "unpriced": ["audio_out"]}],
         "text": "session abc123 spent 0.42 USD > cap 0.25 USD" | the reason}
    """
    judged = judge_sessions(price, usage.usages, cap_usd, levels)
    top = [{"session": sid, "usd": round(sp.cost_usd, 6), "level": sp.level.word,
            "percent_of_cap": round(100 * sp.cost_usd / cap_usd, 2) if cap_usd else None,
            "tokens": {t: round(getattr(sp.usage, t), 1) for t in TOKEN_TYPES
                       if getattr(sp.usage, t)},
            "unpriced": list(sp.unpriced)} for sid, sp in judged[:TOP]]
    if cap_usd is None:
        status = "off"
        text = usage.reason if not usage.available else (
            f"{len(judged)} sessions" if judged else "no session has used tokens")
    elif not usage.available:
        status = "absent" if usage.missing else "unknown"
        text = usage.reason
    else:
        worst = max((sp.level for _, sp in judged), default=Level.OK)
        status = worst.status.word
        if judged and cap_usd is not None:
            sid, sp = judged[0]
            text = cap_text(sid, sp.cost_usd, cap_usd)
        else:
            text = f"{len(judged)} sessions" if judged else "no session has used tokens"
    return {"cap_usd": cap_usd, "model": price_name, "available": usage.available,
            "reason": usage.reason, "missing": list(usage.missing), "count": len(judged),
            "status": status, "top": top, "text": text}


def section_status(section: Mapping[str, Any] | None) -> Status | None:
    """What the per-session section adds to the report's status: its level with a cap, an
    unreadable source as UNKNOWN; never a blind spot, never without a cap."""
    if not section or section["status"] in ("off", "absent"):
        return None
    return Status.parse(section["status"])
