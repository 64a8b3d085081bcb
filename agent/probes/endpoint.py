"""Probe of an extra HTTP endpoint (tool integrations: Calendar, Spotify, Gmail...).

The expected status code is OK; anything else or no answer is CRITICAL. Latency is
judged by the endpoint's own optional thresholds. Without `expect_json` the body is never
read (a 200 whose body stalls or is garbage is still a 200), but an announced body over
the size cap is refused as everywhere else. With `expect_json: {path, equals}` the body is
read (capped, inside the same total deadline) and the JSON value at `path` must equal
`equals`. Failures name the endpoint's path (never its query, which may hold a key).

Endpoints come in hundreds, all due at the same instants, so the pool they share
matters. Two clients are accepted:

- `EndpointClient`: one aiohttp connection pool (aiohttp is already the agent's HTTP
  server). Taking and returning a connection is O(1), so 500 probes at once cost what
  500 probes one by one cost.
- an `httpx.AsyncClient` (tests inject faults through its transport). httpcore's pool
  rescans every queued request against every connection whenever a request arrives
  or a response closes (encode/httpx#3215), which is quadratic in the number in
  flight: 500 endpoints due at once on one client took 3.7 s per round and 44 % of a
  core on a 2-core box (0.2 s and 4 % with `EndpointClient` and a lighter cycle). So
  at most `HTTPX_IN_FLIGHT` requests per httpx client are let into its pool at once;
  the wait for that gate counts against the timeout, as the wait for a pooled
  connection does.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
import weakref
from typing import TYPE_CHECKING, Union
from urllib.parse import urlsplit

import httpx

from agent.config import EndpointTarget, ExpectJson
from vocab.model import ProbeResult, Reading, Status
from agent.probes.health import MISSING, lookup, same_value
from agent.probes.http import MAX_BODY_BYTES, BodyTooLarge, describe_error, tls_context

if TYPE_CHECKING:
    import aiohttp

DEFAULT_MAX_CONNECTIONS = 256
KEEPALIVE_S = 30.0  # longer than a usual probe interval, so connections survive a round
HTTPX_IN_FLIGHT = 64  # 500 at once: 3.7 s rounds; 64: 1.8 s (500 endpoints, 2 cores)
_httpx_gates: "weakref.WeakKeyDictionary[httpx.AsyncClient, asyncio.Semaphore]" = \
    weakref.WeakKeyDictionary()


class EndpointClient:
    """One aiohttp connection pool for every extra endpoint; create it anywhere, use it
    on one event loop, `await aclose()` it (or use `async with`) when done.

    Like the httpx clients elsewhere: proxies from the environment are honoured
    (`HTTPS_PROXY`, `NO_PROXY`...), redirects are not followed, TLS uses the shared
    context.
    """

    def __init__(self, max_connections: int = DEFAULT_MAX_CONNECTIONS) -> None:
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> "aiohttp.ClientSession":
        if self._session is None:
            import aiohttp  # the agent has it loaded already; `alice-ops check` only now

            connector = aiohttp.TCPConnector(limit=self._max_connections, limit_per_host=0,
                                             keepalive_timeout=KEEPALIVE_S, ssl=tls_context())
            self._session = aiohttp.ClientSession(connector=connector, trust_env=True,
                                                  auto_decompress=False)
        return self._session

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def __aenter__(self) -> "EndpointClient":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


Client = Union[EndpointClient, httpx.AsyncClient]


async def probe(target: EndpointTarget, client: Client) -> ProbeResult:
    """`client` is shared by all endpoints (one pool); the timeout is per request and
    covers the wait for a connection (and, with httpx, for the in-flight gate)."""
    timeout_s = target.timeout_ms / 1000
    path = urlsplit(str(target.url)).path or "/"
    if isinstance(client, EndpointClient):
        started = time.perf_counter()
        code, body, failure = await _get_aiohttp(client, target, timeout_s)
    else:
        gate = _httpx_gates.get(client)
        if gate is None:
            gate = _httpx_gates[client] = asyncio.Semaphore(HTTPX_IN_FLIGHT)
        queued = time.perf_counter()
        try:
            async with asyncio.timeout(timeout_s):
                await gate.acquire()
        except TimeoutError:
            return ProbeResult.failed(target.name, Status.CRITICAL,
                                      f"{path}: no answer within {target.timeout_ms:g} ms")
        try:
            started = time.perf_counter()
            left = max(timeout_s - (started - queued), 0.001)
            code, body, failure = await _get_httpx(client, target, left)
        finally:
            gate.release()
    if failure is not None:
        return ProbeResult.failed(target.name, Status.CRITICAL, f"{path}: {failure}")
    ms = (time.perf_counter() - started) * 1000
    readings = {"latency_ms": Reading(ms, "ms")}
    if code != target.expect_status:
        return ProbeResult(target.name, Status.CRITICAL,
                           f"{path}: HTTP {code}, expected {target.expect_status}",
                           latency_ms=ms, readings=readings)
    if target.expect_json is not None:
        problem = judge_body(body or b"", target.expect_json)
        if problem is not None:
            return ProbeResult(target.name, Status.CRITICAL, f"{path}: HTTP {code} {problem}",
                               latency_ms=ms, readings=readings)
        want = target.expect_json
        return ProbeResult(target.name, Status.OK,
                           f"HTTP {code}, {want.path} == {json.dumps(want.equals)} in "
                           f"{ms:.0f} ms", latency_ms=ms, readings=readings)
    return ProbeResult(target.name, Status.OK, f"HTTP {code} in {ms:.0f} ms", latency_ms=ms,
                       readings=readings)



def judge_body(body: bytes, want: ExpectJson) -> str | None:
    """Pure: None when the JSON value at `want.path` equals `want.equals`, else what
    was wrong ("but status is \"down\", expected \"ok\"")."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return "but the body is not JSON"
    value = lookup(doc, want.path)
    if value is MISSING:
        return f"but the body has no {want.path!r}"
    if not same_value(value, want.equals):
        shown = json.dumps(value, ensure_ascii=False)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        return f"but {want.path} is {shown}, expected {json.dumps(want.equals)}"
    return None


async def _get_httpx(client: httpx.AsyncClient, target: EndpointTarget, timeout_s: float
                     ) -> tuple[int, bytes | None, str | None]:
    """(status, body when expect_json asks for it, failure); one total deadline."""
    try:
        async with asyncio.timeout(timeout_s):
            async with client.stream("GET", str(target.url), timeout=timeout_s) as response:
                if target.expect_json is None:
                    return response.status_code, None, None
                body = await response.aread()
                return response.status_code, body, None
    except TimeoutError:
        return 0, None, f"no answer within {target.timeout_ms:g} ms"
    except httpx.HTTPError as exc:
        return 0, None, describe_error(exc, target.timeout_ms)


async def _get_aiohttp(client: EndpointClient, target: EndpointTarget, timeout_s: float
                       ) -> tuple[int, bytes | None, str | None]:
    import aiohttp

    try:
        async with client.session().get(str(target.url), allow_redirects=False,
                                        timeout=aiohttp.ClientTimeout(total=timeout_s)
                                        ) as response:
            length = response.content_length
            if length is not None and length > MAX_BODY_BYTES:
                return 0, None, (f"answer body of {length // 1024} KiB is over the "
                                 f"{MAX_BODY_BYTES // 1024} KiB limit")
            if target.expect_json is None:
                return response.status, None, None
            body = bytearray()
            async for chunk in response.content.iter_chunked(64 * 1024):
                body += chunk
                if len(body) > MAX_BODY_BYTES:
                    raise BodyTooLarge(f"answer body larger than {MAX_BODY_BYTES // 1024} KiB")
            return response.status, bytes(body), None
    except BodyTooLarge as exc:
        return 0, None, str(exc)
    except (aiohttp.ClientError, TimeoutError) as exc:
        return 0, None, describe_aiohttp_error(exc, target.timeout_ms)


def describe_aiohttp_error(exc: BaseException, timeout_ms: float) -> str:
    """The same words `describe_error` gives for httpx's failures."""
    import aiohttp

    if isinstance(exc, TimeoutError):  # aiohttp's ServerTimeoutError is one too
        return f"no answer within {timeout_ms:g} ms"
    if isinstance(exc, aiohttp.ClientConnectorError):
        cause = exc.os_error
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "host name does not resolve"
        return "cannot connect"
    if isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError,
                        aiohttp.ClientOSError)):
        return "connection closed mid-answer"
    if isinstance(exc, aiohttp.ClientResponseError):
        return "not an HTTP answer" if exc.status == 400 else f"HTTP error: {exc.message}"
    return f"HTTP error: {exc.__class__.__name__}"
