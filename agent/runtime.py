"""The one place that wires a cycle: probe -> evaluate -> transition -> plan -> store -> publish.

Each component is its own job (the scheduler calls `run_job(name)`); a job probes
its component, re-judges the whole table, moves the alerts that depend on it,
plans notifications, commits everything in one SQLite transaction on the store's
own thread, wakes the dispatcher and publishes a new immutable `Snapshot`.

Commit first, then believe: what a cycle decided (alert rows, notices, audit records,
the remediation and checklist rows) joins a pending batch, and the batch leaves it
only when its transaction commits. A failed commit (disk full, damaged pages) keeps
the whole batch and the next cycle commits it together with its own, so no
transition is lost: once the fault clears every notice is queued. Meanwhile the
`agent_storage` alert (CRITICAL) is handed straight to the notifiers (the outbox
lives in the failing file), /healthz answers 503 with the reason, and /metrics
counts `alice_ops_store_commit_failures_total`.

Copy-on-write memory. Every alert state the agent keeps (metric and cost alerts in
`states`, the alerts controllers raise in `raised`, the notification `ledger`, the
causes and inhibitions shown, the remediation ledgers) exists twice:
- the *committed* mapping, a public attribute that the snapshot, the API and the TUI
  read. It is replaced (never changed in place) only after `commit_cycle` succeeded,
  with the changes of exactly the batch that committed (on a retry success too);
- the *decided* mapping (`_w_*`, private): committed plus every change still pending.
The rule: every decision starts from the decided mapping, every display from the
committed one. A job's transitions, plans and ledger moves are made on the decided
mappings and recorded as per-key changes in the job's `PendingBatch`; the batch swaps
them into the committed mappings when it commits. So while commits fail the snapshot
shows the last committed state (never an uncommitted transition) and the next job
starts from the pending states: it neither recomputes nor duplicates a transition, and
none is lost (the batch, with its notices, is retried until a commit succeeds). A
restart drops what was pending and restores the committed state from state.db: the
crash guarantees (nothing announced twice, startsAt kept) are those of committed state.

One step: metric, cost, checklist and remediation alerts all move in `_step` (the only
caller of `alerts.lifecycle.transition` besides agent.store.health). Controllers
submit `agent.cycle_port.Finding`s through the `CyclePort` they are given (never the
runtime's private attributes); the next job's step transitions them, plans their
notices with the rest and puts them in that cycle's one commit.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterable

import httpx

from agent.check import COMPONENT_ORDER, _guard, probe_jobs, secrets_of, threshold_rows
from agent.config import Config
from agent.cost.component import cost_jobs, cost_rows
from agent.cycle_port import Finding
from alerts.rule import AlertRule
from agent.exporter import DurationHistogram, SnapshotCollector
from vocab.model import ProbeResult, Status
from agent.ollama_exporter import LoadCounter
from agent.probes import endpoint, host
from agent.probes.http import make_client
from agent.resources import FdWatch
from vocab.redact import redact, redact_comment
from agent.silences import (ack_from_row, check_duration, new_silence, silence_from_row,
                            silence_json)
from agent.snapshot import AgentStats, AlertView, Snapshot
from agent.store import AuditRecord, OutboxItem, Store, StoreError
from agent.store.health import RULE as STORAGE_RULE
from agent.store.sent_marks import SentMarks
from agent.store.health import STORAGE_ALERT, StorageHealth
from alerts.codec import state_from_dict, state_to_dict
from alerts.dispatch import Dispatcher, Tracked, plan
from alerts.lifecycle import AlertEvent, AlertState, EventKind, Phase, restore, transition
from alerts.notifiers import outbox_entries
from alerts.silence import is_acked, is_silenced
from rules.alerting import BoundRule, build_rules
from rules.evaluate import MetricStatus, Report, evaluate
from rules.thresholds import format_value
from alerts.inhibit import DependencyGraph, display_order  # H10-inhibit
from alerts.lifecycle import current_severity
from rules.cause import metric_cause, probe_cause
from rules.dependencies import Inhibition, alert_labels, graph as dependency_graph

log = logging.getLogger("alice_ops.agent")
HISTORY_POINTS = 60
SILENCE_REFRESH_S = 1.0
HISTORY_MAX_LIMIT = 1000  # records in one page of the alert history
SHOWN_PHASES = (Phase.PENDING, Phase.FIRING, Phase.RESOLVED)
MAX_PENDING_SAMPLES = 50_000  # history kept back during a storage fault (oldest dropped)
DIRECT_SEND_S = 10.0  # longest a notifier may take with an agent_storage notice
DIRECT_RETRIES_S = (1.0, 2.0, 4.0, 8.0)  # pauses between its attempts (no outbox to retry)


class PendingBatch:
    """What cycles decided that is not committed yet (one cycle's, or several while
    commits fail): state fingerprints to save, rows, notices, audit records and the
    extra writes of other parts (keyed, the latest write of a key wins); and the
    in-memory changes that become visible only once it commits (copy-on-write): alert
    states by name (None: retired), raised alerts' states by fingerprint, ledger
    entries by fingerprint (None: untracked), causes, keyed swaps (latest wins) and
    the events to log."""

    def __init__(self) -> None:
        self.samples: list[tuple] = []
        self.fps: set[str] = set()
        self.rows: list[tuple] = []
        self.outbox: list[OutboxItem] = []
        self.audit: list[AuditRecord] = []
        self.writes: dict[str, Callable] = {}
        self.dropped_samples = 0
        self.states: dict[str, AlertState | None] = {}
        self.raised: dict[str, AlertState] = {}
        self.ledger: dict[str, Tracked | None] = {}
        self.causes: dict[str, str] = {}
        self.swaps: dict[str, Callable[[], None]] = {}
        self.events: list[AlertEvent] = []

    def __bool__(self) -> bool:
        return bool(self.samples or self.fps or self.rows or self.outbox or self.audit
                    or self.writes or self.states or self.raised or self.ledger
                    or self.causes or self.swaps or self.events)

    def absorb(self, later: PendingBatch) -> PendingBatch:
        """This (older) batch followed by `later`, in order; returns self."""
        self.samples += later.samples
        self.fps |= later.fps
        self.rows += later.rows
        self.outbox += later.outbox
        self.audit += later.audit
        self.writes.update(later.writes)
        self.dropped_samples += later.dropped_samples
        self.states.update(later.states)
        self.raised.update(later.raised)
        self.ledger.update(later.ledger)
        self.causes.update(later.causes)
        self.swaps.update(later.swaps)
        self.events += later.events
        if len(self.samples) > MAX_PENDING_SAMPLES:
            cut = len(self.samples) - MAX_PENDING_SAMPLES
            del self.samples[:cut]
            self.dropped_samples += cut
        return self


def overlay(base: dict, changes: dict) -> dict:
    """A new mapping: `base` with `changes` applied (a None value removes the key)."""
    out = dict(base)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def inhibition_key(state: AlertState | None) -> tuple | None:
    """All that `Inhibition.update` reads of one alert state (breaching since when, fired
    when): while no alert's key moves, its decision cannot change (alerts.inhibit is
    memoryless in `now`), so the runtime skips it."""
    return None if state is None else (state.phase, state.active_since, state.fired_at)


def job_dependencies(rules: dict[str, BoundRule], rows) -> dict[str, list[str]]:
    """Which alert rules each probe job feeds: its own health and probe rows; the
    prometheus job also feeds every PromQL row."""
    promql = {(r.component, r.metric) for r in rows if r.promql is not None}
    deps: dict[str, list[str]] = collections.defaultdict(list)
    for name, bound in rules.items():
        source = "prometheus" if (bound.component, bound.metric) in promql else bound.component
        deps[source].append(name)
    return deps


def describe_metric(m: MetricStatus) -> str:
    """One line for alert summaries: what, how much, and the line it crossed."""
    if m.absent:  # judged OK: a blind spot resolves an alert, never raises one
        return f"{m.title}: not exported ({m.reason})"
    if m.value is None:
        return f"{m.title}: no data ({m.reason or 'unreadable'})"
    limit = f"alert {m.alert}" if m.status is Status.CRITICAL else f"target {m.target}"
    return f"{m.title} {format_value(m.value, m.unit)} ({limit})"


class Runtime:
    """Holds the agent's live state; everything outside sees only snapshots and commands."""

    def __init__(self, config: Config, store: Store, executor: ThreadPoolExecutor,
                 notifiers: Iterable[Any], *, clock: Callable[[], float] = time.time,
                 transport=None):
        self._store, self._db, self._clock, self._transport = store, executor, clock, transport
        self._notifiers = list(notifiers)
        # committed (shown) and decided (committed + pending) copies: see the docstring
        self.states: dict[str, AlertState] = {}
        self.ledger: dict[str, Tracked] = {}
        self.raised: dict[str, AlertState] = {}  # controllers' alerts, by fingerprint
        self._w_states: dict[str, AlertState] = {}
        self._w_ledger: dict[str, Tracked] = {}
        self._w_raised: dict[str, AlertState] = {}
        self._raised_rules: dict[str, AlertRule] = {}  # every rule a controller raised
        self._findings: list[Finding] = []  # submitted, for the next job's step
        self.port = _Port(self)
        self.results: dict[str, ProbeResult] = {}
        self.last_probe: dict[str, float] = {}
        self.last_good: dict[str, float] = {}
        self.history: dict[str, collections.deque] = {}
        self.silences: list = []
        self.acks: list = []
        self._silences_at = 0.0
        self.durations, self.lag = DurationHistogram(), DurationHistogram()
        self.cycles: collections.Counter[str] = collections.Counter()
        self.missed_runs = 0
        self.last_lag_s = 0.0
        self.outbox_pending = 0
        self._seq = 0
        self._snapshot: Snapshot | None = None
        self._dirty_at = clock()
        self._changed = asyncio.Condition()
        self._started_at = clock()
        self._inflight: set[asyncio.Task] = set()
        self._outbox = SentMarks(store)  # delivery marks kept while the store fails
        self.dispatcher = Dispatcher(self._notifiers, self._outbox, run_io=self.db, clock=clock)
        self._dispatch_task: asyncio.Task | None = None
        self._retired: list[AlertEvent] = []
        self._retired_rows: list[tuple] = []
        self._pending = PendingBatch()
        self.commits_shared = 0  # jobs whose batch went with another job's commit
        self.storage = StorageHealth()
        self._direct: set[asyncio.Task] = set()
        self._direct_last: dict[str, asyncio.Task] = {}
        self._fd_watch = FdWatch()
        self._remediation_ready = False
        self._commit_lock = asyncio.Lock()
        # one pooled client for every extra endpoint (hundreds of them at scale)
        # (aiohttp: httpx's pool is quadratic in requests in flight, encode/httpx#3215;
        # tests that inject a transport get an httpx client through it)
        self._endpoint_client = (endpoint.EndpointClient(max_connections=256)
                                 if transport is None else
                                 make_client(10_000, transport,
                                             limits=httpx.Limits(max_connections=256)))
        # one NVML event set for the agent's life: Xids reach only a set registered before
        # them (a one-shot check cannot see them); opened on the first host probe with a GPU
        self._xids = host.XidWatcher()
        self._ollama_loads = LoadCounter()  # /metrics' load-event counter, across scrapes
        self.configure(config)

    # -- configuration -------------------------------------------------------------------

    def configure(self, config: Config) -> None:
        """(Re)derive rows, rules and jobs from a config; alert states of rules that
        still exist are kept (SIGHUP reload); those of removed rules are retired."""
        old_rules = getattr(self, "rules", {})
        self.config = config
        self.rows = threshold_rows(config) + cost_rows(config)
        self._probe_slots = asyncio.Semaphore(config.agent.max_concurrent_probes)
        self._secrets = secrets_of(config)
        self.jobs = probe_jobs(config, self.rows, self._transport, self._endpoint_client,
                               latest=lambda name: self.results.get(name),
                               xids=self._xids.poll)
        self.jobs.update(cost_jobs(config, self._transport))  # only with a `cost:` section
        self.rules = build_rules(self.rows, self.jobs, config.alerts)
        self.deps = job_dependencies(self.rules, self.rows)
        promql = {r.component for r in self.rows if r.promql is not None}
        self._feeds = {name: {name, "prometheus"} | (promql if name == "prometheus" else set())
                       for name in self.jobs}
        self._fp_rule = {b.rule.fingerprint: name for name, b in self.rules.items()}
        # dependencies (alerts.inhibit): alerts that follow from a breaching one are held
        self.dependency_graph = (dependency_graph(config.alerts.dependencies)
                                 if config.alerts.inhibit else DependencyGraph())
        self.dependency_labels = alert_labels(self.rules, self.rows)
        self.inhibition = Inhibition(self.dependency_graph, self.dependency_labels,
                                     config.alerts.inhibit_release_s,
                                     getattr(self, "inhibition", None),
                                     group_wait_s=config.alerts.group_wait_s)
        self.inhibitions: dict[str, str] = self.inhibition.causes
        self._inhibition_stale = True  # new graph or labels: decide again on the next job
        self._w_inhibitions = self.inhibitions
        self.causes: dict[str, str] = getattr(self, "causes", {})
        if not hasattr(self, "remediation"):
            from agent.remediation.controller import RemediationController

            self.remediation = RemediationController(self.port)
        self.remediation.configure(config)
        from agent.remediation.gate import EvaluateGate

        self._remediation_gate = EvaluateGate()  # a reload plans at once
        if not hasattr(self, "checklists"):
            from agent.checklists.controller import ChecklistController

            self.checklists = ChecklistController(self.port)
        self.checklists.configure(config)
        for controller in (self.remediation, self.checklists):
            self._raised_rules.update((r.fingerprint, r) for r in controller.alert_rules())
        from agent.maintenance import MaintenanceController, windows_from
        from agent.store.maintenance_runs import load_announced

        # the runs already told: kept by a reload, read from state.db at start
        self.maintenance = MaintenanceController(
            windows_from(config.alerts.maintenance), [n.name for n in self._notifiers],
            self.defer_outbox, write=self.defer_write,
            load=lambda: self.db(load_announced, self._store),
            previous=getattr(self, "maintenance", None))
        self.results = {k: v for k, v in self.results.items() if k in self.jobs}
        self._retire([name for name in self._w_states if name not in self.rules], old_rules)

    def _retire(self, names: list[str], old_rules: dict[str, BoundRule]) -> None:
        """Alerts a reload removed end now: a resolved notice closes an announced episode
        (no more reminders), and the saved state goes back to inactive (next job commits)."""
        now = self._clock()
        self._inhibition_stale = bool(names) or self._inhibition_stale
        for name in names:
            state, bound = self._w_states.pop(name), old_rules.get(name)
            self._pending.states[name] = None  # gone from the snapshot with the next commit
            if bound is None:
                continue
            self._retired_rows.append(
                (bound.rule.fingerprint, name, dict(bound.rule.labels),
                 {"state": state_to_dict(AlertState.initial(max(now, state.last_eval))),
                  "tracked": None}))
            if state.phase is Phase.FIRING and state.active_since is not None:
                self._retired.append(AlertEvent(
                    kind=EventKind.RESOLVED, rule=name, labels=bound.rule.labels,
                    severity=state.severity or "warning", started_at=state.active_since,
                    at=max(now, state.last_eval), value=state.value,
                    status=state.status or Status.UNKNOWN,
                    summary=f"{bound.component}: no longer checked (removed from the config)"
                            " [resolved]"))

    def interval(self, job: str) -> float:
        iv = self.config.agent.intervals
        if job in iv.per_component:
            return iv.per_component[job]
        t = self.config.targets
        deep = (job == "openai" and t.openai and t.openai.deep_probe) or \
               (job == "ollama" and t.ollama and t.ollama.deep_probe)
        return iv.deep_s if deep else iv.fast_s

    # -- life cycle ----------------------------------------------------------------------

    async def db(self, fn: Callable, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._db, fn, *args)

    async def start(self) -> None:
        """Restore alert states and the notification ledger, start delivering."""
        now = self._clock()
        rows = await self.db(self._store.load_alert_states)
        last_seen = await self.db(self._store.last_seen)
        tolerance = self.config.agent.outage_tolerance_s
        states, raised, ledger = dict(self.states), dict(self.raised), dict(self.ledger)
        for fp, row in rows.items():
            name = self._fp_rule.get(fp)
            if (name is None and fp not in self._raised_rules) \
                    or not isinstance(row.state, dict) or "state" not in row.state:
                continue
            state = restore(state_from_dict(row.state["state"]), now,
                            last_seen=last_seen, downtime_tolerance_s=tolerance)
            if name is not None:
                states[name] = state
            else:  # checklist_overdue, remediation_gave_up: kept like the metric alerts
                raised[fp] = state
            if row.state.get("tracked"):
                ledger[fp] = Tracked.from_dict(row.state["tracked"])
        # what state.db holds is committed by definition: both copies start from it
        self.states, self._w_states = states, dict(states)
        self.raised, self._w_raised = raised, dict(raised)
        self.ledger, self._w_ledger = ledger, dict(ledger)
        self._inhibition_stale = True
        if self.states:
            firing = sum(1 for s in self.states.values() if s.phase is Phase.FIRING)
            log.info("restored %d alert states (%d firing), agent was last seen %s s ago",
                     len(self.states), firing,
                     "never" if last_seen is None else f"{now - last_seen:.0f}")
        self._resume_storage_alert()
        notified = [t.notice for t in self.ledger.values() if t.notified_at is not None]
        from alerts.notifiers.grouping import policy_from

        self.dispatcher = Dispatcher(self._notifiers, self._outbox, run_io=self.db,
                                     clock=self._clock, firing=notified,
                                     grouping=policy_from(self.config.alerts))
        self._dispatch_task = asyncio.create_task(self.dispatcher.run(), name="dispatcher")
        await self._refresh_silences(now, force=True)
        try:  # a full disk must not keep the agent from starting (and raising agent_storage)
            await self._start_remediation()
            await self.checklists.tick()
        except StoreError as exc:
            if exc.corrupt:
                raise
            self._storage_failed(now, exc)
        self._publish(now)

    async def _start_remediation(self) -> None:
        """Recover interrupted runs and load the ledgers; until that has worked (the store
        may fail at start) remediation plans nothing, so a suspended playbook stays so."""
        await self.remediation.start()
        self._remediation_ready = True

    async def stop(self) -> None:
        """Finish the jobs in flight (each commits), then stop delivering."""
        await asyncio.sleep(0)  # a job submitted just now registers itself first
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)
        await self.remediation.stop()
        if self._direct:  # agent_storage notices in flight: a moment, then let go
            _done, late = await asyncio.wait(set(self._direct), timeout=2.0)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await self.dispatcher.stop()
        if self._dispatch_task is not None:
            await asyncio.gather(self._dispatch_task, return_exceptions=True)
        await self._endpoint_client.aclose()
        await asyncio.to_thread(self._xids.close)
        for notifier in self._notifiers:
            close = getattr(notifier, "aclose", None)
            if close is not None:
                await close()

    async def maintain(self) -> None:
        """Retention and downsampling of the sample history (every 10 minutes)."""
        agent = self.config.agent
        counts = await self.db(self._store.maintain, self._clock(),
                               agent.retention_days * 86400, 3600)
        log.debug("maintenance: %s", counts)

    # -- one job -------------------------------------------------------------------------

    async def run_job(self, name: str) -> None:
        # Shielded: a caller cancelled mid-cycle (apscheduler's shutdown cancels the jobs it
        # runs) must not abort the cycle; `stop` waits for it to commit instead.
        job = asyncio.ensure_future(self._run_job(name))
        self._inflight.add(job)
        job.add_done_callback(self._inflight.discard)
        try:
            await asyncio.shield(job)
        except Exception:  # a bug in one job must not stop the schedule
            log.exception("job %s failed", name)

    async def _run_job(self, name: str) -> None:
        if name not in self.jobs:
            return
        factory, budget = self.jobs[name]
        async with self._probe_slots:  # a bounded number of probes in flight
            started = time.perf_counter()
            result = await _guard(name, factory(), budget, self._secrets)
            self.durations.observe(name, time.perf_counter() - started)
        result = replace(result, summary=redact(result.summary, self._secrets))
        if name not in self.jobs:  # removed by a reload while it probed
            return
        now = self._clock()
        self.cycles[name] += 1
        self.results[name] = result
        self.last_probe[name] = now
        if result.status is Status.OK:
            self.last_good[name] = now
        self.history.setdefault(name, collections.deque(maxlen=HISTORY_POINTS)).append(
            result.latency_ms)
        # judge only what this job feeds (its own rows; for prometheus, every PromQL row)
        fed = {c: self.results[c] for c in self._feeds.get(name, (name,)) if c in self.results}
        report = evaluate(fed, self.rows, now, COMPONENT_ORDER)
        fed_rules = self.deps.get(name, ())
        before = [inhibition_key(self._w_states.get(r)) for r in fed_rules]
        batch = PendingBatch()
        findings, samples = self._judge(name, result, report, now)
        events = self._step(findings, batch)
        # deciding reads every alert: only when one of this job's alerts moved (or a reload
        # or restore changed the set), not on every job (O(n^2) a cycle at n endpoints)
        if self._inhibition_stale or before != [inhibition_key(self._w_states.get(r))
                                                for r in fed_rules]:
            held = self._w_inhibitions = self.inhibition.update(self._w_states, now)
            batch.swaps["inhibitions"] = lambda: setattr(self, "inhibitions", held)
            self._inhibition_stale = False
        samples += [(now, name, metric, value, int(result.status))  # figures kept for reports
                    for metric, value in result.details.get("history", {}).items()]
        retired, retired_rows, self._retired, self._retired_rows = \
            self._retired, self._retired_rows, [], []
        events = retired + events
        try:
            if not self._remediation_ready:
                await self._start_remediation()
            # planning reads every alert: only when one moved, a ledger or an inhibition
            # changed, or a second passed (agent.remediation.gate), not on every job
            gate, held = self._remediation_gate, self._w_inhibitions
            if gate.due(now, alerts_moved=bool(events), ledgers=self.remediation.decided,
                        inhibited=held):
                await self.remediation.evaluate(now)  # runs go to background tasks
                gate.evaluated(now, ledgers=self.remediation.decided, inhibited=held)
        except StoreError as exc:  # its reads failed: planned again next cycle
            log.warning("remediation not evaluated this cycle: %s", exc)
        # the controllers' findings (remediation_gave_up just now, checklist_overdue from
        # its own timer) move in the same step and go with the same commit
        submitted, self._findings = self._findings, []
        events += self._step(submitted, batch)
        await self._refresh_silences(now)
        before_ledger = self._w_ledger
        planned = plan(events, before_ledger,
                       repeat_interval_s=self.config.alerts.repeat_interval_s,
                       now=now, silenced=lambda labels: is_silenced(labels, self.silences, now)
                       is not None or self.inhibition.holds(labels.get("alertname"), now),
                       acked=lambda fp: is_acked(fp, self.acks, now) is not None)
        self._w_ledger = after_ledger = planned.ledger
        moved = {fp for fp in set(before_ledger) | set(after_ledger)
                 if before_ledger.get(fp) != after_ledger.get(fp)}
        batch.ledger = {fp: after_ledger.get(fp) for fp in moved}
        outbox = [OutboxItem(**e) for e in
                  outbox_entries(planned.notices, [n.name for n in self._notifiers])]
        changed = {e.fingerprint for e in events} | moved
        changed |= {self.rules[r].rule.fingerprint for r in fed_rules if r in self._w_states}
        changed |= {f.rule.fingerprint for f in submitted if f.rule.fingerprint in self._w_raised}
        audit = [AuditRecord(now, "agent", f"alert.{e.kind.value}", e.rule, e.severity,
                             {"summary": e.summary, "value": e.value,
                              "started_at": e.started_at})
                 for e in events if e.kind in (EventKind.FIRING, EventKind.RESOLVED,
                                               EventKind.FLAPPING)]
        batch.samples, batch.outbox, batch.audit, batch.events = samples, outbox, audit, events
        batch.fps, batch.rows = changed, list(retired_rows)
        await self.commit(now, batch)
        self._fd_watch.check()
        self._publish(now)

    # -- commit first, then believe --------------------------------------------------------

    def defer_write(self, key: str, write: Callable,
                    then: Callable[[], None] | None = None) -> None:
        """Add a write (`write(conn)`, inside the transaction) to the next commit; a
        later write with the same key replaces it (e.g. the remediation ledgers).
        `then()` runs once that commit succeeded: it makes the write visible in memory
        (copy-on-write; a later `then` of the same key replaces it too)."""
        self._pending.writes[key] = write
        if then is not None:
            self._pending.swaps[key] = then

    def defer_outbox(self, items: list[OutboxItem], audit: list[AuditRecord] = ()) -> None:
        """Queue notices (and audit records) with the next commit."""
        self._pending.outbox.extend(items)
        self._pending.audit.extend(audit)

    async def commit(self, now: float, batch: PendingBatch | None = None) -> bool:
        """Commit the pending batch (with `batch` added); True when it went through.
        On failure the batch stays pending, the failure is counted and the
        agent_storage alert moves; the next commit retries it all. One commit at a time
        (jobs run concurrently): what one takes, the next does not take again.

        Batched: jobs that finish while a commit is in flight wait for the lock, and the
        first of them commits every batch absorbed meanwhile in one transaction; the
        others find nothing left and return True without a transaction of their own."""
        if batch is not None:
            self._pending.absorb(batch)
        async with self._commit_lock:
            if batch is not None and not self._pending and not self.storage.unsaved:
                self.commits_shared += 1
                return True  # committed with an earlier job's batch
            return await self._commit(now)

    async def _commit(self, now: float) -> bool:
        pending, self._pending = self._pending, PendingBatch()
        # what memory shows once this batch is in: the committed copies plus its changes
        states = overlay(self.states, pending.states)
        raised = {**self.raised, **pending.raised}
        ledger = overlay(self.ledger, pending.ledger)
        causes = {**self.causes, **pending.causes}
        # agent_storage is not in the batch: it moves (and is told) exactly when commits
        # fail, so it cannot wait for one; only its episode's row and audit go along
        storage_rows, storage_audit = self.storage.to_store()
        rows = [self._state_row(fp, states, raised, ledger, causes) for fp in pending.fps]
        rows = [r for r in rows if r is not None] + pending.rows + storage_rows
        try:
            queued = await self.db(self._store.commit_cycle, now, pending.samples, rows,
                                   pending.outbox, pending.audit + storage_audit,
                                   list(pending.writes.values()))
        except StoreError as exc:
            self._pending = pending.absorb(self._pending)  # keep order: older first
            self._storage_failed(now, exc)
            return False
        # committed: now believe it (the job that made a change, or a later retry)
        self.states, self.raised, self.ledger, self.causes = states, raised, ledger, causes
        for swap in pending.swaps.values():
            swap()
        for e in pending.events:
            if e.kind in (EventKind.FIRING, EventKind.RESOLVED):
                log.info("alert %s %s (%s): %s", e.rule, e.kind.value, e.severity, e.summary)
        if pending.states or pending.raised or pending.ledger or pending.swaps:
            self._publish(now)
        self.storage.saved(len(storage_audit))
        if pending.dropped_samples:
            log.warning("storage fault: %d samples of history were dropped (the alerts, "
                        "notices and audit records were all kept)", pending.dropped_samples)
        if queued:
            # the snapshot counts them at once (the store's count is re-read with the
            # silences, before a later commit): a row held for its group is never "0 pending"
            self.outbox_pending += queued
            self.dispatcher.wake()
        if storage_audit and not self.storage.problem and not self.storage.firing:
            self._storage_note(None)  # the episode is stored and over
        self._storage_ok(now)
        return True

    def _storage_note(self, state) -> None:
        """Keep (or, with None, drop) the announced agent_storage episode beside the state
        file, outside SQLite, so a restart during the fault continues it."""
        note = Path(f"{self._store.path}.storage-alert")
        try:
            if state is None:
                note.unlink(missing_ok=True)
            else:
                note.write_text(json.dumps({"started_at": state.active_since,
                                            "failures": self.storage.failures_total}))
        except OSError as exc:  # a full disk may refuse this too: best effort
            log.debug("agent_storage note %s: %s", note, exc)

    def _resume_storage_alert(self) -> None:
        note = Path(f"{self._store.path}.storage-alert")
        try:
            data = json.loads(note.read_text())
            self.storage.resume(float(data["started_at"]), int(data.get("failures", 1)))
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("agent_storage note %s unreadable, ignored: %s", note, exc)
            return
        log.warning("continuing the agent_storage alert announced before the restart")

    def _storage_failed(self, now: float, exc: StoreError) -> None:
        first = self.storage.problem is None
        reason = " ".join(redact(str(exc), self._secrets).split())
        events = self.storage.failed(now, reason)
        if any(e.kind is EventKind.FIRING for e in events):
            self._storage_note(self.storage.state)
        (log.critical if first else log.error)(
            "state commit failed (%d so far; the cycle's transitions are kept and retried): "
            "%s%s", self.storage.failures_total, reason,
            "; the file is damaged: stop the agent and run `alice-agent --recover`"
            if exc.corrupt else "")
        self._send_direct(events)

    def _storage_ok(self, now: float) -> None:
        was = self.storage.problem
        events = self.storage.succeeded(now)
        if was is not None:
            log.warning("state commits succeed again after %d failure(s); the transitions "
                        "kept meanwhile are committed", self.storage.failures_total)
        self._send_direct(events)  # the episode itself is written by the next commit

    def _send_direct(self, events: list[AlertEvent]) -> None:
        """agent_storage notices straight to every notifier, not through the outbox."""
        from alerts.notifiers.notice import notice_from_event

        notices = [notice_from_event(e) for e in events
                   if e.kind in (EventKind.FIRING, EventKind.RESOLVED)]
        if not notices:
            return
        for e in events:
            if e.kind in (EventKind.FIRING, EventKind.RESOLVED):
                log.log(logging.CRITICAL if e.kind is EventKind.FIRING else logging.WARNING,
                        "alert %s %s (%s): %s", e.rule, e.kind.value, e.severity, e.summary)

        async def send(notifier, before: asyncio.Task | None) -> None:
            if before is not None:  # in order per receiver: never "resolved" then "firing"
                await asyncio.gather(before, return_exceptions=True)
            for attempt, pause in enumerate(DIRECT_RETRIES_S + (None,)):
                try:
                    await asyncio.wait_for(notifier.send(notices), DIRECT_SEND_S)
                    return
                except Exception as exc:  # one receiver failing must not stop the others
                    log.warning("notify %s of %s failed (attempt %d): %s", notifier.name,
                                STORAGE_ALERT, attempt + 1,
                                redact(f"{type(exc).__name__}: {exc}", self._secrets))
                if pause is not None:
                    await asyncio.sleep(pause)

        for notifier in self._notifiers:
            before = self._direct_last.get(notifier.name)
            task = asyncio.get_running_loop().create_task(
                send(notifier, before if before is not None and not before.done() else None))
            self._direct_last[notifier.name] = task
            self._direct.add(task)
            task.add_done_callback(self._direct.discard)

    def storage_problem(self) -> str | None:
        """Why commits fail now (for /healthz), or None."""
        return self.storage.problem

    def _judge(self, job: str, result: ProbeResult, report: Report, now: float
               ) -> tuple[list[Finding], list[tuple]]:
        """Judge every alert this job feeds (metric, probe and cost rows); return the
        findings for the step and the samples to store."""
        metrics = {(m.component, m.name): m for m in report.metrics}
        findings: list[Finding] = []
        samples: list[tuple] = [(now, job, "probe_latency_ms", result.latency_ms,
                                 int(result.status))]
        for rule_name in self.deps.get(job, ()):
            bound = self.rules[rule_name]
            if bound.metric is None:
                status, value = result.status, result.latency_ms
                what = f"{bound.component}: {result.summary}"
                cause = probe_cause(result.summary, result.status)
            else:
                metric = metrics.get((bound.component, bound.metric))
                if metric is None:
                    continue  # the row does not apply this cycle (e.g. no GPU)
                status, value = metric.status, metric.value
                samples.append((now, metric.component, metric.name, value, int(status)))
                what = describe_metric(metric)
                cause = metric_cause(metric)
                # a probe may word its own alerts (cost: "daily budget 10.00 USD: ...")
                what = result.details.get("alert_text", {}).get(bound.metric, what)
                cause = result.details.get("alert_cause", {}).get(bound.metric, cause)
            findings.append(Finding(bound.rule, status, value, what, now, cause))
        return findings, samples

    def _step(self, findings: Iterable[Finding], batch: PendingBatch) -> list[AlertEvent]:
        """The one transition step of every alert but agent_storage: move the alert each
        finding is about on the decided states, record the change in `batch` (shown
        once it commits), return the events worded by the finding. An OK finding of a
        raised alert (checklist, remediation) that has no state creates none."""
        events: list[AlertEvent] = []
        for f in findings:
            fp = f.rule.fingerprint
            name = self._fp_rule.get(fp)
            prev = self._w_states.get(name) if name is not None else self._w_raised.get(fp)
            if name is None and prev is None and f.status is Status.OK:
                continue
            state, evs = transition(prev, f.status, f.value, f.rule, f.at)
            if name is not None:
                self._w_states[name] = batch.states[name] = state
                batch.causes[name] = f.cause
            else:
                self._raised_rules.setdefault(fp, f.rule)
                self._w_raised[fp] = batch.raised[fp] = state
            events.extend(replace(e, summary=f"{f.what} [{e.kind.value}]", cause=f.cause)
                          for e in evs)
        return events

    def _state_row(self, fp: str, states: dict[str, AlertState], raised: dict[str, AlertState],
                   ledger: dict[str, Tracked], causes: dict[str, str]):
        """The alert_states row of `fp` as of the given (to be committed) mappings."""
        tracked = ledger.get(fp)
        name = self._fp_rule.get(fp)
        if name is None:  # a raised alert (checklist_overdue, remediation_gave_up)
            rule, state = self._raised_rules.get(fp), raised.get(fp)
            if rule is None or state is None:
                return None  # agent_storage (written by `commit`), a retired alert
            return (fp, rule.name, dict(rule.labels),
                    {"state": state_to_dict(state),
                     "tracked": tracked.to_dict() if tracked is not None else None})
        state = states.get(name)
        if state is None:
            return None
        bound = self.rules[name]
        return (fp, name, dict(bound.rule.labels),
                {"state": state_to_dict(state),
                 "tracked": tracked.to_dict() if tracked is not None else None,
                 # for `alice-ops alerts list` (read from the store, not the snapshot)
                 "cause": causes.get(name, ""),
                 "severity_now": current_severity(state, bound.rule),
                 "inhibited_by": self._w_inhibitions.get(name)})

    async def _refresh_silences(self, now: float, force: bool = False) -> None:
        """Silences and acks may be added by `alice-ops alerts` in another process."""
        if not force and now - self._silences_at < SILENCE_REFRESH_S:
            return
        self._silences_at = now
        try:
            rows, acks, stats = await self.db(self._read_mutes, now)
        except StoreError as exc:  # keep the mutes known; the commit raises agent_storage
            log.warning("silences not re-read: %s", exc)
            return
        # stored silences plus the maintenance windows in force (their start/end notices
        # go with the next commit)
        self.silences = [silence_from_row(r) for r in rows] + self.maintenance.tick(now)
        self.acks = [ack_from_row(a) for a in acks]
        self.outbox_pending = stats["pending"]

    def _read_mutes(self, now: float):
        return self._store.silences(now), self._store.acks(now), self._store.outbox_stats()

    # -- snapshot ------------------------------------------------------------------------

    def _alert_views(self, now: float) -> tuple[AlertView, ...]:
        titles = {(r.component, r.metric): r for r in self.rows}
        views = []
        for name, state in self.states.items():
            bound = self.rules.get(name)
            if bound is None or state.phase not in SHOWN_PHASES:
                continue
            labels = {"alertname": name, **bound.rule.labels,
                      "severity": state.severity or "warning"}
            silence = is_silenced(labels, self.silences, now)
            ack = is_acked(bound.rule.fingerprint, self.acks, now)
            row = titles.get((bound.component, bound.metric))
            what = row.title if row else f"{bound.component} probe"
            shown = format_value(state.value, row.unit if row else "ms") \
                if state.value is not None else "no data"
            status = state.status.word if state.status else "unknown"
            views.append(AlertView(name=name, fingerprint=bound.rule.fingerprint,
                                   labels=dict(bound.rule.labels), phase=state.phase.value,
                                   severity=current_severity(state, bound.rule),
                                   started_at=state.active_since,
                                   fired_at=state.fired_at, resolved_at=state.resolved_at,
                                   value=state.value, summary=f"{what}: {status}, {shown}",
                                   cause=self.causes.get(name, ""),
                                   inhibited_by=self.inhibitions.get(name),
                                   flapping=state.flapping,
                                   silenced_by=silence.id if silence else None,
                                   acked=ack.comment or "acked" if ack else None))
        order = {"firing": 0, "pending": 1, "resolved": 2}
        del order  # firing by severity then age, inhibited ones under their cause
        shown_order = display_order([{"name": v.name, "state": v.phase, "severity": v.severity,
                                      "started_at": v.started_at, "inhibited_by": v.inhibited_by}
                                     for v in views])
        return tuple(views[i] for i in shown_order)

    def _storage_views(self) -> tuple[AlertView, ...]:
        state = self.storage.state
        if state is None or state.phase not in SHOWN_PHASES:
            return ()
        summary = (f"state commits failing: {self.storage.problem}" if self.storage.problem
                   else "state commits succeed again")
        return (AlertView(name=STORAGE_ALERT, fingerprint=STORAGE_RULE.fingerprint,
                          labels=dict(STORAGE_RULE.labels), phase=state.phase.value,
                          severity=state.severity, started_at=state.active_since,
                          fired_at=state.fired_at, resolved_at=state.resolved_at,
                          value=state.value, summary=summary),)

    def _publish(self, now: float) -> None:
        """Mark the state changed; the Snapshot itself is built when someone reads it
        (a busy agent with hundreds of jobs a second builds a few, not hundreds)."""
        self._seq += 1
        self._dirty_at = now
        asyncio.get_running_loop().create_task(self._notify_change())

    def _materialize(self) -> Snapshot | None:
        if self._seq == 0:
            return None
        if self._snapshot is not None and self._snapshot.seq == self._seq:
            return self._snapshot
        now = self._dirty_at
        report = evaluate(self.results, self.rows, now, COMPONENT_ORDER)
        stats = AgentStats(started_at=self._started_at, cycles_total=dict(self.cycles),
                           missed_runs_total=self.missed_runs, last_lag_s=self.last_lag_s,
                           notifications_sent_total=self.dispatcher.sent_total,
                           notification_failures_total=self.dispatcher.failures_total,
                           outbox_pending=self.outbox_pending,
                           expected_interval_s=min((self.interval(j) for j in self.jobs),
                                                   default=5.0))
        self._snapshot = Snapshot(
            seq=self._seq, taken_at=now, report=report,
            alerts=(self._storage_views() + self._alert_views(now)
                    + self.remediation.alert_views() + self.checklists.alert_views()),
            silences=tuple(silence_json(s) for s in self.silences), stats=stats,
            last_probe=dict(self.last_probe), last_good=dict(self.last_good),
            history={k: tuple(v) for k, v in self.history.items()},
            remediation=self.remediation.section(now),
            checklists=self.checklists.section(now),
            cost=self.results["cost"].details.get("section", {}) if "cost" in self.results
            else {})
        return self._snapshot

    async def _notify_change(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- commands (API, CLI in-process, dashboard) ----------------------------------------

    @property
    def snapshot(self) -> Snapshot | None:
        return self._materialize()

    async def wait_for_change(self, after_seq: int, timeout: float) -> Snapshot | None:
        if self._seq and self._seq != after_seq:
            return self.snapshot
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait(), timeout)
            except TimeoutError:
                pass
        return self.snapshot

    def metrics_text(self) -> bytes:
        from prometheus_client import CollectorRegistry

        from agent.exporter import exposition, with_external_labels
        from agent.resources import ResourceCollector

        registry = CollectorRegistry()
        labels = self.config.agent.external_labels
        registry.register(with_external_labels(
            SnapshotCollector(lambda: self.snapshot, self.durations, self.lag,
                              probe_results=lambda: self.results,
                              ollama_loads=self._ollama_loads), labels))
        registry.register(with_external_labels(
            ResourceCollector(lambda: self.storage.failures_total), labels))
        return exposition(registry)

    async def add_silence(self, matchers: str, duration_s: float, comment: str,
                          by: str) -> dict[str, Any]:
        now = self._clock()
        comment = redact_comment(comment, self._secrets)  # stored and shown redacted
        silence, row = new_silence(matchers, duration_s, comment, by, now)
        await self.db(self._store.add_silence, row,
                      AuditRecord(now, by, "silence.add", silence.id, "ok",
                                  {"matchers": row.matchers, "ends_at": row.ends_at,
                                   "comment": comment}))
        await self._refresh_silences(now, force=True)
        self._publish(now)
        return silence_json(silence)

    async def expire_silence(self, silence_id: str) -> bool:
        now = self._clock()
        done = await self.db(self._store.expire_silence, silence_id, now,
                             AuditRecord(now, "api", "silence.expire", silence_id, "ok", {}))
        await self._refresh_silences(now, force=True)
        self._publish(now)
        return bool(done)

    async def add_ack(self, alert: str, comment: str, duration_s: float | None,
                      by: str) -> dict[str, Any]:
        now = self._clock()
        bound = self.rules.get(alert)
        fp = bound.rule.fingerprint if bound else alert
        if fp not in self._fp_rule:
            raise ValueError(f"no alert named {alert!r}")
        if not comment.strip():
            raise ValueError("an acknowledgement needs a comment")
        comment = redact_comment(comment, self._secrets)  # stored and shown redacted
        expires = now + (check_duration(duration_s, "an acknowledgement")
                         if duration_s else 24 * 3600.0)
        await self.db(self._store.add_ack, fp, comment, expires, by, now,
                      AuditRecord(now, by, "ack.add", self._fp_rule[fp], "ok",
                                  {"comment": comment, "expires_at": expires}))
        await self._refresh_silences(now, force=True)
        self._publish(now)
        return {"alert": self._fp_rule[fp], "fingerprint": fp, "comment": comment,
                "expires_at": expires, "by": by}

    async def alert_history(self, limit: int = 100, before: int | None = None) -> dict[str, Any]:
        """A page of the alert history (the audit trail's `alert.*` records), newest
        first; `next_before` continues it (None on the last page). ValueError for a
        limit outside 1..HISTORY_MAX_LIMIT or a negative `before`."""
        if isinstance(limit, bool) or not isinstance(limit, int) \
                or not 1 <= limit <= HISTORY_MAX_LIMIT:
            raise ValueError(f"limit: expected a whole number 1..{HISTORY_MAX_LIMIT}, "
                             f"got {limit!r}")
        if before is not None and (isinstance(before, bool) or not isinstance(before, int)
                                   or before < 0):
            raise ValueError(f"before: expected a record id (a whole number >= 0), "
                             f"got {before!r}")
        rows, total = await self.db(self._store.alert_history, limit, before)
        return {"records": [{"id": r.id, "ts": r.ts, "actor": r.actor,
                             "event": r.action.removeprefix("alert."), "alert": r.target,
                             "severity": r.outcome, "detail": r.detail} for r in rows],
                "total": total,
                "next_before": rows[-1].id if len(rows) == limit else None}

    # remediation (agent.remediation.controller documents the section and the outcomes)
    def remediation_state(self) -> dict[str, Any]:
        return self.remediation.section(self._clock())

    async def remediation_plan(self, name: str, by: str) -> dict[str, Any]:
        return await self.remediation.plan_now(name, by)

    async def remediation_run(self, name: str, confirm: str, by: str) -> dict[str, Any]:
        return await self.remediation.run_now(name, confirm, by)

    async def remediation_resume(self, name: str, by: str) -> dict[str, Any]:
        return await self.remediation.resume_now(name, by)

    # checklists (agent.checklists.controller documents the section)
    def checklists_state(self) -> dict[str, Any]:
        return self.checklists.section(self._clock())

    async def checklist_answer(self, kind: str, item_id: str, result: str, note: str,
                               by: str) -> dict[str, Any]:
        return await self.checklists.answer(kind, item_id, result, note, by)

    def record_lag(self, job: str, lag_s: float) -> None:
        self.last_lag_s = lag_s
        self.lag.observe(job, max(0.0, lag_s))

    def record_missed(self, job: str) -> None:
        self.missed_runs += 1
        log.warning("job %s: previous run still going, this run skipped", job)


class _Port:
    """The runtime as its controllers see it (`agent.cycle_port.CyclePort`): the only
    door to the runtime's private parts from outside this module."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    @property
    def store(self) -> Store:
        return self._runtime._store

    @property
    def transport(self) -> Any:
        return self._runtime._transport

    @property
    def results(self) -> dict[str, ProbeResult]:
        return self._runtime.results

    @property
    def rows(self) -> list:
        return self._runtime.rows

    @property
    def jobs(self) -> dict[str, Any]:
        return self._runtime.jobs

    @property
    def dependency_graph(self) -> DependencyGraph:
        return self._runtime.dependency_graph

    @property
    def dependency_labels(self) -> dict[str, Any]:
        return self._runtime.dependency_labels

    def now(self) -> float:
        return self._runtime._clock()

    async def io(self, fn: Callable, *args: Any) -> Any:
        return await self._runtime.db(fn, *args)

    async def db(self, fn: Callable, *args: Any) -> Any:
        return await self._runtime.db(fn, self._runtime._store, *args)

    def publish(self, now: float | None = None) -> None:
        self._runtime._publish(self._runtime._clock() if now is None else now)

    def receivers(self) -> list[str]:
        return [n.name for n in self._runtime._notifiers]

    def submit(self, finding: Finding) -> None:
        self._runtime._findings.append(finding)

    def alert_state(self, rule: AlertRule) -> AlertState | None:
        return self._runtime.raised.get(rule.fingerprint)

    def alert_states(self) -> dict[str, AlertState]:
        return self._runtime._w_states

    def inhibitions(self) -> dict[str, str]:
        return self._runtime._w_inhibitions

    def defer(self, key: str, write: Callable, then: Callable[[], None] | None = None) -> None:
        self._runtime.defer_write(key, write, then)

    def defer_outbox(self, items: list[OutboxItem], audit: list[AuditRecord] = ()) -> None:
        self._runtime.defer_outbox(items, audit)

    async def commit(self, now: float) -> bool:
        return await self._runtime.commit(now)

