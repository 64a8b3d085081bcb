"""The I/O half of `alice-ops discover`: ask a deployment, concurrently and each request
under one total deadline, what it serves. Everything it learns is returned as plain
data (`Discovery`); judging and writing a config from it is `report` and `fitted`.

Three short phases: the candidates of `candidates` (GETs, WebSocket upgrades, one
POST of a sample text to each classify candidate) and `/openapi.json`; then the routes
the OpenAPI document adds; then one retry of a classify route whose 422 names the body
field it wants.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from agent.discover import candidates as c
from agent.discover.shape import missing_fields
from agent.probes.gateway import MAX_WS_MESSAGE, ws_reason, ws_url
from agent.probes.http import describe_error, make_client

MAX_TEXT = 512 * 1024
CONCURRENCY = 16
OPENAPI_EXTRA = 6


@dataclass(frozen=True)
class Options:
    """What to discover; URLs are http(s) base URLs without a trailing slash."""

    backend: str
    gateway: str | None = None
    gateway_paths: tuple[str, ...] = ()
    """WebSocket paths found on the --gateway URL (tried first)."""
    prometheus: str | None = None
    ollama: str | None = None
    openai: str | None = None
    nlu: str | None = None
    """A classifier service of its own (Alice's NLU agent), tried beside the backend."""
    timeout_ms: int = 1500
    sample_text: str = "what time is it"
    """Sent to classify routes."""


@dataclass(frozen=True)
class Answer:
    """One HTTP request and what came back (`body`: parsed JSON, else None)."""

    method: str
    base: str
    path: str
    code: int | None
    ms: float
    error: str | None = None
    body: Any = None
    is_json: bool = False
    text: str = ""
    """A non-JSON body's text (kept for Prometheus exposition only)."""
    sent: Any = None

    @property
    def ok(self) -> bool:
        return self.code is not None and 200 <= self.code < 300

    def to_json(self) -> dict:
        out: dict[str, Any] = {"method": self.method, "url": self.base + self.path,
                               "code": self.code, "ms": round(self.ms, 1)}
        if self.error:
            out["error"] = self.error
        return out


@dataclass(frozen=True)
class WsResult:
    """One WebSocket path tried: accepted or not, what it said, which exchange works."""

    base: str
    path: str
    accepted: bool
    reason: str
    ms: float
    greeting: str | None = None
    """The first frame the server sent before we sent anything."""
    reply: str | None = None
    """The first frame after our ping."""
    hello_reply: str | None = None
    """The first frame after a hello frame, sent when the ping got no answer."""

    def to_json(self) -> dict:
        return {"url": ws_url(self.base, self.path, "{session}"), "path": self.path,
                "accepted": self.accepted,
                "reason": self.reason, "ms": round(self.ms, 1), "greeting": self.greeting,
                "reply": self.reply, "hello_reply": self.hello_reply}


@dataclass(frozen=True)
class AdminRoute:
    """An HTTP step URL of the shipped playbooks, on this deployment."""

    template: str
    method: str
    playbooks: tuple[str, ...]
    answer: Answer | None
    """None: the target it lives on was not given."""


@dataclass(frozen=True)
class Discovery:
    options: Options
    elapsed_s: float
    openapi: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    """base URL -> path -> methods, from /openapi.json."""
    health: tuple[Answer, ...] = ()
    websockets: tuple[WsResult, ...] = ()
    prometheus: Answer | None = None
    json_metrics: tuple[Answer, ...] = ()
    exposition: Answer | None = None
    nlu: tuple[Answer, ...] = ()
    admin: tuple[AdminRoute, ...] = ()
    ollama: Answer | None = None
    openai: Answer | None = None


def safe_base(url: str) -> str:
    """scheme://host[:port][/prefix] of a URL: no user:password, query or fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path.rstrip('/')}"


class _Asker:
    def __init__(self, client: httpx.AsyncClient, timeout_ms: int) -> None:
        self.client, self.timeout_ms = client, timeout_ms
        self.gate = asyncio.Semaphore(CONCURRENCY)

    async def ask(self, method: str, base: str, path: str, body: Any = None,
                  headers: dict[str, str] | None = None, keep_text: bool = False) -> Answer:
        started = time.perf_counter()
        timeout_s = self.timeout_ms / 1000
        try:
            async with asyncio.timeout(timeout_s):
                async with self.gate:
                    response = await self.client.request(
                        method, base + path, json=body, headers=headers, timeout=timeout_s)
        except TimeoutError:
            return Answer(method, safe_base(base), path, None,
                          (time.perf_counter() - started) * 1000,
                          f"no answer within {self.timeout_ms} ms", sent=body)
        except httpx.HTTPError as exc:
            return Answer(method, safe_base(base), path, None,
                          (time.perf_counter() - started) * 1000,
                          describe_error(exc, self.timeout_ms), sent=body)
        ms = (time.perf_counter() - started) * 1000
        try:
            parsed, is_json = json.loads(response.content), True
        except (ValueError, UnicodeDecodeError):
            parsed, is_json = None, False
        text = response.content[:MAX_TEXT].decode("utf-8", "replace") \
            if keep_text and not is_json else ""
        return Answer(method, safe_base(base), path, response.status_code, ms, None, parsed,
                      is_json, text, sent=body)


async def try_websocket(base: str, path: str, timeout_ms: int) -> WsResult:
    """Connect, wait briefly for a greeting, send the ping, wait for a reply; no reply:
    send a hello frame and wait for that one's."""
    from websockets.asyncio.client import connect

    timeout_s = timeout_ms / 1000
    url = ws_url(base, path, f"alice-ops-discover-{uuid.uuid4().hex[:8]}")
    started = time.perf_counter()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s

    async def frame(wait_s: float) -> str | None:
        try:
            got = await asyncio.wait_for(ws.recv(), max(0.01, min(wait_s,
                                                                  deadline - loop.time())))
        except TimeoutError:
            return None
        return got if isinstance(got, str) else f"<{len(got)} bytes>"

    try:
        async with asyncio.timeout(timeout_s + 0.5):
            async with connect(url, open_timeout=timeout_s, close_timeout=0.3,
                               max_size=MAX_WS_MESSAGE, ping_interval=None) as ws:
                ms = (time.perf_counter() - started) * 1000
                greeting = await frame(0.3)
                await ws.send(c.WS_PING)
                reply = await frame(0.6)
                hello = None
                if reply is not None and '"pong"' not in reply:
                    later = await frame(0.2)  # a heartbeat first, the pong next?
                    reply = later if later is not None and '"pong"' in later else reply
                if reply is None:
                    await ws.send(c.WS_HELLO)
                    hello = await frame(0.5)
                return WsResult(safe_base(base), path, True, "accepted", ms, greeting, reply,
                                hello)
    except Exception as exc:  # noqa: BLE001 - every failure on the wire becomes a reason
        return WsResult(safe_base(base), path, False, ws_reason(exc, timeout_ms),
                        (time.perf_counter() - started) * 1000)


def _openapi_routes(answer: Answer) -> dict[str, tuple[str, ...]]:
    paths = answer.body.get("paths") if answer.ok and isinstance(answer.body, dict) else None
    if not isinstance(paths, dict):
        return {}
    return {p: tuple(sorted(m.upper() for m in ops if isinstance(ops, dict)))
            for p, ops in paths.items() if isinstance(p, str) and isinstance(ops, dict)}


def openapi_extra(routes: dict[str, tuple[str, ...]], words: Iterable[str], method: str,
                  tried: Iterable[str]) -> list[str]:
    """Routes of an OpenAPI listing worth trying: `method`, no path parameters, a word."""
    seen = set(tried)
    out = [p for p, methods in routes.items() if method in methods and "{" not in p
           and p not in seen and any(w in p.lower() for w in words)]
    return out[:OPENAPI_EXTRA]


def admin_templates() -> list[tuple[str, str, tuple[str, ...]]]:
    """(url template, method, playbook names) of every HTTP step of the shipped
    playbooks, steps and reverts, in order."""
    from rules.playbooks import default_playbooks

    found: dict[tuple[str, str], list[str]] = {}
    for book in default_playbooks():
        for step in (*book.steps, *book.revert):
            if getattr(step, "type", None) == "http":
                names = found.setdefault((step.url, step.method), [])
                if book.name not in names:
                    names.append(book.name)
    return [(url, method, tuple(names)) for (url, method), names in found.items()]


def split_template(template: str) -> tuple[str, str] | None:
    """`{backend}/api/admin/x` -> ("backend", "/api/admin/x")."""
    if not template.startswith("{") or "}" not in template:
        return None
    root, _, rest = template[1:].partition("}")
    return root, "/" + rest.lstrip("/")


async def discover(opts: Options) -> Discovery:
    started = time.perf_counter()
    async with make_client(opts.timeout_ms, limits=httpx.Limits(max_connections=32)) as client:
        asker = _Asker(client, opts.timeout_ms)
        found = await _phases(asker, opts)
    return Discovery(options=opts, elapsed_s=time.perf_counter() - started, **found)


async def _gather(jobs: dict[str, Awaitable[Any]]) -> dict[str, Any]:
    values = await asyncio.gather(*jobs.values())
    return dict(zip(jobs, values))


async def _phases(asker: _Asker, opts: Options) -> dict[str, Any]:
    ask, backend = asker.ask, opts.backend
    bases = [backend] + ([opts.gateway] if opts.gateway and opts.gateway != backend else [])
    jobs: dict[str, Awaitable[Any]] = {}
    for base in bases:
        jobs[f"openapi {base}"] = ask("GET", base, c.OPENAPI_PATHS[0])
        for path in c.HEALTH_PATHS:
            jobs[f"health {base} {path}"] = ask("GET", base, path)
    for path in c.JSON_METRICS_PATHS:
        jobs[f"metrics {path}"] = ask("GET", backend, path, keep_text=True)
    nlu_bases = list(dict.fromkeys([backend] + ([opts.nlu] if opts.nlu else [])))
    nlu_targets = [(base, path) for base in nlu_bases for path in c.NLU_PATHS]
    body = {"text": opts.sample_text}
    for base, path in nlu_targets:
        jobs[f"nlu {base} {path}"] = ask("POST", base, path, body)
    ws_bases = ([opts.gateway] if opts.gateway else []) + [backend]
    ws_paths = list(dict.fromkeys((*opts.gateway_paths, *c.WEBSOCKET_PATHS)))
    for base in dict.fromkeys(ws_bases):
        for path in ws_paths:
            jobs[f"ws {base} {path}"] = try_websocket(base, path, asker.timeout_ms)
    # without --gateway the backend may serve the voice WebSocket itself: its {gateway}
    roots = {"backend": backend, "gateway": opts.gateway or backend, "ollama": opts.ollama,
             "openai": opts.openai, "prometheus": opts.prometheus}
    admin = admin_templates()
    for template, _method, _books in admin:
        split = split_template(template)
        if split and roots.get(split[0]):
            jobs[f"admin {template}"] = ask("GET", roots[split[0]], split[1])
    if opts.prometheus:
        jobs["prometheus"] = ask("GET", opts.prometheus, "/api/v1/label/__name__/values")
    if opts.ollama:
        jobs["ollama"] = ask("GET", opts.ollama, "/api/tags")
    if opts.openai:
        key = os.environ.get("OPENAI_API_KEY")
        jobs["openai"] = ask("GET", opts.openai, "/models",
                             headers={"Authorization": f"Bearer {key}"} if key else None)
    first = await _gather(jobs)

    openapi = {safe_base(b): _openapi_routes(first[f"openapi {b}"]) for b in bases}
    if opts.nlu:
        openapi.setdefault(safe_base(opts.nlu), {})
    second: dict[str, Awaitable[Any]] = {}
    for base in bases:
        routes = openapi[safe_base(base)]
        for path in openapi_extra(routes, ("health", "status"), "GET", c.HEALTH_PATHS):
            second[f"health {base} {path}"] = ask("GET", base, path)
    back_routes = openapi[safe_base(backend)]
    for path in openapi_extra(back_routes, ("metric", "stats"), "GET", c.JSON_METRICS_PATHS):
        second[f"metrics {path}"] = ask("GET", backend, path, keep_text=True)
    extra = [(backend, p) for p in openapi_extra(back_routes, ("classify", "intent"), "POST",
                                                 c.NLU_PATHS)]
    for base, path in extra:
        second[f"nlu {base} {path}"] = ask("POST", base, path, body)
    nlu_targets += extra
    later = await _gather(second)
    later = {**first, **later}

    retry: dict[str, Awaitable[Any]] = {}
    for base, path in nlu_targets:
        answer = later[f"nlu {base} {path}"]
        fields = missing_fields(answer.body) if answer.code == 422 else []
        if fields:
            retry[f"nlu {base} {path}"] = ask("POST", base, path,
                                              {fields[0]: opts.sample_text})
    every = {**later, **await _gather(retry)}

    metrics = [v for k, v in every.items() if k.startswith("metrics ")]
    return {
        "openapi": {b: r for b, r in openapi.items() if r},
        "health": tuple(v for k, v in every.items() if k.startswith("health ")),
        "websockets": tuple(v for k, v in every.items() if k.startswith("ws ")),
        "prometheus": every.get("prometheus"),
        "json_metrics": tuple(m for m in metrics if m.is_json),
        "exposition": next((m for m in metrics if m.path in c.EXPOSITION_PATHS
                            and m.ok and not m.is_json), None),
        "nlu": tuple(every[f"nlu {b} {p}"] for b, p in nlu_targets),
        "admin": tuple(AdminRoute(t, m, books, every.get(f"admin {t}"))
                       for t, m, books in admin),
        "ollama": every.get("ollama"),
        "openai": every.get("openai"),
    }

