"""Shared bits of the remediation tests (a module name no other test dir uses)."""

from __future__ import annotations

import asyncio
import time

SIM_KEY = "sk-sim-remediation-test-0000000000"


async def wait_for(predicate, timeout_s: float = 15.0, interval_s: float = 0.1):
    """Poll the async `predicate` until it returns something truthy, or fail."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(interval_s)
    raise AssertionError("condition not met in time")
