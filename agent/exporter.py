"""`/metrics`: one custom Collector that reads the latest snapshot at scrape time.

Per client_python's custom-collector pattern, not gauges poked from all over:
the agent's whole state is the snapshot, so the exposition is a pure view of it.
"""

from __future__ import annotations

from typing import Callable, Iterator, Mapping, Sequence

from prometheus_client.core import (CounterMetricFamily, GaugeMetricFamily,
                                    HistogramMetricFamily, Metric)
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

from agent.cost.metrics import cost_families
from vocab.model import ProbeResult
from agent.ollama_exporter import LoadCounter, ollama_families
from agent.snapshot import Snapshot

PROBE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
STATES = ("pending", "firing")


class DurationHistogram:
    """Cumulative bucket counts for probe durations, kept by the runtime (plain data)."""

    def __init__(self, buckets: Sequence[float] = PROBE_BUCKETS):
        self.buckets = tuple(buckets)
        self.counts: dict[str, list[int]] = {}
        self.sums: dict[str, float] = {}

    def observe(self, key: str, seconds: float) -> None:
        counts = self.counts.setdefault(key, [0] * (len(self.buckets) + 1))
        for i, bound in enumerate(self.buckets):
            if seconds <= bound:
                counts[i] += 1
        counts[-1] += 1
        self.sums[key] = self.sums.get(key, 0.0) + seconds

    def families(self, name: str, doc: str, label: str) -> HistogramMetricFamily:
        """One histogram family, a series per key: the samples HistogramMetricFamily's
        add_metric makes (buckets, _count, _sum), built directly (at 2000 endpoints its
        per-call checks were a fifth of a scrape)."""
        family = HistogramMetricFamily(name, doc, labels=[label])
        bounds = [*(f"{b:g}" for b in self.buckets), "+Inf"]
        bucket, count, total = f"{name}_bucket", f"{name}_count", f"{name}_sum"
        samples = family.samples
        for key, counts in sorted(self.counts.items()):
            samples.extend(Sample(bucket, {label: key, "le": le}, n)
                           for le, n in zip(bounds, counts))
            samples.append(Sample(count, {label: key}, counts[-1]))
            samples.append(Sample(total, {label: key}, self.sums[key]))
        return family


class SnapshotCollector(Collector):
    def __init__(self, snapshot: Callable[[], Snapshot | None],
                 probe_durations: DurationHistogram, lag: DurationHistogram,
                 probe_results: Callable[[], Mapping[str, ProbeResult]] | None = None,
                 ollama_loads: LoadCounter | None = None):
        self._snapshot = snapshot
        self._durations = probe_durations
        self._lag = lag
        # the latest result per probe, for what the snapshot does not carry (the Ollama part)
        self._probe_results = probe_results
        # the load-event counter outlives one scrape when the caller keeps it (the agent
        # builds a collector per scrape)
        self._ollama_loads = ollama_loads if ollama_loads is not None else LoadCounter()

    def collect(self) -> Iterator[Metric]:
        snap = self._snapshot()
        if snap is None:
            return
        status = GaugeMetricFamily("alice_ops_component_status",
                                   "Component status: 0 ok, 1 warning, 2 unknown, 3 critical",
                                   labels=["component"])
        value = GaugeMetricFamily("alice_ops_metric_value",
                                  "Latest value of a threshold-table metric (unit in label)",
                                  labels=["component", "metric", "unit"])
        mstatus = GaugeMetricFamily("alice_ops_metric_status",
                                    "Threshold status: 0 ok, 1 warning, 2 unknown, 3 critical",
                                    labels=["component", "metric"])
        absent = GaugeMetricFamily("alice_ops_metric_absent",
                                   "1 for a metric its source has never had (a blind spot, "
                                   "not counted in any status)", labels=["component", "metric"])
        for comp in snap.report.components:
            status.add_metric([comp.name], int(comp.status))
            for m in comp.metrics:
                if m.absent:
                    absent.add_metric([m.component, m.name], 1)
                    continue
                mstatus.add_metric([m.component, m.name], int(m.status))
                if m.value is not None:
                    value.add_metric([m.component, m.name, m.unit], m.value)
        yield status
        yield mstatus
        yield absent
        yield value
        yield from reexported(snap.report.metrics)
        overall = GaugeMetricFamily("alice_ops_status", "Worst component status")
        overall.add_metric([], int(snap.report.status))
        yield overall
        yield from cost_families(snap.cost)  # nothing without a `cost:` section
        if self._probe_results is not None:  # nothing when Ollama is not probed
            yield from ollama_families(self._probe_results().get("ollama"), self._ollama_loads)

        alerts = GaugeMetricFamily("alice_ops_alerts", "Alerts by state and severity",
                                   labels=["state", "severity"])
        counts: dict[tuple[str, str], int] = {(s, sev): 0 for s in STATES
                                              for sev in ("warning", "critical")}
        for a in snap.alerts:
            if a.phase in STATES and a.severity:
                counts[(a.phase, a.severity)] = counts.get((a.phase, a.severity), 0) + 1
        for (state, sev), n in sorted(counts.items()):
            alerts.add_metric([state, sev], n)
        yield alerts

        stats = snap.stats
        yield _counter("alice_ops_probe_runs", "Probe jobs run", "component", stats.cycles_total)
        missed = CounterMetricFamily("alice_ops_missed_runs",
                                     "Probe runs skipped because the previous run of the same "
                                     "job was still going (like prometheus_rule_group_"
                                     "iterations_missed_total)")
        missed.add_metric([], stats.missed_runs_total)
        yield missed
        yield _counter("alice_ops_notifications_sent", "Notifications delivered", "receiver",
                       stats.notifications_sent_total)
        yield _counter("alice_ops_notification_failures", "Failed notification attempts",
                       "receiver", stats.notification_failures_total)
        pending = GaugeMetricFamily("alice_ops_notifications_pending",
                                    "Notifications queued and not yet delivered")
        pending.add_metric([], stats.outbox_pending)
        yield pending
        yield self._durations.families("alice_ops_probe_duration_seconds",
                                       "Probe duration", "component")
        yield self._lag.families("alice_ops_scheduler_lag_seconds",
                                 "Delay between a job's scheduled and actual start", "job")
        age = GaugeMetricFamily("alice_ops_snapshot_timestamp_seconds",
                                "When the latest snapshot was taken (unix time)")
        age.add_metric([], snap.taken_at)
        yield age


# a unit converted when the export_as name asks for the base unit (Prometheus naming)
_BASE_UNITS = {("ms", "_seconds"): 1e-3, ("percent", "_ratio"): 1e-2}


def export_value(name: str, unit: str, value: float) -> float:
    """The value as exported under `name`: converted to seconds or a ratio when the name
    ends in `_seconds` / `_ratio` and the row's unit is ms / percent; else as read."""
    for (from_unit, suffix), factor in _BASE_UNITS.items():
        if unit == from_unit and name.endswith(suffix):
            return value * factor
    return value


def reexported(metrics) -> Iterator[Metric]:
    """Rows with `export_as`: one gauge each under that name (no sample without a value),
    so PromQL and dashboards can read them where Alice does not export them itself."""
    seen: set[str] = set()
    for m in metrics:
        if not m.export_as or m.export_as in seen:
            continue
        seen.add(m.export_as)
        family = GaugeMetricFamily(m.export_as, f"{m.title} (re-exported by alice-ops from "
                                               f"{m.component}/{m.name})")
        if m.value is not None:
            family.add_metric([], export_value(m.export_as, m.unit, m.value))
        yield family


class ExternalLabels(Collector):
    """Another collector's series with `agent.external_labels` added to each (a series'
    own label wins on a clash), so a fleet's Prometheus tells agents apart by site."""

    def __init__(self, inner: Collector, labels: Mapping[str, str]):
        self._inner = inner
        self._labels = dict(labels)

    def collect(self) -> Iterator[Metric]:
        for family in self._inner.collect():
            if self._labels:
                family.samples = [s._replace(labels={**self._labels, **s.labels})
                                  for s in family.samples]
            yield family


def with_external_labels(collector: Collector, labels: Mapping[str, str]) -> Collector:
    """`collector` itself without labels, else wrapped in `ExternalLabels`."""
    return ExternalLabels(collector, labels) if labels else collector


def _counter(name: str, doc: str, label: str, values: Mapping[str, int]) -> CounterMetricFamily:
    family = CounterMetricFamily(name, doc, labels=[label])
    for key, n in sorted(values.items()):
        family.add_metric([key], n)
    return family


# -- the text format, fast ------------------------------------------------------------------

_PREFIXES: dict[tuple, str] = {}  # (sample name, *label items) -> 'name{labels} '
_PREFIXES_MAX = 200_000


def _prefix(name: str, labels: Mapping[str, str]) -> str:
    """`name{k="v",...} ` as prometheus_client's generate_latest writes it (legacy names
    escaped with underscores, label values with backslash escapes), cached per label set:
    at 2000 endpoints a scrape has ~70,000 samples, nearly all seen at the last scrape."""
    key = (name, *labels.items())  # as built (an order of its own: an entry of its own)
    found = _PREFIXES.get(key)
    if found is not None:
        return found
    from prometheus_client.openmetrics import exposition as om

    items = sorted(labels.items())

    text = ",".join(f'{om.escape_label_name(k, om.UNDERSCORES)}="'
                    f'{om._escape(v, om.ALLOWUTF8, False)}"' for k, v in items)
    metric = om.escape_metric_name(name, om.UNDERSCORES)
    found = f"{metric}{{{text}}} " if text else f"{metric} "
    if len(_PREFIXES) >= _PREFIXES_MAX:
        _PREFIXES.clear()  # endpoints come and go: never grows without bound
    _PREFIXES[key] = found
    return found


_TYPES = {"counter": ("_total", "counter"), "info": ("_info", "gauge"),
          "stateset": ("", "gauge"), "gaugehistogram": ("", "histogram"),
          "unknown": ("", "untyped")}
_OM_SUFFIXES = ("_created", "_gsum", "_gcount")
# what exposition() borrows from prometheus_client's own writer (some of it private)
_OM_NEEDS = ("_is_valid_legacy_metric_name", "escape_metric_name", "escape_label_name", "_escape",
             "ALLOWUTF8", "UNDERSCORES")


def exposition(registry: Collector) -> bytes:
    """The Prometheus text format of `registry` (what `/metrics` answers), byte for byte
    what prometheus_client's generate_latest writes (tests/agent/test_metrics_exposition.py
    compares them), several times faster at thousands of series: each label set is escaped
    once and its `name{labels} ` prefix reused by later scrapes. Metrics with a sample
    timestamp or a name outside the legacy character set go through generate_latest's own
    formatting (the agent exports none)."""
    from prometheus_client.openmetrics import exposition as om
    from prometheus_client.utils import floatToGoString

    if not all(hasattr(om, name) for name in _OM_NEEDS):
        # a prometheus_client without the helpers this relies on (older than 0.22): its own
        from prometheus_client import generate_latest

        return generate_latest(registry)  # type: ignore[arg-type]
    output: list[str] = []
    for metric in registry.collect():
        if any(s.timestamp is not None or not om._is_valid_legacy_metric_name(s.name)
               for s in metric.samples):
            output.append(_generic(metric))
            continue
        suffix, mtype = _TYPES.get(metric.type, ("", metric.type))
        mname = om.escape_metric_name(metric.name + suffix)
        doc = metric.documentation.replace("\\", r"\\").replace("\n", r"\n")
        output.append(f"# HELP {mname} {doc}\n# TYPE {mname} {mtype}\n")
        extra: dict[str, list[str]] = {}
        special = {metric.name + s: s for s in _OM_SUFFIXES}
        for s in metric.samples:
            line = f"{_prefix(s.name, s.labels)}{floatToGoString(s.value)}\n"
            if s.name in special:
                extra.setdefault(special[s.name], []).append(line)
            else:
                output.append(line)
        for om_suffix, lines in sorted(extra.items()):
            name = om.escape_metric_name(metric.name + om_suffix)
            output.append(f"# HELP {name} {doc}\n# TYPE {name} gauge\n")
            output.extend(lines)
    return "".join(output).encode("utf-8")


def _generic(metric: Metric) -> str:
    from prometheus_client import CollectorRegistry, generate_latest

    class One(Collector):
        def collect(self) -> Iterator[Metric]:
            yield metric

    registry = CollectorRegistry(auto_describe=False)
    registry.register(One())
    return generate_latest(registry).decode("utf-8")
