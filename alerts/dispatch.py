"""Who is told what, and the delivery loop that tells them: the notify step of a cycle.

`plan` is pure: this cycle's alert events and the planner's ledger in, the notices
to enqueue and the new ledger out. `Dispatcher` is the I/O side: it reads due
outbox rows, sends each receiver's batch (with a `GroupPolicy`: each ready group) as
one notification, and marks rows sent or failed with exponential backoff.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

from vocab.redact import redact
from alerts.lifecycle import AlertEvent, EventKind
from alerts.notifiers.backoff import Backoff
from alerts.notifiers.grouping import (Group, GroupPolicy, GroupState, Pending, after_send,
                                       group_of, ready)
from alerts.notifiers.notice import FIRING, Notice, notice_from_event
from alerts.notifiers.notifier import Notifier, NotifyError
from alerts.notifiers.outbox import Outbox, collapse, row_field, row_notice

log = logging.getLogger("alice_ops.alerts.dispatch")


# --- planning (pure) -------------------------------------------------------------------


@dataclass(frozen=True)
class Tracked:
    """A firing alert as the planner remembers it between cycles.

    Attributes:
        notice: Its latest firing notice: current labels and annotations, and in
            `reminder` how many repeats were planned so far.
        notified_at: When that notice was planned; None while the alert has been
            silenced (or acked) since it fired, i.e. nobody was told yet.
    """

    notice: Notice
    notified_at: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"notice": self.notice.to_dict(), "notified_at": self.notified_at}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Tracked:
        at = data.get("notified_at")
        return cls(Notice.from_dict(data["notice"]), None if at is None else float(at))


Ledger = Mapping[str, Tracked]
"""Tracked alerts by fingerprint: every alert firing now, notified or not."""


@dataclass(frozen=True)
class Plan:
    """What `plan` decided: notices to enqueue (in order) and the ledger to keep."""

    notices: tuple[Notice, ...]
    ledger: dict[str, Tracked]


def _never(_: Any) -> bool:
    return False


def plan(events: Iterable[AlertEvent], ledger: Ledger, *,
         silenced: Callable[[Mapping[str, str]], bool], repeat_interval_s: float | None,
         now: float, acked: Callable[[str], bool] = _never) -> Plan:
    """Decide which notices one cycle enqueues.

    Rules, per alert (fingerprint):

    * FIRING: a firing notice (reminder 0) unless `silenced(labels)`; either way
      the alert is tracked, so a silence that ends while it still fires lets the
      first notice out then.
    * SEVERITY_CHANGED: re-announced as the next repeat (reminder + 1, its own
      dedupe key) if it was notified and is not silenced; else only tracked.
    * RESOLVED: a resolved notice only if a firing notice of that episode was
      planned (the alert is tracked with `notified_at`), even if a silence started
      since: an announced incident is always closed. Untracked afterwards.
    * PENDING, FLAPPING: nothing.
    * Every tracked alert without an event this cycle: if not silenced and not
      acked, a first notice when it was never notified, else a reminder (reminder
      + 1) once `repeat_interval_s` has passed since its last notice (never when
      `repeat_interval_s` is None or <= 0).

    The notices are all enqueued with the same `now`, so the dispatcher sends them
    to each receiver as one notification (grouping).

    Args:
        events: This cycle's events from `alerts.lifecycle.transition`.
        ledger: The previous cycle's `Plan.ledger` ({} at first start).
        silenced: Whether an alert's labels (alertname + labels + severity) are
            muted now, e.g. `lambda l: is_silenced(l, silences, now) is not None`.
        repeat_interval_s: Seconds between reminders of a still-firing alert.
        now: Cycle time, unix seconds.
        acked: Whether an alert (by fingerprint) is acknowledged: no reminders and
            no late first notice (a fresh FIRING and an escalation still go out).

    Returns:
        The notices to enqueue, in order, and the new ledger.
    """
    book = dict(ledger)
    out: list[Notice] = []
    touched: set[str] = set()

    def track(notice: Notice, notify: bool, prev_at: float | None = None) -> None:
        book[notice.fingerprint] = Tracked(notice, now if notify else prev_at)
        if notify:
            out.append(notice)

    for event in events:
        fp = event.fingerprint
        prev = book.get(fp)
        same_episode = prev is not None and prev.notice.starts_at == event.started_at
        if event.kind is EventKind.FIRING or (
                event.kind is EventKind.SEVERITY_CHANGED and not same_episode):
            notice = notice_from_event(event)
            track(notice, not silenced(notice.all_labels))
        elif event.kind is EventKind.SEVERITY_CHANGED:
            if prev.notified_at is None:  # as the sweep below would: a late first notice
                notice = notice_from_event(event)
                track(notice, not silenced(notice.all_labels) and not acked(fp))
            else:
                notice = notice_from_event(event, prev.notice.reminder + 1)
                if silenced(notice.all_labels):
                    kept = prev.notice.repeat(prev.notice.reminder, labels=notice.labels,
                                              annotations=notice.annotations)
                    track(kept, False, prev.notified_at)
                else:
                    track(notice, True)
        elif event.kind is EventKind.RESOLVED:
            book.pop(fp, None)
            if same_episode and prev.notified_at is not None:
                out.append(notice_from_event(event))
        else:
            continue
        touched.add(fp)

    for fp, tracked in sorted(book.items(), key=lambda kv: (kv[1].notice.starts_at, kv[0])):
        if fp in touched or silenced(tracked.notice.all_labels) or acked(fp):
            continue
        if tracked.notified_at is None:
            track(tracked.notice, True)
        elif repeat_interval_s and repeat_interval_s > 0 and \
                now - tracked.notified_at >= repeat_interval_s:
            track(tracked.notice.repeat(tracked.notice.reminder + 1), True)
    return Plan(tuple(out), book)


# --- delivery (I/O) --------------------------------------------------------------------


def _direct(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)


class Dispatcher:
    """Delivers outbox rows to receivers in the background; never blocks the cycle.

    Each pass reads the due rows, groups them by receiver and starts one task per
    receiver that sends its whole batch as ONE notification, so a slow receiver
    delays nobody else. Success marks the rows sent; failure marks them failed
    with `next_attempt_at` = now + backoff (1 s doubling to 60 s, jittered) and
    holds that receiver's new rows back until then, so they go out together and
    in order. The loop sleeps until a `wake()`, the next retry, the next re-post
    of firing alerts to a receiver with `resend_interval_s` (Alertmanager), or
    `poll_interval_s`, whichever comes first. A receiver with `resend_interval_s` and
    a true `keepalive` (Alertmanager with the Watchdog) is posted to at start and
    every `resend_interval_s` even when nothing fires: `send([])` carries the Watchdog.

    With a `grouping` policy, a receiver whose `group_notices` is true (webhook, e-mail,
    ntfy, Slack) is told one group at a time (`alerts.notifiers.grouping`): the due rows
    of one group key go out as one notification, `send(notices, group=...)`, once the
    group is ready (group_wait for a new group, group_interval after its last send),
    and are marked sent together, in one commit. Receivers that group themselves
    (Alertmanager) or need none (the log) get every due row at once, as without a policy.

    Args:
        receivers: The notifiers, by their unique `name`.
        outbox: The store side (`due_outbox`, `mark_sent`, `mark_failed`).
        run_io: Calls an outbox method: `run_io(fn, *args)`; may return an awaitable
            (e.g. to run it on the store's DB thread). Default: a direct call.
        backoff: Retry spacing.
        clock: Unix time.
        rand: Uniform [0, 1) draws for jitter.
        batch_limit: Most rows read per pass.
        send_timeout_s: Longest one send may take before it counts as failed.
        poll_interval_s: Longest sleep without a wake (picks up rows whose retry
            time this dispatcher did not set, e.g. after a restart).
        firing: Firing notices delivered before a restart (e.g. the ledger's notified
            entries), re-posted to receivers with `resend_interval_s`.
        grouping: How grouped receivers' notices are grouped; None: no grouping (each
            receiver's due rows are one notification).
    """

    def __init__(self, receivers: Sequence[Notifier], outbox: Outbox, *,
                 run_io: Callable[..., Any] = _direct, backoff: Backoff = Backoff(),
                 clock: Callable[[], float] = time.time,
                 rand: Callable[[], float] = random.random, batch_limit: int = 1000,
                 send_timeout_s: float = 30.0, poll_interval_s: float = 30.0,
                 firing: Iterable[Notice] = (), grouping: GroupPolicy | None = None) -> None:
        self._receivers = {r.name: r for r in receivers}
        if len(self._receivers) != len(receivers):
            raise ValueError("dispatcher: receiver names must be unique")
        self._outbox, self._run_io, self._backoff = outbox, run_io, backoff
        self._clock, self._rand = clock, rand
        self._batch_limit, self._send_timeout_s = batch_limit, send_timeout_s
        self._poll_interval_s = poll_interval_s
        self._policy = grouping
        self._groups: dict[str, dict[str, GroupState]] = {n: {} for n in self._receivers}
        self._held_until: dict[str, float] = {}  # the next held group's due time
        self._sent = dict.fromkeys(self._receivers, 0)
        self._failures = dict.fromkeys(self._receivers, 0)
        self._last_error: dict[str, str] = {}
        self._streak = dict.fromkeys(self._receivers, 0)
        self._blocked_until: dict[str, float] = {}
        self._inflight: dict[str, asyncio.Task[None]] = {}
        self._active: dict[str, dict[str, Notice]] = {
            name: {} for name, r in self._receivers.items() if _resend_interval(r)}
        self._next_refresh: dict[str, float] = {}
        self._keepalive = {name for name, r in self._receivers.items()
                           if _resend_interval(r) and getattr(r, "keepalive", False)}
        self._track_sent(list(firing), only=self._active)
        for name in self._keepalive:
            self._next_refresh.setdefault(name, clock())
        for name in self._next_refresh:  # re-post at once: they may have expired meanwhile
            self._next_refresh[name] = clock()
        self._grace_s = 5.0
        self._wake = asyncio.Event()
        self._stopping = False
        self._running = False
        self._stopped = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- public surface --

    @property
    def sent_total(self) -> dict[str, int]:
        """Notifications delivered, per receiver (one per batch; for /metrics)."""
        return dict(self._sent)

    @property
    def failures_total(self) -> dict[str, int]:
        """Failed notification attempts, per receiver (for /metrics)."""
        return dict(self._failures)

    @property
    def last_errors(self) -> dict[str, str]:
        """The latest redacted failure reason of each receiver currently failing."""
        return dict(self._last_error)

    def wake(self) -> None:
        """Ask for a pass now (e.g. after the cycle committed new rows). Never blocks;
        safe to call from another thread once `run` has started."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is not loop:
                loop.call_soon_threadsafe(self._wake.set)
                return
        self._wake.set()

    async def run(self) -> None:
        """The delivery loop; returns after `stop()` (or raises CancelledError if cancelled)."""
        if self._running:
            raise RuntimeError("dispatcher is already running")
        self._running, self._loop = True, asyncio.get_running_loop()
        self._stopped.clear()
        try:
            while not self._stopping:
                self._wake.clear()
                await self._pass()
                try:
                    await asyncio.wait_for(self._wake.wait(), self._sleep_for())
                except TimeoutError:
                    pass
        finally:
            await self._drain(grace_s=self._grace_s if self._stopping else 0.0)
            self._running = False
            self._stopped.set()

    async def stop(self, grace_s: float = 5.0) -> None:
        """End `run`: sends in flight get `grace_s` to finish, then are cancelled
        (their rows stay unsent and go out after a restart)."""
        self._grace_s = grace_s
        self._stopping = True
        self._wake.set()
        if self._running:
            await self._stopped.wait()

    # -- one pass --

    async def _io(self, fn: Callable[..., Any], *args: Any) -> Any:
        result = self._run_io(fn, *args)
        if inspect.isawaitable(result):
            result = await result
        return result

    async def _pass(self) -> None:
        now = self._clock()
        try:
            rows = await self._io(self._outbox.due_outbox, now, self._batch_limit)
        except Exception as err:
            log.warning("outbox read failed: %s", redact(f"{type(err).__name__}: {err}"))
            rows = []
        groups: dict[str, list[Any]] = {}
        for row in rows:
            groups.setdefault(str(row_field(row, "receiver")), []).append(row)
        self._held_until = {n: t for n, t in self._held_until.items() if n in groups}
        for name, batch in groups.items():
            if name in self._inflight or self._blocked_until.get(name, 0.0) > now:
                continue
            notifier = self._receivers.get(name)
            if notifier is None:
                await self._fail_rows(batch, f"no receiver named {name!r} is configured",
                                      now + self._backoff.cap_s)
                continue
            if self._grouped(notifier):
                ready_groups = await self._ready_groups(name, batch, now)
                if ready_groups:
                    self._start(notifier, ready_groups)
            else:
                self._start(notifier, [(None, batch)])
        for name, active in self._active.items():
            if ((active or name in self._keepalive) and name not in self._inflight
                    and self._blocked_until.get(name, 0.0) <= now
                    and self._next_refresh.get(name, now) <= now):
                self._start(self._receivers[name], [(None, [])])

    def _grouped(self, notifier: Notifier) -> bool:
        return self._policy is not None and bool(getattr(notifier, "group_notices", False))

    async def _ready_groups(self, name: str, batch: list[Any], now: float
                            ) -> list[tuple[Group | None, list[Any]]]:
        """The groups of one receiver's due rows that may go out now (oldest first); the
        next held one's due time goes to `_held_until`. Unreadable rows fail here."""
        assert self._policy is not None
        rows_of: dict[str, list[Any]] = {}
        pending: dict[str, list[Pending]] = {}
        named: dict[str, Group] = {}
        for row in batch:
            try:
                notice = row_notice(row)
            except ValueError as err:
                await self._fail_rows([row], str(err), now + self._backoff.cap_s)
                continue
            group = group_of(notice, self._policy)
            named.setdefault(group.key, group)
            rows_of.setdefault(group.key, []).append(row)
            pending.setdefault(group.key, []).append(
                Pending(notice, float(row_field(row, "created_at", now) or now)))
        keys, next_at = ready(pending, self._groups[name], self._policy, now)
        if next_at is None:
            self._held_until.pop(name, None)
        else:
            self._held_until[name] = next_at
        return [(named[key], rows_of[key]) for key in keys]

    def _start(self, notifier: Notifier, batches: list[tuple[Group | None, list[Any]]]
               ) -> None:
        self._inflight[notifier.name] = asyncio.create_task(
            self._deliver(notifier, batches), name=f"notify-{notifier.name}")

    def _sleep_for(self) -> float | None:
        now = self._clock()
        deadlines = [t for name, t in self._blocked_until.items()
                     if t > now and name not in self._inflight]
        deadlines += [max(t, self._blocked_until.get(name, 0.0))
                      for name, t in self._next_refresh.items()
                      if (self._active.get(name) or name in self._keepalive)
                      and name not in self._inflight]
        deadlines += [max(t, self._blocked_until.get(name, 0.0))
                      for name, t in self._held_until.items() if name not in self._inflight]
        wait = self._poll_interval_s if self._poll_interval_s > 0 else None
        if deadlines:
            soonest = max(0.0, min(deadlines) - now) + 0.005
            wait = soonest if wait is None else min(wait, soonest)
        return wait

    # -- one receiver --

    async def _deliver(self, notifier: Notifier,
                       batches: list[tuple[Group | None, list[Any]]]) -> None:
        """Send each batch as one notification, in order, until one fails (the receiver
        then backs off and the rest wait). A batch is a group's rows, every due row
        (group None), or no rows: a re-post of the active alerts."""
        name = notifier.name
        try:
            for group, rows in batches:
                if not await self._deliver_one(notifier, group, rows):
                    break
        finally:
            self._inflight.pop(name, None)
            self._wake.set()

    async def _deliver_one(self, notifier: Notifier, group: Group | None,
                           rows: list[Any]) -> bool:
        """One notification; False when it failed."""
        name = notifier.name
        notices, good_rows = [], []
        for row in rows:
            try:
                notices.append(row_notice(row))
                good_rows.append(row)
            except ValueError as err:
                await self._fail_rows([row], str(err), self._clock() + self._backoff.cap_s)
        if rows:
            notices = collapse(notices)
        else:
            notices = list(self._active.get(name, {}).values())
        if not notices and (rows or name not in self._keepalive):
            return True
        reason = await self._send(notifier, notices, group)
        now = self._clock()
        if reason is not None:
            next_at = self._failed(name, reason, good_rows, now)
            await self._fail_rows(good_rows, reason, next_at)
            return False
        self._succeeded(notifier, notices, now)
        if group is not None:
            state = after_send(self._groups[name].get(group.key), notices, now)
            if state is None:  # nothing of it fires any more: the episode is over
                self._groups[name].pop(group.key, None)
            else:
                self._groups[name][group.key] = state
        await self._mark_sent([row_field(r, "id") for r in good_rows], now)
        return True

    async def _send(self, notifier: Notifier, notices: list[Notice],
                    group: Group | None = None) -> str | None:
        """None on success, else the one-line redacted reason."""
        try:
            sending = (notifier.send(notices) if group is None else
                       notifier.send(notices, group=group))  # type: ignore[call-arg]
            await asyncio.wait_for(sending, self._send_timeout_s)
            return None
        except NotifyError as err:
            return err.reason
        except TimeoutError:
            return f"no answer within {self._send_timeout_s:g}s"
        except Exception as err:  # a notifier bug must not kill the loop
            return " ".join(redact(f"{type(err).__name__}: {err}").split())

    def _succeeded(self, notifier: Notifier, notices: list[Notice], now: float) -> None:
        name = notifier.name
        self._sent[name] += 1
        self._streak[name] = 0
        self._blocked_until.pop(name, None)
        self._last_error.pop(name, None)
        self._track_sent(notices, only=(name,))
        interval = _resend_interval(notifier)
        if interval and (self._active.get(name) or name in self._keepalive):
            self._next_refresh[name] = now + interval

    def _failed(self, name: str, reason: str, rows: list[Any], now: float) -> float:
        self._failures[name] += 1
        attempts = max([self._streak[name]] + [int(row_field(r, "attempts", 0) or 0)
                                               for r in rows])
        self._streak[name] += 1
        next_at = now + self._backoff.delay(attempts, self._rand())
        self._blocked_until[name] = next_at
        self._last_error[name] = reason
        log.warning("notify %s failed (attempt %d), retry in %.1fs: %s",
                    name, attempts + 1, next_at - now, reason)
        return next_at

    def _track_sent(self, notices: Sequence[Notice], only: Iterable[str]) -> None:
        """Remember what a resend receiver now believes is firing."""
        for name in only:
            active = self._active.get(name)
            if active is None:
                continue
            for notice in notices:
                held = active.get(notice.fingerprint)
                if notice.status == FIRING:
                    if held is None or held.starts_at <= notice.starts_at:
                        active[notice.fingerprint] = notice
                elif held is not None and held.starts_at <= notice.starts_at:
                    del active[notice.fingerprint]
            if active and name not in self._next_refresh:
                self._next_refresh[name] = self._clock() + _resend_interval(
                    self._receivers[name])

    async def _mark_sent(self, ids: list[Any], now: float) -> None:
        if not ids:
            return
        try:
            await self._io(self._outbox.mark_sent, ids, now)
        except Exception as err:  # the rows go out again: at least once, never lost
            log.warning("outbox mark_sent failed: %s", redact(f"{type(err).__name__}: {err}"))

    async def _fail_rows(self, rows: list[Any], reason: str, next_at: float) -> None:
        for row in rows:
            try:
                await self._io(self._outbox.mark_failed, row_field(row, "id"), reason, next_at)
            except Exception as err:
                log.warning("outbox mark_failed failed: %s",
                            redact(f"{type(err).__name__}: {err}"))

    async def _drain(self, grace_s: float) -> None:
        tasks = list(self._inflight.values())
        if tasks and grace_s > 0:
            await asyncio.wait(tasks, timeout=grace_s)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


def _resend_interval(notifier: Any) -> float | None:
    interval = getattr(notifier, "resend_interval_s", None)
    return float(interval) if interval else None
