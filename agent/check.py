"""One probe phase: run every configured probe concurrently, each under its own timeout.

This is the I/O half of `alice-ops check` (and, later, of an agent cycle); the
judging is `rules.evaluate`. A probe that overruns its budget becomes UNKNOWN
with a reason; nothing a target does can stall the phase past the deadline.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Awaitable, Callable, Mapping

import httpx

from agent.config import Config
from vocab.model import ProbeResult, Status
from agent.probes import (backend, endpoint, gateway, host, json_metrics, ollama, openai,
                          prometheus)
from agent.probes.http import make_client
from vocab.redact import redact
from rules.evaluate import Report, evaluate, promql_key
from rules.thresholds import ThresholdRow, apply_overrides, default_rows

COMPONENT_ORDER = ("openai", "ollama", "gateway", "backend", "prometheus", "host")
GRACE_S = 1.0


def secrets_of(config: Config) -> list[str]:
    """Every secret value in the config, so output can be scrubbed of them: API keys,
    the agent token, notifier bearer tokens, webhook URLs' paths and queries (a Slack
    or Discord webhook's path is its secret), and remediation.secrets."""
    from urllib.parse import urlsplit

    t = config.targets
    found = [t.openai.api_key if t.openai else None,
             t.openai.admin_key if t.openai else None,
             t.prometheus.bearer_token if t.prometheus else None, config.agent.token]
    found += [hook.bearer_token for hook in config.notifiers.webhooks]
    found += list(config.remediation.secrets.values())
    values = [s.get_secret_value() for s in found if s is not None]
    for hook in config.notifiers.webhooks:
        parts = urlsplit(str(hook.url))
        values += [v for v in (parts.path.strip("/"), parts.query) if len(v) >= 8]
    return sorted(set(values), key=len, reverse=True)  # longest first: no partial masks


def threshold_rows(config: Config) -> tuple[ThresholdRow, ...]:
    """The default table, the config's overrides, and one latency row per extra endpoint.
    With `cost.rate_limits` and the openai deep probe off, the openai rate-limit rows read
    the app's own figure by PromQL (agent.cost.ratelimits.bind_openai_rows)."""
    rows = list(apply_overrides(default_rows(), config.thresholds))
    if config.cost is not None:
        from agent.cost.ratelimits import bind_openai_rows

        rows = list(bind_openai_rows(rows, config))
    for ep in config.targets.endpoints:
        if ep.latency_target_ms is not None or ep.latency_alert_ms is not None:
            target = ep.latency_target_ms or ep.latency_alert_ms
            alert = ep.latency_alert_ms or ep.latency_target_ms
            rows.append(ThresholdRow(component=ep.name, metric="latency_ms",
                                     title=f"{ep.name} latency", unit="ms", probe="latency_ms",
                                     direction="lower", target=target, alert=alert))
    return tuple(rows)


async def _guard(name: str, coro: Awaitable[ProbeResult], budget_s: float,
                 secrets: list[str]) -> ProbeResult:
    started = time.perf_counter()
    try:
        result = await asyncio.wait_for(coro, budget_s)
    except TimeoutError:
        return ProbeResult.failed(name, Status.UNKNOWN,
                                  f"probe did not finish within {budget_s:g} s",
                                  (time.perf_counter() - started) * 1000)
    except Exception as exc:  # a probe bug must not take the whole phase down
        return ProbeResult.failed(name, Status.UNKNOWN,
                                  redact(f"probe error: {exc.__class__.__name__}: {exc}", secrets))
    return result


def probe_jobs(config: Config, rows: tuple[ThresholdRow, ...],
               transport: httpx.AsyncBaseTransport | None = None,
               endpoint_client: endpoint.Client | None = None,
               latest: Callable[[str], ProbeResult | None] | None = None,
               xids: Callable[[], list[host.Xid]] | None = None
               ) -> dict[str, tuple[Callable[[], Awaitable[ProbeResult]], float]]:
    """name -> (coroutine factory, budget in seconds) for everything configured; the
    extra endpoints share `endpoint_client` (see `agent.probes.endpoint`).

    A long-lived agent also passes `latest` (the last result per component: the ollama
    deep generate steps aside while the app's own think-path metrics prove generation)
    and `xids` (its XidWatcher's poll); a one-shot check has neither."""
    t = config.targets
    jobs: dict[str, tuple[Callable[[], Awaitable[ProbeResult]], float]] = {}
    import_before_timing(config)

    def budget(ms: float) -> float:
        return min(ms / 1000 + GRACE_S, config.check.deadline_s)

    if t.openai:
        jobs["openai"] = (lambda: openai.probe(t.openai, transport), budget(
            t.openai.timeout_ms * (2 if t.openai.deep_probe else 1)))
    if t.ollama:
        ms = t.ollama.timeout_ms + (t.ollama.deep_timeout_ms if t.ollama.deep_probe else 0)
        jobs["ollama"] = (lambda: ollama.probe(
            t.ollama, transport,
            serving=latest is not None and ollama.generation_proven(latest("prometheus"))),
            budget(ms))
    if t.gateway:
        jobs["gateway"] = (lambda: gateway.probe(t.gateway, transport),
                           budget(t.gateway.timeout_ms))
    if t.backend:
        jobs["backend"] = (lambda: backend.probe(t.backend, transport),
                           budget(t.backend.timeout_ms))
    if t.prometheus:
        queries = [(promql_key(r.component, r.metric), r.promql) for r in rows
                   if r.promql is not None and _configured(config, r.component)]
        jobs["prometheus"] = (lambda: prometheus.probe(t.prometheus, queries),
                              budget(t.prometheus.timeout_ms))
    jobs["host"] = (lambda: host.probe(t.host, xids=xids), budget(5000))
    for ep in t.endpoints:
        jobs[ep.name] = ((lambda ep=ep: endpoint.probe(ep, endpoint_client)),
                         budget(ep.timeout_ms))
    _attach_json_sources(config, rows, jobs, budget, transport)
    return jobs


def sdks_needed(config: Config) -> list[str]:
    """The official client libraries this config's probes call: `openai` for the deep probe
    and the Realtime session, `ollama` for the deep generate. A plain check needs none."""
    t = config.targets
    names = []
    if t.openai and (t.openai.deep_probe or t.openai.realtime.enabled):
        names.append("openai")
    if t.ollama and t.ollama.deep_probe:
        names.append("ollama")
    return names


# What the probes import on first use (httpcore's connection pool and anyio backend on the
# first request, psutil and pynvml in the host probe's thread, websockets in the gateway's)
WIRE_MODULES = ("httpcore", "httpcore._backends.anyio", "anyio._backends._asyncio", "h11",
                "psutil", "pynvml", "concurrent.futures.thread")
# an SDK's own lazy imports: the client's resources load on first attribute access
SDK_MODULES = {"openai": ("openai", "openai.resources.models", "openai.resources.chat.chat",
                          "openai.resources.chat.completions.completions",
                          "openai.resources.chat.completions.messages", "openai.pagination",
                          "jiter"),
               "ollama": ("ollama",)}


def import_before_timing(config: Config) -> None:
    """Import now, while nothing is timed, what the probes would import on first use: the
    SDKs this config needs (`sdks_needed`) and the wire modules. A cold import inside the
    probe phase (~0.7 s of CPU for `openai`, ~60 ms for the rest), above all on a worker
    thread beside the event loop, holds the GIL and inflates every latency measured
    meanwhile: the first check would report other latencies than the next."""
    names = [m for sdk in sdks_needed(config) for m in SDK_MODULES[sdk]]
    if config.targets.gateway is not None:
        names.append("websockets.asyncio.client")
    import_wire_modules(names)


def import_wire_modules(extra: list[str] | tuple[str, ...] = ("websockets.asyncio.client",)
                        ) -> None:
    """Import WIRE_MODULES and `extra` (what is not imported yet) and load the TLS context
    (cached). Idempotent; alice-tui's preload thread calls it ahead of the agent."""
    import importlib

    from agent.probes.http import tls_context
    from agent.probes.lazy import settle

    settle()  # check_cmd may be loading the TLS context on another core
    for name in (*WIRE_MODULES, *extra):
        if name in sys.modules:
            continue
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # the probe that needs it reports the failure
    tls_context()  # loads the CA bundle once (cached)


async def _first_pass() -> None:
    """One request through the probes' client stack on an in-memory transport, before any
    timer: the first pass through httpx's code (its caches, the interpreter specialising
    it) costs a few ms on a busy machine, which would land in the first probes' latencies
    (a cold check reporting ~10 ms more than a warm one)."""
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": []})

    async with make_client(1000, httpx.MockTransport(answer)) as client:
        await client.get("http://first-pass.invalid/", headers={"Authorization": "-"})


def _attach_json_sources(config: Config, rows: tuple[ThresholdRow, ...], jobs: dict,
                         budget: Callable[[float], float],
                         transport: httpx.AsyncBaseTransport | None) -> None:
    """Fold each `targets.json_metrics` source into its component's job (a component
    with no probe of its own gets a job reading only its sources)."""
    by_component: dict[str, list] = {}
    for source in config.targets.json_metrics:
        by_component.setdefault(source.component, []).append(source)
    for component, sources in by_component.items():
        names = {s.name for s in sources}
        paths: dict[str, list[str]] = {}
        for row in rows:
            bound = row.json_source
            if bound is not None and row.component == component and bound[0] in names:
                paths.setdefault(bound[0], []).append(bound[1])
        own, own_budget = jobs.get(component, (None, 0.0))
        slowest = budget(max(s.timeout_ms for s in sources))
        jobs[component] = (json_metrics.attach(component, own, sources, paths, transport),
                           max(own_budget, slowest))


def _configured(config: Config, component: str) -> bool:
    return component == "host" or getattr(config.targets, component, None) is not None


async def run_probes(config: Config, rows: tuple[ThresholdRow, ...],
                     transport: httpx.AsyncBaseTransport | None = None
                     ) -> Mapping[str, ProbeResult]:
    """Run every configured probe at once; return results by component name."""
    secrets = secrets_of(config)
    # an injected transport (tests, fault injection) is an httpx one; else aiohttp's pool
    shared = (make_client(10_000, transport, limits=httpx.Limits(max_connections=200))
              if transport is not None else endpoint.EndpointClient(200))
    async with shared:
        jobs = probe_jobs(config, rows, transport, shared)
        await _first_pass()
        results = await asyncio.gather(*(_guard(name, factory(), budget, secrets)
                                         for name, (factory, budget) in jobs.items()))
    return {r.component: _scrub(r, secrets) for r in results}


def _scrub(result: ProbeResult, secrets: list[str]) -> ProbeResult:
    if not secrets:
        return result
    from dataclasses import replace
    return replace(result, summary=redact(result.summary, secrets))


async def check(config: Config, transport: httpx.AsyncBaseTransport | None = None) -> Report:
    rows = threshold_rows(config)
    results = await run_probes(config, rows, transport)
    return evaluate(results, rows, time.time(), COMPONENT_ORDER)
