"""Probe of Prometheus: every PromQL row of the threshold table in one concurrent batch.

An async PromQL client on the shared httpx edge (`agent.probes.http`): each request
(connect, headers and the whole body) runs under one total deadline, and bodies are
capped, so a trickling server costs at most `timeout_ms` and no thread.

Every cycle also asks `/api/v1/label/__name__/values` for the names the queries use
(`/api/v1/status/buildinfo` when there is no query): that request proves the server
answers (so OK always means reached, also with no PromQL row), and it tells a series
Prometheus has never had (absent: a blind spot, with the names) from one that stopped
or a query that returns nothing (UNKNOWN, the query named). NaN and ±Inf are UNKNOWN.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from typing import Any, Iterable

import httpx

from agent.config import PrometheusTarget
from vocab.model import ProbeResult, Reading, Status
from agent.probes.http import ProbeFailure, describe_error, make_client
from vocab.redact import redact
from rules.guide_metrics import family_of, series_names_in

COMPONENT = "prometheus"
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


class PromQLError(Exception):
    """A PromQL request failed; the message is the human reason."""


class PromQLClient:
    """Instant queries and label values against one Prometheus, each under a total deadline."""

    def __init__(self, target: PrometheusTarget,
                 transport: httpx.AsyncBaseTransport | None = None):
        self.target = target
        self._deadline_s = target.timeout_ms / 1000
        headers = {"Accept": "application/json"}
        if target.bearer_token is not None:
            headers["Authorization"] = f"Bearer {target.bearer_token.get_secret_value()}"
        self._client = make_client(target.timeout_ms, transport, headers=headers)

    async def __aenter__(self) -> "PromQLClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _get(self, path: str, params: Any = None) -> Any:
        """GET an API path; return its `data`, or raise PromQLError with the reason."""
        try:
            async with asyncio.timeout(self._deadline_s):  # connect + headers + body
                response = await self._client.get(f"{self.target.url}{path}", params=params)
        except TimeoutError:
            raise PromQLError(f"no answer within {self.target.timeout_ms} ms") from None
        except httpx.HTTPError as exc:
            raise PromQLError(describe_error(exc, self.target.timeout_ms)) from None
        try:
            doc = json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            doc = None
        if not isinstance(doc, dict) or doc.get("status") not in ("success", "error"):
            if response.status_code != 200:
                raise PromQLError(f"HTTP {response.status_code}")
            raise PromQLError("answer is not Prometheus JSON")
        if doc["status"] == "error":
            kind = doc.get("errorType") or "error"
            raise PromQLError(f"HTTP {response.status_code} {kind}: "
                              f"{str(doc.get('error', ''))[:200]}")
        if "data" not in doc:
            raise PromQLError("answer is not Prometheus JSON")
        return doc["data"]

    async def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query's samples, `[{"metric": {...}, "value": [t, "v"]}, ...]`; a
        scalar answer is one sample without labels."""
        data = await self._get("/api/v1/query", {"query": promql})
        kind = data.get("resultType") if isinstance(data, dict) else None
        result = data.get("result") if isinstance(data, dict) else None
        if kind == "vector" and isinstance(result, list):
            return result
        if kind == "scalar" and isinstance(result, list) and len(result) == 2:
            return [{"metric": {}, "value": result}]
        if kind == "matrix":
            raise PromQLError(f"a range vector, not an instant value: {promql}")
        raise PromQLError("answer is not Prometheus JSON")

    async def label_values(self, label: str = "__name__",
                           match: Iterable[str] = ()) -> list[str]:
        """Values a label has ever had (within retention), optionally only on the series
        selected by `match` (`match[]` selectors)."""
        params = [("match[]", m) for m in match]
        data = await self._get(f"/api/v1/label/{label}/values", params or None)
        if not isinstance(data, list):
            raise PromQLError("answer is not Prometheus JSON")
        return [str(v) for v in data]

    async def buildinfo(self) -> dict[str, Any]:
        data = await self._get("/api/v1/status/buildinfo")
        if not isinstance(data, dict):
            raise PromQLError("answer is not Prometheus JSON")
        return data

    async def known_names(self, names: Iterable[str]) -> set[str]:
        """Which of `names` Prometheus has ever had: one label-values request limited to
        them (a Prometheus with 100k series names answers a few bytes)."""
        wanted = set(names)
        plain = sorted(n for n in wanted if _METRIC_NAME.fullmatch(n))
        odd = wanted - set(plain)  # not a plain name (a __name__ matcher's text): assume known
        selector = '{__name__=~"' + "|".join(plain) + '"}'
        return (set(await self.label_values("__name__", [selector])) & wanted) | odd


class BlockingConnection:
    """The blocking face of `PromQLClient` for code that runs in a worker thread
    (cost sources, security scan): `custom_query(q)` returns the samples. Each call
    runs its own short event loop, bounded by the target's total deadline."""

    def __init__(self, target: PrometheusTarget):
        self.target = target

    def custom_query(self, query: str) -> list[dict[str, Any]]:
        async def once() -> list[dict[str, Any]]:
            async with PromQLClient(self.target) as client:
                return await client.query(query)

        return asyncio.run(once())

    def close(self) -> None:
        pass


def make_connection(target: PrometheusTarget) -> BlockingConnection:
    return BlockingConnection(target)


def _value(result: list[Any], query: str, known: set[str] | None) -> Reading:
    if not result:
        if known is not None:
            missing = sorted(n for n in series_names_in(query) if n not in known)
            if missing:
                families = ", ".join(dict.fromkeys(family_of(n) for n in missing))
                return Reading(None, reason=f"never exported: {families}",
                               missing=tuple(missing))
        return Reading(None, reason=f"query returned no series: {query}")
    try:
        value = float(result[0]["value"][1])
    except (KeyError, IndexError, TypeError, ValueError):
        return Reading(None, reason=f"query answer unreadable: {query}")
    if math.isnan(value) or math.isinf(value):
        return Reading(None, reason=f"query returned {value}: {query}")
    return Reading(value)


def _query_reason(exc: BaseException, timeout_ms: int) -> str:
    """A one-line reason for a failed query (also used by the cost sources)."""
    if isinstance(exc, (PromQLError, ProbeFailure)):
        return str(exc)
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout_ms} ms"
    if isinstance(exc, httpx.HTTPError):
        return describe_error(exc, timeout_ms)
    if isinstance(exc, ValueError):
        return "answer is not Prometheus JSON"
    return exc.__class__.__name__


async def probe(target: PrometheusTarget, queries: Iterable[tuple[str, str]],
                transport: httpx.AsyncBaseTransport | None = None) -> ProbeResult:
    """Run `queries` — (reading name, PromQL) pairs — and the series-name lookup
    concurrently; one reading each, plus `query_latency_ms` when the server answered."""
    queries = list(queries)
    secrets = [target.bearer_token.get_secret_value()] if target.bearer_token else []
    started = time.perf_counter()
    used = {n for _, q in queries for n in series_names_in(q)}
    async with PromQLClient(target, transport) as client:
        contact = client.known_names(used) if used else client.buildinfo()
        answers = await asyncio.gather(contact, *(client.query(q) for _, q in queries),
                                       return_exceptions=True)
    latency = (time.perf_counter() - started) * 1000
    names, results = answers[0], answers[1:]
    for answer in answers:  # a bug, not a failed request: let the guard report it
        if isinstance(answer, BaseException) and not isinstance(answer, Exception):
            raise answer
    known = set(names) if used and not isinstance(names, BaseException) else None
    readings: dict[str, Reading] = {}
    failures = []
    for (name, query), result in zip(queries, results):
        if isinstance(result, BaseException):
            reason = _query_reason(result, target.timeout_ms)
            failures.append(reason)
            readings[name] = Reading(None, reason=redact(f"prometheus query failed: {reason}",
                                                         secrets))
        else:
            readings[name] = _value(result, query, known)
    if isinstance(names, BaseException) and len(failures) == len(queries):  # not reached
        reason = _query_reason(names, target.timeout_ms)
        summary = f"every query failed: {failures[0]}" if queries else \
            f"no answer from Prometheus: {reason}"
        return ProbeResult(COMPONENT, Status.CRITICAL, redact(summary, secrets),
                           latency_ms=latency, readings=readings)
    readings["query_latency_ms"] = Reading(latency, "ms")
    answered = sum(1 for name, _ in queries if readings[name].known)
    absent = sum(1 for name, _ in queries if readings[name].absent)
    summary = f"{answered}/{len(queries)} queries answered" if queries else \
        f"reached, Prometheus {names.get('version', '?')}"
    if absent:
        summary += f", {absent} never exported"
    status = Status.OK
    if failures:
        status = Status.UNKNOWN
        summary += f"; {len(failures)} failed ({failures[0]})"
    if used and isinstance(names, BaseException):
        summary += f"; series names unavailable ({_query_reason(names, target.timeout_ms)})"
    return ProbeResult(COMPONENT, status, redact(summary, secrets), latency_ms=latency,
                       readings=readings)
