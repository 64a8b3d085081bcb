"""Probe of the cloud fast path: `GET /v1/models` on the shared httpx client, the deep probe
through the official `openai` client.

`GET /models` is free and proves network, TLS and the key; it needs no SDK (importing `openai`
costs ~0.7 s of CPU), so a plain check never imports it. The deep probe (a tiny chat
completion with `max_completion_tokens`) is off by default because every call costs money;
it uses the SDK, imported before its timer starts.
Every 4xx/5xx keeps the server's own error code and message (redacted, one line); a 429
`insufficient_quota` is billing (CRITICAL), any other 429 a rate limit (WARNING). The
`x-ratelimit-*` figures come from the completion's answer, where real servers send them.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import os
import re
import sys
import time
from typing import Any, Mapping

import httpx

from agent.config import OpenAITarget
from vocab.model import ProbeResult, Reading, Status
from agent.probes.http import ProbeFailure, describe_error, make_client
from agent.probes.lazy import load
from agent.probes.openai_realtime import RealtimeVerdict, one_line, probe_realtime
from vocab.redact import redact

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
    return _said(getattr(exc, "body", None), getattr(exc, "code", None),
                 getattr(exc, "type", None))


def _said(body: Any, code: Any, kind: Any) -> str:
    message = body.get("message") if isinstance(body, dict) else None
    if message is None and isinstance(body, str):
        message = body
    if message:  # the first line: LiteLLM appends its routing story after a blank line
        message = next((line for line in str(message).splitlines() if line.strip()), "")
    ident = code if code and not str(code).isdigit() else kind
    parts = [str(p) for p in (ident, message) if p]
    return one_line(": ".join(parts)) if parts else ""


def status_verdict(code: int, body: Any) -> tuple[Status, str]:
    """An HTTP error answer judged as the SDK's error classes would be: `body` is the answer's
    `error` object (or the whole JSON, or its text when it is not JSON)."""
    kind = body.get("type") if isinstance(body, dict) else None
    ident = body.get("code") if isinstance(body, dict) else None
    said = _said(body, ident, kind)
    tail = f": {said}" if said else ""
    if code == 429:
        if "insufficient_quota" in (ident or "", kind or ""):
            return Status.CRITICAL, f"billing: insufficient_quota (HTTP 429{tail})"
        return Status.WARNING, f"rate limited (HTTP 429){tail}"
    if code == 401:
        return Status.CRITICAL, f"authentication failed (HTTP 401){tail}"
    if code == 403:
        return Status.CRITICAL, f"permission denied (HTTP 403){tail}"
    words = "server error" if code >= 500 else "request rejected"
    return Status.CRITICAL, f"{words} (HTTP {code}){tail}"


def error_body(response: httpx.Response) -> Any:
    """What the SDK keeps of an error answer: the JSON's `error` object when there is one,
    else the JSON, else the text."""
    text = response.text.strip()
    try:
        body: Any = json.loads(text)
    except ValueError:
        return text
    return body.get("error", body) if isinstance(body, dict) else body


def classify(exc: BaseException, target: OpenAITarget) -> tuple[Status, str]:
    if isinstance(exc, ProbeFailure):
        return Status.CRITICAL, str(exc)
    if isinstance(exc, httpx.TimeoutException):
        return Status.CRITICAL, f"no answer within {target.timeout_ms} ms"
    if isinstance(exc, httpx.HTTPError):
        return Status.CRITICAL, f"network error: {describe_error(exc, target.timeout_ms)}"
    openai = sys.modules.get("openai")  # an SDK error means the SDK is loaded: never import
    if openai is None:
        return Status.CRITICAL, f"unreadable answer ({exc.__class__.__name__})"
    if isinstance(exc, openai.APITimeoutError):
        return Status.CRITICAL, f"no answer within {target.timeout_ms} ms"
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc
        return Status.CRITICAL, f"network error: {describe_error(cause, target.timeout_ms)}"
    if isinstance(exc, openai.APIStatusError):
        return status_verdict(exc.status_code, exc.body)
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


def _auth_headers(key: str) -> dict[str, str]:
    """The headers the SDK would send: the key, and the organization and project it reads
    from the environment."""
    headers = {"Authorization": f"Bearer {key}"}
    for env, header in (("OPENAI_ORG_ID", "OpenAI-Organization"),
                        ("OPENAI_PROJECT_ID", "OpenAI-Project")):
        if os.environ.get(env):
            headers[header] = os.environ[env]
    return headers


class _Listed:
    """A models list read by hand: its status code, headers and model ids (None: no list)."""

    def __init__(self, response: httpx.Response) -> None:
        self.status_code, self.headers = response.status_code, response.headers
        try:
            data = json.loads(response.content).get("data")
        except (AttributeError, ValueError, UnicodeDecodeError):
            data = None
        ok = isinstance(data, list) and all(isinstance(m, dict) and "id" in m for m in data)
        self.ids: list[str] | None = [str(m["id"]) for m in data] if ok else None


class _StatusFailure(ProbeFailure):
    """An error answer to the models list, judged (status and words)."""

    def __init__(self, status: Status, reason: str) -> None:
        super().__init__(reason)
        self.status = status


async def _list_http(http: httpx.AsyncClient, target: OpenAITarget, key: str) -> _Listed:
    """`GET {base_url}/models` on the shared client; an error answer raises ProbeFailure
    with the verdict's words (the SDK's, without the SDK)."""
    url = f"{target.base_url.rstrip('/')}/models"
    response = await http.get(url, headers=_auth_headers(key))
    if not response.is_success:
        status, reason = status_verdict(response.status_code, error_body(response))
        raise _StatusFailure(status, reason)
    return _Listed(response)


async def _models(client: Any, target: OpenAITarget, started: float
                  ) -> tuple[ProbeResult | None, Status, str, dict[str, Reading]]:
    """The models list (by hand on an httpx client, or through the SDK for the deep probe):
    (a final failure, or None with the status, summary and readings)."""
    if isinstance(client, httpx.AsyncClient):
        listed = await _list_http(client, target, target.api_key.get_secret_value())
        status_code, headers, models = listed.status_code, listed.headers, listed.ids
    else:
        raw = await client.models.with_raw_response.list()
        status_code, headers = raw.status_code, raw.headers
        try:
            page = raw.parse()
        except (AttributeError, TypeError, ValueError):  # non-JSON text fails in the pager
            page = None
        data = getattr(page, "data", None)
        models = [m.id for m in data] if isinstance(data, list) else None
    latency = (time.perf_counter() - started) * 1000
    if models is None:
        ctype = headers.get("content-type", "no content-type").split(";")[0]
        return ProbeResult.failed(
            COMPONENT, Status.CRITICAL,
            f"answer is not a models list (HTTP {status_code}, {ctype})", latency), \
            Status.CRITICAL, "", {}
    summary, status = f"API reachable, {len(models)} models", Status.OK
    if target.model and models and target.model not in models:
        status = Status.WARNING
        summary += f"; model {target.model} not offered"
    return None, status, summary, {"api_latency_ms": Reading(latency, "ms")}


async def probe(target: OpenAITarget, transport: httpx.AsyncBaseTransport | None = None
                ) -> ProbeResult:
    """List the models (free); with `deep_probe`, also one tiny completion through the SDK,
    which is imported here before any timer starts (the plain probe never imports it)."""
    if target.deep_probe or target.realtime.enabled:  # the Realtime probe needs it too
        openai = await load("openai")
    key = target.api_key.get_secret_value()
    http_client = make_client(target.timeout_ms, transport)
    client: Any = http_client
    if target.deep_probe:
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
        status, reason = ((exc.status, str(exc)) if isinstance(exc, _StatusFailure)
                          else classify(exc, target))
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
