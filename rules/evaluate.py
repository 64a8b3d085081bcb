"""Judge one cycle's probe results against the threshold table (pure).

`evaluate(results, rows, now)` gives a status per metric and per component and the
overall status, ranked critical > unknown > warning > ok (DESIGN.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Mapping, Sequence

from agent.model import ProbeResult, Reading, Status
from rules.thresholds import ThresholdRow, format_value, judge


def promql_key(component: str, metric: str) -> str:
    """Reading name under which the prometheus probe reports a PromQL row's value."""
    return f"promql:{component}/{metric}"


@dataclass(frozen=True)
class MetricStatus:
    component: str
    name: str
    title: str
    value: float | None
    unit: str
    target: str
    alert: str
    status: Status
    reason: str = ""

    def to_json(self) -> dict:
        out = {"component": self.component, "name": self.name, "value": self.value,
               "unit": self.unit, "target": self.target, "alert": self.alert,
               "status": self.status.word, "title": self.title}
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    status: Status
    summary: str
    latency_ms: float | None
    metrics: tuple[MetricStatus, ...]

    def to_json(self) -> dict:
        return {"name": self.name, "status": self.status.word,
                "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 1),
                "summary": self.summary, "metrics": [m.to_json() for m in self.metrics]}


@dataclass(frozen=True)
class Report:
    status: Status
    checked_at: float
    components: tuple[ComponentStatus, ...]

    @property
    def metrics(self) -> tuple[MetricStatus, ...]:
        return tuple(m for c in self.components for m in c.metrics)

    def to_json(self) -> dict:
        stamp = datetime.fromtimestamp(self.checked_at, timezone.utc).isoformat(
            timespec="seconds")
        return {"status": self.status.word, "checked_at": stamp,
                "components": [c.to_json() for c in self.components],
                "metrics": [m.to_json() for m in self.metrics]}


def _reading_for(row: ThresholdRow, results: Mapping[str, ProbeResult]) -> Reading | None:
    """The reading a row judges, or None when the row does not apply this cycle."""
    if row.promql is not None:
        prom = results.get("prometheus")
        if prom is None:
            return None
        found = prom.readings.get(promql_key(row.component, row.metric))
        if found is None:  # prometheus probe failed before answering anything
            return Reading(None, reason=f"prometheus: {prom.summary}")
        return found
    own = results.get(row.component)
    if own is None or row.probe is None:
        return None
    return own.readings.get(row.probe)


def _metric(row: ThresholdRow, reading: Reading) -> MetricStatus:
    value = reading.value if reading.known else None
    return MetricStatus(component=row.component, name=row.metric, title=row.title, value=value,
                        unit=row.unit, target=row.target_text, alert=row.alert_text,
                        status=judge(row, value), reason=reading.reason)


def _summary(probe: ProbeResult, metrics: Sequence[MetricStatus]) -> str:
    bad = [m for m in metrics if m.status > Status.OK]
    if not bad or probe.status >= max(m.status for m in bad):
        return probe.summary
    worst = max(bad, key=lambda m: m.status)
    if worst.value is None:
        return f"{worst.title}: no data; {probe.summary}"
    want = f"alert {worst.alert}" if worst.status == Status.CRITICAL else f"target {worst.target}"
    return f"{worst.title} {format_value(worst.value, worst.unit)} ({want}); {probe.summary}"


def evaluate(results: Mapping[str, ProbeResult], rows: Sequence[ThresholdRow],
             now: float, order: Sequence[str] = ()) -> Report:
    """Statuses for every component that was probed, in `order` then alphabetical."""
    per_component: dict[str, list[MetricStatus]] = {name: [] for name in results}
    for row in rows:
        if row.component not in results:
            continue
        reading = _reading_for(row, results)
        if reading is not None:
            per_component[row.component].append(_metric(row, reading))
    rank = {name: i for i, name in enumerate(order)}
    names = sorted(results, key=lambda n: (rank.get(n, len(rank)), n))
    components = []
    for name in names:
        probe, metrics = results[name], tuple(per_component[name])
        status = Status.worst([probe.status, *(m.status for m in metrics)])
        components.append(ComponentStatus(name=name, status=status,
                                          summary=_summary(probe, metrics),
                                          latency_ms=probe.latency_ms, metrics=metrics))
    overall = Status.worst(c.status for c in components)
    return Report(status=overall, checked_at=now, components=tuple(components))
