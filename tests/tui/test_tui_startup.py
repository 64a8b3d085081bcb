"""`alice-tui --demo` builds the dashboard while the simulator warms up: the source
counts as connected (not STALE) while it starts, the first snapshot is delivered as
soon as the agent is up, and a start that fails is one clear error."""

from __future__ import annotations

import asyncio
import time

import pytest

from tui import cli
from tui.source import InProcessSource, SourceError


async def test_demo_start_returns_at_the_warmup_and_delivers_promptly(tmp_path):
    source = InProcessSource(demo=True, warmup_s=1.0)
    started = time.monotonic()
    task = await cli.start_during_warmup(source, [])
    try:
        assert not task.done() and source.starting  # the warm-up is still going
        assert source.connected and source.problem is None  # starting, not STALE
        assert time.monotonic() - started < 5
        snap = None
        deadline = time.monotonic() + 30
        while snap is None and time.monotonic() < deadline:
            snap = await source.next_snapshot(-1, timeout=5.0)
        assert task.done() and task.exception() is None and not source.starting
        assert snap is not None and snap["seq"] >= 1
    finally:
        await asyncio.gather(task, return_exceptions=True)
        await source.close()


async def test_next_snapshot_wakes_when_the_agent_is_up():
    source = InProcessSource(demo=True)
    waited = asyncio.create_task(source.next_snapshot(-1, timeout=30.0))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    source._started_event().set()  # what start() does once the agent runs
    assert await waited is None  # woken: no 30 s sleep before the next try
    assert time.monotonic() - started < 1


class FailingSource:
    """Fails before the warm-up (e.g. no free port) or after it (the agent)."""

    def __init__(self, after_warmup: bool):
        self.after_warmup = after_warmup
        self.during_warmup = None

    async def start(self):
        if self.after_warmup:
            self.during_warmup()
            await asyncio.sleep(0.05)
        raise SourceError("demo: cannot start: address in use")


@pytest.mark.parametrize("after_warmup", [False, True])
async def test_a_failed_demo_start_is_reported(after_warmup, monkeypatch):
    monkeypatch.setattr(cli, "preload", lambda names: None)
    source = FailingSource(after_warmup)
    if not after_warmup:
        with pytest.raises(SourceError, match="address in use"):
            await cli.start_during_warmup(source, [])
        return
    task = await cli.start_during_warmup(source, [])
    with pytest.raises(SourceError, match="address in use"):
        await task  # run() ends the app with it: exit 2 and the one line
