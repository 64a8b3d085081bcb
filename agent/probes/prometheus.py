"""Probe of Prometheus: every PromQL row of the threshold table in one concurrent batch.

prometheus-api-client is blocking, so each query runs in a worker thread with its
own request timeout. An empty result or NaN is a reading with no value and the
query named in the reason (UNKNOWN), never a silent OK.
"""

from __future__ import annotations

import asyncio
import math
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable

from agent.config import PrometheusTarget
from agent.model import ProbeResult, Reading, Status
from agent.probes.http import MAX_BODY_BYTES, ProbeFailure
from agent.redact import redact

COMPONENT = "prometheus"


def _cap_body(response, *args, **kwargs):
    """requests response hook: read the body now, failing past MAX_BODY_BYTES.

    The requests-side twin of `http.CappedTransport`; requests reads the body after
    its response hooks, so reading it here (capped) is what bounds the memory.
    """
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        response.close()
        raise ProbeFailure(f"answer body of {int(length) // 1024} KiB is over the "
                           f"{MAX_BODY_BYTES // 1024} KiB limit")
    body = bytearray()
    for chunk in response.iter_content(64 * 1024):
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            response.close()
            raise ProbeFailure(f"answer body larger than {MAX_BODY_BYTES // 1024} KiB")
    response._content = bytes(body)  # what `response.content` returns from now on
    return response


def make_connection(target: PrometheusTarget):
    import requests
    from prometheus_api_client import PrometheusConnect
    from urllib3.util.retry import Retry

    headers = None
    if target.bearer_token is not None:
        headers = {"Authorization": f"Bearer {target.bearer_token.get_secret_value()}"}
    session = requests.Session()
    session.hooks["response"].append(_cap_body)
    return PrometheusConnect(url=target.url, headers=headers, retry=Retry(total=0),
                             timeout=target.timeout_ms / 1000, session=session)


def _value(result: list, query: str) -> Reading:
    if not result:
        return Reading(None, reason=f"query returned no data: {query}")
    try:
        value = float(result[0]["value"][1])
    except (KeyError, IndexError, TypeError, ValueError):
        return Reading(None, reason=f"query answer unreadable: {query}")
    if math.isnan(value) or math.isinf(value):
        return Reading(None, reason=f"query returned {value}: {query}")
    return Reading(value)


def _query_reason(exc: BaseException, timeout_ms: int) -> str:
    import requests
    from urllib3.exceptions import ReadTimeoutError

    if isinstance(exc, ProbeFailure):
        return str(exc)
    # requests reports some read timeouts as a ConnectionError wrapping urllib3's
    # ReadTimeoutError: directly (body read) or as MaxRetryError.reason (Retry(total=0)).
    cause = exc.args[0] if exc.args else None
    cause = getattr(cause, "reason", cause)
    if isinstance(exc, requests.exceptions.Timeout) or isinstance(cause, ReadTimeoutError):
        return f"no answer within {timeout_ms} ms"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "connection refused" if "refused" in str(exc).lower() else "cannot connect"
    if isinstance(exc, ValueError):
        return "answer is not Prometheus JSON"
    text = str(exc)
    if "HTTP Status Code" in text:
        return text.split("(")[0].strip()
    return exc.__class__.__name__


async def probe(target: PrometheusTarget, queries: Iterable[tuple[str, str]],
                connect: Callable = make_connection) -> ProbeResult:
    """Run `queries` — (reading name, PromQL) pairs — concurrently; one reading each."""
    queries = list(queries)
    conn = await asyncio.to_thread(connect, target)  # imports requests off the loop
    secrets = [target.bearer_token.get_secret_value()] if target.bearer_token else []
    started = time.perf_counter()

    # Own pool, one thread per query: in the loop's default pool (min(32, cpus + 4)
    # threads) hanging queries would queue and overrun the probe's budget.
    pool = ThreadPoolExecutor(max_workers=max(1, len(queries)), thread_name_prefix="promql")
    loop = asyncio.get_running_loop()

    async def one(query: str):
        return await loop.run_in_executor(pool, conn.custom_query, query)

    try:
        results = await asyncio.gather(*(one(q) for _, q in queries), return_exceptions=True)
    finally:
        conn.close()
        pool.shutdown(wait=False)
    latency = (time.perf_counter() - started) * 1000
    readings: dict[str, Reading] = {}
    failures = []
    for (name, query), result in zip(queries, results):
        if isinstance(result, BaseException):
            reason = _query_reason(result, target.timeout_ms)
            failures.append(reason)
            readings[name] = Reading(None, reason=f"prometheus query failed: {reason}")
        else:
            readings[name] = _value(result, query)
    if queries and len(failures) == len(queries):
        return ProbeResult(COMPONENT, Status.CRITICAL,
                           redact(f"every query failed: {failures[0]}", secrets),
                           latency_ms=latency, readings=readings)
    readings["query_latency_ms"] = Reading(latency, "ms")
    empty = sum(1 for name, _ in queries if not readings[name].known)
    summary = f"{len(queries) - empty}/{len(queries)} queries answered"
    status = Status.OK
    if failures:
        status = Status.UNKNOWN
        summary += f"; {len(failures)} failed ({failures[0]})"
    return ProbeResult(COMPONENT, status, redact(summary, secrets), latency_ms=latency,
                       readings=readings)
