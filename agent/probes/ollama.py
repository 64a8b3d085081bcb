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
from agent.probes.lazy import load
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
    ollama = await load("ollama")

    http = make_client(target.timeout_ms, transport)
    # The client's own timeout covers the deep generate (a cold load is slow);
    # the cheap calls get the short one through wait_for.
    deep_s = target.deep_timeout_ms / 1000 if target.deep_probe else target.timeout_ms / 1000
    client = ollama.AsyncClient(host=target.url, timeout=deep_s,
                                transport=CappedTransport(transport))
    started = time.perf_counter()

    async def cheap():
        return await asyncio.wait_for(
            asyncio.gather(_version(http, target.url), client.list(), client.ps()),
            target.timeout_ms / 1000)

    async def deep():
        if not target.deep_probe:
            return None
        return await client.generate(model=target.model, prompt="ping", stream=False,
                                      options={"num_predict": 1})

    # Everything at once: one round trip of wall time, not four (a slow link must
    # not make the probe phase the sum of its calls).
    try:
        basics, generated = await asyncio.gather(cheap(), deep(), return_exceptions=True)
        latency = (time.perf_counter() - started) * 1000
        if isinstance(basics, BaseException):
            return ProbeResult.failed(COMPONENT, Status.CRITICAL,
                                      _reason(basics, target.timeout_ms), latency)
        version, tags, loaded = basics
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
        if generated is None:
            summary += ", generation not tested (deep_probe off)"
        elif isinstance(generated, BaseException):
            return ProbeResult(COMPONENT, Status.CRITICAL, "server answers but cannot generate: "
                               + _reason(generated, target.deep_timeout_ms),
                               latency_ms=latency, readings=readings)
        elif not generated.done or (generated.eval_count or 0) < 1:
            return ProbeResult(COMPONENT, Status.CRITICAL,
                               f"server answers but generated nothing ({summary})",
                               latency_ms=latency, readings=readings)
        else:
            eval_ns = generated.eval_duration or 0
            if eval_ns > 0:
                readings["tokens_per_s"] = Reading(
                    (generated.eval_count or 0) / (eval_ns / 1e9), "tokens_per_s")
            readings["load_duration_ms"] = Reading((generated.load_duration or 0) / NS_PER_MS,
                                                   "ms")
            summary += f", generate ok ({(generated.total_duration or 0) / NS_PER_MS:.0f} ms)"
        return ProbeResult(COMPONENT, Status.OK, summary, latency_ms=latency, readings=readings,
                           details={"version": version})
    except Exception as exc:  # every failure becomes data at this edge
        return ProbeResult.failed(COMPONENT, Status.CRITICAL, _reason(exc, target.timeout_ms),
                                  (time.perf_counter() - started) * 1000)
    finally:
        await client.close()
        await http.aclose()
