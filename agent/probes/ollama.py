"""Probe of the local think path: the cheap calls on the shared httpx client, the deep generate
through the official `ollama` client (imported only then, before its timer starts).

Version, the required model present in `/api/tags` (CRITICAL if not), and per `/api/ps` where
it runs: its share in VRAM, its context length, and whether it is expiring or stuck unloading.
The deep probe then generates a few tokens for tokens/s with the loaded runner's `num_ctx`,
since any other value makes Ollama reload the model (`server/sched.go` needsReload); a load on
a model ps listed as loaded is reported as a reload, and a 503 "server busy" (the queue is
full) as saturated, not down. Where Ollama runs on this machine, ps is checked against NVML:
a runner that holds no GPU memory is on the CPU whatever ps claims.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable
from urllib.parse import urlsplit

import httpx

from agent.config import OllamaTarget
from vocab.model import ProbeResult, Reading, Status
from agent.probes.host import GpuProcess, NoGpu, read_gpu_processes
from agent.probes.http import (BodyTooLarge, CappedTransport, ProbeFailure, decode_json,
                               describe_error, make_client)
from agent.probes.lazy import load

COMPONENT = "ollama"
NS_PER_MS = 1_000_000
MIB = 1024 * 1024
ON_GPU_FRACTION = 0.10  # a runner holding less than this share of ps's size_vram is on CPU
LOOPBACK = ("localhost", "127.0.0.1", "::1", "0.0.0.0")


@dataclass(frozen=True)
class GpuView:
    """What this machine shows: NVML's GPU processes, and whether any Ollama process is
    visible here at all (none: Ollama runs in another container or is not Ollama)."""

    processes: list[GpuProcess]
    ollama_seen: bool


GpuReader = Callable[[], GpuView]


def read_gpu_view(runner_names: tuple[str, ...]) -> GpuView:
    """NVML's compute processes and psutil's answer to "is an Ollama process here?"."""
    import psutil

    processes = read_gpu_processes()
    seen = any(p.info.get("name") in runner_names for p in psutil.process_iter(["name"]))
    return GpuView(processes, seen)


# The guide's think-path latency row as the prometheus probe reports it (rules.evaluate
# promql_key): a known p95 means the app's own generations completed in its 5-minute window.
SERVING_READING = "promql:ollama/local_ai_processing_time_p95"


def generation_proven(prometheus: ProbeResult | None, reading: str = SERVING_READING) -> bool:
    """Whether the app's own think-path metrics (the latest prometheus probe result) show
    generation working, so the deep generate can step aside (`probe(serving=...)`)."""
    if prometheus is None:
        return False
    found = prometheus.readings.get(reading)
    return found is not None and found.known and (found.value or 0.0) > 0


def _reason(exc: BaseException, timeout_ms: float) -> str:
    ollama = sys.modules.get("ollama")  # an SDK error means the SDK is loaded: never import

    if isinstance(exc, ProbeFailure):
        return str(exc)
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout_ms:g} ms"
    if ollama is not None and isinstance(exc, ollama.ResponseError):
        return f"HTTP {exc.status_code}: {' '.join(str(exc.error).split())[:120]}"
    if isinstance(exc, ConnectionError):
        return "connection refused"
    if isinstance(exc, (httpx.HTTPError, BodyTooLarge)):
        return describe_error(exc, timeout_ms)
    if isinstance(exc, ValueError):  # pydantic ValidationError and JSON decode errors
        return "answer is not the Ollama API (unexpected or non-JSON body)"
    return f"unreadable answer ({exc.__class__.__name__})"


def _busy(exc: BaseException) -> bool:
    """Ollama's ErrMaxQueue: 503 "server busy ... maximum pending requests exceeded"."""
    ollama = sys.modules.get("ollama")

    return (ollama is not None and isinstance(exc, ollama.ResponseError)
            and exc.status_code == 503
            and "busy" in str(exc.error).lower())


def _matches(name: str, wanted: str) -> bool:
    return name == wanted or (":" not in wanted and name == f"{wanted}:latest")


def is_local(url: str) -> bool:
    return (urlsplit(url).hostname or "") in LOOPBACK


async def _version(client: httpx.AsyncClient, url: str) -> str:
    response = await client.get(f"{url}/api/version")
    if response.status_code != 200:
        raise ProbeFailure(f"/api/version answered HTTP {response.status_code}")
    data = decode_json(response)
    if not isinstance(data, dict) or "version" not in data:
        raise ProbeFailure("/api/version has no version field: not an Ollama server?")
    return str(data["version"])


NOT_OLLAMA = "answer is not the Ollama API (unexpected or non-JSON body)"
_FRACTION = re.compile(r"(\.\d{6})\d+")  # Go writes nanoseconds; fromisoformat takes 6 digits


@dataclass(frozen=True)
class Listed:
    """One entry of `/api/tags` or `/api/ps`, read as the SDK's models would read it."""

    model: str | None = None
    name: str | None = None
    size: int | None = None
    size_vram: int | None = None
    context_length: int | None = None
    expires_at: datetime | None = None


def _field(entry: dict[str, Any], key: str, kind: type) -> Any:
    value = entry.get(key)
    if value is None or (isinstance(value, kind) and not isinstance(value, bool)):
        return value
    raise ProbeFailure(NOT_OLLAMA)


def _moment(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(_FRACTION.sub(r"\1", str(value)))
    except ValueError:
        raise ProbeFailure(NOT_OLLAMA) from None


def read_models(body: Any) -> list[Listed]:
    """The `models` list of a `/api/tags` or `/api/ps` answer; ProbeFailure when the body is
    not one (the SDK's validation error, in the probe's words)."""
    models = body.get("models") if isinstance(body, dict) else None
    if not isinstance(models, list) or not all(isinstance(m, dict) for m in models):
        raise ProbeFailure(NOT_OLLAMA)
    return [Listed(model=_field(m, "model", str), name=_field(m, "name", str),
                   size=_field(m, "size", int), size_vram=_field(m, "size_vram", int),
                   context_length=_field(m, "context_length", int),
                   expires_at=_moment(m.get("expires_at"))) for m in models]


def _error_words(response: httpx.Response) -> str:
    """`HTTP 503: <the server's error>`, as the SDK's ResponseError reads an error answer."""
    text = response.text
    try:
        parsed = json.loads(text)
        error = parsed.get("error", text) if isinstance(parsed, dict) else text
    except ValueError:
        error = text
    return f"HTTP {response.status_code}: {' '.join(str(error).split())[:120]}"


async def _models(client: httpx.AsyncClient, url: str, path: str) -> list[Listed]:
    response = await client.get(f"{url}{path}")
    if not response.is_success:
        raise ProbeFailure(_error_words(response))
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        raise ProbeFailure(NOT_OLLAMA) from None
    return read_models(body)


@dataclass
class Verdict:
    """What the probe has found so far: the worst status and the words for it."""

    status: Status = Status.OK
    notes: list[str] = field(default_factory=list)
    readings: dict[str, Reading] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)

    def add(self, status: Status, note: str) -> None:
        self.status = max(self.status, status)
        self.notes.append(note)


def _residency(running: Any, target: OllamaTarget, now: float, verdict: Verdict) -> None:
    """Judge the `/api/ps` entry of the required model: VRAM share, context, expiry."""
    size, vram = running.size or 0, running.size_vram or 0
    share = 100.0 * vram / size if size else 0.0
    verdict.readings["vram_share_percent"] = Reading(share, "percent")
    verdict.facts.update(size_bytes=size, vram_bytes=vram, context_length=running.context_length)
    where = "fully in VRAM" if share >= 99.9 else f"{share:.0f}% in VRAM, rest on CPU"
    ctx = f", num_ctx {running.context_length}" if running.context_length else ""
    verdict.notes[-1] += f" loaded ({where}{ctx})"
    expires = running.expires_at
    if isinstance(expires, datetime):
        verdict.facts["expires_at"] = expires.timestamp()
        past = now - expires.timestamp()
        verdict.facts["expired"] = past > 0
        if past > target.unload_grace_s:
            verdict.add(Status.WARNING, f"stuck unloading: expires_at passed {past:.0f} s ago "
                        "and the model is still listed")
        elif past > 0:
            verdict.notes.append(f"unloading (keep_alive expired {past:.0f} s ago)")


def _cross_check(view: GpuView, target: OllamaTarget, verdict: Verdict) -> None:
    """Compare ps's size_vram with the GPU memory NVML sees Ollama's runners hold."""
    processes = view.processes
    named = [p for p in processes if p.name]
    if processes and not named:
        verdict.notes.append("NVML cross-check skipped: GPU processes not visible from here")
        return
    runners = [p for p in named if p.name in target.runner_names]
    if not runners and not view.ollama_seen:
        verdict.notes.append("NVML cross-check skipped: no Ollama process visible on this "
                             "machine")
        return
    if any(p.used_bytes is None for p in runners):
        verdict.notes.append("NVML cross-check skipped: the driver reports no per-process "
                             "memory")
        return
    held = sum(p.used_bytes or 0 for p in runners)
    vram, size = verdict.facts.get("vram_bytes", 0), verdict.facts.get("size_bytes", 0)
    verdict.facts["runner_gpu_bytes"] = held
    if vram > 0 and held < ON_GPU_FRACTION * vram:
        if size:
            verdict.readings["vram_share_percent"] = Reading(100.0 * held / size, "percent")
        seen = (f"Ollama runners hold {held / MIB:.0f} MiB" if runners
                else "no Ollama runner among the GPU's processes")
        verdict.add(Status.WARNING, f"ps claims GPU ({vram / MIB:.0f} MiB in VRAM), runner is "
                    f"on CPU (NVML: {seen})")


async def _gpu_view(target: OllamaTarget, reader: GpuReader | None) -> GpuView | str | None:
    """NVML's process list when the cross-check applies here; None when it does not (off,
    remote Ollama, no GPU); a note when NVML failed."""
    if target.gpu_check == "off" or (reader is None and not is_local(target.url)):
        return None
    try:
        if reader is None:
            return await asyncio.to_thread(read_gpu_view, target.runner_names)
        return await asyncio.to_thread(reader)
    except NoGpu:
        return None
    except Exception as exc:  # noqa: BLE001 - a driver error must not hide the Ollama verdict
        return f"NVML cross-check skipped: {str(exc) or exc.__class__.__name__}"


def _judge_generation(generated: Any, loaded_before: bool, target: OllamaTarget,
                      verdict: Verdict) -> bool:
    """Read the deep generate's answer into the verdict; False when it generated nothing."""
    if not generated.done or (generated.eval_count or 0) < 1:
        return False
    eval_ns = generated.eval_duration or 0
    if eval_ns > 0:
        speed = (generated.eval_count or 0) / (eval_ns / 1e9)
        verdict.readings["tokens_per_s"] = Reading(speed, "tokens_per_s")
        base = target.baseline_tokens_per_s
        if base is not None and speed < base / 2:
            verdict.add(Status.WARNING, f"generation at {speed:.1f} tokens/s, under half the "
                        f"baseline {base:g} (model partly on CPU?)")
    load_ms = (generated.load_duration or 0) / NS_PER_MS
    verdict.readings["load_duration_ms"] = Reading(load_ms, "ms")
    verdict.facts["load_duration_s"] = load_ms / 1000
    verdict.notes.append(f"generate ok ({(generated.total_duration or 0) / NS_PER_MS:.0f} ms)")
    if loaded_before and load_ms > target.reload_ms:
        verdict.facts["reloaded"] = True
        if verdict.facts.get("expired"):  # it was on its way out: a load, not a mismatch
            verdict.notes.append(f"loaded again ({load_ms:.0f} ms) after unloading")
        else:
            verdict.add(Status.WARNING, f"model reloaded by the probe/options mismatch (load "
                        f"{load_ms:.0f} ms although /api/ps listed it loaded)")
    elif not loaded_before:
        verdict.facts["loaded_by_probe"] = True
    return True


async def probe(target: OllamaTarget, transport: httpx.AsyncBaseTransport | None = None, *,
                serving: bool = False, gpu_processes: GpuReader | None = None,
                now: Callable[[], float] = time.time) -> ProbeResult:
    """Probe Ollama. `serving`: the app's own think-path traffic shows generation works this
    cycle, so the deep generate is skipped (with `skip_deep_when_serving`). `gpu_processes`
    replaces NVML (tests); by default NVML is read only for a loopback Ollama URL."""
    deep = target.deep_probe and not (serving and target.skip_deep_when_serving)
    client: Any = None
    if deep:  # the SDK only for the generate, imported before the timer starts
        ollama = await load("ollama")
        client = ollama.AsyncClient(host=target.url, timeout=target.deep_timeout_ms / 1000,
                                    transport=CappedTransport(transport))
    key = os.environ.get("OLLAMA_API_KEY")  # the SDK sends it too (an authenticating proxy)
    http = make_client(target.timeout_ms, transport,
                       headers={"Authorization": f"Bearer {key}"} if key else None)
    started = time.perf_counter()
    try:
        return await _probe(client, http, target, serving, gpu_processes, now, started)
    except Exception as exc:  # every failure becomes data at this edge
        return ProbeResult.failed(COMPONENT, Status.CRITICAL, _reason(exc, target.timeout_ms),
                                  (time.perf_counter() - started) * 1000)
    finally:
        if client is not None:
            await client.close()
        await http.aclose()


async def _probe(client: Any, http: httpx.AsyncClient, target: OllamaTarget,
                 serving: bool, gpu_reader: GpuReader | None, now: Callable[[], float],
                 started: float) -> ProbeResult:
    cheap = asyncio.gather(_version(http, target.url), _models(http, target.url, "/api/tags"),
                           _models(http, target.url, "/api/ps"))
    basics, processes = await asyncio.gather(
        asyncio.wait_for(cheap, target.timeout_ms / 1000), _gpu_view(target, gpu_reader),
        return_exceptions=True)
    latency = (time.perf_counter() - started) * 1000
    if isinstance(basics, BaseException):
        return ProbeResult.failed(COMPONENT, Status.CRITICAL,
                                  _reason(basics, target.timeout_ms), latency)
    version, tags, ps = basics
    names = [m.model or "" for m in tags]
    models = [_ps_fact(m) for m in ps]
    details: dict[str, Any] = {"version": version, "models": models}
    if not any(_matches(n, target.model) for n in names):
        have = ", ".join(names[:5]) or "none"
        return ProbeResult(COMPONENT, Status.CRITICAL,
                           f"model {target.model} not available (have: {have})",
                           latency_ms=latency, details=details)
    verdict = Verdict(notes=[f"v{version}, {target.model}"])
    running = next((m for m in ps if _matches(m.model or "", target.model)), None)
    details["model"] = (running.model if running is not None else None) or target.model
    if running is not None:
        _residency(running, target, now(), verdict)
        if isinstance(processes, GpuView):
            _cross_check(processes, target, verdict)
        elif isinstance(processes, str):
            verdict.notes.append(processes)
    else:
        verdict.notes[-1] += " present, not loaded (cold start on next use)"
    verdict.facts["loaded"] = running is not None
    if not target.deep_probe:
        verdict.notes.append("generation not tested (deep_probe off)")
    elif serving and target.skip_deep_when_serving:
        verdict.notes.append("generation proven by live traffic (deep probe skipped)")
    else:
        failed = await _deep(client, target, running, verdict)
        if failed is not None:
            return ProbeResult(COMPONENT, Status.CRITICAL, failed, latency_ms=latency,
                               readings=verdict.readings,
                               details={**details, "required": verdict.facts})
    return ProbeResult(COMPONENT, verdict.status, ", ".join(verdict.notes), latency_ms=latency,
                       readings=verdict.readings,
                       details={**details, "required": verdict.facts})


async def _deep(client: Any, target: OllamaTarget, running: Any, verdict: Verdict
                ) -> str | None:
    """Generate with the runner's own num_ctx; the reason when generation is broken."""
    options: dict[str, Any] = {"num_predict": target.deep_num_predict}
    if running is not None and running.context_length:
        options["num_ctx"] = running.context_length
    try:
        generated = await client.generate(model=target.model, prompt="ping", stream=False,
                                          options=options)
    except Exception as exc:  # noqa: BLE001 - judged below, never raised
        if _busy(exc):
            verdict.facts["saturated"] = True
            verdict.add(Status.WARNING, "saturated: server busy, the request queue is full "
                        "(OLLAMA_MAX_QUEUE), generation not tested")
            return None
        return "server answers but cannot generate: " + _reason(exc, target.deep_timeout_ms)
    if not _judge_generation(generated, running is not None, target, verdict):
        return f"server answers but generated nothing ({', '.join(verdict.notes)})"
    return None


def _ps_fact(model: Any) -> dict[str, Any]:
    """One `/api/ps` entry as plain data for the snapshot and the exporter."""
    expires = model.expires_at
    return {"name": model.model or model.name or "", "size_bytes": model.size or 0,
            "vram_bytes": model.size_vram or 0, "context_length": model.context_length,
            "expires_at": expires.timestamp() if isinstance(expires, datetime) else None}
