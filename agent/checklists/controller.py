"""The checklists inside the agent: the morning automatic run, the deadline alert, the
snapshot section and the answers given through the API.

The scheduler calls `run_daily()` on an apscheduler CronTrigger (`checklists.daily_at`,
local time) and `tick()` every `TICK_S`: the tick re-reads today's and this week's run
(the CLI may answer in another process), catches up a morning run the agent missed
(started after `daily_at`; once every probe has reported), and moves the
`checklist_overdue` alert (warning) with `rules.checklists.overdue`. Its events go
through the agent's normal lifecycle, outbox and notifiers: the runtime collects them
with `events()` on its next job.
The alert's state and notification record are kept in state.db's alert_states, so a
restart neither loses nor re-announces it.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from agent.checklists import runner
from agent.checklists import store as cstore
from alerts.lifecycle import AlertEvent, AlertState, transition
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
    def __init__(self, runtime) -> None:
        self._rt = runtime
        self.lists: dict = {}
        self.tz = None
        self.error: str | None = None
        self.views: dict[str, Any] = {}
        self.runs: dict = {}
        self.state: AlertState | None = None
        self.last_overdue: Overdue | None = None
        self._events: list[AlertEvent] = []
        self._running = False
        self._caught_up: str | None = None
        self._restored = False
        self._saved: tuple | None = None
        self.rule = AlertRule(name=OVERDUE, labels={"component": "checklists",
                                                    "checklist": "daily", "service": "alice"},
                              success_threshold=1, flap_window_s=0)

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

            now = self._rt._clock()
            report = evaluate(self._rt.results, self._rt.rows, now, COMPONENT_ORDER) \
                if self._rt.results else None
            run = await runner.run_automatic(self.config, self._rt._store, self.lists["daily"],
                                             now, report, io=self._rt.db)
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
        now = self._rt._clock()
        if not self._restored:
            await self._restore(now)
        if not self.enabled:  # not configured (or removed by a reload): nothing shown
            if self.state is not None and self.state.phase.value in ("pending", "firing"):
                self._move_alert(now, Overdue(False, (), now))
                await self._save(now)
            if self.views or self._events:
                self.views = {}
                self._rt._publish(now)
            return
        for kind in KINDS:
            self.runs[kind] = await self._rt.db(cstore.load_run, self._rt._store, kind,
                                                period_of(kind, now, self.tz))
        settings = self.settings
        daily = self.lists["daily"]
        probed = bool(self._rt.jobs) and set(self._rt.jobs) <= set(self._rt.results)
        today = period_of("daily", now, self.tz)
        if catch_up and probed and not self._running and self._caught_up != today and \
                needs_auto_run(now, settings.daily_at, self.tz, self.runs["daily"], daily):
            self._caught_up = today
            await self.run_daily()
            return
        self.last_overdue = overdue(now, settings.deadline, self.tz, daily, self.runs["daily"])
        if self.last_overdue.overdue or self.state is not None:
            self._move_alert(now, self.last_overdue)
        await self._save(now)
        views = {kind: runner.view(self.lists[kind], self.runs[kind],
                                   period_of(kind, now, self.tz)) for kind in KINDS}
        if views != self.views or self._events:
            self.views = views
            self._rt._publish(now)

    def _move_alert(self, now: float, due: Overdue) -> None:
        status = due.status
        self.state, evs = transition(self.state, status, float(len(due.open_items)),
                                     self.rule, now)
        what = self._describe(due, detail=True)
        self._events.extend(replace(e, summary=f"{what} [{e.kind.value}]") for e in evs)

    async def _restore(self, now: float) -> None:
        """The alert as it was before a restart (firing keeps its start), and whether it
        was notified (so it is not announced twice and its resolution is)."""
        from alerts.codec import state_from_dict
        from alerts.dispatch import Tracked
        from alerts.lifecycle import restore

        self._restored = True
        store = self._rt._store
        rows = await self._rt.db(store.load_alert_states)
        row = rows.get(self.rule.fingerprint)
        if row is None or not isinstance(row.state, dict) or "state" not in row.state:
            return
        last_seen = await self._rt.db(store.last_seen)
        self.state = restore(state_from_dict(row.state["state"]), now, last_seen=last_seen,
                             downtime_tolerance_s=self.config.agent.outage_tolerance_s)
        if row.state.get("tracked"):
            self._rt.ledger[self.rule.fingerprint] = Tracked.from_dict(row.state["tracked"])
        self._saved = self._row()

    def _row(self) -> tuple | None:
        from alerts.codec import state_to_dict

        if self.state is None:
            return None
        tracked = self._rt.ledger.get(self.rule.fingerprint)
        return (self.rule.fingerprint, OVERDUE, dict(self.rule.labels),
                {"state": state_to_dict(self.state),
                 "tracked": tracked.to_dict() if tracked is not None else None})

    def alert_rows(self) -> list[tuple]:
        """The overdue alert's row, committed by the runtime with the cycle that plans
        its notices (so the state and its notification record never part)."""
        row = self._row()
        return [row] if row is not None else []

    async def _save(self, now: float) -> None:
        """Keep the alert's state and notification record in state.db when they change
        (checked every tick: a notice planned since shows up in the runtime's ledger);
        not while its events wait for the runtime's commit, nor when the store fails
        (the runtime's commit keeps the row and retries it)."""
        row = self._row()
        if row is not None and row != self._saved and not self._events:
            try:
                await self._rt.db(cstore.save_alert_state, self._rt._store, row, now)
            except Exception as exc:
                log.warning("checklist alert state not saved yet: %s", exc)
                return
            self._saved = row

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

    def events(self) -> list[AlertEvent]:
        """Alert events since the last call (the runtime plans and commits them)."""
        events, self._events = self._events, []
        return events

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
        await runner.answer(self.config, self._rt._store, checklist, item_id, result, note, by,
                            self._rt._clock(), io=self._rt.db)
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
