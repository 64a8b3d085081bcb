"""Remediation inside the agent: plan on every job, act in the background, publish a section.

Wired by `agent.runtime.Runtime` (its only caller): `evaluate(now)` runs after a job
has moved the alerts; it feeds every alert state to the pure planner
(`rules.remediation.plan`), starts runs and reverts as background tasks (never
awaited by the probe cycle; the cross-process lock keeps them one at a time),
records dry-runs, suspends playbooks that used up their limit, and submits the
`remediation_gave_up` findings (CRITICAL, label `playbook`) through its
`agent.cycle_port.CyclePort`: the runtime's step moves them in the same job, through
the agent's normal lifecycle, outbox and notifiers, until `remediate resume NAME`.

Copy-on-write like the runtime (agent.runtime's docstring): `decided` holds the
ledgers planning works on (committed plus pending), `ledgers` the committed ones that
the section shows; a change goes with the runtime's next commit and is swapped into
`ledgers` once that commit succeeded.

`section(now)` is the snapshot's `remediation` section (plain JSON), also served at
GET /api/v1/remediation and read by the dashboard's Remediation screen:

    {"read_only": bool, "running": "NAME" | null, "error": str | null,
     "playbooks": [{"name", "title", "guide", "target", "mode": "off|dry-run|execute",
                    "trigger": [alert names], "severity": ["warning", ...],
                    "state": "ready|cooldown|running|suspended|applied|triggered",
                    "trigger_active": bool, "suspended": bool, "suspended_at": ISO|null,
                    "cooldown_left_s": float, "backoff_s": float,
                    "runs_in_window": int, "limit": int, "window_s": float,
                    "steps": int, "revert_steps": int, "revert_on_resolve": bool,
                    "last_run": RUN | null,
                    "applicable": "applicable|not_applicable|unknown" | null,
                    "not_applicable_reason": str, "verified_at": ISO | null}],
     "history": [RUN, ...],            # newest first, at most 20
     "notices": [{"at": ISO, "severity", "message"}]}   # from notify steps, last 20

    RUN = {"id", "playbook", "kind": "run|revert|plan|dry-run|give-up",
           "actor", "started_at": ISO, "finished_at": ISO|null,
           "outcome": "started|ok|failed|reverted|revert_failed|refused|planned|
                       interrupted|suspended", "reason", "detail": {...}}
"""

from __future__ import annotations

import asyncio
import collections
import logging
from dataclasses import replace
from typing import Any

from vocab.model import Status
from agent.remediation import ledger as ops
from agent.remediation.render import playbooks_for, spec_of
from agent.remediation.runner import Runner, RunOutcome
from agent.remediation.verify import VerificationCache
from agent.snapshot import iso
from agent.cycle_port import CyclePort, Finding
from agent.store import AuditRecord, OutboxItem
from alerts.lifecycle import AlertState
from alerts.notifiers import outbox_entries
from alerts.notifiers.notice import Notice, dedupe_key
from alerts.rule import AlertRule
from rules.remediation import Kind, Ledger, Signal, finish, plan, resume

log = logging.getLogger("alice_ops.remediation")
GAVE_UP = "remediation_gave_up"
RESUME_REFRESH_S = 1.0
STOP_GRACE_S = 10.0


class RemediationController:
    def __init__(self, port: CyclePort) -> None:
        self._port = port
        self.ledgers: dict[str, Ledger] = {}  # committed (shown)
        self.decided: dict[str, Ledger] = {}  # committed + pending (planned on)
        self.history: list = []
        self.notices: collections.deque = collections.deque(maxlen=20)
        self.tasks: set[asyncio.Task] = set()
        self.running: str | None = None
        self.error: str | None = None
        self._resumes_at = 0.0
        self.playbooks: tuple = ()
        self.specs: tuple = ()
        self.verification = VerificationCache()

    # -- configuration ----------------------------------------------------------------------

    def configure(self, config) -> None:
        try:
            self.playbooks = playbooks_for(config)
            self.error = None
        except ValueError as exc:  # a broken playbooks_file: keep probing, show why
            self.playbooks, self.error = (), str(exc)
            log.error("remediation disabled: %s", exc)
        self.by_name = {p.name: p for p in self.playbooks}
        specs = [spec_of(p, config) for p in self.playbooks]
        if config.read_only:  # execute degrades to dry-run: plans recorded, nothing done
            specs = [replace(sp, mode="dry-run") if sp.mode == "execute" else sp for sp in specs]
        self.specs = tuple(specs)
        self.runner = Runner(config, self._port.store, db=self._port.io, clock=self._port.now,
                             notify=self._notice, transport=self._port.transport)
        self._rules = {p.name: AlertRule(name=GAVE_UP, labels={"component": "remediation",
                                                               "playbook": p.name},
                                         success_threshold=1, flap_window_s=0)
                       for p in self.playbooks}
        self._config = config
        self.verification.invalidate()  # checked again (start, reload), then every 10 min

    def alert_rules(self) -> list[AlertRule]:
        """The gave-up alerts, one per playbook (the runtime restores and stores them)."""
        return list(self._rules.values())

    @property
    def gave_up(self) -> dict[str, AlertState]:
        """The gave-up alerts as committed, by playbook."""
        found = {name: self._port.alert_state(rule) for name, rule in self._rules.items()}
        return {name: state for name, state in found.items() if state is not None}

    async def _notice(self, severity: str, message: str, playbook: str = "") -> None:
        """A `notify` step: shown in the snapshot, and queued to every receiver (webhooks,
        Alertmanager) as a one-off `remediation_notice` alert through the outbox, so it
        is delivered (and retried) like any alert notification."""
        now = self._port.now()
        self.notices.appendleft({"at": iso(now), "severity": severity, "message": message,
                                 "playbook": playbook})
        receivers = self._port.receivers()
        if not receivers:
            return
        notice = remediation_notice(playbook, severity, message, now)
        items = [OutboxItem(**e) for e in outbox_entries([notice], receivers)]
        self._port.defer_outbox(items)  # queued with the next commit (retried while it fails)
        await self._port.commit(now)


    async def start(self) -> None:
        await self.runner.recover()
        self.ledgers = await self._port.db(ops.load_ledgers)
        self.decided = dict(self.ledgers)
        await self._refresh_history()
        await self.verification.refresh(self.playbooks, self._config, self._port.now(),
                                        self._port.transport)

    async def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """Let a run in flight finish for up to `grace_s`, then cancel it: its record
        stays `started` and the next start marks it `interrupted`."""
        await self.verification.stop()
        if not self.tasks:
            return
        _done, pending = await asyncio.wait(set(self.tasks), timeout=grace_s)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("remediation still running at shutdown: cancelled (recorded as "
                        "interrupted at the next start)")
            await asyncio.gather(*pending, return_exceptions=True)

    async def _refresh_history(self) -> None:
        self.history = await self._port.db(ops.runs, 20)

    # -- each job ---------------------------------------------------------------------------

    async def _apply_resumes(self, now: float) -> None:
        if now - self._resumes_at < RESUME_REFRESH_S:
            return
        self._resumes_at = now
        requests = await self._port.db(ops.resume_requests)
        await self._refresh_history()  # runs by hand in other processes show up too
        for name, ts in requests.items():
            led = self.decided.get(name)
            if led is not None and led.suspended and ts >= (led.suspended_at or 0):
                self.decided = {**self.decided, name: resume(led)}
                log.warning("remediation %s resumed", name)

    def signals(self) -> list[Signal]:
        """Every metric and cost alert as decided (committed or pending) for the planner;
        inhibited ones (alerts.inhibit) trigger nothing."""
        held = self._port.inhibitions()
        return [Signal(name, state.phase.value, state.severity, inhibited=name in held)
                for name, state in self._port.alert_states().items()]

    def _inhibited_specs(self, specs: list) -> list:
        """Specs with `inhibited_by` set where a dependency's cause breaches (the graph's
        `playbooks:`), e.g. local-ai-degradation while ollama_health fires."""
        from alerts.inhibit import playbook_inhibited
        from rules.dependencies import alert_facts

        graph = self._port.dependency_graph
        if graph is None or not graph.dependencies:
            return specs
        facts = alert_facts(self._port.alert_states(), self._port.dependency_labels)
        out = []
        for spec in specs:
            cause = playbook_inhibited(spec.name, graph, facts)
            out.append(replace(spec, inhibited_by=cause) if cause else spec)
        return out

    async def evaluate(self, now: float) -> None:
        """Plan and start what the alerts call for; submit the gave-up alerts' findings."""
        if not self.specs:
            return
        base = self.decided
        await self._apply_resumes(now)
        self.verification.spawn_if_due(self.playbooks, self._config, now, self._port.transport,
                                       lambda: self._port.publish(self._port.now()))
        planning = plan(self.signals(), self._inhibited_specs(self.verification.apply(self.specs)),
                        self.decided, now)
        changed = planning.ledgers != base  # resumes applied just now included
        self.decided = dict(planning.ledgers)
        audit = []
        for d in planning.decisions:
            pb = self.by_name[d.playbook]
            if d.kind in (Kind.RUN, Kind.REVERT):
                self._spawn(self._execute(pb, d.kind is Kind.REVERT,
                                          f"{d.reason}: {', '.join(d.alerts)}" if d.alerts
                                          else d.reason))
            elif d.kind is Kind.DRY_RUN:
                self._spawn(self._dry_run(pb, f"{d.reason}: {', '.join(d.alerts)}"))
            elif d.kind is Kind.GIVE_UP:
                log.error("remediation %s gave up: %s", pb.name, d.reason)
                audit.append(AuditRecord(now, "agent", "remediation.give_up", pb.name,
                                         "suspended", {"reason": d.reason,
                                                       "alerts": list(d.alerts)}))
        if changed or audit:  # committed with the cycle's alerts (runtime.commit)
            self._defer_ledgers(now, audit)
        self._submit_gave_up(now)

    def _defer_ledgers(self, now: float, audit=()) -> None:
        """Every decided ledger (and the audit records) go with the runtime's next commit;
        the latest write replaces an earlier one still pending, so nothing is lost while
        commits fail; once committed they are the ones shown (`ledgers`)."""
        ledgers = dict(self.decided)

        def shown() -> None:
            self.ledgers = ledgers

        self._port.defer("remediation:ledgers",
                         lambda conn: ops.write_ledgers(conn, ledgers, now), shown)
        if audit:
            self._port.defer_outbox([], list(audit))

    def _submit_gave_up(self, now: float) -> None:
        """One finding per playbook: CRITICAL while suspended, OK otherwise (the
        runtime's step creates no alert from an OK finding of one never raised)."""
        for name, rule in self._rules.items():
            led = self.decided.get(name)
            suspended = bool(led and led.suspended)
            what = (f"remediation: playbook {name} gave up after its run limit; "
                    f"`alice-ops remediate resume {name}` re-enables it") if suspended \
                else f"remediation: playbook {name} resumed"
            self._port.submit(Finding(rule, Status.CRITICAL if suspended else Status.OK,
                                      1.0 if suspended else 0.0, what, now))

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _dry_run(self, pb, reason: str) -> None:
        try:
            await self.runner.record_plan(pb, "agent", kind="dry-run", reason=reason)
        except Exception as exc:  # a render error: recorded, never fatal
            now = self._port.now()
            await self._port.db(ops.record_run, pb.name, "dry-run", "agent", now,
                                "failed", reason, {"error": str(exc)},
                                [AuditRecord(now, "agent", "remediation.dry-run", pb.name,
                                             "failed", {"error": str(exc)})])
        await self._refresh_history()
        self._port.publish(self._port.now())

    async def _execute(self, pb, revert_only: bool, reason: str) -> None:
        self.running = pb.name
        self._port.publish(self._port.now())
        outcome: RunOutcome | None = None
        try:
            outcome = await self.runner.run(pb, actor="agent", reason=reason,
                                            revert_only=revert_only)
        except Exception:
            log.exception("remediation %s crashed", pb.name)
        finally:
            now = self._port.now()
            led = self.decided.get(pb.name, Ledger())
            self.decided = {**self.decided,
                            pb.name: finish(led, bool(outcome and outcome.ok), now,
                                            revert_on_resolve=pb.revert_on_resolve)}
            self.running = None
            self._defer_ledgers(now)  # shown once committed; retried while commits fail
            if not await self._port.commit(now):
                log.error("remediation %s: ledger not saved yet (kept for the next commit)",
                          pb.name)
            try:
                await self._refresh_history()
            except Exception as exc:  # storage fault: read again after the next run
                log.warning("remediation history not re-read: %s", exc)
            self._port.publish(now)

    # -- commands (API, dashboard) -----------------------------------------------------------

    def _get(self, name: str):
        pb = self.by_name.get(name)
        if pb is None:
            raise KeyError(f"no playbook named {name!r}")
        return pb

    async def plan_now(self, name: str, actor: str) -> dict[str, Any]:
        shown = await self.runner.record_plan(self._get(name), actor)
        await self._refresh_history()
        self._port.publish(self._port.now())
        return shown

    async def run_now(self, name: str, confirm: str, actor: str) -> dict[str, Any]:
        """Run by hand (waits for the outcome); PermissionError in read-only mode,
        ValueError when `confirm` is not the playbook's name."""
        pb = self._get(name)
        now = self._port.now()
        if self.runner.read_only:
            await self.runner.refuse(name, actor, "read-only mode: no mutating action")
            raise PermissionError("read-only mode: remediation runs are refused")
        if confirm != name:
            await self._port.db(ops.add_audit,
                                [AuditRecord(now, actor, "remediation.confirm", name,
                                             "declined", {"typed": str(confirm)[:64]})])
            raise ValueError(f"confirmation must be the playbook's name ({name})")
        await self._port.db(ops.add_audit,
                            [AuditRecord(now, actor, "remediation.confirm", name, "confirmed",
                                         {})])
        self.running = name
        try:
            outcome = await self.runner.run(pb, actor=actor, reason="by hand")
        finally:
            self.running = None
            await self._refresh_history()
            self._port.publish(self._port.now())
        return outcome.to_json()

    async def resume_now(self, name: str, actor: str) -> dict[str, Any]:
        self._get(name)
        now = self._port.now()
        if self.runner.read_only:
            await self.runner.refuse(name, actor, "read-only mode: resume refused")
            raise PermissionError("read-only mode: resume is refused")
        led = self.decided.get(name, Ledger())
        self.decided = {**self.decided, name: resume(led)}
        self._defer_ledgers(now, [AuditRecord(now, actor, "remediation.resume", name, "ok",
                                              {"was_suspended": led.suspended})])
        if not await self._port.commit(now):  # kept; the next commit retries it
            log.error("remediation %s: resume not stored yet (kept for the next commit)", name)
        self._port.publish(now)
        return {"playbook": name, "resumed": True, "was_suspended": led.suspended}

    # -- snapshot ---------------------------------------------------------------------------

    def section(self, now: float) -> dict[str, Any]:
        history = [r.to_json() for r in self.history]
        last: dict[str, Any] = {}
        for run in history:
            last.setdefault(run["playbook"], run)
        playbooks = []
        for pb, spec in zip(self.playbooks, self.specs):
            led = self.ledgers.get(pb.name, Ledger())
            left = led.cooldown_left_s(now)
            state = ("running" if led.running or self.running == pb.name else
                     "suspended" if led.suspended else "cooldown" if left > 0 and
                     led.trigger_active else "applied" if led.applied else
                     "triggered" if led.trigger_active else "ready")
            playbooks.append({
                "name": pb.name, "title": pb.title, "guide": pb.guide, "target": pb.target,
                "mode": spec.mode, "trigger": list(pb.trigger.alerts),
                "severity": list(pb.trigger.severity), "state": state,
                "trigger_active": led.trigger_active, "suspended": led.suspended,
                "suspended_at": iso(led.suspended_at), "cooldown_left_s": round(left, 1),
                "backoff_s": led.backoff_s,
                "runs_in_window": led.runs_in_window(now, spec.policy.window_s),
                "limit": spec.policy.limit, "window_s": spec.policy.window_s,
                "steps": len(pb.steps), "revert_steps": len(pb.revert),
                "revert_on_resolve": pb.revert_on_resolve, "last_run": last.get(pb.name),
                **self.verification.view(pb.name)})
        return {"read_only": self.runner.read_only, "running": self.running,
                "error": self.error, "playbooks": playbooks,
                "history": history, "notices": list(self.notices)}

    def alert_views(self) -> tuple:
        """The gave-up alerts as the snapshot shows alerts (firing, or recently resolved)."""
        from agent.snapshot import AlertView

        views = []
        for name, state in self.gave_up.items():
            rule = self._rules.get(name)
            if rule is None or state.phase.value not in ("firing", "pending", "resolved"):
                continue
            views.append(AlertView(
                name=GAVE_UP, fingerprint=rule.fingerprint, labels=dict(rule.labels),
                phase=state.phase.value, severity=state.severity, started_at=state.active_since,
                fired_at=state.fired_at, resolved_at=state.resolved_at, value=state.value,
                summary=f"playbook {name} gave up: suspended until `alice-ops remediate "
                        f"resume {name}`" if state.phase.value != "resolved"
                else f"playbook {name} resumed"))
        return tuple(views)


NOTICE = "remediation_notice"


def remediation_notice(playbook: str, severity: str, message: str, now: float) -> Notice:
    """A `notify` step as a firing notice of its own episode (no resolve follows: the
    Alertmanager notifier gives it endsAt = now + 4 min, webhooks get it once)."""
    from alerts.silence import fingerprint

    labels = {"component": "remediation", "playbook": playbook or "-", "service": "alice"}
    fp = fingerprint(NOTICE, labels)
    return Notice(fingerprint=fp, alertname=NOTICE, labels={**labels, "severity": severity},
                  annotations={"summary": message,
                               "description": f"remediation playbook {playbook}: {message}"},
                  status="firing", starts_at=now, ends_at=None,
                  dedupe_key=dedupe_key(fp, now, "firing", 0))
