"""Probe of the cloud fast path through the official `openai` client.

`models.list()` is free and proves network, TLS and the key; the deep probe (a
1-token chat completion) is off by default because every call costs money.
Auth errors, network errors and 5xx are told apart; rate-limit headers are kept.
"""

from __future__ import annotations

import time

import httpx

from agent.config import OpenAITarget
from agent.model import ProbeResult, Reading, Status
from agent.probes.lazy import load
from agent.probes.http import describe_error, make_client
from agent.redact import redact

COMPONENT = "openai"
RATE_HEADERS = ("x-ratelimit-limit-requests", "x-ratelimit-remaining-requests",
                "x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens",
                "x-ratelimit-reset-requests", "x-ratelimit-reset-tokens")


def _classify(exc: BaseException, target: OpenAITarget) -> tuple[Status, str]:
    import openai

    if isinstance(exc, openai.AuthenticationError):
        return Status.CRITICAL, "authentication failed (HTTP 401): the API key is invalid or revoked"
    if isinstance(exc, openai.PermissionDeniedError):
        return Status.CRITICAL, "permission denied (HTTP 403) for this key"
    if isinstance(exc, openai.RateLimitError):
        return Status.WARNING, "rate limited (HTTP 429)"
    if isinstance(exc, openai.APITimeoutError):
        return Status.CRITICAL, f"no answer within {target.timeout_ms} ms"
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc
        return Status.CRITICAL, f"network error: {describe_error(cause, target.timeout_ms)}"
    if isinstance(exc, openai.APIStatusError):
        code = exc.status_code
        kind = "server error" if code >= 500 else "unexpected answer"
        return Status.CRITICAL, f"{kind} (HTTP {code})"
    if isinstance(exc, openai.APIResponseValidationError):
        return Status.CRITICAL, "answer is not a valid models list"
    return Status.CRITICAL, f"unreadable answer ({exc.__class__.__name__})"


async def probe(target: OpenAITarget, transport: httpx.AsyncBaseTransport | None = None
                ) -> ProbeResult:
    openai = await load("openai")

    key = target.api_key.get_secret_value()
    http_client = make_client(target.timeout_ms, transport)
    client = openai.AsyncOpenAI(base_url=target.base_url, api_key=key, max_retries=0,
                                timeout=target.timeout_ms / 1000, http_client=http_client)
    started = time.perf_counter()
    try:
        async with client:
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
                    f"answer is not a models list (HTTP {raw.status_code}, {ctype})", latency)
            models = [m.id for m in data]
            limits = {h: raw.headers[h] for h in RATE_HEADERS if h in raw.headers}
            readings = {"api_latency_ms": Reading(latency, "ms")}
            summary = f"API reachable, {len(models)} models"
            status = Status.OK
            if target.model and models and target.model not in models:
                status = Status.WARNING
                summary += f"; model {target.model} not offered"
            if target.deep_probe:
                deep_started = time.perf_counter()
                await client.chat.completions.create(
                    model=target.model, max_tokens=1,
                    messages=[{"role": "user", "content": "ping"}])
                readings["completion_latency_ms"] = Reading(
                    (time.perf_counter() - deep_started) * 1000, "ms")
                summary += ", completion ok"
            remaining = limits.get("x-ratelimit-remaining-requests")
            if remaining is not None:
                summary += f", {remaining} requests left in window"
            return ProbeResult(COMPONENT, status, summary, latency_ms=latency,
                               readings=readings, details={"rate_limits": limits})
    except Exception as exc:  # every failure becomes data at this edge
        latency = (time.perf_counter() - started) * 1000
        status, reason = _classify(exc, target)
        return ProbeResult.failed(COMPONENT, status, redact(reason, [key]), latency)
