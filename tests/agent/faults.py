"""Misbehaving loopback servers for the probe fault matrix: real sockets, scripted faults.

`fault_server(mode)` is an async context manager yielding a base URL such as
`http://127.0.0.1:40123`. Every request to that server, whatever its path (HTTP
GET or WebSocket upgrade), gets the same fault:

- ``refused``: nothing listens on the port (bound, then closed);
- ``hang``: the connection is accepted and never answered;
- ``status503``: `503 Service Unavailable` with a small JSON body;
- ``status503_text``: the same with a `text/plain` body;
- ``stall``: `200 OK` headers and the start of a body, then nothing more;
- ``garbage``: `200 OK`, `text/html`, body `<html>oops`;
- ``oversized``: `200 OK`, 5 MiB of JSON-ish bytes with a `content-length`;
- ``oversized_chunked``: the same 5 MiB, chunked, so no length is announced.

On exit the listener is closed and every connection still open (a hanging one, or
one still writing to a client that gave up) is cut and its handler awaited, so no
socket, transport or task outlives the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from typing import AsyncIterator

MODES = ("refused", "hang", "stall", "status503", "status503_text", "garbage", "oversized",
         "oversized_chunked")
OVERSIZED_BYTES = 5 * 1024 * 1024
_CHUNK = 64 * 1024


def free_port() -> int:
    """A loopback port that was free a moment ago and has nothing listening on it now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _head(status: str, ctype: str, extra: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Type: {ctype}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in extra.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def _simple(status: str, ctype: str, body: bytes) -> bytes:
    return _head(status, ctype, {"Content-Length": str(len(body))}) + body


def _json_ish_chunks():
    """5 MiB that starts like a JSON answer and never ends being one."""
    yield b'{"status": "success", "data": {"result": ['
    sent, filler = 0, b'{"x": "' + b"a" * (_CHUNK - 10) + b'"},'
    while sent < OVERSIZED_BYTES:
        yield filler
        sent += len(filler)


_CANNED = {
    "status503": _simple("503 Service Unavailable", "application/json",
                         json.dumps({"status": "down", "error": "overloaded"}).encode()),
    "status503_text": _simple("503 Service Unavailable", "text/plain",
                              b"upstream unavailable\n"),
    "garbage": _simple("200 OK", "text/html", b"<html>oops"),
}


async def _respond(mode: str, reader: asyncio.StreamReader,
                   writer: asyncio.StreamWriter) -> None:
    if mode == "hang":
        await reader.read()  # hold the connection until the client gives up
        return
    await reader.readuntil(b"\r\n\r\n")  # the request head; probes send no body
    if mode == "stall":
        writer.write(_head("200 OK", "application/json", {"Content-Length": "1000"}))
        writer.write(b'{"status": ')
        await writer.drain()
        await reader.read()  # promise 1000 bytes, send 11, hold on until the client gives up
        return
    if mode in _CANNED:
        writer.write(_CANNED[mode])
    elif mode == "oversized":
        size = sum(len(c) for c in _json_ish_chunks())
        writer.write(_head("200 OK", "application/json", {"Content-Length": str(size)}))
        for chunk in _json_ish_chunks():
            writer.write(chunk)
            await writer.drain()
    elif mode == "oversized_chunked":
        writer.write(_head("200 OK", "application/json", {"Transfer-Encoding": "chunked"}))
        for chunk in _json_ish_chunks():
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
    else:
        raise ValueError(f"unknown fault mode {mode!r}")
    await writer.drain()


@contextlib.asynccontextmanager
async def fault_server(mode: str) -> AsyncIterator[str]:
    """Serve `mode` on a free loopback port; yield its base URL (no trailing slash)."""
    if mode == "refused":
        yield f"http://127.0.0.1:{free_port()}"
        return
    if mode not in MODES:
        raise ValueError(f"unknown fault mode {mode!r}")
    handlers: dict[asyncio.Task, asyncio.StreamWriter] = {}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers[task] = writer
        try:
            await _respond(mode, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # the client gave up on us: that is the point of most faults
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            handlers.pop(task, None)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        # Python 3.11's wait_closed() does not wait for handlers. Cutting their
        # connections ends them normally (EOF / ConnectionResetError); cancelling
        # instead would make 3.11's StreamReaderProtocol log the CancelledError.
        for writer in list(handlers.values()):
            writer.transport.abort()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()
