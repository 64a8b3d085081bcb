"""Remediation planning, pure: (alert signals, playbooks, ledger, now) -> decisions + new ledger.

The "plan" step of a cycle for actions. Nothing here does I/O or reads a clock.

Safety rails (the Kubernetes crash-loop pattern, issue 5):
- cooldown with backoff: after a run, the playbook waits `backoff_s` (10 s first,
  doubling per run up to 300 s) before it may run again; the backoff resets to the
  first step once its trigger has been clear for `healthy_reset_s` (600 s).
- limit: at most `limit` (3) automatic runs of playbooks with the same target inside
  `window_s` (1800 s). A trigger that fires again when the limit is used up suspends
  the playbook (GIVE_UP): it stays suspended, whatever happens, until `resume`.
- one at a time: no run or revert is planned while another is running.
- dry-run mode records a plan once per trigger episode (rising edge); execute mode
  runs while the trigger fires and the rails allow; a playbook with
  `revert_on_resolve` that ran successfully is reverted when its trigger clears.
- conflicts: playbooks that undo each other (`conflicts_with`, `precedence`) never both
  run: the lower one is held while the other is triggered, running or applied, and no
  revert of one runs while the other is running or applied.
- inhibited: a trigger alert that follows from another breaching alert starts nothing,
  and a playbook under a breaching dependency (`inhibited_by`) is held.
- not applicable: a playbook that `remediate verify` found cannot work on this
  deployment (`Spec.not_applicable` holds why) is never run or reverted automatically
  (HOLD with the reason); dry-run mode still records its plan, saying so.
  `applicability(checks)` turns the per-step checks into that verdict.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

Mode = Literal["off", "dry-run", "execute"]


@dataclass(frozen=True)
class Policy:
    cooldown_s: float = 10.0
    cooldown_max_s: float = 300.0
    healthy_reset_s: float = 600.0
    limit: int = 3
    window_s: float = 1800.0


@dataclass(frozen=True)
class Signal:
    """One alert as the planner sees it."""

    alert: str
    state: str  # "firing", "pending", "resolved", "inactive"
    severity: str | None = None
    inhibited: bool = False
    """It follows from another breaching alert (alerts.inhibit): it triggers nothing."""


@dataclass(frozen=True)
class Spec:
    """What the planner needs of one playbook (see `rules.playbooks.Playbook`)."""

    name: str
    target: str
    alerts: tuple[str, ...]
    severities: tuple[str, ...] = ("warning", "critical")
    revert_on_resolve: bool = False
    mode: Mode = "off"
    policy: Policy = Policy()
    not_applicable: str = ""
    """Why the playbook cannot work here (from verification); empty: applicable, or not
    known (a deployment that could not be reached is not a reason to hold)."""
    conflicts_with: tuple[str, ...] = ()
    """Playbooks that must never run with this one (either side may declare it)."""
    precedence: int = 0
    """Higher wins a conflict; a tie goes to the one listed first."""
    inhibited_by: str = ""
    """A breaching alert under which this playbook must not run (alerts.inhibit)."""


Verdict = Literal["applicable", "not_applicable", "unknown"]
CheckStatus = Literal["ok", "not_applicable", "unknown"]


@dataclass(frozen=True)
class StepCheck:
    """One step of a playbook checked against the deployment (`remediate verify`)."""

    phase: Literal["steps", "revert"]
    index: int
    """0-based position in its phase."""
    title: str
    status: CheckStatus
    detail: str
    """What was checked and found, e.g. `GET /api/admin/config: HTTP 404 (not served)`."""
    optional: bool = False

    @property
    def where(self) -> str:
        return f"{'revert step' if self.phase == 'revert' else 'step'} {self.index + 1}"


def applicability(checks: Sequence[StepCheck]) -> tuple[Verdict, str]:
    """The playbook's verdict from its step checks, and the reason: a required step
    (steps, then revert steps) that cannot work makes it not applicable (the reason names
    the first and counts the others); else one that could not be checked makes it
    unknown. Optional steps never decide."""
    required = [c for c in checks if not c.optional]
    verdicts: tuple[tuple[Verdict, str], ...] = (("not_applicable", "not applicable"),
                                                 ("unknown", "cannot verify now"))
    for verdict, prefix in verdicts:
        bad = [c for c in required if c.status == verdict]
        if bad:
            more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
            return verdict, f"{prefix}: {bad[0].where} ({bad[0].title}): {bad[0].detail}{more}"
    return "applicable", ""


@dataclass(frozen=True)
class Ledger:
    """Counters of one playbook; persisted, so they survive restarts."""

    runs: tuple[float, ...] = ()
    """Start times of automatic runs inside the window."""
    backoff_s: float = 0.0
    """The cooldown the last run set (0: no run since the last reset)."""
    next_allowed_at: float = 0.0
    suspended: bool = False
    suspended_at: float | None = None
    trigger_active: bool = False
    clear_since: float | None = None
    applied: bool = False
    """Ran successfully and not reverted yet (for revert_on_resolve)."""
    running: str | None = None
    """"run" or "revert" while one is in flight."""

    def runs_in_window(self, now: float, window_s: float) -> int:
        """How many of `runs` started less than `window_s` before `now`."""
        return sum(1 for t in self.runs if now - t < window_s)

    def cooldown_left_s(self, now: float) -> float:
        return max(0.0, self.next_allowed_at - now)

    def to_json(self) -> dict[str, Any]:
        return {"runs": list(self.runs), "backoff_s": self.backoff_s,
                "next_allowed_at": self.next_allowed_at, "suspended": self.suspended,
                "suspended_at": self.suspended_at, "trigger_active": self.trigger_active,
                "clear_since": self.clear_since, "applied": self.applied,
                "running": self.running}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Ledger:
        return cls(runs=tuple(float(t) for t in data.get("runs", ())),
                   backoff_s=float(data.get("backoff_s", 0.0)),
                   next_allowed_at=float(data.get("next_allowed_at", 0.0)),
                   suspended=bool(data.get("suspended", False)),
                   suspended_at=data.get("suspended_at"),
                   trigger_active=bool(data.get("trigger_active", False)),
                   clear_since=data.get("clear_since"), applied=bool(data.get("applied", False)),
                   running=data.get("running"))


class Kind(enum.Enum):
    RUN = "run"
    DRY_RUN = "dry-run"
    REVERT = "revert"
    GIVE_UP = "give-up"
    HOLD = "hold"
    """Triggered but held back (cooldown, busy, suspended); `reason` says why."""


@dataclass(frozen=True)
class Decision:
    playbook: str
    kind: Kind
    reason: str
    alerts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Planning:
    decisions: tuple[Decision, ...]
    ledgers: Mapping[str, Ledger] = field(default_factory=dict)


def firing_alerts(spec: Spec, signals: Iterable[Signal]) -> tuple[str, ...]:
    """The trigger alerts of `spec` that are firing with an accepted severity."""
    return tuple(sorted({s.alert for s in signals if s.alert in spec.alerts
                         and s.state == "firing" and not s.inhibited
                         and (s.severity or "warning") in spec.severities}))


def _conflicting(specs: Sequence[Spec]) -> dict[str, set[str]]:
    """name -> the playbooks it conflicts with (declared on either side)."""
    names = {s.name for s in specs}
    out: dict[str, set[str]] = {s.name: set() for s in specs}
    for s in specs:
        for other in s.conflicts_with:
            if other in names and other != s.name:
                out[s.name].add(other)
                out[other].add(s.name)
    return out


def _holds_revert(spec: Spec, specs: Sequence[Spec], triggered: Mapping[str, bool],
                  ledgers: Mapping[str, Ledger]) -> str | None:
    """A conflicting playbook running, applied or triggered: undoing this one now would
    undo it too (cost-critical's revert restores the routing local-ai-failure changes),
    so the revert waits for it; an applied one only holds a revert it outranks (the
    winner's revert never waits for the loser's: no deadlock)."""
    order = {s.name: i for i, s in enumerate(specs)}
    by_name = {s.name: s for s in specs}
    for other in sorted(_conflicting(specs).get(spec.name, ())):
        led = ledgers.get(other, Ledger())
        if led.running or triggered.get(other) or \
                (led.applied and _outranks(by_name[other], spec, order)):
            return other
    return None


def _outranks(a: Spec, b: Spec, order: Mapping[str, int]) -> bool:
    return (a.precedence, -order[a.name]) > (b.precedence, -order[b.name])


def _blocker(spec: Spec, specs: Sequence[Spec], triggered: Mapping[str, bool],
             ledgers: Mapping[str, Ledger]) -> str | None:
    """The conflicting playbook that keeps `spec` from running now: one that is
    running or still applied (whoever it is), or one triggered that outranks it."""
    order = {s.name: i for i, s in enumerate(specs)}
    by_name = {s.name: s for s in specs}
    for other in sorted(_conflicting(specs).get(spec.name, ())):
        led = ledgers.get(other, Ledger())
        if led.running:
            return f"{other} is running (it conflicts with this one)"
        if triggered.get(other) and _outranks(by_name[other], spec, order):
            return f"{other} takes precedence (they conflict)"
        if led.applied and not _outranks(spec, by_name[other], order):
            return f"{other} is applied (they conflict; it takes precedence)"
    return None


def next_backoff(current: float, policy: Policy) -> float:
    """The cooldown after one more run: first step, then doubling, capped."""
    if current <= 0:
        return min(policy.cooldown_s, policy.cooldown_max_s)
    return min(current * 2, policy.cooldown_max_s)


def _observe(ledger: Ledger, active: bool, spec: Spec, now: float) -> Ledger:
    """Prune the window, follow the trigger, reset the backoff after a healthy spell."""
    runs = tuple(t for t in ledger.runs if now - t < spec.policy.window_s)
    clear_since = None if active else (ledger.clear_since if ledger.clear_since is not None
                                       else now)
    backoff = ledger.backoff_s
    if clear_since is not None and now - clear_since >= spec.policy.healthy_reset_s:
        backoff = 0.0
    return replace(ledger, runs=runs, clear_since=clear_since, backoff_s=backoff)


def plan(signals: Sequence[Signal], specs: Sequence[Spec], ledgers: Mapping[str, Ledger],
         now: float) -> Planning:
    """Decide what each playbook does now; return the decisions and every ledger after them.

    Decisions that start something (RUN, REVERT) mark the ledger `running`; call
    `finish` when it ends. HOLD decisions are informational (nothing changes).
    """
    out = dict(ledgers)
    decisions: list[Decision] = []
    busy = any(led.running for led in out.values())
    triggered = {s.name: bool(firing_alerts(s, signals)) and not s.inhibited_by
                 for s in specs}
    for spec in specs:
        fired = firing_alerts(spec, signals)
        active = bool(fired)
        if active and spec.inhibited_by:
            if spec.mode == "execute":
                decisions.append(Decision(spec.name, Kind.HOLD,
                                          f"inhibited: {spec.inhibited_by} breaches", fired))
            fired, active = (), False
        prev = out.get(spec.name, Ledger())
        led = _observe(prev, active, spec, now)
        rising = active and not prev.trigger_active
        led = replace(led, trigger_active=active)
        if spec.mode == "off":
            out[spec.name] = led
            continue
        if spec.mode == "dry-run":
            if rising:
                why = "trigger fired" + (f" ({spec.not_applicable})" if spec.not_applicable
                                         else "")
                decisions.append(Decision(spec.name, Kind.DRY_RUN, why, fired))
            out[spec.name] = led
            continue
        if spec.not_applicable:
            if active:
                decisions.append(Decision(spec.name, Kind.HOLD, spec.not_applicable, fired))
            out[spec.name] = led
            continue
        blocker = _blocker(spec, specs, triggered, out) if active else None
        if active:
            used = len(led.runs) + sum(
                out.get(s.name, Ledger()).runs_in_window(now, spec.policy.window_s)
                for s in specs if s.target == spec.target and s.name != spec.name)
            if blocker is not None:
                decisions.append(Decision(spec.name, Kind.HOLD, blocker, fired))
            elif led.suspended:
                decisions.append(Decision(spec.name, Kind.HOLD, "suspended", fired))
            elif led.running or busy:
                decisions.append(Decision(spec.name, Kind.HOLD, "another remediation is running",
                                          fired))
            elif now < led.next_allowed_at:
                decisions.append(Decision(
                    spec.name, Kind.HOLD, f"cooldown for {led.next_allowed_at - now:.0f} s", fired))
            elif used >= spec.policy.limit:
                led = replace(led, suspended=True, suspended_at=now)
                decisions.append(Decision(
                    spec.name, Kind.GIVE_UP,
                    f"{used} runs on {spec.target} in {spec.policy.window_s:.0f} s "
                    f"(limit {spec.policy.limit})", fired))
            else:
                led = replace(led, runs=led.runs + (now,), running="run",
                              backoff_s=next_backoff(led.backoff_s, spec.policy))
                busy = True
                decisions.append(Decision(spec.name, Kind.RUN, "trigger firing", fired))
        elif led.applied and spec.revert_on_resolve and not led.running and not busy \
                and not led.suspended and _holds_revert(spec, specs, triggered, out) is None:
            led = replace(led, running="revert")
            busy = True
            decisions.append(Decision(spec.name, Kind.REVERT, "trigger resolved"))
        out[spec.name] = led
    return Planning(tuple(decisions), out)


def finish(ledger: Ledger, ok: bool, now: float, *, reverted: bool = False,
           revert_on_resolve: bool = False) -> Ledger:
    """The ledger after a run (or a revert) ended at `now`.

    A run's cooldown starts when it ends. A successful run of a `revert_on_resolve`
    playbook is `applied` until reverted; a failed run was reverted by its own
    revert steps, so nothing stays applied.
    """
    if ledger.running == "revert" or reverted:
        return replace(ledger, running=None, applied=False if ok else ledger.applied)
    return replace(ledger, running=None, applied=ok and revert_on_resolve,
                   next_allowed_at=now + ledger.backoff_s)


def resume(ledger: Ledger) -> Ledger:
    """An operator's `remediate resume`: unsuspend and start the counters afresh."""
    return replace(ledger, suspended=False, suspended_at=None, runs=(), backoff_s=0.0,
                   next_allowed_at=0.0)


def interrupted(ledger: Ledger) -> Ledger:
    """After a crash: nothing can still be running."""
    return replace(ledger, running=None)
