"""state.db: migrations, atomic cycles, the outbox, silences/acks/audit, history, durability."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest

from agent.store import (
    SCHEMA_VERSION,
    AuditRecord,
    OutboxItem,
    SilenceRow,
    Store,
    StoreError,
    default_path,
)

CHILD = Path(__file__).with_name("store_crash_child.py")
TABLES = {"meta", "samples", "samples_1m", "alert_states", "outbox", "silences", "acks", "audit"}
T0 = 1_700_000_040.0  # a minute start


def raw(path: Path, sql: str) -> list[tuple]:
    """Look at the file behind the store's back, with a connection of our own."""
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture
def db(tmp_path):
    return tmp_path / "data" / "alice-ops" / "state.db"


@pytest.fixture
def store(db):
    with Store.open(db) as s:
        yield s


def item(key: str, fp: str = "fp1", payload=None) -> OutboxItem:
    return OutboxItem(key, "webhook", fp, "firing", {"key": key} if payload is None else payload)


def audit(ts: float, action: str = "cycle", target: str = "fp1") -> AuditRecord:
    return AuditRecord(ts, "agent", action, target, "ok", {"n": ts})


# -- opening and migrations -------------------------------------------------------------


def test_fresh_database_is_migrated_private_and_in_wal_mode(db):
    with Store.open(db) as s:
        assert s.integrity_check() == "ok"
    assert raw(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    names = {r[0] for r in raw(db, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert TABLES <= names
    assert raw(db, "PRAGMA journal_mode") == [("wal",)]
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(db.parent.parent.stat().st_mode) == 0o700


def test_open_sets_the_durability_pragmas(store):
    conn = store._conn  # the settings are per connection: look at the store's own
    assert conn.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    assert conn.execute("PRAGMA busy_timeout").fetchone() == (5000,)
    assert conn.execute("PRAGMA foreign_keys").fetchone() == (1,)


def test_reopening_is_idempotent_and_keeps_data(db):
    with Store.open(db) as s:
        s.commit_cycle(T0, states=[("fp1", "r", {"a": "b"}, {"phase": "firing"})])
    schema_before = raw(db, "SELECT sql FROM sqlite_master ORDER BY name")
    with Store.open(db) as s, Store.open(db) as again:
        assert s.load_alert_states()["fp1"].state == {"phase": "firing"}
        assert again.last_seen() == T0
    assert raw(db, "SELECT sql FROM sqlite_master ORDER BY name") == schema_before
    assert raw(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]


def test_newer_schema_is_refused_with_a_clear_message(db):
    Store.open(db).close()
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(StoreError) as err:
        Store.open(db)
    assert str(err.value) == (f"{db}: schema version 99 is newer than this alice-ops "
                              f"(knows {SCHEMA_VERSION}); upgrade alice-ops")


def test_garbage_file_is_refused_naming_the_path(tmp_path):
    path = tmp_path / "state.db"
    path.write_bytes(b"this is not a database, just some text\n" * 200)
    with pytest.raises(StoreError, match="not an alice-ops state database") as err:
        Store.open(path)
    assert str(path) in str(err.value)
    assert path.read_bytes().startswith(b"this is not a database")  # left untouched


def test_another_programs_sqlite_database_is_refused(tmp_path):
    path = tmp_path / "other.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE bookmarks (url TEXT)")
        conn.commit()
    with pytest.raises(StoreError, match=f"{path}: not an alice-ops state database"):
        Store.open(path)
    assert raw(path, "SELECT name FROM sqlite_master") == [("bookmarks",)]


def test_uncreatable_path_is_a_store_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot create"):
        Store.open(blocker / "state.db")


def test_default_path_follows_xdg():
    assert default_path({"XDG_DATA_HOME": "/x/data", "HOME": "/home/a"}) == Path(
        "/x/data/alice-ops/state.db")
    assert default_path({"HOME": "/home/a"}) == Path("/home/a/.local/share/alice-ops/state.db")
    assert default_path({"XDG_DATA_HOME": "", "HOME": "/h"}) == Path(
        "/h/.local/share/alice-ops/state.db")


def test_closed_store_raises_store_error(db):
    s = Store.open(db)
    s.close()
    s.close()  # twice is fine
    with pytest.raises(StoreError):
        s.last_seen()


# -- one cycle, one transaction -------------------------------------------------------


def test_commit_cycle_writes_everything(store):
    queued = store.commit_cycle(
        T0,
        samples=[(T0, "ollama", "latency_ms", 12.5, 0), (T0, "ollama", "up", None, 2),
                 (T0 + 1, "ollama", "up", float("nan"), 2)],
        states=[("fp1", "ollama_slow", {"component": "ollama"}, {"phase": "firing"})],
        outbox=[item("fp1:firing:1"), item("fp1:firing:1:log")],
        audit=[audit(T0)],
    )
    assert queued == 2
    assert store.last_seen() == T0
    rule, labels, state, updated_at = store.load_alert_states()["fp1"]
    assert (rule, labels, state, updated_at) == (
        "ollama_slow", {"component": "ollama"}, {"phase": "firing"}, T0)
    assert [tuple(p) for p in store.samples("ollama", "up", 0)] == [(T0, None, 2),
                                                                     (T0 + 1, None, 2)]
    assert store.audit_log()[0].detail == {"n": T0}

    store.commit_cycle(T0 + 10, states=[("fp1", "ollama_slow", {"component": "ollama"},
                                         {"phase": "resolved"})])
    assert store.load_alert_states()["fp1"].state == {"phase": "resolved"}
    assert store.delete_alert_state("fp1") is True
    assert store.delete_alert_state("fp1") is False
    assert store.load_alert_states() == {}


def test_unserializable_payload_leaves_nothing_written(store, db):
    with pytest.raises(TypeError):
        store.commit_cycle(
            T0,
            samples=[(T0, "host", "cpu", 1.0, 0)],
            states=[("fp1", "r", {}, {"phase": "firing"})],
            outbox=[item("a"), item("b", payload={"when": object()}), item("c")],
            audit=[audit(T0)],
        )
    assert_empty(store, db)


def test_failure_inside_the_transaction_rolls_back_everything(store, db):
    """The samples, state and outbox rows are already inserted when the audit row
    violates NOT NULL: the whole cycle must go."""
    bad = AuditRecord(T0, None, "cycle", "fp1", "ok", {})  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="commit cycle"):
        store.commit_cycle(T0, samples=[(T0, "host", "cpu", 1.0, 0)],
                           states=[("fp1", "r", {}, {"phase": "firing"})],
                           outbox=[item("a")], audit=[audit(T0), bad])
    assert_empty(store, db)
    assert store.commit_cycle(T0, outbox=[item("a")]) == 1  # and the store still works


def assert_empty(store: Store, db: Path) -> None:
    assert store.last_seen() is None
    assert store.load_alert_states() == {}
    assert store.outbox_stats() == {"pending": 0, "failed_attempts_total": 0, "sent": 0}
    assert store.audit_log() == []
    assert store.samples("host", "cpu", 0) == []
    for table in TABLES:
        assert raw(db, f"SELECT count(*) FROM {table}") == [(0,)], table


# -- the outbox ----------------------------------------------------------------------------


def test_same_dedupe_key_is_queued_once_also_across_restarts(db):
    with Store.open(db) as s:
        assert s.commit_cycle(T0, outbox=[item("fp1:firing:100"), item("fp1:firing:100")]) == 1
        assert s.commit_cycle(T0 + 10, outbox=[item("fp1:firing:100")]) == 0
        [row] = s.due_outbox(T0 + 10)
        s.mark_sent([row.id], T0 + 11)
    with Store.open(db) as s:  # a restart re-derives the same events: still not re-sent
        assert s.commit_cycle(T0 + 20, outbox=[item("fp1:firing:100"), item("fp1:res:1")]) == 1
        assert [r.dedupe_key for r in s.due_outbox(T0 + 20)] == ["fp1:res:1"]
        assert s.outbox_stats() == {"pending": 1, "failed_attempts_total": 0, "sent": 1}


def test_due_fail_backoff_and_sent_flow(store):
    store.commit_cycle(T0, outbox=[item("k1", "fp1"), item("k2", "fp2")])
    store.commit_cycle(T0 + 5, outbox=[item("k3", "fp1")])
    assert store.due_outbox(T0 - 1) == []
    due = store.due_outbox(T0 + 5)
    assert [r.dedupe_key for r in due] == ["k1", "k2", "k3"]  # oldest first
    assert [r.dedupe_key for r in store.due_outbox(T0 + 5, limit=2)] == ["k1", "k2"]
    k1, k2, k3 = due
    assert (k1.attempts, k1.created_at, k1.next_attempt_at, k1.sent_at) == (0, T0, T0, None)
    assert k1.payload == {"key": "k1"}

    assert store.mark_failed(k1.id, "connection refused", T0 + 30) is True
    assert store.mark_failed(k1.id, "HTTP 503", T0 + 90) is True
    assert [r.dedupe_key for r in store.due_outbox(T0 + 60)] == ["k2", "k3"]
    [retry] = [r for r in store.due_outbox(T0 + 90) if r.id == k1.id]
    assert (retry.attempts, retry.last_error, retry.next_attempt_at) == (2, "HTTP 503", T0 + 90)

    assert store.mark_sent([k1.id, k3.id], T0 + 91) == 2
    assert store.mark_sent([k1.id], T0 + 92) == 0  # already sent: sent_at kept
    assert store.mark_failed(k1.id, "late", T0 + 99) is False
    assert [r.dedupe_key for r in store.due_outbox(T0 + 1000)] == ["k2"]
    assert store.outbox_stats() == {"pending": 1, "failed_attempts_total": 2, "sent": 2}
    assert [(r.dedupe_key, r.sent_at) for r in store.sent_notifications()] == [
        ("k1", T0 + 91), ("k3", T0 + 91)]
    assert [r.dedupe_key for r in store.sent_notifications("fp2")] == []
    assert store.sent_notifications("fp1")[0].last_error == "HTTP 503"


# -- silences, acks, audit --------------------------------------------------------------


def silence(id: str, starts: float, ends: float) -> SilenceRow:
    return SilenceRow(id, [{"name": "component", "value": "ollama", "op": "="}], starts, ends,
                      "ops@example", "maintenance", starts - 1)


def test_silence_windows_and_expiry(store):
    store.add_silence(silence("s-now", T0, T0 + 100),
                      audit=AuditRecord(T0, "ops", "silence.add", "s-now", "ok", {}))
    store.add_silence(silence("s-later", T0 + 50, T0 + 200))
    with pytest.raises(StoreError, match="s-now"):
        store.add_silence(silence("s-now", T0, T0 + 5))
    assert [s.id for s in store.silences(T0 - 1)] == []
    assert [s.id for s in store.silences(T0)] == ["s-now"]  # starts_at is inclusive
    assert [s.id for s in store.silences(T0 + 60)] == ["s-now", "s-later"]
    assert [s.id for s in store.silences(T0 + 100)] == ["s-later"]  # ends_at is exclusive
    assert store.silences(T0)[0].matchers == [{"name": "component", "value": "ollama",
                                               "op": "="}]

    assert store.expire_silence("s-later", T0 + 60,
                                audit=AuditRecord(T0 + 60, "ops", "silence.expire", "s-later",
                                                  "ok", {})) is True
    assert store.expire_silence("s-later", T0 + 61) is False  # already expired
    assert store.expire_silence("nope", T0 + 61) is False  # unknown
    assert store.expire_silence("s-now", T0 + 150) is False  # already over
    assert [s.id for s in store.silences(T0 + 60)] == ["s-now"]
    every = {s.id: s.expired_at for s in store.silences(T0 + 60, include_expired=True)}
    assert every == {"s-now": None, "s-later": T0 + 60}
    assert [a.action for a in store.audit_log()] == ["silence.expire", "silence.add"]


def test_ack_windows_replace_and_remove(store):
    store.add_ack("fp1", "looking", T0 + 100, "ana", T0)
    store.add_ack("fp2", "known", T0 + 10, "bo", T0 + 1)
    assert [(a.fingerprint, a.by) for a in store.acks(T0 + 5)] == [("fp1", "ana"), ("fp2", "bo")]
    assert [a.fingerprint for a in store.acks(T0 + 10)] == ["fp1"]  # expires_at exclusive
    store.add_ack("fp1", "still looking", T0 + 300, "ana", T0 + 50)  # re-ack replaces
    [ack] = store.acks(T0 + 200)
    assert (ack.comment, ack.expires_at, ack.created_at) == ("still looking", T0 + 300, T0 + 50)
    assert store.remove_ack("fp1") is True
    assert store.remove_ack("fp1") is False
    assert store.acks(T0 + 20) == []


def test_audit_is_newest_first_and_filterable(store):
    store.add_audit(T0 + 2, "ops", "remediate", "ollama", "ok", {"step": 2})
    store.add_audit(T0 + 1, "ops", "silence.add", "s1", "ok", {})
    store.commit_cycle(T0 + 3, audit=[audit(T0 + 3, "notify"), audit(T0 + 3, "notify", "fp2")])
    log = store.audit_log()
    assert [(a.ts, a.action, a.target) for a in log] == [
        (T0 + 3, "notify", "fp2"), (T0 + 3, "notify", "fp1"), (T0 + 2, "remediate", "ollama"),
        (T0 + 1, "silence.add", "s1")]
    assert log[2].detail == {"step": 2} and log[2].actor == "ops" and log[2].outcome == "ok"
    assert [a.target for a in store.audit_log(action="notify", limit=1)] == ["fp2"]
    assert store.audit_log(action="nothing") == []


# -- samples history and retention --------------------------------------------------------


def test_maintain_downsamples_merges_and_reads_across_both(store):
    now = T0 + 3600 + 120  # raw_keep_s=3600: minutes T0 and T0+60 are old, T0+120 is not
    store.commit_cycle(now, samples=[
        (T0 + 0, "gw", "lat", 1.0, 0), (T0 + 10, "gw", "lat", 2.0, 1),
        (T0 + 59.9, "gw", "lat", 6.0, 0),
        (T0 + 60, "gw", "lat", None, 2), (T0 + 70, "gw", "lat", None, 2),
        (T0 + 125, "gw", "lat", 7.0, 0),
        (T0 + 5, "gw", "other", 100.0, 3),
        (now - 10, "gw", "lat", 9.0, 0),
    ])
    counts = store.maintain(now)
    assert counts["raw_downsampled"] == 6 and counts["buckets_written"] == 3
    buckets = [tuple(b.__dict__.values()) for b in store.buckets("gw", "lat", 0)]
    assert buckets == [(T0, 3.0, 1.0, 6.0, 3, 1),  # avg/min/max/count/worst
                       (T0 + 60, None, None, None, 0, 2)]  # all unknown: counted as worst
    assert [tuple(p) for p in store.samples("gw", "lat", 0)] == [
        (T0, 3.0, 1), (T0 + 60, None, 2), (T0 + 125, 7.0, 0), (now - 10, 9.0, 0)]
    assert [p.ts for p in store.samples("gw", "lat", T0 + 60, T0 + 125)] == [T0 + 60, T0 + 125]

    # late samples for minutes already folded merge into their buckets
    store.commit_cycle(now, samples=[(T0 + 30, "gw", "lat", 10.0, 3),
                                     (T0 + 61, "gw", "lat", 4.0, 0)])
    assert store.maintain(now)["raw_downsampled"] == 2
    first, second = store.buckets("gw", "lat", 0)
    assert (first.avg, first.min, first.max, first.count, first.worst_status) == (
        4.75, 1.0, 10.0, 4, 3)
    assert (second.avg, second.min, second.max, second.count, second.worst_status) == (
        4.0, 4.0, 4.0, 1, 2)
    assert store.maintain(now)["raw_downsampled"] == 0  # nothing left to fold


def test_maintain_applies_retention(store):
    day = 86400.0
    store.commit_cycle(T0, samples=[(T0, "host", "cpu", 50.0, 0)],
                       outbox=[item("old-sent"), item("old-unsent")])
    [sent] = [r for r in store.due_outbox(T0) if r.dedupe_key == "old-sent"]
    store.mark_sent([sent.id], T0)
    store.add_silence(silence("s-old", T0, T0 + 60))
    store.add_silence(silence("s-long", T0, T0 + 30 * day))
    store.add_ack("fp-old", "x", T0 + 60, "ana", T0)
    store.add_audit(T0, "ops", "silence.add", "s-old", "ok", {})
    store.maintain(T0 + 2 * 3600)
    assert len(store.buckets("host", "cpu", 0)) == 1

    counts = store.maintain(T0 + 8 * day)
    assert counts == {"raw_downsampled": 0, "buckets_written": 0, "buckets_deleted": 1,
                      "outbox_deleted": 1, "silences_deleted": 1, "acks_deleted": 1}
    assert store.samples("host", "cpu", 0) == []
    assert [r.dedupe_key for r in store.due_outbox(T0 + 8 * day)] == ["old-unsent"]
    assert [s.id for s in store.silences(T0 + 8 * day, include_expired=True)] == ["s-long"]
    assert len(store.audit_log()) == 1  # the audit trail is not subject to retention
    assert store.integrity_check() == "ok"


# -- durability and concurrency ------------------------------------------------------------


def run_child_until_killed(db: Path, lines: int) -> int:
    """Start the crash child, read `lines` committed cycle numbers, kill -9 it, and
    return the last cycle number it reported (reading what was still in the pipe)."""
    proc = subprocess.Popen([sys.executable, str(CHILD), str(db)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        reported = []
        while len(reported) < lines:
            line = proc.stdout.readline()
            assert line, f"child died: {proc.stderr.read()}"
            reported.append(int(line))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        reported += [int(x) for x in proc.stdout.read().split()]
        assert proc.returncode == -signal.SIGKILL
        return reported[-1]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


@pytest.mark.parametrize("rounds", [3])
def test_kill_minus_9_loses_no_reported_cycle(db, rounds):
    Store.open(db).close()
    previous = 0
    for round_ in range(rounds):
        last = run_child_until_killed(db, lines=10 + 5 * round_)
        with Store.open(db) as s:
            assert s.integrity_check() == "ok"
            cycle = s.load_alert_states()["fp-crash"].state["cycle"]
            assert cycle >= last > previous
            assert s.last_seen() == 1_000_000.0 + cycle
            # whole cycles only: every table holds exactly `cycle` cycles' rows
            assert s.outbox_stats()["pending"] == cycle
            assert len(s.audit_log(limit=10_000)) == cycle
            assert len(s.samples("ollama", "latency_ms", 0)) == cycle
            keys = {r.dedupe_key for r in s.due_outbox(2e6, limit=10_000)}
            assert keys == {f"fp-crash:{n}" for n in range(1, cycle + 1)}
        assert raw(db, "PRAGMA journal_mode") == [("wal",)]
        previous = cycle


def test_reader_is_not_blocked_by_an_open_write_transaction(db):
    with Store.open(db) as s:
        s.commit_cycle(T0, states=[("fp1", "r", {}, {"phase": "firing"})], audit=[audit(T0)])
    with closing(sqlite3.connect(db, isolation_level=None)) as writer:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO audit (ts, actor, action, target, outcome, detail) "
                       "VALUES (1, 'x', 'uncommitted', 't', 'ok', '{}')")
        started = time.monotonic()
        with Store.open(db) as reader:
            assert list(reader.load_alert_states()) == ["fp1"]
            assert [a.action for a in reader.audit_log()] == ["cycle"]  # not the uncommitted
            assert reader.last_seen() == T0
        assert time.monotonic() - started < 2  # did not sit out the busy timeout
        writer.execute("ROLLBACK")


def test_reads_run_alongside_a_writing_thread(db):
    """A writer thread with its own connection commits 150 cycles; halfway it waits
    until the reader has seen its progress, so the reads provably overlap the writes."""
    Store.open(db).close()
    errors: list[BaseException] = []
    halfway, seen_halfway, done = threading.Event(), threading.Event(), threading.Event()

    def write() -> None:
        try:
            with Store.open(db) as w:  # a connection of its own, opened in its thread
                for n in range(150):
                    if n == 75:
                        halfway.set()
                        assert seen_halfway.wait(timeout=10)
                    w.commit_cycle(T0 + n, samples=[(T0 + n, "host", "cpu", float(n), 0)],
                                   states=[("fp1", "r", {}, {"n": n})],
                                   outbox=[item(f"k{n}")], audit=[audit(T0 + n)])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=write)
    with Store.open(db) as reader:
        thread.start()
        seen = set()
        while not done.is_set():
            n = len(reader.audit_log(limit=1000))
            assert len(reader.samples("host", "cpu", 0)) >= n  # committed cycles only grow
            seen.add(n)
            if halfway.is_set() and n == 75:
                seen_halfway.set()
        thread.join()
        assert not errors, errors
        assert len(reader.audit_log(limit=1000)) == 150
        assert reader.outbox_stats()["pending"] == 150
    assert 75 in seen
