"""The checklists inside the agent: the morning automatic run, the deadline alert, the
snapshot section and the answers given through the API.

The scheduler calls `run_daily()` on an apscheduler CronTrigger (`checklists.daily_at`,
local time) and `tick()` every `TICK_S`: the tick re-reads today's and this week's run
(the CLI may answer in another process), catches up a morning run the agent missed
(started after `daily_at`; once every probe has reported), and moves the
`checklist_overdue` alert (warning) with `rules.checklists.overdue`: each tick submits
a `Finding` through its `agent.cycle_port.CyclePort`, and the runtime's next job moves
it in its one transition step, with the agent's normal lifecycle, outbox and notifiers.
The runtime keeps the alert's state and notification record in state.db's
alert_states (committed with the cycle), so a restart neither loses nor re-announces
it; this controller shows the committed state (`port.alert_state`).
"""

from __future__ import annotations

import logging
from typing import Any

from agent.checklists import runner
from agent.checklists import store as cstore
from agent.cycle_port import CyclePort, Finding
from alerts.lifecycle import AlertState
from alerts.rule import AlertRule
from rules.checklists import (
    KINDS,
    ChecklistError,
    Overdue,
    default_checklists,
    needs_auto_run,
    next_run_at,
    overdue,
    period_of,
)

log = logging.getLogger("alice_ops.checklists")
OVERDUE = "checklist_overdue"
TICK_S = 15.0


class ChecklistController:
    def __init__(self, port: CyclePort) -> None:
        self._port = port
        self.lists: dict = {}
        self.tz = None
        self.error: str | None = None
        self.views: dict[str, Any] = {}
        self.runs: dict = {}
        self.last_overdue: Overdue | None = None
        self._running = False
        self._caught_up: str | None = None
        self.rule = AlertRule(name=OVERDUE, labels={"component": "checklists",
                                                    "checklist": "daily", "service": "alice"},
                              success_threshold=1, flap_window_s=0)

    @property
    def state(self) -> AlertState | None:
        """The overdue alert as committed (the runtime owns and stores it)."""
        return self._port.alert_state(self.rule)

    def alert_rules(self) -> list[AlertRule]:
        """The alerts this controller raises (the runtime restores and stores them)."""
        return [self.rule]

    def configure(self, config) -> None:
        self.config = config
        self.enabled = config.checklists is not None
        self.settings = runner.settings_of(config)
        self.tz = runner.time_zone(config)
        try:
            self.lists = runner.checklists_of(config)
            self.error = None
        except ChecklistError as exc:  # keep the shipped lists; say why
            self.lists, self.error = default_checklists(), str(exc)
            log.error("checklists: %s (using the shipped checklists)", exc)

    # -- jobs ---------------------------------------------------------------------------

    async def run_daily(self) -> None:
        """The morning run: automatic items of the daily checklist, judged on the agent's
        latest probe results (no extra probing)."""
        if self._running or not self.enabled:
            return
        self._running = True
        try:
            from agent.check import COMPONENT_ORDER
            from rules.evaluate import evaluate

            port = self._port
            now = port.now()
            report = evaluate(port.results, port.rows, now, COMPONENT_ORDER) \
                if port.results else None
            run = await runner.run_automatic(self.config, port.store, self.lists["daily"],
                                             now, report, io=port.io)
            log.info("daily checklist %s: automatic items done (%s)", run.period,
                     ", ".join(f"{k}={a.result}" for k, a in sorted(run.answers.items())
                               if a.source == "auto"))
        except Exception:
            log.exception("daily checklist run failed")
        finally:
            self._running = False
        await self.tick(catch_up=False)

    async def tick(self, catch_up: bool = True) -> None:
        """Re-read the runs, catch up a missed morning run (once a day, so a run that
        keeps failing is not retried every tick), move the overdue alert."""
        port = self._port
        now = port.now()
        if not self.enabled:  # not configured (or removed by a reload): nothing shown
            self._move_alert(now, Overdue(False, (), now))  # resolves one that was raised
            if self.views:
                self.views = {}
                port.publish(now)
            return
        for kind in KINDS:
            self.runs[kind] = await port.db(cstore.load_run, kind, period_of(kind, now, self.tz))
        settings = self.settings
        daily = self.lists["daily"]
        probed = bool(port.jobs) and set(port.jobs) <= set(port.results)
        today = period_of("daily", now, self.tz)
        if catch_up and probed and not self._running and self._caught_up != today and \
                needs_auto_run(now, settings.daily_at, self.tz, self.runs["daily"], daily):
            self._caught_up = today
            await self.run_daily()
            return
        self.last_overdue = overdue(now, settings.deadline, self.tz, daily, self.runs["daily"])
        self._move_alert(now, self.last_overdue)
        views = {kind: runner.view(self.lists[kind], self.runs[kind],
                                   period_of(kind, now, self.tz)) for kind in KINDS}
        if views != self.views:
            self.views = views
            port.publish(now)

    def _move_alert(self, now: float, due: Overdue) -> None:
        """Submit the overdue alert's evaluation (the runtime's next job moves it; an
        OK one moves it only once it was raised)."""
        self._port.submit(Finding(self.rule, due.status, float(len(due.open_items)),
                                  self._describe(due, detail=True), now))

    def _describe(self, due: Overdue | None, detail: bool = False) -> str:
        deadline = self.settings.deadline
        if not self.enabled:
            return "daily checklist no longer watched (no checklists: section in the config)"
        if due is None or not due.open_items:
            return "daily checklist completed"
        if not due.overdue:  # a new day (or the agent disabled): not due yet
            return f"daily checklist no longer overdue: today's is due by {deadline}"
        text = f"daily checklist not completed by {deadline}: {len(due.open_items)} item(s) open"
        if detail:
            text += (f" ({', '.join(due.open_items[:5])}"
                     f"{', ...' if len(due.open_items) > 5 else ''})")
        return text

    # -- API ----------------------------------------------------------------------------

    async def answer(self, kind: str, item_id: str, result: str, note: str,
                     by: str) -> dict[str, Any]:
        if not self.enabled:
            raise KeyError("checklists are not configured in this agent (add a "
                           "`checklists:` section to its config)")
        if kind not in self.lists:
            raise KeyError(f"no checklist {kind!r} (daily or weekly)")
        checklist = self.lists[kind]
        if checklist.item(item_id) is None:
            raise KeyError(f"no item {item_id!r} in the {kind} checklist")
        result = {"yes": "pass", "y": "pass", "no": "fail", "n": "fail", "skip": "skipped"
                  }.get(result, result)
        await runner.answer(self.config, self._port.store, checklist, item_id, result, note,
                            by, self._port.now(), io=self._port.io)
        await self.tick()
        return self.views[kind]

    # -- snapshot -----------------------------------------------------------------------

    def section(self, now: float) -> dict[str, Any]:
        """The snapshot's `checklists` section (also GET /api/v1/checklists)::

            {"daily": <run view>, "weekly": <run view>,     # agent.checklists.runner.view
             "schedule": {"daily_at": "08:00", "deadline": "10:00",
                          "timezone": "Europe/Stockholm",
                          "next_run_at": unix, "deadline_at": unix,   # today's deadline
                          "overdue": false, "open": ["hud_display", ...]},
             "error": null | "why the checklists.file was not used"}

        Before the first tick, `daily`/`weekly` are absent; without a `checklists:`
        section in the config the whole section is `{}`.
        """
        if not self.enabled:
            return {}
        settings = self.settings
        due = self.last_overdue
        return {**self.views,
                "schedule": {"daily_at": settings.daily_at, "deadline": settings.deadline,
                             "timezone": str(self.tz),
                             "next_run_at": next_run_at(now, settings.daily_at, self.tz),
                             "deadline_at": due.deadline_at if due else None,
                             "overdue": bool(due and due.overdue),
                             "open": list(due.open_items) if due else []},
                "error": self.error}

    def alert_views(self) -> tuple:
        from agent.snapshot import AlertView

        state = self.state
        if state is None or state.phase.value not in ("firing", "pending", "resolved"):
            return ()
        summary = self._describe(self.last_overdue)
        return (AlertView(name=OVERDUE, fingerprint=self.rule.fingerprint,
                          labels=dict(self.rule.labels), phase=state.phase.value,
                          severity=state.severity, started_at=state.active_since,
                          fired_at=state.fired_at, resolved_at=state.resolved_at,
                          value=state.value, summary=summary),)


__all__ = ["OVERDUE", "TICK_S", "ChecklistController"]
