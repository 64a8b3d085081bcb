"""A simulated week of agent history, time-accelerated: samples every 5 minutes over seven
days written into a state.db with the timestamps they would have had, plus the alert
episodes an agent would have audited. Deterministic (seeded). Feeds
`alice-ops report weekly --demo` and the report's tests: a quiet week with one slow
fast-path afternoon (day 2) and one budget-burn day over the daily budget (day 4)."""

from __future__ import annotations

import math
import random
from datetime import datetime
from zoneinfo import ZoneInfo

from agent.store import AuditRecord, Store

STEP_S = 300
TZ = ZoneInfo("Europe/Stockholm")
SLOW_DAY, BURN_DAY = 2, 4  # days (0 = first of the seven) with an incident


def _diurnal(ts: float) -> float:
    hour = datetime.fromtimestamp(ts, TZ).hour
    return 0.5 + 0.5 * math.sin((hour - 9) / 24 * 2 * math.pi)  # busiest mid-afternoon


def fill_week(store: Store, now: float) -> dict:
    """Seven local days ending at `now`; returns what was planted, for assertions."""
    rng = random.Random(7)
    first = datetime.fromtimestamp(now, TZ).date().toordinal() - 6
    start = datetime.fromordinal(first).replace(tzinfo=TZ).timestamp()
    samples, audit = [], []
    spent_today, day_seen = 0.0, None
    day_spend: dict[int, float] = {}
    t = start
    while t <= now:
        local = datetime.fromtimestamp(t, TZ)
        day = local.date().toordinal() - first
        if day != day_seen:
            spent_today, day_seen = 0.0, day
        load = _diurnal(t)
        slow = day == SLOW_DAY and 13 <= local.hour < 17
        openai = (620 if slow else 180 + 60 * load) + rng.gauss(0, 10)
        samples += [
            (t, "backend", "intent_routing_latency_p95", 22 + 10 * load + rng.gauss(0, 2), 0),
            (t, "openai", "openai_response_latency_p95", openai, 1 if slow else 0),
            (t, "ollama", "local_ai_processing_time_p95", 1100 + 400 * load + rng.gauss(0, 40), 0),
            (t, "backend", "tool_execution_time_p95", 520 + rng.gauss(0, 30), 0),
            (t, "cost", "fast_share_percent", 64 + 4 * load + rng.gauss(0, 1), 0),
        ]
        per_step = (1.2 / 12 if day == BURN_DAY and 9 <= local.hour < 18 else 0.02 * load)
        spent_today += per_step
        day_spend[day] = spent_today
        samples.append((t, "cost", "daily_spent_usd", spent_today, 0))
        t += STEP_S
    slow_at = start + SLOW_DAY * 86400 + 13 * 3600 + 600
    burn_at = start + BURN_DAY * 86400 + 9 * 3600
    audit += [
        AuditRecord(slow_at, "agent", "alert.firing", "openai_response_latency_p95", "warning",
                    {"summary": "Fast path response latency p95 620 ms"}),
        AuditRecord(slow_at + 4 * 3600, "agent", "alert.resolved",
                    "openai_response_latency_p95", "warning", {}),
        AuditRecord(burn_at + 3 * 3600, "agent", "alert.firing", "cost_daily_budget", "warning",
                    {"summary": "daily budget 10.00 USD: 8.00 spent, 80 %"}),
        AuditRecord(burn_at + 4 * 3600, "agent", "alert.firing", "cost_hourly_budget",
                    "critical", {"summary": "hourly budget 2.00 USD: 2.00 spent, 100 %"}),
    ]
    store.commit_cycle(now, samples=samples, audit=audit)
    store.maintain(now, retention_s=8 * 86400, raw_keep_s=3600)
    return {"start": start, "day_spend": day_spend, "samples": len(samples)}
