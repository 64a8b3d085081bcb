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


async def cycles_pass(service, component: str, n: int, timeout_s: float = 15.0) -> None:
    """Wait until `component`'s probe job has run `n` more cycles, so a check that nothing
    more happened covers real cycles rather than a guess at how many fit in a second."""
    def count() -> int:
        snap = service.runtime.snapshot
        return snap.stats.cycles_total.get(component, 0) if snap is not None else 0

    start = count()

    async def passed() -> bool:
        return count() >= start + n
    await wait_for(passed, timeout_s=timeout_s)
