"""A loopback HTTP server that answers 1 byte a second, for total-deadline tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from typing import Iterator


@contextlib.contextmanager
def trickling_server(mode: str) -> Iterator[str]:
    """A loopback HTTP server answering every request 1 byte a second: the whole answer
    (`head`), or the headers at once and then the body (`body`). Yields its URL."""
    ready = threading.Event()
    state: dict = {}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            body = json.dumps({"status": "success", "data": []}).encode() * 50
            head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n").encode()
            if mode == "body":
                writer.write(head)
                await writer.drain()
                slow = body
            else:
                slow = head + body
            for i in range(len(slow)):
                writer.write(slow[i:i + 1])
                await writer.drain()
                await asyncio.sleep(1.0)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        state["port"] = server.sockets[0].getsockname()[1]
        state["stop"] = asyncio.Event()
        state["loop"] = asyncio.get_running_loop()
        ready.set()
        async with server:
            await state["stop"].wait()
            server.close()
            for task in asyncio.all_tasks():  # cut the connections still trickling
                if task is not asyncio.current_task():
                    task.cancel()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield f"http://127.0.0.1:{state['port']}"
    finally:
        state["loop"].call_soon_threadsafe(state["stop"].set)
        thread.join(10)
