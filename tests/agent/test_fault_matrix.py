"""The fault matrix: every network probe against every way a target can fail on the wire.

Each probe meets real loopback servers (`tests/agent/faults.py`) that refuse, hang,
answer 503, answer garbage or answer far too much, because the probes use real
transports (httpx, the official clients, websockets, requests in threads). A probe
must never raise, must say what went wrong in words, and must give up within its
timeout plus a little.
"""

from __future__ import annotations

import time
from typing import Awaitable, Callable

import httpx
import pytest

from agent.check import run_probes, threshold_rows
from agent.config import (BackendTarget, Config, EndpointTarget, GatewayTarget, OllamaTarget,
                          OpenAITarget, PrometheusTarget)
from vocab.model import ProbeResult, Status
from agent.probes import backend, endpoint, gateway, ollama, openai, prometheus
from agent.probes.http import MAX_BODY_BYTES, make_client
from faults import fault_server  # tests/agent is on sys.path (rootdir-less test dir)

TIMEOUT_MS = 500
BUDGET_S = TIMEOUT_MS / 1000 + 1.0  # configured timeout + ~1 s of grace
FAKE_KEY = "sk-test-0123456789abcdef"


# --- how to run each probe against a base URL ----------------------------------------------

async def _openai(url: str) -> ProbeResult:
    return await openai.probe(OpenAITarget(base_url=f"{url}/v1", api_key=FAKE_KEY,
                                           timeout_ms=TIMEOUT_MS))


async def _ollama(url: str) -> ProbeResult:
    return await ollama.probe(OllamaTarget(url=url, timeout_ms=TIMEOUT_MS))


async def _gateway(url: str) -> ProbeResult:
    return await gateway.probe(GatewayTarget(url=url, timeout_ms=TIMEOUT_MS))


async def _backend(url: str) -> ProbeResult:
    return await backend.probe(BackendTarget(url=url, timeout_ms=TIMEOUT_MS))


async def _prometheus(url: str) -> ProbeResult:
    return await prometheus.probe(PrometheusTarget(url=url, timeout_ms=TIMEOUT_MS),
                                  [("q1", "up")])


async def _endpoint(url: str) -> ProbeResult:
    target = EndpointTarget(name="calendar", url=f"{url}/calendar/health",
                            timeout_ms=TIMEOUT_MS)
    async with make_client(10_000) as shared:  # as run_probes hands it: one client, capped
        return await endpoint.probe(target, shared)


PROBES: dict[str, Callable[[str], Awaitable[ProbeResult]]] = {
    "openai": _openai, "ollama": _ollama, "gateway": _gateway, "backend": _backend,
    "prometheus": _prometheus, "endpoint": _endpoint,
}

# fault -> words of which the summary must contain at least one (case-insensitive)
REASONS = {
    "refused": ("refused",),
    "hang": (f"no answer within {TIMEOUT_MS} ms",),
    "stall": (f"no answer within {TIMEOUT_MS} ms",),
    "status503": ("503",),
    "status503_text": ("503",),
    "garbage": ("non-json", "not "),
    "oversized": ("larger", "limit"),
    "oversized_chunked": ("larger", "limit"),
}

# Documented exceptions to "CRITICAL naming the fault". The endpoint probe judges the
# status code only (agent/probes/endpoint.py) and never reads the body, so a 200 whose
# body stalls, is garbage or is huge is the expected answer. ("oversized" with a
# content-length stays CRITICAL: CappedTransport rejects it before the status is seen.)
EXCEPTIONS: dict[tuple[str, str], tuple[Status, tuple[str, ...]]] = {
    ("endpoint", "stall"): (Status.OK, ("http 200",)),
    ("endpoint", "garbage"): (Status.OK, ("http 200",)),
    ("endpoint", "oversized_chunked"): (Status.OK, ("http 200",)),
}


@pytest.mark.parametrize("fault", list(REASONS))
@pytest.mark.parametrize("probe_name", list(PROBES))
async def test_probe_turns_fault_into_reason(probe_name: str, fault: str) -> None:
    status, words = EXCEPTIONS.get((probe_name, fault), (Status.CRITICAL, REASONS[fault]))
    async with fault_server(fault) as url:
        started = time.perf_counter()
        result = await PROBES[probe_name](url)  # must not raise
        elapsed = time.perf_counter() - started

    assert elapsed < BUDGET_S, f"{probe_name} took {elapsed:.2f} s on {fault}"
    assert result.status is status, result.summary
    assert any(w in result.summary.lower() for w in words), result.summary
    assert result.summary.isprintable() and len(result.summary) < 300
    assert FAKE_KEY not in result.summary


async def test_gateway_names_both_halves() -> None:
    """/health and the WebSocket upgrade fail separately; the reason names both."""
    async with fault_server("status503") as url:
        result = await _gateway(url)
    assert result.status is Status.CRITICAL
    assert "/health answered HTTP 503" in result.summary
    assert "WebSocket" in result.summary and "upgrade refused with HTTP 503" in result.summary
    assert not result.readings["ws_exchange_ms"].known


async def test_backend_503_keeps_reported_status() -> None:
    async with fault_server("status503") as url:
        result = await _backend(url)
    assert result.summary == "/api/health answered HTTP 503, status 'down'"


# --- byte-level cases through httpx.MockTransport ------------------------------------------

class _Chunks(httpx.AsyncByteStream):
    """A body sent in chunks with no content-length, like a chunked answer."""

    def __init__(self, body: bytes, size: int = 64 * 1024):
        self._body, self._size = body, size

    async def __aiter__(self):
        for i in range(0, len(self._body), self._size):
            yield self._body[i:i + self._size]


def _health_body(total: int) -> bytes:
    head = b'{"status": "healthy"}'
    return head + b" " * (total - len(head))  # trailing whitespace is still valid JSON


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize(("size", "status"), [
    (MAX_BODY_BYTES, Status.OK),
    (MAX_BODY_BYTES + 1, Status.CRITICAL),
], ids=["at-limit", "one-over"])
async def test_body_cap_boundary(size: int, status: Status, chunked: bool) -> None:
    body = _health_body(size)

    def answer(request: httpx.Request) -> httpx.Response:
        if chunked:
            return httpx.Response(200, headers={"content-type": "application/json"},
                                  stream=_Chunks(body))
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    result = await backend.probe(BackendTarget(url="http://backend.test", timeout_ms=TIMEOUT_MS),
                                 transport=httpx.MockTransport(answer))
    assert result.status is status, result.summary
    if status is Status.CRITICAL:
        assert "2048 KiB" in result.summary


@pytest.mark.parametrize(("content", "ctype", "words"), [
    (b"\xff\xfe\x00garbage", "application/json", "non-JSON body (application/json)"),
    (b"", "application/json", "non-JSON body (application/json)"),
    (b'{"status": "healthy"', "application/json", "non-JSON body"),
    (b"<html>oops", "text/html; charset=utf-8", "non-JSON body (text/html)"),
    (b"[1, 2, 3]", "application/json", "no status field"),
])
async def test_backend_unusable_bodies(content: bytes, ctype: str, words: str) -> None:
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, content=content, headers={"content-type": ctype}))
    result = await backend.probe(BackendTarget(url="http://backend.test"), transport=transport)
    assert result.status is Status.CRITICAL
    assert words in result.summary


@pytest.mark.parametrize(("content", "ctype", "words"), [
    (b"<html>oops", "text/html", "not a models list (HTTP 200, text/html)"),
    (b'{"object": "list", "data": ', "application/json", "not a models list"),
    (b'{"object": "list"}', "application/json", "not a models list"),
    (b'"just a string"', "application/json", "not a models list"),
])
async def test_openai_unusable_bodies(content: bytes, ctype: str, words: str) -> None:
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, content=content, headers={"content-type": ctype}))
    result = await openai.probe(OpenAITarget(api_key=FAKE_KEY, timeout_ms=TIMEOUT_MS),
                                transport=transport)
    assert result.status is Status.CRITICAL
    assert words in result.summary


async def test_prometheus_many_queries_hang_together() -> None:
    """The queries run as one concurrent batch, not queued behind a small thread pool."""
    queries = [(f"q{i}", f"up{{i=\"{i}\"}}") for i in range(16)]
    async with fault_server("hang") as url:
        started = time.perf_counter()
        result = await prometheus.probe(PrometheusTarget(url=url, timeout_ms=TIMEOUT_MS),
                                        queries)
        elapsed = time.perf_counter() - started
    assert elapsed < BUDGET_S, f"16 hanging queries took {elapsed:.2f} s"
    assert result.status is Status.CRITICAL
    assert result.summary == f"every query failed: no answer within {TIMEOUT_MS} ms"
    assert all(not result.readings[name].known for name, _ in queries)


async def test_prometheus_partial_failure_is_unknown() -> None:
    """One query failing while another answers is a blind spot (UNKNOWN), not an outage."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/values"):
            return httpx.Response(200, json={"status": "success", "data": ["up"]})
        if request.url.params["query"] == "broken":
            return httpx.Response(200, text="<html>not JSON</html>")
        return httpx.Response(200, json={"status": "success", "data": {
            "resultType": "vector", "result": [{"metric": {}, "value": [0, "1"]}]}})

    result = await prometheus.probe(PrometheusTarget(url="http://prom.test"),
                                    [("good", "up"), ("bad", "broken")],
                                    transport=httpx.MockTransport(answer))
    assert result.status is Status.UNKNOWN
    assert "1/2 queries answered" in result.summary
    assert result.readings["good"].value == 1.0
    assert not result.readings["bad"].known
    assert result.readings["bad"].reason == "prometheus query failed: answer is not Prometheus JSON"


# --- the whole probe phase -----------------------------------------------------------------

async def test_probe_phase_survives_every_target_hanging() -> None:
    """Every target hangs: the phase still ends in ~timeout, each component with a reason."""
    async with fault_server("hang") as url:
        config = Config.model_validate({"targets": {
            "openai": {"base_url": f"{url}/v1", "api_key": FAKE_KEY, "timeout_ms": TIMEOUT_MS},
            "ollama": {"url": url, "timeout_ms": TIMEOUT_MS},
            "gateway": {"url": url, "timeout_ms": TIMEOUT_MS},
            "backend": {"url": url, "timeout_ms": TIMEOUT_MS},
            "prometheus": {"url": url, "timeout_ms": TIMEOUT_MS},
            "endpoints": [{"name": "calendar", "url": f"{url}/cal", "timeout_ms": TIMEOUT_MS},
                          {"name": "spotify", "url": f"{url}/sp", "timeout_ms": TIMEOUT_MS}],
        }})
        rows = threshold_rows(config)
        assert sum(r.promql is not None for r in rows) > 1  # prometheus runs several queries
        started = time.perf_counter()
        results = await run_probes(config, rows)
        elapsed = time.perf_counter() - started

    assert elapsed < 2.0, f"probe phase took {elapsed:.2f} s"
    network = {"openai", "ollama", "gateway", "backend", "prometheus", "calendar", "spotify"}
    assert set(results) == network | {"host"}
    for name, result in results.items():
        assert isinstance(result.status, Status) and result.summary, name
    for name in network:
        assert results[name].status is Status.CRITICAL, (name, results[name].summary)
        assert "no answer within" in results[name].summary, (name, results[name].summary)
    assert FAKE_KEY not in repr(results)
