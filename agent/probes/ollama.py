"""Probe of the local think path through the official `ollama` client.

Version, the required model present in `/api/tags` (CRITICAL if not), loaded per
`/api/ps` with its share in VRAM (a model partly on CPU is flagged), and a deep
`generate` of one token for tokens/s and cold-start time — so a server that is
alive but cannot generate never reads as healthy.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from agent.config import OllamaTarget
from agent.model import ProbeResult, Reading, Status
from agent.probes.http import (BodyTooLarge, CappedTransport, ProbeFailure, decode_json,
                               describe_error, make_client)

COMPONENT = "ollama"
NS_PER_MS = 1_000_000


def _reason(exc: BaseException, timeout_ms: float) -> str:
    import ollama

    if isinstance(exc, ProbeFailure):
        return str(exc)
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout_ms:g} ms"
    if isinstance(exc, ollama.ResponseError):
        return f"HTTP {exc.status_code}: {str(exc.error)[:120]}"
    if isinstance(exc, ConnectionError):
        return "connection refused"
    if isinstance(exc, (httpx.HTTPError, BodyTooLarge)):
        return describe_error(exc, timeout_ms)
    if isinstance(exc, ValueError):  # pydantic ValidationError and JSON decode errors
        return "answer is not the Ollama API (unexpected or non-JSON body)"
    return f"unreadable answer ({exc.__class__.__name__})"


def _matches(name: str, wanted: str) -> bool:
    return name == wanted or (":" not in wanted and name == f"{wanted}:latest")


async def _version(client: httpx.AsyncClient, url: str) -> str:
    response = await client.get(f"{url}/api/version")
    if response.status_code != 200:
        raise ProbeFailure(f"/api/version answered HTTP {response.status_code}")
    data = decode_json(response)
    if not isinstance(data, dict) or "version" not in data:
        raise ProbeFailure("/api/version has no version field: not an Ollama server?")
    return str(data["version"])


async def probe(target: OllamaTarget, transport: httpx.AsyncBaseTransport | None = None
                ) -> ProbeResult:
    import ollama

    http = make_client(target.timeout_ms, transport)
    # The client's own timeout covers the deep generate (a cold load is slow);
    # the cheap calls get the short one through wait_for.
    deep_s = target.deep_timeout_ms / 1000 if target.deep_probe else target.timeout_ms / 1000
    client = ollama.AsyncClient(host=target.url, timeout=deep_s,
                                transport=CappedTransport(transport))
    started = time.perf_counter()
    stage = "version"
    try:
        version = await _version(http, target.url)
        stage = "tags"
        tags, loaded = await asyncio.wait_for(asyncio.gather(client.list(), client.ps()),
                                              target.timeout_ms / 1000)
        latency = (time.perf_counter() - started) * 1000
        names = [m.model or "" for m in tags.models]
        if not any(_matches(n, target.model) for n in names):
            have = ", ".join(names[:5]) or "none"
            return ProbeResult(COMPONENT, Status.CRITICAL,
                               f"model {target.model} not available (have: {have})",
                               latency_ms=latency, details={"version": version})
        readings: dict[str, Reading] = {}
        running = [m for m in loaded.models if _matches(m.model or "", target.model)]
        if running:
            size, vram = running[0].size or 0, running[0].size_vram or 0
            share = 100.0 * vram / size if size else 0.0
            readings["vram_share_percent"] = Reading(share, "percent")
            where = "fully in VRAM" if share >= 99.9 else f"{share:.0f}% in VRAM, rest on CPU"
            summary = f"v{version}, {target.model} loaded ({where})"
        else:
            summary = f"v{version}, {target.model} present, not loaded (cold start on next use)"
        status = Status.OK
        if target.deep_probe:
            stage = "generate"
            result = await client.generate(model=target.model, prompt="ping", stream=False,
                                           options={"num_predict": 1})
            eval_ns = result.eval_duration or 0
            if not result.done or (result.eval_count or 0) < 1:
                return ProbeResult(COMPONENT, Status.CRITICAL,
                                   f"server answers but generated nothing ({summary})",
                                   latency_ms=latency, readings=readings)
            if eval_ns > 0:
                readings["tokens_per_s"] = Reading(
                    (result.eval_count or 0) / (eval_ns / 1e9), "tokens_per_s")
            load_ms = (result.load_duration or 0) / NS_PER_MS
            readings["load_duration_ms"] = Reading(load_ms, "ms")
            summary += f", generate ok ({(result.total_duration or 0) / NS_PER_MS:.0f} ms)"
        else:
            summary += ", generation not tested (deep_probe off)"
        return ProbeResult(COMPONENT, status, summary, latency_ms=latency, readings=readings,
                           details={"version": version})
    except Exception as exc:  # every failure becomes data at this edge
        latency = (time.perf_counter() - started) * 1000
        reason = _reason(exc, target.timeout_ms)
        if stage == "generate":
            reason = f"server answers but cannot generate: {reason}"
        return ProbeResult.failed(COMPONENT, Status.CRITICAL, reason, latency)
    finally:
        await client.close()
        await http.aclose()
