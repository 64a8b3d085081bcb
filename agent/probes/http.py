"""The HTTP edge shared by every probe: size-capped transport, timeouts, and failures as words.

Each probe turns what went wrong on the wire into a reason a human understands
("connection refused", "no answer within 3000 ms", "HTTP 503", "not JSON").
"""

from __future__ import annotations

import functools
import json
import ssl
import time
from typing import Any

import httpx

MAX_BODY_BYTES = 2 * 1024 * 1024


class ProbeFailure(Exception):
    """A probe could not get a usable answer; the message is the human reason."""


class BodyTooLarge(httpx.TransportError):
    pass


class _CappedStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, limit: int):
        self._inner, self._limit = inner, limit

    async def __aiter__(self):
        seen = 0
        async for chunk in self._inner:
            seen += len(chunk)
            if seen > self._limit:
                raise BodyTooLarge(f"answer body larger than {self._limit // 1024} KiB")
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


@functools.lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    """One TLS context for every client: loading the CA bundle costs ~17 ms each time."""
    return httpx.create_ssl_context()


class CappedTransport(httpx.AsyncBaseTransport):
    """Wraps a transport so no answer body can exceed `limit` bytes (oversized = failure)."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None,
                 limit: int = MAX_BODY_BYTES):
        self._inner = inner or httpx.AsyncHTTPTransport(verify=tls_context())
        self._limit = limit

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        length = response.headers.get("content-length")
        if length and length.isdigit() and int(length) > self._limit:
            await response.aclose()
            raise BodyTooLarge(f"answer body of {int(length) // 1024} KiB is over the "
                               f"{self._limit // 1024} KiB limit")
        response.stream = _CappedStream(response.stream, self._limit)  # type: ignore[arg-type]
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def make_client(timeout_ms: int, transport: httpx.AsyncBaseTransport | None = None,
                **kwargs: Any) -> httpx.AsyncClient:
    timeout = httpx.Timeout(timeout_ms / 1000)
    return httpx.AsyncClient(transport=CappedTransport(transport), timeout=timeout,
                             follow_redirects=False, verify=tls_context(), **kwargs)


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc
    for _ in range(10):  # a short chain; guards against cycles
        if seen is None:
            return False
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def describe_error(exc: BaseException, timeout_ms: float | None = None) -> str:
    """A one-line reason for a transport-level failure."""
    if isinstance(exc, BodyTooLarge):
        return str(exc)
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {timeout_ms:g} ms" if timeout_ms else "timed out"
    if isinstance(exc, httpx.ConnectError):
        text = str(exc).lower()
        # httpx says "All connection attempts failed"; the refusal is further down the chain
        if "refused" in text or _caused_by(exc, ConnectionRefusedError):
            return "connection refused"
        if "name or service" in text or "nodename" in text or "resolv" in text:
            return "host name does not resolve"
        return "cannot connect"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "connection closed mid-answer"
    if isinstance(exc, httpx.HTTPError):
        return f"HTTP error: {exc.__class__.__name__}"
    return f"{exc.__class__.__name__}"


def decode_json(response: httpx.Response) -> Any:
    """Parse a JSON body, or fail with a reason that says what came back instead."""
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        ctype = response.headers.get("content-type", "no content-type").split(";")[0]
        raise ProbeFailure(f"HTTP {response.status_code} with a non-JSON body ({ctype})") \
            from None


async def get_json(client: httpx.AsyncClient, url: str, timeout_ms: float,
                   ok_statuses: tuple[int, ...] = (200,)) -> tuple[int, Any, float]:
    """GET `url`; return (status code, parsed JSON or None, elapsed ms)."""
    started = time.perf_counter()
    try:
        response = await client.get(url)
    except httpx.HTTPError as exc:
        raise ProbeFailure(describe_error(exc, timeout_ms)) from None
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code not in ok_statuses:
        try:
            body = json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            body = None
        return response.status_code, body, elapsed
    return response.status_code, decode_json(response), elapsed
