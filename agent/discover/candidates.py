"""What discover tries, in one place: the paths the guide names and the others real
deployments are known to serve. Order matters: the first that works is preferred.
"""

from __future__ import annotations

GUIDE_BACKEND_HEALTH = "/api/health"
GUIDE_GATEWAY_HEALTH = "/health"
GUIDE_WEBSOCKET = "/ws/voice/{session}"
GUIDE_NLU = "/api/nlu/classify"

HEALTH_PATHS = ("/api/health", "/health", "/healthz", "/status", "/api/status",
                "/api/v1/health", "/readyz", "/livez")
"""GET; a 200 (or a 5xx with JSON) is a health endpoint."""

WEBSOCKET_PATHS = ("/ws/voice/{session}", "/ws/alice", "/ws/voice-gateway/{session}", "/ws",
                   "/ws/voice-gateway", "/ws/voice", "/ws/{session}", "/ws/voice-stream")
"""`{session}` is replaced by a fresh id; paths found on the --gateway URL come first."""

WS_PING = '{"type": "ping", "source": "alice-ops"}'
"""The text frame sent once connected (the guide's gateway answers any frame; many
servers answer this one with {"type": "pong"})."""

WS_HELLO = '{"type": "hello", "source": "alice-ops"}'
"""Sent when the ping got no answer (some voice sockets answer only a hello)."""

JSON_METRICS_PATHS = ("/api/metrics", "/metrics.json", "/api/v1/metrics", "/stats",
                      "/api/stats", "/metrics/dashboard", "/metrics")
"""GET; a 200 JSON mapping holding numbers is a JSON metrics endpoint."""

EXPOSITION_PATHS = ("/metrics",)
"""GET; Prometheus text exposition served by the backend itself."""

NLU_PATHS = ("/api/nlu/classify", "/api/classify", "/api/intent", "/api/nlu", "/nlu/classify",
             "/api/voice-gateway/test-intent", "/api/ai/route")
"""POST {"text": <a sample>} on the backend (and the --nlu URL); a 422 naming another body
field is retried with it once."""

OPENAPI_PATHS = ("/openapi.json",)
"""A FastAPI app lists its HTTP routes here; more candidates are taken from it."""

STATUS_KEYS = ("status", "state", "health", "healthy")
"""Keys a status is found under, by name."""

HEALTHY_WORDS = frozenset({"passing", "green", "online", "ready", "running", "alive",
                           "success", "available"})
"""Healthy-sounding words outside HealthCheck's default ok list: a deployment reporting
one gets it added to `ok` in the fitted config."""

STATUS_WORDS = frozenset({
    "ok", "healthy", "up", "pass", "passing", "green", "online", "ready", "running",
    "degraded", "warn", "warning", "slow", "yellow",
    "unknown", "disabled", "n/a", "skipped", "not_configured",
    "error", "down", "fail", "failed", "failing", "critical", "unhealthy", "offline", "red",
    "unavailable", "timeout"})
"""Words that mark a value as a status when walking a health answer."""

INTENT_KEYS = ("intent", "intent_category", "label", "category", "tool", "name")
CONFIDENCE_KEYS = ("confidence", "score", "probability")
LATENCY_HINTS = ("latency", "elapsed", "duration", "took")
