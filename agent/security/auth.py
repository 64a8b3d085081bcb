"""Authentication failure rate from Prometheus (the guide's security_monitor.sh:
`increase(auth_failures[1h]) > 10` is a WARNING). Above 5x the threshold is CRITICAL:
that many failures is an attack or a revoked key, not noise."""

from __future__ import annotations

import math
from typing import Callable

from vocab.model import Status
from vocab.redact import redact
from agent.security.finding import Finding

CHECK = "auth_failures"
QUERY = "sum(increase(auth_failures_total[1h]))"
CRITICAL_FACTOR = 5


def judge_rate(value: float, alert: float) -> Status:
    if value > CRITICAL_FACTOR * alert:
        return Status.CRITICAL
    return Status.WARNING if value > alert else Status.OK


def check_auth_failures(connection_factory: Callable[[], object], alert: float,
                        target: str) -> Finding:
    """Blocking (prometheus-api-client): run it in a thread."""
    try:
        result = connection_factory().custom_query(QUERY)  # type: ignore[attr-defined]
    except Exception as exc:  # the client raises many types; each is a failed read
        return Finding(CHECK, target, Status.UNKNOWN,
                       redact(f"query failed: {exc.__class__.__name__}: {exc}")[:200])
    try:
        value = float(result[0]["value"][1])
    except (IndexError, KeyError, TypeError, ValueError):
        return Finding(CHECK, target, Status.UNKNOWN, f"query returned no data: {QUERY}")
    if math.isnan(value) or math.isinf(value):
        return Finding(CHECK, target, Status.UNKNOWN, f"query returned {value}: {QUERY}")
    return Finding(CHECK, target, judge_rate(value, alert),
                   f"{value:.0f} failures in the last hour (alert > {alert:g}/hour, "
                   f"critical > {CRITICAL_FACTOR * alert:g})")
