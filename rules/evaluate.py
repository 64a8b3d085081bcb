"""Judge one cycle's probe results against the threshold table (pure).

`evaluate(results, rows, now)` gives a status per metric and per component and the
overall status, ranked critical > unknown > warning > ok (DESIGN.md).

A metric whose source has never had it (a Prometheus series name never exported, a
JSON path the source does not serve) is *absent*: a blind spot, shown and listed in
`blind_spots` with the fix, but judged OK for every worst-of (component, overall,
alerts), unless its row says `on_absent: unknown`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

from vocab.model import ProbeResult, Reading, Status
from rules.guide_metrics import export_hint, family_of
from rules.thresholds import ThresholdRow, format_value, judge


def promql_key(component: str, metric: str) -> str:
    """Reading name under which the prometheus probe reports a PromQL row's value."""
    return f"promql:{component}/{metric}"


def json_key(binding: str) -> str:
    """Reading name under which a component's probe reports a `json:` row's value."""
    return f"json:{binding}"


# a JSON figure of a summary that has counted nothing (`{"count": 0, "p95": 0.0}`): the
# source has the metric but no measurement yet; absent (not a 0 ms reading), its own fix
NO_SAMPLES = "no samples yet (count 0)"


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
    absent: bool = False
    """A blind spot: `status` is then OK (counts for nothing) and `word` is "absent"."""
    missing: tuple[str, ...] = ()
    """What the source lacks: series names (families) or JSON paths."""
    fix: tuple[str, ...] = ()
    """How to close the blind spot, one hint per missing name."""
    export_as: str = ""
    """The row's `export_as`: the agent re-exports the value on /metrics under it."""

    @property
    def word(self) -> str:
        return "absent" if self.absent else self.status.word

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "component": self.component, "name": self.name, "value": self.value,
            "unit": self.unit, "target": self.target, "alert": self.alert,
            "status": self.word, "title": self.title}
        if self.reason:
            out["reason"] = self.reason
        if self.missing:
            out["missing"] = list(self.missing)
        return out


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    status: Status
    summary: str
    latency_ms: float | None
    metrics: tuple[MetricStatus, ...]

    def to_json(self) -> dict[str, Any]:
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

    @property
    def blind_spots(self) -> tuple["BlindSpot", ...]:
        return blind_spots(self.metrics)

    def to_json(self) -> dict[str, Any]:
        stamp = datetime.fromtimestamp(self.checked_at, timezone.utc).isoformat(
            timespec="seconds")
        return {"status": self.status.word, "checked_at": stamp,
                "components": [c.to_json() for c in self.components],
                "metrics": [m.to_json() for m in self.metrics],
                "blind_spots": [b.to_json() for b in self.blind_spots]}


@dataclass(frozen=True)
class BlindSpot:
    """The absent metrics of one component, with what is missing and how to fix it."""

    component: str
    metrics: tuple[str, ...]
    missing: tuple[str, ...]
    fix: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"component": self.component, "metrics": list(self.metrics),
                "missing": list(self.missing), "fix": list(self.fix)}


def blind_spots(metrics: Sequence[MetricStatus]) -> tuple[BlindSpot, ...]:
    """One entry per component that has absent metrics (names and hints deduplicated)."""
    grouped: dict[str, list[MetricStatus]] = {}
    for m in metrics:
        if m.absent:
            grouped.setdefault(m.component, []).append(m)
    return tuple(BlindSpot(component=c, metrics=tuple(m.name for m in ms),
                           missing=tuple(dict.fromkeys(n for m in ms for n in m.missing)),
                           fix=tuple(dict.fromkeys(f for m in ms for f in m.fix)))
                 for c, ms in grouped.items())


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
    if own is None:
        return None
    if row.json is not None:
        found = own.readings.get(json_key(row.json))
        if found is None:  # the component's job failed before its JSON sources answered
            return Reading(None, reason=f"{row.json.split(':', 1)[0]}: not read "
                                        f"({own.summary})")
        return found
    if row.probe is None:
        return None
    return own.readings.get(row.probe)


def _fixes(row: ThresholdRow, missing: tuple[str, ...], reason: str) -> tuple[str, ...]:
    if row.json is not None:
        source = row.json.split(":", 1)[0]
        if reason.endswith(NO_SAMPLES):
            return tuple(f"{path}: {source} has counted nothing yet; judged from its first "
                         "sample on" for path in missing)
        return tuple(f"serve {path} in the JSON of source {source}, or bind the row "
                     f"{row.component}/{row.metric} to a path it has" for path in missing)
    return tuple(export_hint(name) for name in missing)


def _metric(row: ThresholdRow, reading: Reading) -> MetricStatus:
    value = reading.value if reading.known else None
    status = judge(row, value)
    absent = reading.absent and row.on_absent == "ignore"
    missing: tuple[str, ...] = ()
    if reading.absent:
        missing = reading.missing if row.json is not None else \
            tuple(dict.fromkeys(family_of(n) for n in reading.missing))
    return MetricStatus(component=row.component, name=row.metric, title=row.title, value=value,
                        unit=row.unit, target=row.target_text, alert=row.alert_text,
                        status=Status.OK if absent else status, reason=reading.reason,
                        absent=absent, missing=missing,
                        fix=_fixes(row, missing, reading.reason) if absent else (),
                        export_as=row.export_as or "")


def _summary(probe: ProbeResult, metrics: Sequence[MetricStatus]) -> str:
    bad = [m for m in metrics if m.status > Status.OK]
    absent = sum(1 for m in metrics if m.absent)
    if absent and (not bad or probe.status >= max(m.status for m in bad)):
        return f"{probe.summary}; {absent} not exported (blind spot)"
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
