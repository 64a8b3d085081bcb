"""The alice-ops.yaml contract: pydantic models, `${ENV}` interpolation, discovery and loading.

Every problem in a file is reported together, one line each, naming the file,
line, key path and what is wrong (`ConfigError`); nothing here prints a traceback.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlsplit

import yaml
from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, SecretStr,
                      ValidationError, field_validator, model_validator)

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10x faster
CONFIG_ENV = "ALICE_OPS_CONFIG"
CONFIG_NAME = "alice-ops.yaml"


class ConfigError(Exception):
    """A config file that cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def _http_url(value: str) -> str:
    """A URL's problems name it without user, password, path or query (a webhook's
    path is often its secret)."""
    from vocab.redact import url_without_secrets

    parts = urlsplit(value)
    shown = repr(value) if not any(c in value for c in "/?@#") else url_without_secrets(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {shown}")
    try:
        parts.port  # noqa: B018 - raises on a non-numeric port
    except ValueError:
        raise ValueError(f"bad port in URL: {parts.scheme}://{parts.hostname}:…") from None
    return value.rstrip("/")


HttpUrl = Annotated[str, AfterValidator(_http_url)]
TimeoutMs = Annotated[int, Field(gt=0, le=600_000)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OpenAITarget(_Section):
    """The cloud fast path: any OpenAI-compatible API."""

    base_url: HttpUrl = "https://api.openai.com/v1"
    """API base URL, including the `/v1` path."""
    api_key: SecretStr
    """API key; use `${OPENAI_API_KEY}` rather than writing it here."""
    admin_key: SecretStr | None = None
    """Admin key for the organization costs API (optional)."""
    model: str = "gpt-4o-mini"
    """Model the deep probe would call."""
    timeout_ms: TimeoutMs = 5000
    deep_probe: bool = False
    """Also send a tiny chat completion (`max_completion_tokens`). Off by default: every probe
    costs money. Its answer carries the `x-ratelimit-*` headers the rate-limit rows judge."""
    reasoning_models: dict[str, str] = {"gpt-5*": "minimal", "o1*": "low", "o3*": "low",
                                        "o4*": "low"}
    """Model name pattern (fnmatch) -> the `reasoning_effort` the deep probe sends to a matching
    model, with a larger `max_completion_tokens` (reasoning tokens count against it). Other
    models get neither. The o-series accepts low/medium/high only."""
    realtime: "RealtimeProbe" = Field(default_factory=lambda: RealtimeProbe())
    """The Realtime WebSocket probe (off by default)."""


class RealtimeProbe(_Section):
    """Open a Realtime session, wait for `session.created`, close without sending audio.

    Realtime is billed per Response (input and output tokens); opening and closing a session
    without creating one costs nothing today, but each probe holds one session slot briefly."""

    enabled: bool = False
    model: str = "gpt-realtime"
    url: str | None = None
    """WebSocket endpoint, e.g. `wss://api.openai.com/v1/realtime`; default: `base_url` with
    ws(s):// and `/realtime`."""
    beta_header: bool = False
    """Send `OpenAI-Beta: realtime=v1` (the deprecated beta interface some proxies still need)."""
    timeout_ms: TimeoutMs | None = None
    """Deadline for `session.created`; default: the target's `timeout_ms`."""

    @field_validator("url")
    @classmethod
    def _ws_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ValueError(f"not a ws(s) URL: {value!r}")
        return value.rstrip("/")


class OllamaTarget(_Section):
    """The local think path."""

    url: HttpUrl = "http://localhost:11434"
    model: str = "gpt-oss:20b"
    """The model Alice needs; missing from `/api/tags` is CRITICAL."""
    timeout_ms: TimeoutMs = 5000
    deep_probe: bool = False
    """Also generate a few tokens for tokens/s and cold-start time, with the loaded runner's
    `num_ctx` (from `/api/ps`) so the probe never causes the reload it would measure."""
    deep_timeout_ms: TimeoutMs = 60_000
    """A cold model load can take tens of seconds."""
    deep_num_predict: Annotated[int, Field(ge=1, le=512)] = 16
    """Tokens the deep probe generates: enough for a meaningful tokens/s."""
    skip_deep_when_serving: bool = True
    """Skip the deep generate while the app's own think-path traffic proves generation works
    (the caller says so; see `agent.probes.ollama.probe`)."""
    reload_ms: Annotated[int, Field(ge=0)] = 100
    """A `load_duration` above this on a model `/api/ps` listed as loaded is a reload."""
    unload_grace_s: Annotated[float, Field(ge=0)] = 30.0
    """A model whose `expires_at` passed longer ago than this is stuck unloading."""
    gpu_check: Literal["auto", "off"] = "auto"
    """Cross-check `/api/ps` against NVML (the runner's GPU memory) when Ollama runs on this
    machine (a loopback URL) and an NVIDIA GPU is present."""
    runner_names: tuple[str, ...] = ("ollama", "ollama_llama_server", "llama-server")
    """Process names of Ollama's model runners, as NVML's process list shows them."""
    baseline_tokens_per_s: Annotated[float, Field(gt=0)] | None = None
    """This machine's usual deep-probe speed; under half of it is a WARNING (a model that
    slipped to the CPU generates several times slower)."""


def _url_path(value: str) -> str:
    if not value.startswith("/") or any(c.isspace() for c in value) or "?" in value \
            or "#" in value:
        raise ValueError(f"expected a URL path starting with '/' (no spaces, query or "
                         f"fragment), got {value!r}")
    return value


def _json_path(value: str) -> str:
    if value and any(not part for part in value.split(".")):
        raise ValueError(f"expected a dotted JSON path like 'database.status', got {value!r}")
    return value


UrlPath = Annotated[str, AfterValidator(_url_path)]
JsonPath = Annotated[str, AfterValidator(_json_path)]
JsonScalar = bool | int | float | str | None
_Words = tuple[Annotated[str, Field(min_length=1)], ...]


class HealthCheck(_Section):
    """How a health endpoint is read: its path, where the status word is, and what the
    words mean. Words are matched case-insensitively; a word in no list is bad."""

    path: UrlPath = "/api/health"
    """Path of the health endpoint (GET), on the target's url."""
    status_path: JsonPath = "status"
    """Dotted JSON path to the status word (or a true/false flag); "" judges the HTTP
    code alone (200 is OK)."""
    ok: _Words = ("ok", "healthy", "up", "pass")
    degraded: _Words = ("degraded", "warn", "warning")
    """Words that make the component WARNING."""
    ignore: _Words = ("unknown", "disabled", "n/a")
    """Sub-status words shown in the details but not counted."""
    sub_statuses: tuple[JsonPath, ...] = ()
    """Dotted paths of nested statuses that count too; `*` is every key of a mapping
    (`services.*`). A mapping found there is read by its status/state/health key."""
    sub_status_bad: Literal["critical", "warning"] = "critical"
    """What a sub-status in a bad word makes the component (degraded ones: WARNING)."""

    @model_validator(mode="after")
    def _disjoint(self) -> "HealthCheck":
        seen: dict[str, str] = {}
        for name in ("ok", "degraded", "ignore"):
            for word in getattr(self, name):
                key = word.strip().lower()
                if key in seen and seen[key] != name:
                    raise ValueError(f"status word {word!r} is in both {seen[key]} and {name}")
                seen[key] = name
        return self


def _gateway_health() -> "HealthCheck":
    return HealthCheck(path="/health", status_path="")


class WebSocketExpect(_Section):
    """What an answer frame must hold: `{json_path, equals}`, `{contains}`, or `{}` for
    any frame. Frames that do not match (a greeting) are skipped until the deadline."""

    json_path: JsonPath | None = None
    """Dotted path into the frame's JSON, e.g. `type`."""
    equals: JsonScalar = None
    """The value found at json_path must equal this (strings case-sensitively)."""
    contains: Annotated[str, Field(min_length=1)] | None = None
    """The frame's text must contain this."""

    @model_validator(mode="after")
    def _one_kind(self) -> "WebSocketExpect":
        if self.contains is not None and self.json_path is not None:
            raise ValueError("give either json_path/equals or contains, not both")
        if self.json_path is None and "equals" in self.model_fields_set:
            raise ValueError("equals needs json_path")
        if self.json_path is not None and not self.json_path:
            raise ValueError("json_path must not be empty")
        return self


class WebSocketCheck(_Section):
    """The WebSocket exchange that proves a voice session can be carried."""

    path: UrlPath = "/ws/voice/{session}"
    """Path of the WebSocket; `{session}` is replaced by a fresh id."""
    send: str | None = '{"type": "ping", "source": "alice-ops"}'
    """Text frame sent once connected; null sends nothing."""
    expect: WebSocketExpect | None = WebSocketExpect()
    """The answer to wait for; `{}` (default) takes any frame; null: the connect (and
    send) is enough."""


class GatewayTarget(_Section):
    """The voice gateway: an HTTP health check and a WebSocket exchange. May point at
    the backend's URL where the backend serves the WebSocket itself."""

    url: HttpUrl = "http://localhost:8001"
    timeout_ms: TimeoutMs = 3000
    health: HealthCheck | None = Field(default_factory=_gateway_health)
    """null: no HTTP health check (only the WebSocket). Default GET /health, judged by
    its HTTP code."""
    websocket: WebSocketCheck | None = WebSocketCheck()
    """null: no WebSocket check (only the HTTP health)."""

    @model_validator(mode="before")
    @classmethod
    def _legacy_ws_path(cls, data: Any) -> Any:
        """`ws_path: /ws/...` (before `websocket:`) still works: it is websocket.path."""
        if isinstance(data, dict) and "ws_path" in data:
            data = dict(data)
            legacy = data.pop("ws_path")
            ws = data.get("websocket", {})
            if ws is None:
                raise ValueError("ws_path given but websocket is null; drop one")
            if isinstance(ws, dict) and "path" in ws:
                raise ValueError("ws_path and websocket.path both given; keep websocket.path")
            if isinstance(ws, dict):
                data["websocket"] = {**ws, "path": legacy}
        return data

    @model_validator(mode="after")
    def _something_to_check(self) -> "GatewayTarget":
        if self.health is None and self.websocket is None:
            raise ValueError("health and websocket are both null: nothing to check "
                             "(leave targets.gateway out instead)")
        return self

    @property
    def ws_path(self) -> str | None:
        """The WebSocket path (the legacy name)."""
        return self.websocket.path if self.websocket is not None else None


class BackendTarget(_Section):
    """The Alice backend: its health endpoint and the admin API."""

    url: HttpUrl = "http://localhost:8000"
    timeout_ms: TimeoutMs = 3000
    health: HealthCheck = HealthCheck()
    """Default GET /api/health, status word at `status`."""
    nlu_classify_path: str = "/api/nlu/classify"
    """POST {"text"} -> {"intent", ...}; `alice-ops nlu-bench` sends its gold set here."""


def _has_text(value: Any) -> bool:
    if isinstance(value, str):
        return "{text}" in value
    if isinstance(value, dict):
        return any(_has_text(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_text(v) for v in value)
    return False


class NluTarget(_Section):
    """The intent classifier `alice-ops nlu-bench` sends its gold set to, and how its
    answer reads. Left out: POST {"text"} to targets.backend.url + nlu_classify_path."""

    url: HttpUrl | None = None
    """Base URL; default targets.backend.url."""
    path: UrlPath | None = None
    """Default targets.backend.nlu_classify_path (/api/nlu/classify)."""
    method: Literal["POST", "PUT", "GET"] = "POST"
    """GET sends the body template's members as query parameters."""
    body: Any = {"text": "{text}"}
    """JSON request template; "{text}" in any string is replaced by the item's text."""
    intent_path: Annotated[JsonPath, Field(min_length=1)] = "intent"
    """Dotted JSON path to the intent label (a number part indexes a list)."""
    confidence_path: JsonPath | None = "confidence"
    """Optional; where it is absent the answer simply has no confidence."""
    latency_path: JsonPath | None = "latency_ms"
    """Optional: the server-reported milliseconds."""
    none_label: str | None = None
    """The label that means "no intent"; a JSON null always does."""
    aliases: dict[str, str | None] = {}
    """Server label -> gold label before comparing (e.g. SET_VOL: SET_VOLUME); null: the
    label means "no intent"."""
    absent_intent: Literal["error", "none"] = "error"
    """An answer without intent_path: a failed request (error), or "no intent" (none:
    for classifiers that leave the field out when nothing matched)."""
    timeout_ms: TimeoutMs | None = None
    """Per request, all of it; default targets.backend.timeout_ms, else 3000."""

    @model_validator(mode="after")
    def _template(self) -> "NluTarget":
        if not _has_text(self.body):
            raise ValueError('body: the template must contain "{text}" in some string')
        if self.method == "GET" and not (isinstance(self.body, dict) and all(
                isinstance(v, (str, int, float, bool)) for v in self.body.values())):
            raise ValueError("body: with method GET it must be a flat mapping (query "
                             "parameters)")
        return self


class PrometheusTarget(_Section):
    """The Prometheus holding Alice's own metrics."""

    url: HttpUrl = "http://localhost:9090"
    timeout_ms: TimeoutMs = 5000
    bearer_token: SecretStr | None = None


class HostTarget(_Section):
    """This machine: CPU, memory, disk and GPUs."""

    gpu: Literal["auto", "required", "off"] = "auto"
    """auto: no NVIDIA driver means no GPU (shown, not counted); required: missing GPU is
    CRITICAL; off: GPUs are not probed. A bare `off` (YAML 1.1's false) means off."""
    disk_path: str = "/"

    @field_validator("gpu", mode="before")
    @classmethod
    def _yaml_off(cls, value: Any) -> Any:
        if value is False:  # `gpu: off` unquoted: YAML 1.1 reads it as false
            return "off"
        if value is True:
            raise ValueError("expected auto, required or off (a bare on/yes/true is YAML's "
                             "true: write auto or required)")
        return value


class ExpectJson(_Section):
    """A JSON body check: the value at the dotted `path` equals `equals`."""

    path: Annotated[JsonPath, Field(min_length=1)]
    equals: JsonScalar


class EndpointTarget(_Section):
    """An extra HTTP endpoint, e.g. a tool integration (Calendar, Spotify, Gmail)."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
    url: HttpUrl
    expect_status: Annotated[int, Field(ge=100, le=599)] = 200
    timeout_ms: TimeoutMs = 3000
    latency_target_ms: Annotated[float, Field(gt=0)] | None = None
    latency_alert_ms: Annotated[float, Field(gt=0)] | None = None
    expect_json: ExpectJson | None = None
    """Also judge the body: the JSON value at `path` must equal `equals`."""

    @model_validator(mode="after")
    def _ordered(self) -> "EndpointTarget":
        if (self.latency_target_ms is not None and self.latency_alert_ms is not None
                and self.latency_alert_ms < self.latency_target_ms):
            raise ValueError("latency_alert_ms must not be below latency_target_ms")
        return self


RESERVED_COMPONENTS = frozenset({"openai", "ollama", "gateway", "backend", "prometheus", "host"})


class JsonMetricsSource(_Section):
    """A JSON endpoint whose figures threshold rows read by dotted path (`json:` rows)."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
    """Used in rows' `json: "<name>:<path>"` binding."""
    component: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")] = "backend"
    """The component whose job fetches it and whose rows and alerts its readings feed."""
    url: HttpUrl
    timeout_ms: TimeoutMs = 3000
    """Total deadline of the GET: connect, headers and body."""


class Targets(_Section):
    """What to probe. A target left out is not probed and not shown; the host always is."""

    openai: OpenAITarget | None = None
    ollama: OllamaTarget | None = None
    gateway: GatewayTarget | None = None
    backend: BackendTarget | None = None
    prometheus: PrometheusTarget | None = None
    host: HostTarget = HostTarget()
    endpoints: tuple[EndpointTarget, ...] = ()
    nlu: NluTarget | None = None
    """The classifier `alice-ops nlu-bench` benchmarks (not probed by check)."""
    json_metrics: tuple[JsonMetricsSource, ...] = ()
    """JSON metrics sources, fetched once per cycle of their component."""

    @field_validator("json_metrics")
    @classmethod
    def _unique_sources(cls, sources: tuple[JsonMetricsSource, ...]
                        ) -> tuple[JsonMetricsSource, ...]:
        names = [s.name for s in sources]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"json_metrics name {name!r} is used twice")
        return sources

    @field_validator("endpoints")
    @classmethod
    def _unique_names(cls, endpoints: tuple[EndpointTarget, ...]) -> tuple[EndpointTarget, ...]:
        seen: set[str] = set()
        for ep in endpoints:
            if ep.name in RESERVED_COMPONENTS:
                raise ValueError(f"endpoint name {ep.name!r} is a built-in component name")
            if ep.name in seen:
                raise ValueError(f"endpoint name {ep.name!r} is used twice")
            seen.add(ep.name)
        return endpoints


class ThresholdOverride(_Section):
    """Change a row of the threshold table, or add one (then every field is needed)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    component: str
    metric: str
    title: str | None = None
    unit: str | None = None
    probe: str | None = None
    promql: str | None = None
    json_binding: str | None = Field(None, alias="json")
    """`json:` in YAML: `<json_metrics source name>:<dotted path>`, e.g.
    `alice_metrics:application.final_latency_ms.p95`."""
    export_as: Annotated[str, Field(pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")] | None = None
    """Re-export this reading on the agent's /metrics as a gauge of this name."""
    on_absent: Literal["ignore", "unknown"] | None = None
    """A metric the source has never had: ignore (a blind spot, the default) or unknown."""
    direction: Literal["lower", "higher"] | None = None
    target: float | None = None
    alert: float | None = None
    enabled: bool = True

    @field_validator("json_binding")
    @classmethod
    def _binding(cls, value: str | None) -> str | None:
        if value is None:
            return None
        source, _, path = value.partition(":")
        if not source or not path or any(not p or p.isspace() for p in path.split(".")):
            raise ValueError(f"expected '<json_metrics source>:<dotted.path>', got {value!r}")
        return value

    @field_validator("export_as")
    @classmethod
    def _not_ours(cls, name: str | None) -> str | None:
        if name is not None and name.startswith("alice_ops_"):
            raise ValueError("export_as must not start with alice_ops_ (the agent's own "
                             "metrics)")
        return name


class CheckSettings(_Section):
    """One-shot `alice-ops check` behaviour."""

    deadline_s: Annotated[float, Field(gt=0, le=600)] = 20.0
    """Hard cap on the whole probe phase; a probe still running then is UNKNOWN."""


class IntervalSettings(_Section):
    """How often each component is probed (start to start)."""

    fast_s: Annotated[float, Field(ge=0.2, le=3600)] = 5.0
    """Cheap checks: health endpoints, models.list, tags/ps, host, PromQL, endpoints."""
    deep_s: Annotated[float, Field(ge=1, le=86400)] = 30.0
    """Expensive checks: a target with deep_probe on."""
    per_component: dict[str, Annotated[float, Field(ge=0.2, le=86400)]] = {}
    """Override by component or endpoint name, e.g. {prometheus: 15}."""


def _label_name(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or name.startswith("__"):
        raise ValueError(f"{name!r} is not a Prometheus label name")
    if name in ("alertname", "severity"):
        raise ValueError(f"{name!r} is set by the agent itself")
    return name


class HeartbeatSettings(_Section):
    """A URL pinged every interval_s while the agent's cycles run and commit."""

    url: HttpUrl
    """e.g. https://hc-ping.com/<uuid>; the path is treated as a secret."""
    interval_s: Annotated[float, Field(ge=1, le=86400)] = 60.0
    method: Literal["GET", "POST", "HEAD"] = "GET"
    send_fail: bool = True
    """When unhealthy (cycles stale, the store failing), ping URL/fail instead."""
    timeout_ms: TimeoutMs = 10000


class AgentSettings(_Section):
    """The headless agent: schedule, store, HTTP API."""

    listen: str = "127.0.0.1:9321"
    """host:port of the HTTP API (/metrics, /api/v1/...). Non-loopback needs a token."""
    token: SecretStr | None = None
    """Bearer token for the API: required for mutating endpoints always, and for every
    endpoint when bound to a non-loopback address."""
    data_path: str | None = None
    """SQLite state file (default $XDG_DATA_HOME/alice-ops/state.db)."""
    allowed_hosts: tuple[str, ...] = ()
    """More names the API answers to in the Host header (e.g. a reverse proxy's name);
    the listen address (and on loopback localhost/127.0.0.1/[::1]) always is."""
    intervals: IntervalSettings = IntervalSettings()
    max_concurrent_probes: Annotated[int, Field(ge=1, le=2000)] = 64
    jitter_s: Annotated[float, Field(ge=0, le=60)] = 0.3
    misfire_grace_s: Annotated[float, Field(ge=0, le=3600)] = 2.0
    retention_days: Annotated[float, Field(gt=0, le=3650)] = 7
    outage_tolerance_s: Annotated[float, Field(ge=0)] = 3600
    """After a restart, pending alerts keep their elapsed `for` time if the agent was
    down for less than this (the downtime itself never counts)."""
    external_labels: dict[Annotated[str, AfterValidator(_label_name)], str] = {}
    """Added to every alert sent and every /metrics series, e.g. {site: lab, instance: a}:
    what tells two agents' alerts apart in one Alertmanager."""
    heartbeat: HeartbeatSettings | None = None
    """Ping a dead man's switch (healthchecks.io style) while the agent is healthy."""

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError(f"expected host:port, got {value!r}")
        return value


from rules.dependencies import DependencySpec  # noqa: E402  (rules/ imports no agent/)


class AlertRuleOverride(_Section):
    """Per-alert changes to the lifecycle defaults; `alert` is the alert name."""

    alert: str
    for_s: Annotated[float, Field(ge=0)] | None = None
    keep_firing_for_s: Annotated[float, Field(ge=0)] | None = None
    failure_threshold: Annotated[int, Field(ge=1)] | None = None
    success_threshold: Annotated[int, Field(ge=1)] | None = None
    severity_floor: Literal["warning", "critical"] | None = None
    """Only fire at this status or worse."""


class MaintenanceWindowSpec(_Section):
    """A recurring maintenance window; alerts matching `matchers` are not notified inside
    it (monitoring and recording go on), and its start and end are notified."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
    cron: str
    """When each run starts, 5 fields in `timezone`: e.g. "0 2 * * sun" (Sundays 02:00)."""
    duration_s: Annotated[float, Field(ge=60, le=31 * 86400)]
    matchers: str
    """Which alerts: e.g. 'component=~"ollama|backend"'; 'alertname=~".+"' for all."""
    reason: Annotated[str, Field(min_length=1)]
    timezone: str = "UTC"

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        from alerts.maintenance import parse_cron

        parse_cron(value)
        return value

    @field_validator("matchers")
    @classmethod
    def _matchers(cls, value: str) -> str:
        from alerts.silence import Silence

        try:  # the same rules as any silence (one matcher that does not match everything)
            Silence(id="check", matchers=value, starts_at=0, ends_at=1, created_by="config",
                    comment="check")
        except ValueError as exc:
            raise ValueError(str(exc).removeprefix("silence check: ")) from None
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


class AlertSettings(_Section):
    """Alert lifecycle defaults for every rule (threshold rows and component probes)."""

    for_s: Annotated[float, Field(ge=0)] = 0.0
    keep_firing_for_s: Annotated[float, Field(ge=0)] = 0.0
    failure_threshold: Annotated[int, Field(ge=1)] = 1
    success_threshold: Annotated[int, Field(ge=1)] = 2
    flap_window_s: Annotated[float, Field(ge=0)] = 600.0
    flap_max_transitions: Annotated[int, Field(ge=1)] = 6
    repeat_interval_s: Annotated[float, Field(gt=0)] = 4 * 3600.0
    unknown_is_breach: bool = True
    rules: tuple[AlertRuleOverride, ...] = ()
    inhibit: bool = True
    """Inhibit alerts that follow from a breaching dependency (shown under it, not
    notified, their playbooks not run); false: every alert is told on its own."""
    dependencies: tuple[DependencySpec, ...] = ()
    """Changes to rules/defaults/dependencies.yaml: an entry replaces the default of
    its `name` (`affects: []` turns it off) or adds a new one."""
    inhibit_release_s: Annotated[float, Field(ge=0)] = 30.0
    """An alert still firing when its cause recovers is told once it has fired on its
    own this long (its cause's recovery usually takes it along within a cycle or two)."""
    group_wait_s: Annotated[float, Field(ge=0, le=3600)] = 0.0
    """Hold a new firing alert's first notice this long (Alertmanager's group_wait): what
    fires meanwhile goes out with it in one notification, and a follower whose cause
    fires a cycle later is inhibited before it is told; 0 tells at once."""
    group_by: tuple[Annotated[str, Field(pattern=r"^([A-Za-z_][A-Za-z0-9_]*|\.\.\.)$")], ...] \
        = ("component",)
    """Labels whose values make one group (Alertmanager's group_by): a webhook, e-mail,
    ntfy or Slack receiver gets one notification per group, so one component's episode
    is one notice; `["..."]` groups by every label (each alert on its own)."""
    group_interval_s: Annotated[float, Field(ge=0, le=86400)] = 0.0
    """A group that has been told waits this long after its last notification before
    the next one (new alerts of it, a partial recovery); never longer than
    repeat_interval_s. The default 0 holds nothing that is due: what is due together for
    one group goes in one notice; 10 (two fast cycles) batches a component's episode
    (docs/alerting.md)."""
    runbook_base_url: HttpUrl | None = None
    """Where the README is published; every alert's runbook_url is this plus a section
    anchor (#remediation for an alert a playbook covers, else #what-is-checked)."""
    maintenance: tuple[MaintenanceWindowSpec, ...] = ()
    """Recurring silences: a cron expression plus a duration, with a reason."""

    @field_validator("maintenance")
    @classmethod
    def _unique_windows(cls, windows: tuple) -> tuple:
        names = [w.name for w in windows]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"maintenance window name {name!r} is used twice")
        return windows

    @field_validator("group_by")
    @classmethod
    def _group_by(cls, labels: tuple) -> tuple:
        if not labels:
            raise ValueError('needs at least one label (["..."]: each alert on its own)')
        if "..." in labels and len(labels) > 1:
            raise ValueError('"..." must be the only entry')
        if len(set(labels)) != len(labels):
            raise ValueError("a label is listed twice")
        return labels


ReceiverName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:@-]{1,64}$")]
RESERVED_RECEIVERS = frozenset({"log"})
"""Receiver names the agent uses itself (the structured log)."""


def _receiver_name(kind: str, data: Any) -> Any:
    """Fill in a missing `name:` as KIND-HOST-PORT from the URL (port from the scheme
    when the URL has none), so two receivers of one kind differ by default."""
    if not isinstance(data, dict) or data.get("name") is not None \
            or not isinstance(data.get("url"), str):
        return data
    parts = urlsplit(data["url"])
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return data  # the url's own validator reports the bad port
    if not parts.hostname:
        return data
    host = re.sub(r"[^A-Za-z0-9_.-]", "-", parts.hostname)
    return {**data, "name": f"{kind}-{host}" + (f"-{port}" if port else "")}


class WebhookReceiver(_Section):
    """A generic webhook; the payload is Alertmanager's webhook format."""

    name: ReceiverName
    """Unique among receivers; default `webhook-HOST-PORT` from the url."""
    url: HttpUrl
    bearer_token: SecretStr | None = None
    timeout_ms: TimeoutMs = 5000

    @model_validator(mode="before")
    @classmethod
    def _default_name(cls, data: Any) -> Any:
        return _receiver_name("webhook", data)


class AlertmanagerReceiver(_Section):
    """An Alertmanager, fed through its v2 API (POST /api/v2/alerts)."""

    name: ReceiverName
    """Unique among receivers; default `alertmanager-HOST-PORT` from the url."""
    url: HttpUrl
    timeout_ms: TimeoutMs = 5000
    resend_interval_s: Annotated[float, Field(ge=1, le=3600)] = 60.0
    """Firing alerts are re-posted this often; each expires after 4 x this unless re-posted."""
    watchdog: bool = True
    """Also send the always-firing `Watchdog` alert (route it to a dead man's switch)."""
    severity_label: bool = False
    """Also send severity as a label, for routes that match on it: each severity is then
    its own Alertmanager alert (a change resolves the previous one's copy at once)."""

    @model_validator(mode="before")
    @classmethod
    def _default_name(cls, data: Any) -> Any:
        return _receiver_name("alertmanager", data)


class EmailReceiver(_Section):
    """E-mail over SMTP: one message per notification."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: ReceiverName
    """Unique among receivers; default `email-HOST-PORT`."""
    host: Annotated[str, Field(min_length=1)]
    port: Annotated[int, Field(ge=1, le=65535)] = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    """starttls (port 587), tls (SMTPS, port 465) or none (a local relay)."""
    username: str | None = None
    password: SecretStr | None = None
    """Use ${SMTP_PASSWORD}; never shown."""
    sender: Annotated[str, Field(alias="from", pattern=r"^[^@\s]+@[^@\s]+$")]
    to: Annotated[tuple[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")], ...],
                  Field(min_length=1)]
    ca_file: str | None = None
    """CA bundle that signs the server's certificate (default: the system's)."""
    verify: bool = True
    allow_plain_auth: bool = False
    """Send the password over an unencrypted connection (security: none) anyway."""
    subject_prefix: str = ""
    timeout_ms: TimeoutMs = 10000

    @model_validator(mode="before")
    @classmethod
    def _default_name(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("name") is None and isinstance(
                data.get("host"), str) and data["host"]:
            host = re.sub(r"[^A-Za-z0-9_.-]", "-", data["host"])
            return {**data, "name": f"email-{host}-{data.get('port', 587)}"}
        return data


class NtfyReceiver(_Section):
    """An ntfy server topic (JSON publishing: title, priority, tags)."""

    name: ReceiverName
    """Unique among receivers; default `ntfy-HOST-PORT` from the url."""
    url: HttpUrl
    """The server, e.g. https://ntfy.sh."""
    topic: Annotated[str, Field(pattern=r"^[-_A-Za-z0-9]{1,64}$")]
    token: SecretStr | None = None
    timeout_ms: TimeoutMs = 5000

    @model_validator(mode="before")
    @classmethod
    def _default_name(cls, data: Any) -> Any:
        return _receiver_name("ntfy", data)


class SlackReceiver(_Section):
    """A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat)."""

    name: ReceiverName
    """Unique among receivers; default `slack-HOST-PORT` from the url."""
    url: HttpUrl
    """The incoming-webhook URL; its path is the credential (never shown)."""
    channel: str | None = None
    username: str | None = None
    icon_emoji: str | None = None
    timeout_ms: TimeoutMs = 5000

    @model_validator(mode="before")
    @classmethod
    def _default_name(cls, data: Any) -> Any:
        return _receiver_name("slack", data)


class NotifierSettings(_Section):
    """Where alerts go. The structured log always gets them."""

    webhooks: tuple[WebhookReceiver, ...] = ()
    alertmanagers: tuple[AlertmanagerReceiver, ...] = ()
    email: tuple[EmailReceiver, ...] = ()
    ntfy: tuple[NtfyReceiver, ...] = ()
    slack: tuple[SlackReceiver, ...] = ()

    @model_validator(mode="after")
    def _unique_names(self) -> "NotifierSettings":
        seen: dict[str, str] = {}
        for kind in ("webhooks", "alertmanagers", "email", "ntfy", "slack"):
            for i, receiver in enumerate(getattr(self, kind)):
                where = f"{kind}[{i}]"
                if receiver.name in RESERVED_RECEIVERS:
                    raise ValueError(f"{where}: receiver name {receiver.name!r} is reserved "
                                     "(the agent's structured log)")
                if receiver.name in seen:
                    raise ValueError(f"{where}: receiver name {receiver.name!r} is also the "
                                     f"name of {seen[receiver.name]} (give each a distinct "
                                     "name:)")
                seen[receiver.name] = where
        return self


class TuiSettings(_Section):
    """The dashboard (alice-tui): key bindings by action id, ASCII mode."""

    keys: dict[str, str] = {}
    """e.g. {quit: "ctrl+q", silence: "S"}; `alice-tui` checks the action names."""
    ascii: bool = False


class SecuritySettings(_Section):
    """`alice-ops security scan` (the guide's Security Operations / security_monitor.sh)."""

    log_globs: tuple[str, ...] = ()
    """Log files to scan for API keys, bearer tokens and Authorization headers."""
    tls_hosts: tuple[str, ...] = ()
    """"host:port" endpoints whose TLS certificate expiry is checked."""
    tls_ca_file: str | None = None
    """Extra CA bundle (PEM) trusted for tls_hosts, e.g. an internal CA."""
    files: tuple[str, ...] = ()
    """Extra files (.env and the like) whose permissions are checked; the config file
    itself always is."""
    auth_failures_per_hour_alert: Annotated[float, Field(ge=0)] = 10
    """Auth failures per hour above this are WARNING, above 5x this CRITICAL."""

    @field_validator("tls_hosts")
    @classmethod
    def _host_ports(cls, hosts: tuple[str, ...]) -> tuple[str, ...]:
        for entry in hosts:
            host, sep, port = entry.rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) <= 65535:
                raise ValueError(f"expected host:port, got {entry!r}")
        return hosts


def _clock_time(value: str) -> str:
    hour, sep, minute = value.partition(":")
    if not (sep and hour.isdigit() and minute.isdigit() and len(minute) == 2
            and 0 <= int(hour) <= 23 and 0 <= int(minute) <= 59):
        raise ValueError(f"expected a time of day HH:MM, got {value!r}")
    return f"{int(hour):02d}:{minute}"


def _time_zone(value: str | None) -> str | None:
    if value is None:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (an IANA name like Europe/Stockholm)") \
            from None
    return value


ClockTime = Annotated[str, AfterValidator(_clock_time)]


class BackupPath(_Section):
    """Backup files to check: the newest file matching `path` (a glob) must be younger
    than `max_age_h`."""

    path: str
    max_age_h: Annotated[float, Field(gt=0)] = 26.0
    """Default 26 h: a nightly backup plus slack."""


class ChecklistSettings(_Section):
    """The daily and weekly operations checklists (`alice-ops checklist`). `checklists: {}`
    takes every default."""

    daily_at: ClockTime = "08:00"
    """When the agent runs the automatic items of the daily checklist (local time)."""
    deadline: ClockTime = "10:00"
    """The daily checklist not completed (every manual item answered) by then raises
    the `checklist_overdue` alert (warning)."""
    timezone: Annotated[str | None, AfterValidator(_time_zone)] = None
    """IANA time zone for daily_at, deadline and "today" (default: the system's)."""
    backups: tuple[BackupPath, ...] = ()
    """Backups whose age the "backup completion" item checks."""
    file: str | None = None
    """YAML file with extra items or overrides (same shape as the shipped defaults,
    items matched by id; `enabled: false` drops one)."""

    @model_validator(mode="after")
    def _deadline_after_start(self) -> "ChecklistSettings":
        if self.deadline <= self.daily_at:
            raise ValueError(f"deadline {self.deadline} must be later than daily_at "
                             f"{self.daily_at}")
        return self


Usd = Annotated[float, Field(ge=0)]


class BudgetSettings(_Section):
    """Spend limits in USD (defaults: the guide's cost_controls, 2 / 10 / 50)."""

    hourly_usd: Usd | None = None
    daily_usd: Usd | None = None
    weekly_usd: Usd | None = None


class PriceSettings(_Section):
    """USD per 1000 tokens for one model, by token type (an unset type costs its text rate)."""

    input_per_1k: Usd
    output_per_1k: Usd
    cached_input_per_1k: Usd | None = None
    audio_input_per_1k: Usd | None = None
    """Realtime audio in: about 600 tokens per minute of user audio."""
    audio_output_per_1k: Usd | None = None
    """Realtime audio out: about 1200 tokens per minute of assistant audio."""
    cached_audio_input_per_1k: Usd | None = None


class CostMetricNames(_Section):
    """Prometheus series the cost figures read (the guide's names, `_total` counters)."""

    cost: str = "openai_api_cost_usd_total"
    fast: str = "fast_path_requests_total"
    think: str = "think_path_requests_total"
    total: str = "total_requests_total"
    tokens: str = "openai_api_tokens_total"
    token_label: str = "direction"
    """Label that tells prompt tokens from completion tokens on `tokens`."""
    prompt_value: str = "prompt"
    completion_value: str = "completion"
    sessions: str = "active_sessions"


TokenType = Literal["text_in", "cached_text_in", "text_out", "audio_in", "cached_audio_in",
                    "audio_out"]


class SessionUsageSettings(_Section):
    """Where per-session token counts come from (the session cap and measured audio minutes).

    A PromQL query answering one series per session and token type: the value is the tokens
    that session used so far. Neither the guide nor the real Alice (main) exports such a
    series; the default names the shape alice-ops reads (a counter per session and type)."""

    promql: str = "sum by (session, type) (alice_realtime_session_tokens_total)"
    session_label: str = "session"
    type_label: str = "type"
    """Label holding the token type; its values are mapped through `types`."""
    types: dict[str, TokenType] = {t: t for t in get_args(TokenType)}
    """Label value -> token type (text_in, cached_text_in, text_out, audio_in,
    cached_audio_in, audio_out); a value not listed is ignored."""
    model: str | None = None
    """Price row the sessions are priced at (default: targets.openai.realtime.model)."""


class RateLimitQuery(_Section):
    """PromQL for one rate-limit figure of the app's own metrics (requests or tokens)."""

    remaining: str | None = None
    """Left in the window now; unset: found among known gauges (LiteLLM's
    litellm_remaining_requests_metric / litellm_remaining_tokens_metric, the tightest one)."""
    limit: str | None = None
    """The window's limit (a query, or a number such as "10000"); with it the figure becomes a
    percent left and is judged: by openai_rate_limit_*_left when an openai target exists and
    its deep probe is off, else by cost_rate_limit_requests_left / _tokens_left."""

    @field_validator("limit", mode="before")
    @classmethod
    def _number_is_a_query(cls, value: Any) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return repr(value)  # a number is a PromQL scalar: `limit: 10000`
        return value


class RateLimitSettings(_Section):
    """Rate-limit headroom from the app's metrics (the x-ratelimit-* figures its own calls
    saw), besides what alice-ops' deep probe reads from its completions."""

    requests: RateLimitQuery = RateLimitQuery()
    tokens: RateLimitQuery = RateLimitQuery()


CostSource = Literal["prometheus", "costs_api", "estimate"]


class CostSettings(_Section):
    """Spend against budgets, routing split and capacity (`alice-ops cost|capacity`).

    With this section present the agent also watches spend (alerts cost_hourly_budget,
    cost_daily_budget, cost_weekly_budget); `cost: {}` takes every default.
    """

    timezone: Annotated[str | None, AfterValidator(_time_zone)] = None
    """IANA time zone of the hour/day/week windows (default: the system's)."""
    week_start: Literal["monday", "sunday"] = "monday"
    budgets: BudgetSettings = BudgetSettings()
    warning_level: Annotated[float, Field(gt=0, le=1)] | None = None
    """Fraction of a budget that is a warning (default 0.8)."""
    critical_level: Annotated[float, Field(gt=0, le=1)] | None = None
    """Fraction of a budget that is critical (default 0.95)."""
    routing_band_percent: tuple[Annotated[float, Field(ge=0, le=100)],
                                Annotated[float, Field(ge=0, le=100)]] | None = None
    """Target fast-path share (default 60-70 %)."""
    model: str | None = None
    """Price-table row the estimate uses (default: targets.openai.model)."""
    prices: dict[str, PriceSettings] = {}
    """Extra or changed price-table rows, by model."""
    sources: tuple[CostSource, ...] = ("prometheus", "costs_api", "estimate")
    """Spend sources to read, each used when its target is configured."""
    primary: Literal["auto", "prometheus", "costs_api", "estimate"] = "auto"
    """Which source budgets are judged on; auto: the first of `sources` with a figure."""
    reconcile_tolerance_percent: Annotated[float, Field(ge=0)] = 20.0
    """Sources further apart than this are reported as disagreeing."""
    metrics: CostMetricNames = CostMetricNames()
    burn_horizons_s: dict[Literal["hourly", "daily", "weekly"],
                          Annotated[float, Field(gt=0, le=7 * 86400)] | None] = {
        "hourly": 900.0, "daily": 3600.0}
    """Burn-rate alerts (cost_hourly_burn, cost_daily_burn, ...): running out within this
    many seconds at the current rate is a WARNING naming the time; null turns one off."""
    session_cap_usd: Annotated[float, Field(gt=0)] | None = None
    """Per-session spend cap (alert cost_session_cap: warning/critical at the budget levels of
    the cap); null (default): no cap, no alert."""
    session_usage: SessionUsageSettings = SessionUsageSettings()
    rate_limits: RateLimitSettings = RateLimitSettings()

    @model_validator(mode="after")
    def _ordered(self) -> "CostSettings":
        w, c = self.warning_level or 0.8, self.critical_level or 0.95
        if w > c:
            raise ValueError(f"warning_level {w:g} must not be above critical_level {c:g}")
        band = self.routing_band_percent
        if band is not None and band[0] > band[1]:
            raise ValueError("routing_band_percent: low end above high end")
        return self


class PlaybookSettings(_Section):
    """Per-playbook overrides (remediation.playbooks.NAME)."""

    mode: Literal["off", "dry-run", "execute"] = "off"
    """What the agent does when the trigger fires: nothing, record the plan, or run it."""
    cooldown_s: Annotated[float, Field(gt=0, le=86400)] | None = None
    limit: Annotated[int, Field(ge=1, le=100)] | None = None

    @field_validator("mode", mode="before")
    @classmethod
    def _yaml_off(cls, value: Any) -> Any:
        return "off" if value is False else value  # YAML 1.1 reads a bare `off` as false


class RemediationSettings(_Section):
    """Remediation playbooks (`alice-ops remediate`, and the agent when a mode allows)."""

    playbooks: dict[str, PlaybookSettings] = {}
    """By playbook name: mode (default off), cooldown_s, limit."""
    playbooks_file: str | None = None
    """YAML file of extra playbooks; one with a default's name replaces it."""
    env_file: str = ".env"
    """Alice's .env file, changed by `env` steps (relative: to compose_dir)."""
    compose_dir: str = "."
    """Directory docker compose runs in (holds Alice's compose files)."""
    compose_files: dict[str, str] = {"local_only": "docker-compose.local-only.yml",
                                     "cloud_first": "docker-compose.cloud-first.yml"}
    """Files named by {compose.NAME} in steps."""
    services: dict[str, str] = {"cache": "redis-cache", "local_ai": "local-ai",
                                "backend": "alice-backend", "gateway": "voice-gateway",
                                "frontend": "alice-frontend"}
    """Compose service names, {service.NAME} in steps."""
    docker: str = "docker"
    """The docker executable (found on PATH)."""
    commands: dict[str, tuple[str, ...]] = {
        "gpu-status": ("nvidia-smi", "--query-gpu=name,utilization.gpu,memory.used,"
                       "memory.total,temperature.gpu", "--format=csv")}
    """The allow-list for `command` steps: name -> argv. Nothing else is ever run."""
    secrets: dict[str, SecretStr] = {}
    """Values for {secret.NAME} in steps (e.g. an admin API token); never shown."""
    step_timeout_s: Annotated[float, Field(gt=0, le=3600)] = 30.0
    cooldown_s: Annotated[float, Field(gt=0, le=86400)] = 10.0
    """First backoff after a run; doubles per run up to cooldown_max_s."""
    cooldown_max_s: Annotated[float, Field(gt=0, le=86400)] = 300.0
    healthy_reset_s: Annotated[float, Field(gt=0)] = 600.0
    """The backoff resets after the trigger has been clear this long."""
    limit: Annotated[int, Field(ge=1, le=100)] = 3
    """Automatic runs per target inside window_s; one more trigger suspends the playbook."""
    window_s: Annotated[float, Field(gt=0)] = 1800.0

    @field_validator("commands")
    @classmethod
    def _argv(cls, commands: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for name, argv in commands.items():
            if not argv or not all(a for a in argv):
                raise ValueError(f"command {name!r}: argv must be a non-empty list of "
                                 "non-empty strings")
        return commands


class Config(_Section):
    """The whole alice-ops.yaml."""

    targets: Targets = Targets()
    thresholds: tuple[ThresholdOverride, ...] = ()
    check: CheckSettings = CheckSettings()
    agent: AgentSettings = AgentSettings()
    alerts: AlertSettings = AlertSettings()
    notifiers: NotifierSettings = NotifierSettings()
    tui: TuiSettings = TuiSettings()
    security: SecuritySettings = SecuritySettings()
    cost: CostSettings | None = None
    """Absent: the agent does not watch spend; `alice-ops cost` uses the defaults."""
    checklists: ChecklistSettings | None = None
    """With this section present the agent runs the daily checklist's automatic items
    and raises checklist_overdue; `alice-ops checklist` works either way (defaults)."""
    remediation: RemediationSettings = RemediationSettings()
    read_only: bool = False
    """Refuse every mutating action (remediation runs, resumes) in every command."""

    @model_validator(mode="after")
    def _json_bindings(self) -> "Config":
        sources = {s.name: s for s in self.targets.json_metrics}
        exported: dict[str, int] = {}
        for i, ov in enumerate(self.thresholds):
            if ov.export_as is not None:
                if ov.export_as in exported:
                    raise ValueError(f"thresholds[{i}].export_as: {ov.export_as!r} is "
                                     f"already used by thresholds[{exported[ov.export_as]}]")
                exported[ov.export_as] = i
            if ov.json_binding is None:
                continue
            name = ov.json_binding.split(":", 1)[0]
            source = sources.get(name)
            if source is None:
                known = ", ".join(sources) or "none configured"
                raise ValueError(f"thresholds[{i}].json: no targets.json_metrics source "
                                 f"named {name!r} ({known})")
            if source.component != ov.component:
                raise ValueError(f"thresholds[{i}]: {ov.component}/{ov.metric} reads "
                                 f"json_metrics {name!r}, which feeds component "
                                 f"{source.component!r}; use the same component")
        return self


# --- loading ---------------------------------------------------------------------------


class StrictLoader(_Loader):  # type: ignore[misc, valid-type]
    """The safe YAML loader (libyaml's when present) that refuses nothing but notes every
    key given twice in one mapping (YAML would keep the last silently): `duplicates`
    holds (mapping node, key, line, first line), one per repeat; merge keys (`<<`) are
    overrides by design and not counted."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[yaml.MappingNode, Any, int, int]] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        if isinstance(node, yaml.MappingNode):
            first: dict[Any, int] = {}
            for key_node, _value in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge" \
                        or not isinstance(key_node, yaml.ScalarNode):
                    continue
                key = self.construct_object(key_node)
                line = key_node.start_mark.line + 1
                try:
                    if key in first:
                        self.duplicates.append((node, key, line, first[key]))
                    else:
                        first[key] = line
                except TypeError:  # an unhashable key: the constructor reports it
                    continue
        return super().construct_mapping(node, deep=deep)


def _node_paths(node: yaml.Node | None, path: tuple = (),
                out: dict[int, tuple] | None = None) -> dict[int, tuple]:
    """Key path of every mapping node in the tree, by node id (first path wins)."""
    out = {} if out is None else out
    if isinstance(node, yaml.MappingNode) and id(node) not in out:
        out[id(node)] = path
        for key, value in node.value:
            _node_paths(value, path + (getattr(key, "value", "?"),), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            _node_paths(value, path + (i,), out)
    return out

_ENV_REF = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def interpolate(data: Any, env: dict[str, str], path: tuple = (), problems: list | None = None):
    """Replace `${VAR}` / `${VAR:-default}` in every string; `$$` is a literal `$`."""
    if isinstance(data, dict):
        return {k: interpolate(v, env, path + (k,), problems) for k, v in data.items()}
    if isinstance(data, list):
        return [interpolate(v, env, path + (i,), problems) for i, v in enumerate(data)]
    if not isinstance(data, str):
        return data

    def repl(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        if problems is not None:
            problems.append((path, f"environment variable {name} is not set"))
        return ""

    return _ENV_REF.sub(repl, data)


def _key_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _line_of(node: yaml.Node | None, loc: tuple) -> int | None:
    """1-based line of the YAML node at key path `loc` (or of its nearest parent)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    child = key if part == loc[-1] else value
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) \
                and part < len(node.value):
            child = node.value[part]
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


SECRET_KEYS = frozenset({"api_key", "admin_key", "token", "bearer_token", "secrets"})


def _describe(err: dict) -> str:
    kind, msg = err["type"], err["msg"]
    secret = any(part in SECRET_KEYS for part in err.get("loc", ()))
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if kind in ("int_type", "int_parsing", "float_type", "float_parsing", "bool_type",
                "bool_parsing", "string_type", "dict_type", "model_type", "tuple_type",
                "list_type", "literal_error") and not secret:
        msg = f"{msg} (got {err.get('input')!r})"  # never echo a secret's value
    return msg


def parse_config(text: str, source: str, env: dict[str, str] | None = None) -> Config:
    """Validate config text; raise ConfigError listing every problem."""
    env = dict(os.environ) if env is None else env
    try:
        loader = StrictLoader(text)
        try:
            node = loader.get_single_node()  # kept for line numbers in messages
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError([f"{where}: YAML syntax error: {problem}"]) from None
    if loader.duplicates:
        paths = _node_paths(node)
        raise ConfigError([f"{source}:{line}: {_key_path(paths.get(id(parent), ()) + (key,))}: "
                           f"duplicate key (first at line {first})"
                           for parent, key, line, first in
                           sorted(loader.duplicates, key=lambda dup: dup[2])])
    if data is None:
        raise ConfigError([f"{source}: the file is empty (expected a mapping with a "
                           "'targets:' section; `alice-ops config init` writes one)"])
    if not isinstance(data, dict):
        raise ConfigError([f"{source}: top level must be a mapping of keys, "
                           f"not {type(data).__name__}"])
    env_problems: list = []
    data = interpolate(data, env, problems=env_problems)
    problems = [(loc, why) for loc, why in env_problems]
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        problems += [(tuple(e["loc"]), _describe(e)) for e in exc.errors()]
        config = None
    if config is not None and not problems:
        problems = semantic_problems(config)
    if problems:
        located = sorted(((_line_of(node, loc) or 0, loc, why) for loc, why in problems),
                         key=lambda item: item[0])
        raise ConfigError([f"{source}:{line}: {_key_path(loc)}: {why}" if line
                           else f"{source}: {_key_path(loc)}: {why}"
                           for line, loc, why in located])
    assert config is not None
    return config


def semantic_problems(config: Config) -> list[tuple[tuple, str]]:
    """What the schema cannot see but the commands would trip on, as (key path, why):
    a threshold override that matches no row and is not a complete new row (or disables
    a row that does not exist), an alert override that names no alert, and settings for
    a playbook that does not exist. The one check
    behind `config validate`, `check`, the agent (and its SIGHUP reload) and the TUI:
    all of them load through `parse_config`."""
    problems: list[tuple[tuple, str]] = []
    if config.thresholds:
        from rules.thresholds import apply_overrides, default_rows

        rows = default_rows()
        for i, override in enumerate(config.thresholds):
            keys = {row.key for row in rows}
            if not override.enabled and (override.component, override.metric) not in keys:
                problems.append((("thresholds", i), f"no row {override.component}/"
                                 f"{override.metric} to disable (`alice-ops rules show` "
                                 "lists them)"))
                continue
            try:
                rows = apply_overrides(rows, (override,))
            except ValueError as exc:
                problems.append((("thresholds", i),
                                 str(exc).removeprefix("thresholds[0]: ")))
    from rules.dependencies import problems as dependency_problems

    problems += [(("alerts", "dependencies", i), why)
                 for i, why in dependency_problems(config.alerts.dependencies)]
    if config.alerts.rules and not problems:
        from agent.check import threshold_rows
        from agent.cost.component import cost_rows
        from rules.alerting import build_rules, unknown_overrides

        rows = threshold_rows(config) + cost_rows(config)
        components = {*RESERVED_COMPONENTS, *(ep.name for ep in config.targets.endpoints),
                      *(row.component for row in rows)}
        names = build_rules(rows, components, config.alerts)
        problems += [(("alerts", "rules", i, "alert"), why)
                     for i, why in unknown_overrides(config.alerts, names)]
    if config.remediation.playbooks:
        from agent.remediation.render import playbooks_for
        from rules.playbooks import PlaybookError

        try:  # a broken playbooks_file is reported by remediate and the agent themselves
            known = {p.name for p in playbooks_for(config)}
        except PlaybookError:
            known = None
        problems += [(("remediation", "playbooks", name), "no playbook with this name "
                      "(`alice-ops remediate list` lists them)")
                     for name in config.remediation.playbooks
                     if known is not None and name not in known]
    return problems


def default_config_path(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "alice-ops" / CONFIG_NAME


def find_config(explicit: str | None, env: dict[str, str] | None = None) -> Path:
    """`--config`, then `$ALICE_OPS_CONFIG`, then the XDG config dir."""
    env = dict(os.environ) if env is None else env
    if explicit:
        return Path(explicit)
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    return default_config_path(env)


def load_config(path: Path, env: dict[str, str] | None = None) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: config file not found (pass --config, set "
                           f"{CONFIG_ENV}, or run `alice-ops config init`)"]) from None
    except IsADirectoryError:
        raise ConfigError([f"{path}: is a directory, not a config file"]) from None
    except (PermissionError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read config file: {exc.__class__.__name__}"]) \
            from None
    return parse_config(text, str(path), env)
