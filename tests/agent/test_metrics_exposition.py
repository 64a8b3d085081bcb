"""`/metrics` rendered fast (agent.exporter.exposition, label sets escaped once and reused)
is byte for byte what prometheus_client's generate_latest writes, for the agent's own
collector with endpoints, alerts, histograms and awkward external labels, on a first and
a repeated scrape; and the histogram families built directly are add_metric's."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from agent.check import COMPONENT_ORDER, threshold_rows
from agent.config import Config
from agent.exporter import (DurationHistogram, SnapshotCollector, exposition,
                            with_external_labels)
from agent.snapshot import AgentStats, AlertView, Snapshot
from rules.evaluate import evaluate
from vocab.model import ProbeResult, Reading, Status

N = 40


def snapshot() -> Snapshot:
    config = Config.model_validate({"targets": {"endpoints": [
        {"name": f"ep{i:02d}", "url": f"http://127.0.0.1:9/{i}", "latency_target_ms": 100,
         "latency_alert_ms": 500} for i in range(N)]}})
    now = time.time()
    results = {f"ep{i:02d}": ProbeResult(f"ep{i:02d}", Status(i % 4), "s", 12.0 + i,
                                         {"latency_ms": Reading(12.0 + i * 37.5)})
               for i in range(N)}
    report = evaluate(results, threshold_rows(config), now, COMPONENT_ORDER)
    alerts = tuple(AlertView(name=f"ep{i:02d}_latency", fingerprint=f"{i:016x}",
                             labels={"component": f"ep{i:02d}"},
                             phase=("pending", "firing", "inactive")[i % 3],
                             severity=("warning", "critical")[i % 2], started_at=None,
                             fired_at=None, resolved_at=None, value=None, summary="")
                   for i in range(N))
    stats = AgentStats(started_at=now, cycles_total={f"ep{i:02d}": i for i in range(N)},
                       notifications_sent_total={"webhook": 3}, missed_runs_total=2)
    return Snapshot(seq=7, taken_at=now, report=report, alerts=alerts, silences=(),
                    stats=stats)


def registry(snap: Snapshot, labels: dict[str, str]) -> CollectorRegistry:
    durations, lag = DurationHistogram(), DurationHistogram()
    for i in range(N):
        durations.observe(f"ep{i:02d}", 0.003 * i)
        lag.observe(f"ep{i:02d}", 12345678.0 if i == 3 else 0.0001 * i)  # a huge value
    out = CollectorRegistry()
    out.register(with_external_labels(SnapshotCollector(lambda: snap, durations, lag), labels))
    return out


class Odd:
    """Families the agent does not make today: a timestamp, a non-legacy name, _created."""

    def collect(self):
        stamped = GaugeMetricFamily("alice_ops_stamped", "with a\\ timestamp\nand lines")
        stamped.add_metric([], 1.5, timestamp=1700000000.25)
        yield stamped
        yield GaugeMetricFamily("alice.ops.dotted", "a dotted name", value=3)
        counter = CounterMetricFamily("alice_ops_events", "events", labels=["kind"],
                                      created=1700000000.0)
        counter.add_metric(["a"], 4, created=1700000000.0)
        yield counter


def test_exposition_is_generate_latest_byte_for_byte():
    snap = snapshot()
    for labels in ({}, {"site": 'lab "one"', "instance": "a\\b\nc é"}):
        reg = registry(snap, labels)
        reg.register(Odd())
        want = generate_latest(reg)
        assert exposition(reg) == want
        assert exposition(reg) == want  # from the cached label sets
        assert want.count(b"\n") > 20 * N


def test_a_prometheus_client_without_the_borrowed_helpers_gets_its_own_writer(monkeypatch):
    """exposition() leans on helpers of prometheus_client's writer, some private: where one
    is missing (an older release), /metrics is generate_latest's, never an exception."""
    import agent.exporter

    def borrowed(*args):
        raise AttributeError("module 'prometheus_client.openmetrics.exposition' has no '_gone'")

    monkeypatch.setattr(agent.exporter, "_OM_NEEDS", (*agent.exporter._OM_NEEDS, "_gone"))
    monkeypatch.setattr(agent.exporter, "_prefix", borrowed)  # the fast path would call it
    reg = registry(snapshot(), {"site": "lab"})
    assert exposition(reg) == generate_latest(reg)


def test_histogram_families_are_add_metrics():
    hist = DurationHistogram()
    for i, seconds in enumerate((0.001, 0.2, 7.0, 45.0, 0.05)):
        hist.observe(f"k{i % 3}", seconds)
    built = hist.families("alice_ops_x_seconds", "doc", "job")
    plain = HistogramMetricFamily("alice_ops_x_seconds", "doc", labels=["job"])
    for key, counts in sorted(hist.counts.items()):
        buckets = [(f"{b:g}", counts[i]) for i, b in enumerate(hist.buckets)]
        plain.add_metric([key], [*buckets, ("+Inf", counts[-1])], hist.sums[key])
    assert built.samples == plain.samples
