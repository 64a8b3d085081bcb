"""plan() as tables on a fake clock; the Dispatcher against an in-memory outbox,
fake notifiers and real webhook receivers on loopback (a receiver that is down
for a while, a slow one next to a fast one)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vocab.model import Status
from alerts.dispatch import Dispatcher, Tracked, plan
from alerts.lifecycle import AlertEvent, EventKind
from alerts.notifiers import (
    Backoff,
    Notice,
    NotifyError,
    WebhookNotifier,
    notice_from_event,
    outbox_entries,
)
from alerts.notifiers.outbox import collapse
from alertmanager import free_port

T0 = 1_700_000_000.0
HOUR = 3600.0
TOKEN = "dispatch-secret-token-9876"


def ev(kind=EventKind.FIRING, rule="openai_latency", component="openai", severity="warning",
       started_at=T0, at=T0):
    return AlertEvent(kind=kind, rule=rule, labels={"component": component, "metric": "p95"},
                      severity=severity, started_at=started_at, at=at, value=1.0,
                      status=Status.WARNING, summary=f"{rule} {kind.value}")


def never(_):
    return False


def muted(component):
    return lambda labels: labels.get("component") == component


def keys(result):
    return [(n.alertname, n.labels["component"], n.status, n.reminder) for n in result.notices]


# --- plan() -----------------------------------------------------------------------------

FIRING_OPENAI = ev()
NOTIFIED = {FIRING_OPENAI.fingerprint: Tracked(notice_from_event(FIRING_OPENAI), T0)}
SILENCED_ALONG = {FIRING_OPENAI.fingerprint: Tracked(notice_from_event(FIRING_OPENAI), None)}


@pytest.mark.parametrize("events, ledger, silenced, now, expected", [
    pytest.param([ev()], {}, never, T0, [("openai_latency", "openai", "firing", 0)],
                 id="firing -> notice"),
    pytest.param([ev()], {}, muted("openai"), T0, [], id="silenced firing -> none"),
    pytest.param([ev(EventKind.PENDING)], {}, never, T0, [], id="pending -> none"),
    pytest.param([ev(EventKind.FLAPPING)], NOTIFIED, never, T0, [], id="flapping -> none"),
    pytest.param([ev(EventKind.RESOLVED, at=T0 + 60)], {}, never, T0 + 60, [],
                 id="resolved without firing notice -> none"),
    pytest.param([ev(EventKind.RESOLVED, at=T0 + 60)], SILENCED_ALONG, never, T0 + 60, [],
                 id="resolved after a silenced firing -> none"),
    pytest.param([ev(EventKind.RESOLVED, at=T0 + 60, started_at=T0 + 30)], NOTIFIED, never,
                 T0 + 60, [], id="resolved of another episode -> none"),
    pytest.param([ev(EventKind.RESOLVED, at=T0 + 60)], NOTIFIED, never, T0 + 60,
                 [("openai_latency", "openai", "resolved", 0)],
                 id="resolved after firing notice -> resolved notice"),
    pytest.param([ev(EventKind.RESOLVED, at=T0 + 60)], NOTIFIED, muted("openai"), T0 + 60,
                 [("openai_latency", "openai", "resolved", 0)],
                 id="announced episode is closed even under a silence"),
    pytest.param([], NOTIFIED, never, T0 + HOUR - 1, [], id="no reminder before interval"),
    pytest.param([], NOTIFIED, never, T0 + HOUR, [("openai_latency", "openai", "firing", 1)],
                 id="reminder at interval"),
    pytest.param([], NOTIFIED, muted("openai"), T0 + 2 * HOUR, [],
                 id="silenced -> no reminder"),
    pytest.param([], SILENCED_ALONG, never, T0 + 60, [("openai_latency", "openai", "firing", 0)],
                 id="silence ended while firing -> first notice now"),
    pytest.param([ev(EventKind.SEVERITY_CHANGED, severity="critical", at=T0 + 5)], NOTIFIED,
                 never, T0 + 5, [("openai_latency", "openai", "firing", 1)],
                 id="escalation -> next repeat"),
    pytest.param([ev(EventKind.SEVERITY_CHANGED, severity="critical", at=T0 + 5)], NOTIFIED,
                 muted("openai"), T0 + 5, [], id="silenced escalation -> none"),
    pytest.param([ev(), ev(component="ollama", rule="ollama_latency"),
                  ev(component="gateway", rule="gw_errors")], {}, muted("gateway"), T0,
                 [("openai_latency", "openai", "firing", 0),
                  ("ollama_latency", "ollama", "firing", 0)],
                 id="grouping: one cycle, several alerts, in event order"),
])
def test_plan_table(events, ledger, silenced, now, expected):
    result = plan(events, ledger, silenced=silenced, repeat_interval_s=HOUR, now=now)
    assert keys(result) == expected
    assert len({n.dedupe_key for n in result.notices}) == len(result.notices)


def test_plan_reminder_gets_distinct_key_and_restarts_the_clock():
    first = plan([ev()], {}, silenced=never, repeat_interval_s=HOUR, now=T0)
    again = plan([], first.ledger, silenced=never, repeat_interval_s=HOUR, now=T0 + HOUR)
    (reminder,) = again.notices
    assert reminder.reminder == 1 and reminder.dedupe_key != first.notices[0].dedupe_key
    assert reminder.dedupe_key.endswith(":firing:1")
    later = plan([], again.ledger, silenced=never, repeat_interval_s=HOUR, now=T0 + 1.5 * HOUR)
    assert later.notices == ()
    third = plan([], later.ledger, silenced=never, repeat_interval_s=HOUR, now=T0 + 2 * HOUR)
    assert [n.reminder for n in third.notices] == [2]


def test_plan_no_reminders_when_disabled_or_acked():
    for interval, acked in ((None, never), (0, never), (HOUR, lambda fp: True)):
        result = plan([], NOTIFIED, silenced=never, repeat_interval_s=interval,
                      now=T0 + 10 * HOUR, acked=acked)
        assert result.notices == ()


def test_plan_ledger_tracks_episodes():
    fired = plan([ev()], {}, silenced=never, repeat_interval_s=HOUR, now=T0)
    assert set(fired.ledger) == {FIRING_OPENAI.fingerprint}
    done = plan([ev(EventKind.RESOLVED, at=T0 + 60)], fired.ledger, silenced=never,
                repeat_interval_s=HOUR, now=T0 + 60)
    assert done.ledger == {}
    restored = {fp: Tracked.from_dict(t.to_dict()) for fp, t in fired.ledger.items()}
    assert restored == fired.ledger


@given(st.lists(st.sampled_from([EventKind.FIRING, EventKind.RESOLVED, EventKind.PENDING,
                                 EventKind.SEVERITY_CHANGED, None]), max_size=12),
       st.booleans())
def test_plan_never_resolves_what_it_did_not_announce(steps, silence_all):
    """Walk one alert through random cycles: a resolved notice always follows a firing
    one of the same episode, and a silenced alert produces nothing but that."""
    ledger, t, started, announced = {}, T0, T0, set()
    silenced = (lambda labels: True) if silence_all else never
    for kind in steps:
        t += 600
        if kind is EventKind.FIRING:
            started = t
        events = [] if kind is None else [ev(kind, started_at=started, at=t)]
        result = plan(events, ledger, silenced=silenced, repeat_interval_s=HOUR, now=t)
        for notice in result.notices:
            if notice.status == "firing":
                assert not silence_all
                announced.add(notice.starts_at)
            else:
                assert notice.starts_at in announced
        ledger = result.ledger


# --- an in-memory outbox (the store's contract) and fake notifiers ----------------------


@dataclass
class Row:
    id: int
    dedupe_key: str
    receiver: str
    fingerprint: str
    kind: str
    payload: dict
    created_at: float
    next_attempt_at: float
    attempts: int = 0
    sent_at: float | None = None
    last_error: str | None = None


class MemoryOutbox:
    """The store's outbox methods over a list; thread-safe so run_io may use threads."""

    def __init__(self):
        self.rows: list[Row] = []
        self.failures: list[tuple[int, str, float, float]] = []  # id, error, at, next
        self._lock = threading.Lock()

    def add(self, notices, receivers, now=None):
        now = time.time() if now is None else now
        with self._lock:
            for entry in outbox_entries(notices, receivers):
                if any(r.dedupe_key == entry["dedupe_key"] for r in self.rows):
                    continue  # the store's dedupe_key is UNIQUE
                self.rows.append(Row(id=len(self.rows) + 1, created_at=now,
                                     next_attempt_at=now, **entry))

    def due_outbox(self, now, limit):
        with self._lock:
            due = [r for r in self.rows if r.sent_at is None and r.next_attempt_at <= now]
            return [Row(**vars(r)) for r in due[:limit]]

    def mark_sent(self, ids, now):
        with self._lock:
            for r in self.rows:
                if r.id in ids:
                    r.sent_at = now

    def mark_failed(self, id, error, next_attempt_at):
        with self._lock:
            row = next(r for r in self.rows if r.id == id)
            row.attempts += 1
            row.last_error = error
            row.next_attempt_at = next_attempt_at
            self.failures.append((id, error, time.time(), next_attempt_at))

    def unsent(self):
        return [r for r in self.rows if r.sent_at is None]


class FakeNotifier:
    """Records each batch; fails while `fail` is set; can hang."""

    def __init__(self, name, *, fail=False, hang=False, resend_interval_s=None):
        self.name, self.fail, self.hang = name, fail, hang
        self.resend_interval_s = resend_interval_s
        self.batches: list[list[Notice]] = []
        self.calls = 0

    async def send(self, notices):
        self.calls += 1
        if self.hang:
            await asyncio.Event().wait()
        if self.fail:
            raise NotifyError(f"{self.name} is down")
        self.batches.append(list(notices))


async def until(predicate, timeout_s=10.0, what="condition"):
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


class Running:
    """`async with Running(dispatcher)`: run it in a task, stop it on exit."""

    def __init__(self, dispatcher):
        self.dispatcher = dispatcher

    async def __aenter__(self):
        self.task = asyncio.create_task(self.dispatcher.run())
        return self.dispatcher

    async def __aexit__(self, *exc):
        await self.dispatcher.stop(grace_s=0.5)
        await self.task


def notices(*components, kind=EventKind.FIRING):
    return [notice_from_event(ev(kind, component=c, rule=f"{c}_latency", at=T0 + 60))
            for c in components]


# --- Dispatcher -------------------------------------------------------------------------


def test_backoff_doubles_to_a_cap_with_bounded_jitter():
    b = Backoff()
    assert [b.delay(n) for n in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert b.delay(10_000) == 60
    assert 0.9 <= b.delay(0, 0.0) <= b.delay(0, 0.999) <= 1.1
    assert b.delay(20, 0.999) == 60  # jitter never exceeds the cap


def test_collapse_keeps_the_latest_news_per_episode():
    fire, = notices("openai")
    resolved, = notices("openai", kind=EventKind.RESOLVED)
    other, = notices("ollama")
    assert collapse([fire, other, resolved]) == [resolved, other]
    assert collapse([fire.repeat(2), fire]) == [fire.repeat(2)]


async def test_one_notification_per_receiver_per_batch():
    outbox = MemoryOutbox()
    a, b = FakeNotifier("a"), FakeNotifier("b")
    outbox.add(notices("openai", "ollama", "gateway"), ["a", "b"])
    async with Running(Dispatcher([a, b], outbox)) as d:
        d.wake()
        await until(lambda: not outbox.unsent(), what="all rows sent")
    assert [len(batch) for batch in a.batches] == [3]
    assert [len(batch) for batch in b.batches] == [3]
    assert d.sent_total == {"a": 1, "b": 1} and d.failures_total == {"a": 0, "b": 0}


async def test_failure_backs_off_exponentially_then_delivers():
    outbox = MemoryOutbox()
    flaky = FakeNotifier("flaky", fail=True)
    backoff = Backoff(base_s=0.05, cap_s=0.2, jitter=0.0)
    outbox.add(notices("openai"), ["flaky"])
    async with Running(Dispatcher([flaky], outbox, backoff=backoff)) as d:
        d.wake()
        await until(lambda: len(outbox.failures) >= 4, what="four failures")
        flaky.fail = False
        await until(lambda: not outbox.unsent(), what="delivery")
    delays = [nxt - at for _, _, at, nxt in outbox.failures[:4]]
    assert delays == pytest.approx([0.05, 0.1, 0.2, 0.2], abs=0.02)
    assert outbox.rows[0].last_error == "flaky is down"
    assert len(flaky.batches) == 1
    assert d.failures_total["flaky"] >= 4 and d.sent_total["flaky"] == 1
    assert d.last_errors == {}


async def test_receiver_down_then_back_gets_the_notice_exactly_once(webhook_receiver, caplog):
    port = free_port()  # refuses connections until the receiver starts on it
    outbox = MemoryOutbox()
    hook = WebhookNotifier("hook", f"http://127.0.0.1:{port}/hook", token=TOKEN, timeout_s=2)
    dispatcher = Dispatcher([hook], outbox, backoff=Backoff(base_s=0.25, cap_s=1.0))
    outbox.add(notices("openai"), ["hook"])
    try:
        async with Running(dispatcher):
            wake_times = []
            started = time.monotonic()
            while time.monotonic() - started < 2.0:  # the receiver is down for ~2 s
                t = time.perf_counter()
                dispatcher.wake()
                wake_times.append(time.perf_counter() - t)
                await asyncio.sleep(0.05)
            assert outbox.failures, "no attempt was made while the receiver was down"
            assert outbox.rows[0].sent_at is None
            receiver = await webhook_receiver(port=port)
            await until(lambda: not outbox.unsent(), timeout_s=10, what="delivery")
            await asyncio.sleep(0.5)  # nothing more may arrive
    finally:
        await hook.aclose()
    assert max(wake_times) < 0.005, max(wake_times)
    assert len(receiver.requests) == 1
    assert len(receiver.requests[0].body["alerts"]) == 1
    assert outbox.rows[0].attempts == len(outbox.failures) >= 2
    assert "cannot connect" in outbox.failures[0][1]
    assert dispatcher.sent_total == {"hook": 1}
    assert dispatcher.failures_total["hook"] == len(outbox.failures)
    assert TOKEN not in caplog.text and all(TOKEN not in f[1] for f in outbox.failures)


async def test_slow_receiver_does_not_delay_others(webhook_receiver):
    slow = await webhook_receiver(delay_s=1.5)
    fast = await webhook_receiver()
    outbox = MemoryOutbox()
    async with WebhookNotifier("slow", slow.url) as s, WebhookNotifier("fast", fast.url) as f:
        async with Running(Dispatcher([s, f], outbox)) as d:
            outbox.add(notices("openai"), ["slow", "fast"])
            t = time.monotonic()
            d.wake()
            await asyncio.wait_for(fast.got.wait(), 2.0)
            assert time.monotonic() - t < 1.0
            assert slow.requests == []
            await until(lambda: not outbox.unsent(), what="the slow delivery")


async def test_new_rows_wait_for_a_backing_off_receiver_and_go_out_collapsed():
    outbox = MemoryOutbox()
    down = FakeNotifier("down", fail=True)
    dispatcher = Dispatcher([down], outbox, backoff=Backoff(base_s=0.3, cap_s=0.3, jitter=0))
    async with Running(dispatcher) as d:
        outbox.add(notices("openai"), ["down"])
        d.wake()
        await until(lambda: outbox.failures, what="first failure")
        outbox.add(notices("openai", kind=EventKind.RESOLVED), ["down"])
        d.wake()
        await asyncio.sleep(0.1)
        assert down.calls == 1  # held back: the receiver is backing off
        down.fail = False
        await until(lambda: not outbox.unsent(), what="delivery")
    assert [[n.status for n in batch] for batch in down.batches] == [["resolved"]]


async def test_resend_receiver_gets_firing_alerts_reposted_until_resolved():
    outbox = MemoryOutbox()
    am = FakeNotifier("am", resend_interval_s=0.1)
    async with Running(Dispatcher([am], outbox)) as d:
        outbox.add(notices("openai"), ["am"])
        d.wake()
        await until(lambda: len(am.batches) >= 4, what="re-posts")
        assert all(b[0].status == "firing" for b in am.batches)
        outbox.add(notices("openai", kind=EventKind.RESOLVED), ["am"])
        d.wake()
        await until(lambda: am.batches[-1][0].status == "resolved", what="resolved")
        count = len(am.batches)
        await asyncio.sleep(0.3)
        assert len(am.batches) == count  # nothing fires any more: no re-posts


async def test_restart_reposts_known_firing_alerts_at_once():
    am = FakeNotifier("am", resend_interval_s=30)
    async with Running(Dispatcher([am], MemoryOutbox(), firing=notices("openai"))):
        await until(lambda: am.batches, timeout_s=2, what="re-post after restart")
    assert am.batches[0][0].labels["component"] == "openai"


async def test_run_io_may_return_awaitables():
    outbox = MemoryOutbox()
    a = FakeNotifier("a")
    threads = set()

    def in_thread(fn, *args):
        def call():
            threads.add(threading.get_ident())
            return fn(*args)
        return asyncio.to_thread(call)

    outbox.add(notices("openai"), ["a"])
    async with Running(Dispatcher([a], outbox, run_io=in_thread)) as d:
        d.wake()
        await until(lambda: not outbox.unsent(), what="delivery")
    assert threading.get_ident() not in threads and threads


async def test_unknown_receiver_rows_are_failed_not_lost():
    outbox = MemoryOutbox()
    outbox.add(notices("openai"), ["gone"])
    async with Running(Dispatcher([FakeNotifier("a")], outbox)) as d:
        d.wake()
        await until(lambda: outbox.failures, what="mark_failed")
    assert "no receiver named 'gone'" in outbox.rows[0].last_error
    assert outbox.rows[0].sent_at is None


async def test_stop_cancels_a_hung_send_and_leaves_rows_unsent():
    outbox = MemoryOutbox()
    stuck = FakeNotifier("stuck", hang=True)
    dispatcher = Dispatcher([stuck], outbox)
    task = asyncio.create_task(dispatcher.run())
    outbox.add(notices("openai"), ["stuck"])
    dispatcher.wake()
    await until(lambda: stuck.calls, what="send started")
    t = time.monotonic()
    await dispatcher.stop(grace_s=0.2)
    await task
    assert time.monotonic() - t < 2
    assert outbox.unsent() and not outbox.failures


async def test_send_timeout_and_notifier_bugs_are_failures(caplog):
    class Broken(FakeNotifier):
        async def send(self, notices):
            raise RuntimeError(f"bug with Bearer {TOKEN}")

    outbox = MemoryOutbox()
    hung = FakeNotifier("hung", hang=True)
    with caplog.at_level(logging.WARNING):
        async with Running(Dispatcher([hung, Broken("broken")], outbox,
                                      send_timeout_s=0.2)) as d:
            outbox.add(notices("openai"), ["hung", "broken"])
            d.wake()
            await until(lambda: len({f[0] for f in outbox.failures}) == 2, what="failures")
    errors = {r.receiver: r.last_error for r in outbox.rows}
    assert errors["hung"] == "no answer within 0.2s"
    assert errors["broken"].startswith("RuntimeError: bug with Bearer")
    assert TOKEN not in errors["broken"] and TOKEN not in caplog.text


async def test_wake_from_another_thread():
    outbox = MemoryOutbox()
    a = FakeNotifier("a")
    async with Running(Dispatcher([a], outbox, poll_interval_s=0)) as d:
        await asyncio.sleep(0.05)
        outbox.add(notices("openai"), ["a"])
        await asyncio.to_thread(d.wake)
        await until(lambda: not outbox.unsent(), timeout_s=2, what="delivery")


async def test_cycle_to_receiver_end_to_end(webhook_receiver):
    """events -> plan -> outbox rows -> dispatcher -> webhook, firing then resolved."""
    receiver = await webhook_receiver()
    outbox = MemoryOutbox()
    async with WebhookNotifier("ops", receiver.url) as hook:
        async with Running(Dispatcher([hook], outbox)) as d:
            fired = plan([ev(), ev(component="ollama", rule="ollama_latency")], {},
                         silenced=never, repeat_interval_s=HOUR, now=T0)
            outbox.add(fired.notices, ["ops"])
            d.wake()
            await until(lambda: len(receiver.requests) == 1, what="firing webhook")
            done = plan([ev(EventKind.RESOLVED, at=T0 + 60)], fired.ledger, silenced=never,
                        repeat_interval_s=HOUR, now=T0 + 60)
            outbox.add(done.notices, ["ops"])
            outbox.add(fired.notices, ["ops"])  # a replayed cycle is deduplicated
            d.wake()
            await until(lambda: len(receiver.requests) == 2, what="resolved webhook")
            await asyncio.sleep(0.2)
    first, second = (r.body for r in receiver.requests)
    assert len(receiver.requests) == 2
    assert first["status"] == "firing" and len(first["alerts"]) == 2
    assert second["status"] == "resolved"
    assert [a["labels"]["alertname"] for a in second["alerts"]] == ["openai_latency"]


def test_outbox_entries_are_store_items_with_a_key_per_receiver():
    n, = notices("openai")
    entries = outbox_entries([n, n], ["a", "b", "a"])
    assert [e["receiver"] for e in entries] == ["a", "b", "a", "b"]
    assert set(entries[0]) == {"dedupe_key", "receiver", "fingerprint", "kind", "payload"}
    assert entries[0]["dedupe_key"] != entries[1]["dedupe_key"]
    assert entries[0]["kind"] == "firing" and Notice.from_dict(entries[0]["payload"]) == n


async def test_dispatcher_drives_the_agents_sqlite_store(tmp_path):
    """The contract test: the real Store is an Outbox (rows, payload dicts, retries)."""
    from agent.store import OutboxItem, Store

    flaky = FakeNotifier("a", fail=True)
    with Store.open(tmp_path / "state.db") as store:
        fired = plan([ev(), ev(component="ollama", rule="ollama_latency")], {},
                     silenced=never, repeat_interval_s=HOUR, now=T0)
        items = [OutboxItem(**e) for e in outbox_entries(fired.notices, ["a"])]
        assert store.commit_cycle(time.time(), outbox=items + items) == 2
        async with Running(Dispatcher([flaky], store,
                                      backoff=Backoff(base_s=0.05, cap_s=0.1))) as d:
            d.wake()
            await until(lambda: d.failures_total["a"] >= 2, what="failed attempts")
            flaky.fail = False
            await until(lambda: not store.due_outbox(time.time() + 3600, 10), what="sent")
    assert [[n.labels["component"] for n in b] for b in flaky.batches] == [["openai", "ollama"]]
