"""Waiting on a condition with a deadline, for tests (never a fixed sleep standing in for one)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(predicate: Callable[[], T], timeout: float, step: float = 0.05) -> T:
    """Call `predicate` until it returns something truthy or `timeout` seconds pass;
    return its last value (falsy on timeout, so `assert wait_for(...)` reads naturally)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(step)


async def wait_for_async(predicate: Callable[[], Awaitable[T]], timeout: float,
                         step: float = 0.05) -> T:
    """`wait_for` for a coroutine predicate, sleeping on the event loop between calls."""
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value or time.monotonic() >= deadline:
            return value
        await asyncio.sleep(step)


async def until(predicate: Callable[[], T], what: str, timeout_s: float = 20.0) -> T:
    """Poll a plain `predicate` on the event loop until it is truthy and return its value;
    fail the test naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)
