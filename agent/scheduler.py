"""Probe jobs on apscheduler: one job per component, start-to-start, never overlapping.

`max_instances=1` + `coalesce` mean a slow target skips runs instead of piling
them up; each skip is counted (like Prometheus's missed-iterations counter) and
each start's delay behind its scheduled time is recorded as scheduler lag.
"""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta, timezone

from typing import Callable

from apscheduler.events import (EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, EVENT_JOB_SUBMITTED,
                                JobExecutionEvent, JobSubmissionEvent)
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from agent.runtime import Runtime

PROBE_PREFIX = "probe:"
MAINTENANCE_JOB = "maintenance"
MAINTENANCE_INTERVAL_S = 600
CHECKLIST_RUN_JOB = "checklist:daily"
CHECKLIST_TICK_JOB = "checklist:tick"


def build(runtime: Runtime) -> AsyncIOScheduler:
    agent = runtime.config.agent
    scheduler = AsyncIOScheduler(timezone=timezone.utc, job_defaults={
        "max_instances": 1, "coalesce": True, "misfire_grace_time": agent.misfire_grace_s})

    def on_event(event) -> None:
        job = event.job_id.removeprefix(PROBE_PREFIX)
        if event.code == EVENT_JOB_SUBMITTED and isinstance(event, JobSubmissionEvent):
            if event.scheduled_run_times:
                planned = event.scheduled_run_times[-1].timestamp()
                runtime.record_lag(job, time.time() - planned)
        elif event.code in (EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED):
            runtime.record_missed(job)

    scheduler.add_listener(on_event, EVENT_JOB_SUBMITTED | EVENT_JOB_MAX_INSTANCES |
                           EVENT_JOB_MISSED)
    schedule_probes(scheduler, runtime)
    scheduler.add_job(runtime.maintain, IntervalTrigger(seconds=MAINTENANCE_INTERVAL_S),
                      id=MAINTENANCE_JOB, next_run_time=_now() + timedelta(seconds=30))
    schedule_checklists(scheduler, runtime)
    return scheduler


def schedule_checklists(scheduler: AsyncIOScheduler, runtime: Runtime) -> None:
    """(Re)create the daily checklist's cron job (checklists.daily_at, local time) and
    the tick that re-reads answers and moves the checklist_overdue alert."""
    from agent.checklists.controller import TICK_S

    controller = runtime.checklists
    if not controller.enabled:  # no `checklists:` section (any more)
        for job_id in (CHECKLIST_RUN_JOB, CHECKLIST_TICK_JOB):
            if scheduler.get_job(job_id) is not None:
                scheduler.remove_job(job_id)
        if scheduler.running:
            scheduler.add_job(controller.tick, id=CHECKLIST_TICK_JOB + ":off")  # resolve, clear
        return
    hour, minute = (int(x) for x in controller.settings.daily_at.split(":"))
    scheduler.add_job(controller.run_daily, CronTrigger(hour=hour, minute=minute,
                                                        timezone=controller.tz),
                      id=CHECKLIST_RUN_JOB, replace_existing=True, misfire_grace_time=3600)
    scheduler.add_job(controller.tick, IntervalTrigger(seconds=TICK_S), id=CHECKLIST_TICK_JOB,
                      replace_existing=True, next_run_time=_now() + timedelta(seconds=TICK_S))


def schedule_probes(scheduler: AsyncIOScheduler, runtime: Runtime, *, keep_phase: bool = False,
                    rand: Callable[[], float] = random.random) -> None:
    """(Re)create one job per probe. At start the first runs start now, spread by jitter.
    On a reload (`keep_phase`) a job whose interval and jitter did not change is left
    as it is (same phase), one whose interval changed keeps its next run when that
    comes within the new interval (else is jittered into it), a new one runs at a
    random point of its first interval, and a removed one goes: a SIGHUP never fires
    every probe at once."""
    jitter = runtime.config.agent.jitter_s
    now = _now()
    existing = {job.id: job for job in scheduler.get_jobs() if job.id.startswith(PROBE_PREFIX)}
    for job_id, job in existing.items():
        if job_id.removeprefix(PROBE_PREFIX) not in runtime.jobs or not keep_phase:
            job.remove()
    for name in runtime.jobs:
        interval = runtime.interval(name)
        trigger = IntervalTrigger(seconds=interval, jitter=min(jitter, interval / 4) or None)
        first = now
        old = existing.get(PROBE_PREFIX + name) if keep_phase else None
        if old is not None:
            same = (old.trigger.interval == trigger.interval
                    and old.trigger.jitter == trigger.jitter)
            if same:
                continue  # untouched: its phase is kept
            planned = old.next_run_time
            old.remove()
            first = planned if planned is not None and \
                planned <= now + timedelta(seconds=interval) else \
                now + timedelta(seconds=interval * rand())
        elif keep_phase:
            first = now + timedelta(seconds=interval * rand())
        scheduler.add_job(runtime.run_job, trigger, args=[name], id=PROBE_PREFIX + name,
                          name=name, next_run_time=first)


def _now() -> datetime:
    return datetime.now(timezone.utc)


__all__ = ["build", "schedule_probes", "JobExecutionEvent"]
