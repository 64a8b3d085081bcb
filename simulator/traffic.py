"""Background traffic: every tick, a few simulated Alice requests shaped by the scenario
feed the metric store (and so /metrics and the built-in query API alike).

Rare events (failures, fast-path routing) use deterministic accumulators rather than
dice, so a 0.3 % error rate never shows up as a 5 % burst in a one-second window.
"""

from __future__ import annotations

import asyncio
import math
import random
import time

from simulator.history import History
from simulator.metrics import SESSION_IDS, SESSION_TOKENS, MetricStore
from simulator.scenarios import Profile, profile
from simulator.state import SimState

Z95 = 1.645
TAIL_CAP = 1.5


class Traffic:
    """Generates the simulated request stream of one simulator."""

    def __init__(self, store: MetricStore, state: SimState, history: History,
                 rng: random.Random, tick_s: float = 0.1) -> None:
        self.store, self.state, self.history, self.rng = store, state, history, rng
        self.tick_s = tick_s
        self._carry: dict[str, float] = {}
        self._acc: dict[str, float] = {}
        state.listeners.append(self._on_scenario)

    def _on_scenario(self, name: str, when: float) -> None:
        self._acc.clear()  # every scenario starts with a clean failure budget
        self.history.mark_change(when)

    def _count(self, key: str, per_s: float, dt: float) -> int:
        carry = self._carry.get(key, 0.0) + per_s * dt
        n = int(carry)
        self._carry[key] = carry - n
        return n

    def _hit(self, key: str, share: float) -> bool:
        acc = self._acc.get(key, 0.0) + share
        hit = acc >= 1.0 - 1e-9
        self._acc[key] = acc - 1.0 if hit else acc
        return hit

    def _ms(self, dist: tuple[float, float]) -> float:
        median, p95 = dist
        sigma = math.log(p95 / median) / Z95 if p95 > median > 0 else 0.0
        # Capped at 1.5 x p95: even a one-second window of a healthy service stays on target.
        return min(median * math.exp(self.rng.gauss(0.0, sigma)), p95 * TAIL_CAP)

    def tick(self, dt: float, now: float) -> None:
        p = profile(self.state.scenario)
        store = self.store
        successes = 0
        active = SESSION_IDS[:max(0, min(len(SESSION_IDS),
                                         int(store.value("active_sessions"))))]
        for _ in range(self._count("requests", p.requests_per_s, dt)):
            store.inc("total_requests_total")
            store.observe("intent_routing_latency_ms", self._ms(p.routing_ms))
            if self._hit("fast", p.fast_share):
                store.inc("fast_path_requests_total")
                successes += self._openai_call(p)
            else:
                store.inc("think_path_requests_total")
                store.observe("local_ai_processing_time_ms", self._ms(p.local_ms))
        expected = p.requests_per_s * p.fast_share * (1 - p.openai_fail)
        if successes and expected > 0 and p.cost_usd_per_min > 0:
            usd = successes * p.cost_usd_per_min / 60 / expected * self.rng.uniform(0.9, 1.1)
            store.inc("openai_api_cost_usd_total", usd)
            self.state.add_cost(now, usd)
        for _ in range(self._count("tools", p.tools_per_s, dt)):
            store.inc("tool_executions_total")
            if not self._hit("tool_fail", p.tool_fail):
                store.inc("tool_execution_success_total")
            store.observe("tool_execution_time_ms", self._ms(p.tool_ms))
        for _ in range(self._count("ws", p.ws_connects_per_s, dt)):
            store.inc("websocket_connections_total")
            if self._hit("ws_error", p.ws_error):
                store.inc("websocket_connection_errors_total")
        self._sessions(p, active, dt)
        self._gauges(p)

    def _sessions(self, p: Profile, active: tuple[str, ...], dt: float) -> None:
        """Each active session's tokens; the runaway session's re-billed context."""
        for sid in active:
            self.store.inc(SESSION_TOKENS, p.session_text_in_per_s * dt, session=sid,
                           type="text_in")
            self.store.inc(SESSION_TOKENS, p.session_text_out_per_s * dt, session=sid,
                           type="text_out")
            self.store.inc(SESSION_TOKENS, p.session_audio_in_per_s * dt, session=sid,
                           type="audio_in")
            self.store.inc(SESSION_TOKENS, p.session_audio_out_per_s * dt, session=sid,
                           type="audio_out")
        if p.runaway_session is not None:
            sid = p.runaway_session
            self.store.inc(SESSION_TOKENS, p.runaway_text_in_per_s * dt, session=sid,
                           type="text_in")
            self.store.inc(SESSION_TOKENS, 20.0 * dt, session=sid, type="audio_out")

    def _openai_call(self, p: Profile) -> int:
        if self._hit("openai_fail", p.openai_fail):
            self.store.inc("openai_api_failures_total")
            if p.auth_failures:
                self.store.inc("auth_failures_total")
            self.store.observe("openai_response_latency_ms", self._ms(p.openai_fail_ms))
            return 0
        self.store.inc("openai_api_success_total")
        self.store.observe("openai_response_latency_ms", self._ms(p.openai_ms))
        jitter = self.rng.uniform(0.8, 1.2)
        self.store.inc("openai_api_tokens_total", round(p.prompt_tokens * jitter),
                       direction="prompt")
        self.store.inc("openai_api_tokens_total", round(p.completion_tokens * jitter),
                       direction="completion")
        return 1

    def _gauges(self, p: Profile) -> None:
        rng, store = self.rng, self.store
        store.set("intent_classification_accuracy",
                  min(1.0, max(0.0, p.accuracy + rng.gauss(0.0, 0.004))))
        store.set("local_ai_queue_depth", rng.randint(*p.queue_depth))
        store.set("websocket_connections_active", rng.randint(*p.ws_active))
        store.set("active_sessions", rng.randint(*p.sessions))
        store.set("audio_quality_score", min(10.0, max(0.0, p.audio_score + rng.gauss(0, 0.08))))

    async def run(self) -> None:
        """Tick every `tick_s` until cancelled."""
        self._gauges(profile(self.state.scenario))
        self.history.record(time.time())
        last = time.monotonic()
        while True:
            await asyncio.sleep(self.tick_s)
            now_m = time.monotonic()
            now = time.time()
            self.tick(min(now_m - last, 5.0), now)
            last = now_m
            self.history.record(now)
