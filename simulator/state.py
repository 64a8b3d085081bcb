"""Mutable run-time state shared by every simulated service: scenario, injected latency,
the backend's admin state, the daily cost ledger, and the events that wake hung requests.
"""

from __future__ import annotations

import asyncio
import copy
import math
import time
from typing import Any, Callable

from simulator.scenarios import SCENARIOS, check_scenario

SERVICES = ("backend", "gateway", "ollama", "openai", "prometheus")
DAY_S = 86400


class SimState:
    """One simulator's switchable state; all methods run on the simulator's event loop."""

    def __init__(self, scenario: str = "normal", latency_ms: float | None = None,
                 scenarios: tuple[str, ...] = SCENARIOS) -> None:
        self.scenarios = scenarios  # the ones this simulator's profile accepts
        self.scenario = check_scenario(scenario, scenarios)
        self.changed_at = time.time()
        self.stopped = False
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._latency: dict[str | None, float] = {}
        if latency_ms:
            self.set_latency(latency_ms)
        self.admin: dict[str, Any] = {"mode": "normal", "mode_message": "", "broadcasts": []}
        self.cost_by_day: dict[int, float] = {}
        self.model_loaded = False
        self.listeners: list[Callable[[str, float], None]] = []

    # -- scenario -------------------------------------------------------------------------
    def set_scenario(self, name: str) -> None:
        check_scenario(name, self.scenarios)
        self._stop_flap()
        self.scenario = name
        self.changed_at = time.time()
        woken, self._wake = self._wake, asyncio.Event()
        woken.set()
        for listener in self.listeners:
            listener(name, self.changed_at)

    def flap(self, scenario: str, period_s: float) -> None:
        """Alternate between `scenario` and normal every `period_s` seconds (a flapping
        fault, for storm tests); any later `set_scenario` or `flap` stops it."""
        check_scenario(scenario, self.scenarios)
        if not (isinstance(period_s, (int, float)) and math.isfinite(period_s)
                and 0.05 <= period_s <= 3600):
            raise ValueError(f"period_s must be a number of seconds in 0.05..3600, "
                             f"not {period_s!r}")
        self._stop_flap()
        self.set_scenario(scenario)

        async def toggle() -> None:
            current = scenario
            while not self.stopped:
                await self.pause(period_s)
                current = "normal" if current == scenario else scenario
                self._flapping_set(current)

        self._flap_task = asyncio.get_running_loop().create_task(toggle())

    def _flapping_set(self, name: str) -> None:
        task, self._flap_task = getattr(self, "_flap_task", None), None
        self.set_scenario(name)
        self._flap_task = task

    def _stop_flap(self) -> None:
        task = getattr(self, "_flap_task", None)
        self._flap_task = None
        if task is not None:
            task.cancel()

    async def wait_while(self, scenario: str) -> None:
        """Block while `scenario` is active; return on a switch away from it or on stop."""
        while self.scenario == scenario and not self.stopped:
            await self._wake.wait()

    def stop(self) -> None:
        self.stopped = True
        self._stop.set()
        self._wake.set()

    async def pause(self, seconds: float) -> None:
        """Sleep `seconds`, cut short when the simulator stops."""
        if seconds <= 0 or self.stopped:
            return
        try:
            await asyncio.wait_for(self._stop.wait(), seconds)
        except TimeoutError:
            pass

    # -- injected latency -----------------------------------------------------------------
    def set_latency(self, ms: float, endpoint: str | None = None) -> None:
        if isinstance(ms, bool) or not isinstance(ms, (int, float)) or not math.isfinite(ms) \
                or ms < 0:
            raise ValueError(f"latency must be a number of ms >= 0, not {ms!r}")
        if endpoint is not None and (not isinstance(endpoint, str) or not endpoint):
            raise ValueError(f"endpoint must be a service name or a path, not {endpoint!r}")
        if ms == 0:
            self._latency.pop(endpoint, None)
        else:
            self._latency[endpoint] = float(ms)

    def latency(self) -> dict[str, float]:
        return {("*" if k is None else k): v for k, v in self._latency.items()}

    def latency_for(self, service: str, path: str) -> float:
        """Injected delay in seconds for a request to `path` on `service`."""
        keys: list[str | None] = [None, service, path]
        if path == "/metrics":
            keys.append("metrics")
        return sum(self._latency.get(k, 0.0) for k in keys) / 1000

    # -- backend admin state and costs ----------------------------------------------------
    def admin_snapshot(self) -> dict[str, Any]:
        return copy.deepcopy(self.admin)

    def add_cost(self, now: float, usd: float) -> None:
        day = int(now // DAY_S) * DAY_S
        self.cost_by_day[day] = self.cost_by_day.get(day, 0.0) + usd

    def cost_between(self, start: float, end: float) -> float:
        return sum(v for day, v in self.cost_by_day.items() if start <= day < end)
