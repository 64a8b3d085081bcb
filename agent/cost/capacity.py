"""Capacity figures (the I/O edge): host use from the host probe and psutil, sessions and
request rates from Prometheus, the spend projection; `rules.capacity.plan` judges them."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from agent.config import Config
from rules.capacity import CapacityPlan, Load, plan, plan_json


def _memory_total_gb() -> float | None:
    try:
        import psutil

        return psutil.virtual_memory().total / 1024 ** 3
    except Exception:  # psutil unavailable on this platform
        return None


def _per_day(spend) -> float | None:
    """The day's run rate: the last hour's burn x 24, else what today has cost so far."""
    if spend.burn_usd_per_h is not None:
        return spend.burn_usd_per_h * 24
    return spend.budget("daily").spent_usd


async def capacity_report(config: Config, now: float | None = None,
                          transport: httpx.AsyncBaseTransport | None = None
                          ) -> tuple[CapacityPlan, Load, dict[str, Any]]:
    """(plan, what was measured, the spend report's JSON)."""
    from agent.cost import cost_table, spend_report
    from agent.probes import host

    now = time.time() if now is None else now
    spend, host_result, mem_total = await asyncio.gather(
        spend_report(config, now, transport), host.probe(config.targets.host),
        asyncio.to_thread(_memory_total_gb))

    def reading(name: str) -> float | None:
        r = host_result.readings.get(name)
        return r.value if r is not None and r.known else None

    load = Load(sessions=spend.sessions, fast_per_s=spend.routing.fast_per_s,
                think_per_s=spend.routing.think_per_s, cpu_percent=reading("cpu_percent"),
                memory_percent=reading("memory_percent"), memory_total_gb=mem_total,
                disk_percent=reading("disk_percent"),
                gpu_memory_percent=reading("gpu_memory_percent"),
                gpu_util_percent=reading("gpu_util_percent"),
                spend_usd_per_day=_per_day(spend))
    table = cost_table(config)
    return plan(load, table.bands, table.limits), load, spend.to_json()


def capacity_json(p: CapacityPlan, load: Load, now: float) -> dict[str, Any]:
    """`alice-ops capacity --json`::

        {"status": "ok|warning|critical|unknown", "checked_at": ISO,
         "measured": {"sessions", "fast_per_s", "think_per_s", "cpu_percent",
                      "memory_percent", "memory_total_gb", "disk_percent",
                      "gpu_memory_percent", "gpu_util_percent", "spend_usd_per_day"},
         "band": {"name", "users_max", "gateway": [min, max|null], "backend": [...],
                  "local_ai_memory_gb", "openai_usd_per_day": [min, max|null]} | null,
         "next_band": {...} | null, "headroom_users": float|null,
         "headroom_percent": float|null, "requests_per_s": float|null,
         "load": "high|low|normal|unknown", "recommendation": "...",
         "findings": [{"what", "status", "detail"}]}
    """
    from dataclasses import asdict

    from agent.snapshot import iso

    measured = {k: (None if v is None else round(v, 3)) for k, v in asdict(load).items()}
    return {**plan_json(p), "checked_at": iso(now), "measured": measured}
