"""The `agent_storage` alert: commits to state.db are failing (disk full, damaged pages).

It cannot travel like the other alerts (through the outbox, which lives in the failing
file), so the runtime hands its notices straight to the notifiers that still work
(the log notifier at least). Once commits succeed again it resolves, and its episode
(state row and `alert.firing` / `alert.resolved` audit records) is written with the
next cycle, like every other alert. The lifecycle here is pure: failures and
successes with their time in, events and rows out.

It is the one alert outside the runtime's copy-on-write batch (agent.runtime): every
other alert is shown and told only once its commit succeeded, but this one exists to
say that commits fail, so it must move, be shown and be told exactly when they do.
Waiting for a commit would hide it for the whole fault.

An agent restarted while the fault lasts (kill -9, a crash) continues the episode it
announced instead of announcing a second one: its start is kept in a small file beside
the state file (`state.db.storage-alert`, outside SQLite), read at start (`resume`) and
removed once the episode is resolved and stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from vocab.model import Status
from agent.store.rows import AuditRecord
from alerts.codec import state_to_dict
from alerts.lifecycle import AlertEvent, AlertState, EventKind, Phase, transition
from alerts.rule import AlertRule

STORAGE_ALERT = "agent_storage"
RULE = AlertRule(name=STORAGE_ALERT, labels={"component": "agent", "service": "alice"},
                 success_threshold=1, flap_window_s=0)


@dataclass
class StorageHealth:
    """Commit outcomes of one agent run: the failure count, the current problem, and
    the `agent_storage` alert's state."""

    failures_total: int = 0
    problem: str | None = None  # why the last commit failed; None once one succeeds
    failing_since: float | None = None
    state: AlertState | None = None
    unsaved: list[AlertEvent] = field(default_factory=list)  # the episode, for the store

    def failed(self, now: float, reason: str) -> list[AlertEvent]:
        """A commit failed: count it and move the alert (CRITICAL)."""
        self.failures_total += 1
        if self.problem is None:
            self.failing_since = now
        self.problem = reason
        return self._move(now, Status.CRITICAL,
                          f"agent storage: commits to the state file fail since "
                          f"{self.failures_total} attempt(s): {reason}")

    def succeeded(self, now: float) -> list[AlertEvent]:
        """A commit went through: the problem is over (events only if it was firing)."""
        if self.problem is None and self.state is None:
            return []
        self.problem = self.failing_since = None
        if self.state is None or self.state.phase not in (Phase.PENDING, Phase.FIRING):
            return []
        return self._move(now, Status.OK, "agent storage: commits succeed again")

    def resume(self, started_at: float, failures: int) -> None:
        """Continue an episode a previous run announced (its start from the side file)."""
        self.state, events = transition(None, Status.CRITICAL, float(failures), RULE,
                                        started_at)
        self.failures_total = failures
        self.unsaved.extend(  # for the audit trail, once the store answers
            replace(e, summary="agent storage: commits to the state file failed (announced "
                               "before a restart) [firing]")
            for e in events if e.kind is EventKind.FIRING)

    def _move(self, now: float, status: Status, what: str) -> list[AlertEvent]:
        self.state, events = transition(self.state, status, float(self.failures_total),
                                        RULE, now)
        events = [replace(e, summary=f"{what} [{e.kind.value}]") for e in events]
        self.unsaved.extend(e for e in events if e.kind in (EventKind.FIRING,
                                                            EventKind.RESOLVED))
        return events

    @property
    def firing(self) -> bool:
        return self.state is not None and self.state.phase is Phase.FIRING

    def to_store(self) -> tuple[list[tuple[str, str, dict, dict[str, Any]]],
                                list[AuditRecord]]:
        """The alert's row and the audit records of its transitions so far (written by
        the runtime with a commit that succeeds; then `saved()`)."""
        if self.state is None or not self.unsaved:
            return [], []
        row = (RULE.fingerprint, STORAGE_ALERT, dict(RULE.labels),
               {"state": state_to_dict(self.state), "tracked": None})
        audit = [AuditRecord(e.at, "agent", f"alert.{e.kind.value}", STORAGE_ALERT, e.severity,
                             {"summary": e.summary, "value": e.value,
                              "started_at": e.started_at}) for e in self.unsaved]
        return [row], audit

    def saved(self, count: int) -> None:
        del self.unsaved[:count]
