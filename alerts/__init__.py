"""Alerts: remember what the evaluator judged (pending -> firing -> resolved) and who to tell.

The pure core is re-exported here; notifiers (the I/O edge) live in `alerts.notifiers`.
"""

from alerts.lifecycle import AlertEvent, AlertState, EventKind, Phase, restore, transition
from alerts.rule import AlertRule
from alerts.silence import (
    Ack,
    Matcher,
    Silence,
    fingerprint,
    is_acked,
    is_silenced,
    parse_matcher,
    parse_matchers,
)

__all__ = [
    "Ack", "AlertEvent", "AlertRule", "AlertState", "EventKind", "Matcher", "Phase", "Silence",
    "fingerprint", "is_acked", "is_silenced", "parse_matcher", "parse_matchers", "restore",
    "transition",
]
