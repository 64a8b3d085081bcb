"""Probe of the cloud fast path through the official `openai` client.

`models.list()` is free and proves network, TLS and the key; the deep probe (a tiny chat
completion with `max_completion_tokens`) is off by default because every call costs money.
Every 4xx/5xx keeps the server's own error code and message (redacted, one line); a 429
`insufficient_quota` is billing (CRITICAL), any other 429 a rate limit (WARNING). The
`x-ratelimit-*` figures come from the completion's answer, where real servers send them.
"""

from __future__ import annotations

import asyncio
import fnmatch
import re
import time
from typing import Any, Mapping

import httpx

from agent.config import OpenAITarget
from agent.model import ProbeResult, Reading, Status
from agent.probes.http import describe_error, make_client
from agent.probes.lazy import load
from agent.probes.openai_realtime import RealtimeVerdict, one_line, probe_realtime
from agent.redact import redact

COMPONENT = "openai"
RATE_HEADERS = ("x-ratelimit-limit-requests", "x-ratelimit-remaining-requests",
                "x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens",
                "x-ratelimit-reset-requests", "x-ratelimit-reset-tokens")
PLAIN_MAX_TOKENS, REASONING_MAX_TOKENS = 1, 16
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def reasoning_effort(target: OpenAITarget) -> str | None:
    """The effort to send when `target.model` matches a configured reasoning-model pattern."""
    for pattern, effort in target.reasoning_models.items():
        if fnmatch.fnmatchcase(target.model, pattern):
            return effort
    return None


def reset_seconds(text: str) -> float | None:
    """OpenAI's reset durations (`1s`, `6m0s`, `20ms`, `1h2m3.5s`) in seconds."""
    parts = _DURATION.findall(text.strip())
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        return None
    return sum(float(n) * _UNIT_S[u] for n, u in parts)


def rate_limits(headers: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, Reading]]:
    """The raw `x-ratelimit-*` headers (details) and the share left of each limit (readings)."""
    raw = {h: headers[h] for h in RATE_HEADERS if h in headers}
    readings: dict[str, Reading] = {}
    for kind in ("requests", "tokens"):
        try:
            limit = float(raw[f"x-ratelimit-limit-{kind}"])
            left = float(raw[f"x-ratelimit-remaining-{kind}"])
        except (KeyError, ValueError):
            continue
        if limit > 0:
            readings[f"ratelimit_{kind}_left_percent"] = Reading(
                max(0.0, min(100.0, 100.0 * left / limit)), "percent")
    resets = {kind: reset_seconds(raw[f"x-ratelimit-reset-{kind}"])
              for kind in ("requests", "tokens") if f"x-ratelimit-reset-{kind}" in raw}
    return {"headers": raw, "reset_s": resets}, readings


def server_says(exc: Any) -> str:
    """The error's own code (or type) and message, one line: `invalid_api_key: Incorrect ...`."""
    body = getattr(exc, "body", None)
    code = getattr(exc, "code", None)
    kind = getattr(exc, "type", None)
    message = body.get("message") if isinstance(body, dict) else None
    if message is None and isinstance(body, str):
        message = body
    if message:  # the first line: LiteLLM appends its routing story after a blank line
        message = next((line for line in str(message).splitlines() if line.strip()), "")
    ident = code if code and not str(code).isdigit() else kind
    parts = [str(p) for p in (ident, message) if p]
    return one_line(": ".join(parts)) if parts else ""


def classify(exc: BaseException, target: OpenAITarget) -> tuple[Status, str]:
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return Status.CRITICAL, f"no answer within {target.timeout_ms} ms"
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc
        return Status.CRITICAL, f"network error: {describe_error(cause, target.timeout_ms)}"
    if isinstance(exc, openai.APIStatusError):
        code, said = exc.status_code, server_says(exc)
        tail = f": {said}" if said else ""
        if isinstance(exc, openai.RateLimitError):
            if "insufficient_quota" in (exc.code or "", exc.type or ""):
                return Status.CRITICAL, f"billing: insufficient_quota (HTTP 429{tail})"
            return Status.WARNING, f"rate limited (HTTP 429){tail}"
        if isinstance(exc, openai.AuthenticationError):
            return Status.CRITICAL, f"authentication failed (HTTP 401){tail}"
        if isinstance(exc, openai.PermissionDeniedError):
            return Status.CRITICAL, f"permission denied (HTTP 403){tail}"
        kind = "server error" if code >= 500 else "request rejected"
        return Status.CRITICAL, f"{kind} (HTTP {code}){tail}"
    if isinstance(exc, openai.APIResponseValidationError):
        return Status.CRITICAL, "answer is not a valid models list"
    return Status.CRITICAL, f"unreadable answer ({exc.__class__.__name__})"


async def _deep(client: Any, target: OpenAITarget) -> tuple[Any, float]:
    """One tiny completion; returns (raw response, latency ms). Reasoning models get
    `reasoning_effort` and room for their reasoning tokens; no model gets `max_tokens`."""
    effort = reasoning_effort(target)
    extra: dict[str, Any] = {"max_completion_tokens": PLAIN_MAX_TOKENS}
    if effort is not None:
        extra = {"max_completion_tokens": REASONING_MAX_TOKENS, "reasoning_effort": effort}
    started = time.perf_counter()
    raw = await client.chat.completions.with_raw_response.create(
        model=target.model, messages=[{"role": "user", "content": "ping"}], **extra)
    raw.parse()
    return raw, (time.perf_counter() - started) * 1000


async def _models(client: Any, target: OpenAITarget, started: float
                  ) -> tuple[ProbeResult | None, Status, str, dict[str, Reading]]:
    """models.list: (a final failure, or None with the status, summary and readings)."""
    raw = await client.models.with_raw_response.list()
    latency = (time.perf_counter() - started) * 1000
    try:
        page = raw.parse()
    except (AttributeError, TypeError, ValueError):  # non-JSON text fails in the pager
        page = None
    data = getattr(page, "data", None)
    if not isinstance(data, list):
        ctype = raw.headers.get("content-type", "no content-type").split(";")[0]
        return ProbeResult.failed(
            COMPONENT, Status.CRITICAL,
            f"answer is not a models list (HTTP {raw.status_code}, {ctype})", latency), \
            Status.CRITICAL, "", {}
    models = [m.id for m in data]
    summary, status = f"API reachable, {len(models)} models", Status.OK
    if target.model and models and target.model not in models:
        status = Status.WARNING
        summary += f"; model {target.model} not offered"
    return None, status, summary, {"api_latency_ms": Reading(latency, "ms")}


async def probe(target: OpenAITarget, transport: httpx.AsyncBaseTransport | None = None
                ) -> ProbeResult:
    openai = await load("openai")

    key = target.api_key.get_secret_value()
    http_client = make_client(target.timeout_ms, transport)
    client = openai.AsyncOpenAI(base_url=target.base_url, api_key=key, max_retries=0,
                                timeout=target.timeout_ms / 1000, http_client=http_client)
    realtime = (asyncio.ensure_future(probe_realtime(target)) if target.realtime.enabled
                else None)
    try:
        return await _probe(client, target, realtime, key)
    finally:  # a probe cancelled at its budget must not leave the session task behind
        if realtime is not None and not realtime.done():
            realtime.cancel()


async def _probe(client: Any, target: OpenAITarget, realtime: asyncio.Future | None,
                 key: str) -> ProbeResult:
    started = time.perf_counter()
    try:
        async with client:
            failed, status, summary, readings = await _models(client, target, started)
            if failed is not None:
                return await _with_realtime(failed, realtime, key)
            details: dict[str, Any] = {}
            if target.deep_probe:
                status, summary = await _deep_part(client, target, status, summary, readings,
                                                   details)
    except Exception as exc:  # every failure becomes data at this edge
        latency = (time.perf_counter() - started) * 1000
        status, reason = classify(exc, target)
        failed = ProbeResult.failed(COMPONENT, status, redact(reason, [key]), latency)
        return await _with_realtime(failed, realtime, key)
    latency = readings["api_latency_ms"].value
    result = ProbeResult(COMPONENT, status, redact(summary, [key]), latency_ms=latency,
                         readings=readings, details=details)
    return await _with_realtime(result, realtime, key)


async def _deep_part(client: Any, target: OpenAITarget, status: Status, summary: str,
                     readings: dict[str, Reading], details: dict[str, Any]
                     ) -> tuple[Status, str]:
    """Run the deep completion; its failure adds to the models.list verdict, never hides it."""
    try:
        raw, deep_ms = await _deep(client, target)
    except Exception as exc:  # the completion's failure is data, next to the list's verdict
        deep_status, reason = classify(exc, target)
        response = getattr(exc, "response", None)
        if response is not None:  # kept for the record; the 429 itself is the verdict, so
            details["rate_limits"], _ = rate_limits(response.headers)  # no 0 % row escalates
        return max(status, deep_status), f"{summary}; completion failed: {reason}"
    readings["completion_latency_ms"] = Reading(deep_ms, "ms")
    details["rate_limits"], more = rate_limits(raw.headers)
    readings.update(more)
    summary += ", completion ok"
    left = details["rate_limits"]["headers"].get("x-ratelimit-remaining-requests")
    if left is not None:
        summary += f", {left} requests left in window"
    return status, summary


async def _with_realtime(result: ProbeResult, realtime: asyncio.Future | None,
                         key: str) -> ProbeResult:
    if realtime is None:
        return result
    verdict: RealtimeVerdict = await realtime
    readings = dict(result.readings)
    if verdict.session_ms is not None:
        readings["realtime_session_ms"] = Reading(verdict.session_ms, "ms")
    return ProbeResult(result.component, max(result.status, verdict.status),
                       redact(f"{result.summary}; {verdict.summary}", [key]),
                       latency_ms=result.latency_ms, readings=readings,
                       details={**result.details, "realtime": verdict.summary})
