"""A hostile peer for the deadline tests: a loopback TCP server that answers any request
(HTTP, a WebSocket upgrade, the OpenAI, Ollama and Prometheus APIs alike) with a plausible
response sent one byte per `byte_every_s`, never finishing. It counts the connections open
now, so a test can see that clients let go of them.

`Trickle` runs on the caller's event loop; `trickling_server(mode)` runs one in a thread for
synchronous tests. Run as a script (`python trickle.py PORT`) it serves until killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from typing import Iterator

HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000000\r\n\r\n")
BODY = b'{"status": "success", "data": ['


class Trickle:
    """`await Trickle().start()`; `url`; `open_now`; `await close()`. `fast_head`: the
    status line and headers at once, then the body byte by byte."""

    def __init__(self, byte_every_s: float = 1.0, fast_head: bool = False) -> None:
        self.byte_every_s = byte_every_s
        self.fast_head = fast_head
        self.open_now = 0
        self.accepted = 0
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task] = set()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, port: int = 0) -> Trickle:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open_now += 1
        self.accepted += 1
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            slow = HEAD + BODY
            if self.fast_head:
                writer.write(HEAD)
                slow = BODY
            sent = 0
            while not reader.at_eof():  # byte by byte, then "0" forever
                writer.write(slow[sent:sent + 1] if sent < len(slow) else b"0")
                sent += 1
                await writer.drain()
                await asyncio.sleep(self.byte_every_s)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.open_now -= 1
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()


@contextlib.contextmanager
def trickling_server(mode: str) -> Iterator[str]:
    """A `Trickle` in a thread of its own, 1 byte a second: the whole answer (`head`), or
    the headers at once and then the body (`body`). Yields its URL."""
    ready = threading.Event()
    state: dict = {}

    async def main() -> None:
        server = await Trickle(fast_head=mode == "body").start()
        state.update(url=server.url, stop=asyncio.Event(), loop=asyncio.get_running_loop())
        ready.set()
        await state["stop"].wait()
        await server.close()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield state["url"]
    finally:
        state["loop"].call_soon_threadsafe(state["stop"].set)
        thread.join(10)


async def _main(port: int) -> None:
    server = await Trickle().start(port)
    print(server.url, flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(_main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
