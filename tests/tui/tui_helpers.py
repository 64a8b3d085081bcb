"""Helpers of the TUI tests: a fake source replaying recorded snapshots, a frozen clock,
the demo stack with an in-process agent, polling with a deadline, the screen as text."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import io
import json
import time
from pathlib import Path

DATA = Path(__file__).parent / "data"


def load(name: str) -> dict:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


class FakeSource:
    """Replays snapshot dicts; records commands; `connected` can be flipped by tests."""

    label = "fake"
    expected_interval_s = 1.0

    def __init__(self, *snapshots: dict, can_mutate: bool = True):
        self._queue: asyncio.Queue | None = None
        self._pending = [copy.deepcopy(s) for s in snapshots]
        self.can_mutate = can_mutate
        self.connected = True
        self.problem: str | None = None
        self.commands: list[tuple] = []
        self.fail_with: str | None = None

    def push(self, snapshot: dict) -> None:
        self._pending.append(copy.deepcopy(snapshot))

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def next_snapshot(self, after_seq: int, timeout: float) -> dict | None:
        deadline = time.monotonic() + timeout
        while not self._pending:
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(0.02)
        return self._pending.pop(0)

    async def _command(self, *call):
        from tui.source import CommandError

        self.commands.append(call)
        if self.fail_with:
            raise CommandError(self.fail_with)

    async def add_silence(self, matchers, duration_s, comment, by):
        await self._command("silence", matchers, duration_s, comment, by)
        return {"id": "s1", "matchers": [matchers]}

    async def expire_silence(self, silence_id):
        await self._command("expire", silence_id)
        return True

    async def add_ack(self, alert, comment, duration_s, by):
        await self._command("ack", alert, comment, duration_s, by)
        return {"alert": alert}

    history: list[dict] = []
    """Alert history records, newest first (ids falling), served a page at a time."""

    async def alert_history(self, limit, before=None):
        self.commands.append(("history", limit, before))
        rows = [r for r in self.history if before is None or r["id"] < before][:limit]
        return {"records": rows, "total": len(self.history),
                "next_before": rows[-1]["id"] if len(rows) == limit else None}


def history_records(count: int, now: float) -> list[dict]:
    """`count` alert transitions, newest first, a second apart, ending at `now`."""
    events = ("firing", "resolved", "flapping")
    return [{"id": i, "ts": now - (count - i), "actor": "agent",
             "event": events[i % 3], "alert": f"metric_{i:05d}",
             "severity": "critical" if i % 2 else "warning",
             "detail": {"summary": f"metric {i} crossed its threshold"}}
            for i in range(count, 0, -1)]


def frozen_clock(snapshot: dict, offset_s: float = 2.0):
    at = float(snapshot["taken_at_unix"]) + offset_s
    return lambda: at


def make_app(source, snapshot: dict | None = None, **kwargs):
    from tui.app import DashboardApp

    kwargs.setdefault("clock", frozen_clock(snapshot) if snapshot else time.time)
    kwargs.setdefault("user", "tester@alice-tui")
    return DashboardApp(source=source, **kwargs)


async def wait_for(pilot, condition, timeout: float = 10.0, step: float = 0.05):
    """Poll `condition()` with a deadline (never a bare sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await pilot.pause(step)


@contextlib.asynccontextmanager
async def demo_agent(tmp_path, scenario: str = "normal", cost: dict | None = None):
    """The simulator plus an in-process agent probing every 0.5 s, in this event loop,
    configured as `alice-tui --demo` runs it (spend tracking on; `cost` updates its
    `cost:` settings, e.g. {"session_cap_usd": 0.1})."""
    from agent.demo import demo_stack
    from agent.service import AgentService
    from agent.demo import with_demo_capabilities

    async with demo_stack(scenario, warmup_s=1.2) as (sim, config):
        config = with_demo_capabilities(config, str(tmp_path / "state.db"))
        if cost:
            config = config.model_copy(update={"cost": config.cost.model_copy(update=cost)})
        agent = config.agent.model_copy(update={
            "intervals": config.agent.intervals.model_copy(update={"fast_s": 0.5})})
        service = await AgentService.start(config.model_copy(update={"agent": agent}),
                                           serve_api=False)
        try:
            yield sim, service
        finally:
            await service.stop()


def screen_text(app) -> str:
    """Plain text of what a running app shows (asserts on words, not pixels)."""
    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system=None, record=True, legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(
        full=True, screen_stack=app._background_screens, simplify=True))
    return console.export_text()


def ready(screen: str = "1"):
    """A snapshot test's run_before: all six tiles painted, then `screen` (a key) shown."""
    from tui.widgets.component_tile import ComponentTile

    async def run_before(pilot) -> None:
        app = pilot.app
        await wait_for(pilot, lambda: app.snapshot is not None
                       and len(app.screen.query(ComponentTile)) == 6)
        if screen != "1":
            await pilot.press(screen)
            await wait_for(pilot, lambda: app.current_mode != "overview")
        await pilot.pause(0.1)
    return run_before
