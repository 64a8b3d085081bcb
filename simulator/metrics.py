"""Alice's Prometheus metrics for one simulator: a private prometheus_client registry plus
a flat mirror of every exposed sample, so the built-in query API reads what /metrics shows.
"""

from __future__ import annotations

from array import array

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.utils import floatToGoString

INF = float("inf")

# name -> (help, bucket upper bounds in ms)
HISTOGRAMS: dict[str, tuple[str, tuple[float, ...]]] = {
    "intent_routing_latency_ms": (
        "Intent classification and routing latency in milliseconds",
        (5, 10, 15, 20, 25, 30, 40, 50, 75, 100, 150, 250, 500, 1000)),
    "openai_response_latency_ms": (
        "Fast path (OpenAI) response latency in milliseconds",
        (25, 50, 100, 150, 200, 250, 300, 400, 500, 600, 750, 1000, 1500, 2000, 3000, 5000,
         10000)),
    "local_ai_processing_time_ms": (
        "Think path (local AI) processing time in milliseconds",
        (50, 100, 250, 500, 750, 1000, 1250, 1500, 2000, 2500, 3000, 4000, 5000, 6000, 7500,
         10000, 15000, 20000, 30000)),
    "tool_execution_time_ms": (
        "Tool execution time in milliseconds",
        (50, 100, 200, 300, 400, 500, 600, 800, 1000, 1500, 2000, 3000, 5000, 10000)),
}

# exposed name (with the `_total` the client appends) -> (help, label name, label values)
COUNTERS: dict[str, tuple[str, str | None, tuple[str, ...]]] = {
    "fast_path_requests_total": ("Requests routed to the fast path (OpenAI)", None, ()),
    "think_path_requests_total": ("Requests routed to the think path (local AI)", None, ()),
    "total_requests_total": ("All routed requests", None, ()),
    "openai_api_success_total": ("Successful OpenAI API calls", None, ()),
    "openai_api_failures_total": ("Failed OpenAI API calls", None, ()),
    "openai_api_cost_usd_total": ("OpenAI API spend in USD", None, ()),
    "openai_api_tokens_total": ("OpenAI API tokens", "direction", ("prompt", "completion")),
    "auth_failures_total": ("Authentication failures against the OpenAI API", None, ()),
    "tool_executions_total": ("Tool executions", None, ()),
    "tool_execution_success_total": ("Successful tool executions", None, ()),
    "websocket_connections_total": ("WebSocket connections opened", None, ()),
    "websocket_connection_errors_total": ("WebSocket connections that failed", None, ()),
}

# Per-session token counters: neither the guide nor the real Alice exports them; this is the
# shape alice-ops' `cost.session_usage` reads by default (one counter per session and token
# type). A fixed pool of session ids, exposed at 0 from the start.
SESSION_TOKENS = "alice_realtime_session_tokens_total"
SESSION_IDS: tuple[str, ...] = tuple(f"sess_sim{i:02d}" for i in range(1, 9))
SESSION_TYPES: tuple[str, ...] = ("text_in", "text_out", "audio_in", "audio_out")

GAUGES: dict[str, str] = {
    "intent_classification_accuracy": "Intent classification accuracy (0..1)",
    "local_ai_queue_depth": "Requests waiting for the local AI",
    "websocket_connections_active": "Open voice WebSocket connections",
    "active_sessions": "Active user sessions",
    "audio_quality_score": "Audio quality score (0..10)",
}

Labels = tuple[tuple[str, str], ...]


class MetricStore:
    """Every metric of one simulator; `values[i]` mirrors sample `keys[i]` as exposed."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.keys: list[tuple[str, Labels]] = []
        self.values = array("d")
        self._index: dict[tuple[str, Labels], int] = {}
        self._hist: dict[str, tuple[Histogram, tuple[float, ...], int]] = {}
        self._counters: dict[str, Counter] = {}
        self._gauges: dict[str, Gauge] = {}
        for name, (doc, bounds) in HISTOGRAMS.items():
            metric = Histogram(name, doc, buckets=bounds, registry=self.registry)
            all_bounds = tuple(float(b) for b in bounds) + (INF,)
            first = len(self.keys)
            for bound in all_bounds:
                self._add(f"{name}_bucket", (("le", floatToGoString(bound)),))
            self._add(f"{name}_count", ())
            self._add(f"{name}_sum", ())
            self._hist[name] = (metric, all_bounds, first)
        for name, (doc, label, label_values) in COUNTERS.items():
            base = name.removesuffix("_total")
            metric = Counter(base, doc, [label] if label else [], registry=self.registry)
            self._counters[name] = metric
            for value in label_values or (None,):
                if value is None:
                    self._add(name, ())
                else:
                    metric.labels(value)  # exposed at 0 before the first increment
                    self._add(name, ((label, value),))
        sessions = Counter(SESSION_TOKENS.removesuffix("_total"),
                           "Realtime tokens used by each voice session, by token type",
                           ["session", "type"], registry=self.registry)
        self._counters[SESSION_TOKENS] = sessions
        for sid in SESSION_IDS:
            for kind in SESSION_TYPES:
                sessions.labels(sid, kind)
                self._add(SESSION_TOKENS, (("session", sid), ("type", kind)))
        for name, doc in GAUGES.items():
            self._gauges[name] = Gauge(name, doc, registry=self.registry)
            self._add(name, ())

    def _add(self, name: str, labels: Labels) -> None:
        self._index[(name, labels)] = len(self.keys)
        self.keys.append((name, labels))
        self.values.append(0.0)

    def observe(self, name: str, value: float) -> None:
        metric, bounds, first = self._hist[name]
        metric.observe(value)
        for offset, bound in enumerate(bounds):
            if value <= bound:
                self.values[first + offset] += 1
        self.values[first + len(bounds)] += 1
        self.values[first + len(bounds) + 1] += value

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        metric = self._counters[name]
        (metric.labels(**labels) if labels else metric).inc(amount)
        self.values[self._index[(name, tuple(labels.items()))]] += amount

    def set(self, name: str, value: float) -> None:
        self._gauges[name].set(value)
        self.values[self._index[(name, ())]] = value

    def value(self, name: str, **labels: str) -> float:
        return self.values[self._index[(name, tuple(labels.items()))]]

    def snapshot(self) -> array:
        return array("d", self.values)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
