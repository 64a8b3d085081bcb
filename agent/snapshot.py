"""The immutable picture the agent publishes after every job: the dashboard's only source.

Plain values and `taken_at`, nothing live (STYLE.md: unlike nvitop's Snapshot, no
attribute falls back to a live object, so a reader can never do I/O by accident).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping

from rules.evaluate import Report


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class AlertView:
    name: str
    fingerprint: str
    labels: Mapping[str, str]
    phase: str
    severity: str | None
    started_at: float | None
    fired_at: float | None
    resolved_at: float | None
    value: float | None
    summary: str
    flapping: bool = False
    silenced_by: str | None = None
    acked: str | None = None
    cause: str = ""
    """The fault in words (`HTTP 503 from GET /v1/models`, `p95 2725 ms > 500 ms`)."""
    inhibited_by: str | None = None
    """The alert this one follows from (alerts.inhibit): shown under it, not notified."""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "fingerprint": self.fingerprint, "labels": dict(self.labels),
                "state": self.phase, "severity": self.severity,
                "started_at": iso(self.started_at), "fired_at": iso(self.fired_at),
                "resolved_at": iso(self.resolved_at), "value": self.value,
                "summary": self.summary, "flapping": self.flapping,
                "silenced_by": self.silenced_by, "acked": self.acked,
                "cause": self.cause or self.summary, "inhibited_by": self.inhibited_by}


@dataclass(frozen=True)
class AgentStats:
    started_at: float
    cycles_total: Mapping[str, int] = field(default_factory=dict)
    missed_runs_total: int = 0
    last_lag_s: float = 0.0
    notifications_sent_total: Mapping[str, int] = field(default_factory=dict)
    notification_failures_total: Mapping[str, int] = field(default_factory=dict)
    outbox_pending: int = 0
    expected_interval_s: float = 5.0
    """The fastest probe interval: a snapshot older than a few of these is stale."""

    def to_json(self) -> dict[str, Any]:
        return {"started_at": iso(self.started_at), "cycles_total": dict(self.cycles_total),
                "missed_runs_total": self.missed_runs_total, "last_lag_s": self.last_lag_s,
                "notifications_sent_total": dict(self.notifications_sent_total),
                "notification_failures_total": dict(self.notification_failures_total),
                "outbox_pending": self.outbox_pending,
                "expected_interval_s": self.expected_interval_s}


@dataclass(frozen=True)
class Snapshot:
    seq: int
    taken_at: float
    report: Report
    alerts: tuple[AlertView, ...]
    silences: tuple[Mapping[str, Any], ...]
    stats: AgentStats
    last_probe: Mapping[str, float] = field(default_factory=dict)
    last_good: Mapping[str, float] = field(default_factory=dict)
    history: Mapping[str, tuple[float | None, ...]] = field(default_factory=dict)
    # Each capability publishes one JSON-ready section (plain values only); its shape is
    # documented where it is built. Empty when the capability is not configured.
    remediation: Mapping[str, Any] = field(default_factory=dict)
    cost: Mapping[str, Any] = field(default_factory=dict)
    checklists: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        report = self.report.to_json()
        for comp in report["components"]:
            comp["last_probe_at"] = iso(self.last_probe.get(comp["name"]))
            comp["last_good_at"] = iso(self.last_good.get(comp["name"]))
            comp["latency_history_ms"] = list(self.history.get(comp["name"], ()))
        return {"seq": self.seq, "taken_at": iso(self.taken_at), "taken_at_unix": self.taken_at,
                **report, "alerts": [a.to_json() for a in self.alerts],
                "silences": [dict(s) for s in self.silences], "agent": self.stats.to_json(),
                "remediation": dict(self.remediation), "cost": dict(self.cost),
                "checklists": dict(self.checklists)}
