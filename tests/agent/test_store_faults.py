"""The store's side of storage faults: one transaction for a cycle and its extra writes,
damaged files flagged and moved aside by --recover, read-only copies, delivery marks
kept while the store fails, the agent_storage lifecycle, the descriptor warning."""

from __future__ import annotations

import logging
import os
import sqlite3

import pytest

from agent import resources
from agent.store import AuditRecord, OutboxItem, Store, StoreError
from agent.store.health import STORAGE_ALERT, StorageHealth
from agent.store.lock import AgentLock
from agent.store.recover import damage, recover
from agent.store.sent_marks import SentMarks
from alerts.lifecycle import EventKind

NOW = 1_800_000_000.0


def _item(key: str) -> OutboxItem:
    return OutboxItem(dedupe_key=key, receiver="hook", fingerprint="fp", kind="firing",
                      payload={"k": key})


def test_a_failing_extra_write_rolls_the_whole_cycle_back(tmp_path):
    with Store.open(tmp_path / "state.db") as store:
        def broken(conn):
            conn.execute("INSERT INTO no_such_table VALUES (1)")

        with pytest.raises(StoreError):
            store.commit_cycle(NOW, outbox=[_item("a")],
                               audit=[AuditRecord(NOW, "agent", "alert.firing", "x", "ok", {})],
                               writes=[broken])
        assert store.due_outbox(NOW + 1) == [] and store.audit_log() == []
        assert store.last_seen() is None

        def good(conn):
            conn.execute("INSERT INTO meta (key, value) VALUES ('extra', 1)")

        assert store.commit_cycle(NOW, outbox=[_item("a")], writes=[good]) == 1
        assert store.last_seen() == NOW


def test_damaged_files_are_flagged_and_recover_moves_them_aside(tmp_path):
    path = tmp_path / "state.db"
    with Store.open(path) as store:
        store.commit_cycle(NOW, outbox=[_item("a")])
    assert damage(path) is None and recover(path) is None  # healthy: left alone
    raw = bytearray(path.read_bytes())
    raw[:16] = b"not-sqlite-at-al"
    path.write_bytes(bytes(raw))
    with pytest.raises(StoreError) as err:
        Store.open(path)
    assert err.value.corrupt
    moved = recover(path, now=NOW)
    assert moved is not None and moved.name == "state.db.corrupt-20270115T080000Z"
    assert moved.read_bytes() == bytes(raw) and not path.exists()
    with Store.open(path) as fresh:
        assert fresh.last_seen() is None


def test_recover_refuses_while_an_agent_holds_the_file(tmp_path):
    path = tmp_path / "state.db"
    Store.open(path).close()
    with AgentLock(path):
        with pytest.raises(StoreError, match=f"pid {os.getpid()}"):
            recover(path)


def test_a_second_lock_names_the_holder(tmp_path):
    path = tmp_path / "sub" / "state.db"
    with AgentLock(path) as lock:
        assert lock.path.read_text().strip() == str(os.getpid())
        assert oct(lock.path.parent.stat().st_mode & 0o777) == "0o700"
        with pytest.raises(Exception, match=f"another alice-agent \\(pid {os.getpid()}\\)"):
            AgentLock(path).acquire()
    AgentLock(path).acquire()  # released


def test_a_read_only_copy_opens_read_only(tmp_path):
    path = tmp_path / "ro" / "state.db"
    path.parent.mkdir()
    with Store.open(path) as store:
        store.commit_cycle(NOW, outbox=[_item("a")])
    path.chmod(0o444)
    path.parent.chmod(0o555)
    try:
        with Store.open(path) as store:
            assert store.last_seen() == NOW
            with pytest.raises(StoreError):
                store.commit_cycle(NOW + 1)
        assert sorted(p.name for p in path.parent.iterdir()) == ["state.db"]
    finally:
        path.parent.chmod(0o755)


class _Failing:
    """A store whose mark_sent fails while `down`."""

    def __init__(self, store: Store) -> None:
        self.store, self.down = store, False

    def __getattr__(self, name):
        return getattr(self.store, name)

    def mark_sent(self, ids, now):
        if self.down:
            raise StoreError("state.db: mark notifications sent: database or disk is full")
        return self.store.mark_sent(ids, now)


def test_delivery_marks_are_kept_while_the_store_fails(tmp_path):
    with Store.open(tmp_path / "state.db") as store:
        store.commit_cycle(NOW, outbox=[_item("a"), _item("b")])
        failing = _Failing(store)
        marks = SentMarks(failing)
        rows = marks.due_outbox(NOW + 1)
        assert [r.dedupe_key for r in rows] == ["a", "b"]
        failing.down = True
        with pytest.raises(StoreError):
            marks.mark_sent([rows[0].id], NOW + 2)
        # hidden from the next passes (no second delivery) while the mark waits
        assert [r.dedupe_key for r in marks.due_outbox(NOW + 3)] == ["b"]
        failing.down = False
        assert [r.dedupe_key for r in marks.due_outbox(NOW + 4)] == ["b"]
        assert [r.dedupe_key for r in store.sent_notifications()] == ["a"]
        assert store.sent_notifications()[0].sent_at == NOW + 2


def test_storage_health_fires_once_and_resolves_once():
    health = StorageHealth()
    assert health.succeeded(NOW) == []
    fired = health.failed(NOW, "disk full")
    assert [e.kind for e in fired] == [EventKind.FIRING] and fired[0].severity == "critical"
    assert fired[0].rule == STORAGE_ALERT and health.problem == "disk full"
    assert [e.kind for e in health.failed(NOW + 1, "disk full")] == []
    assert health.failures_total == 2 and health.firing
    rows, audit = health.to_store()
    assert [a.action for a in audit] == ["alert.firing"]
    health.saved(len(audit))
    resolved = health.succeeded(NOW + 2)
    assert [e.kind for e in resolved] == [EventKind.RESOLVED] and health.problem is None
    assert resolved[0].started_at == fired[0].started_at
    rows, audit = health.to_store()
    assert rows[0][3]["state"]["phase"] == "resolved"
    assert [a.action for a in audit] == ["alert.resolved"]
    assert health.succeeded(NOW + 3) == []


def test_descriptor_warning_at_80_percent(monkeypatch, caplog):
    clock = iter(range(0, 1000, 10))
    watch = resources.FdWatch(clock=lambda: float(next(clock)))
    monkeypatch.setattr(resources, "fd_limit", lambda: 100)
    used = {"n": 79}
    monkeypatch.setattr(resources, "open_fds", lambda: used["n"])
    with caplog.at_level(logging.WARNING, logger="alice_ops.agent"):
        watch.check()
        assert not caplog.records
        used["n"] = 80
        watch.check()
        watch.check()  # once, not every check
        assert len(caplog.records) == 1 and "LimitNOFILE" in caplog.records[0].getMessage()
        used["n"] = 50
        watch.check()
        used["n"] = 90
        watch.check()  # fell below 70 % in between: warned again
        assert len(caplog.records) == 2


def test_resource_gauges_are_exported():
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry()
    registry.register(resources.ResourceCollector(lambda: 3))
    text = generate_latest(registry).decode()
    assert "alice_ops_store_commit_failures_total 3.0" in text
    assert "alice_ops_threads " in text and "alice_ops_open_fds " in text
    assert "alice_ops_fd_limit " in text


def test_corrupt_flag_from_sqlite_codes():
    from agent.store.errors import is_corrupt

    assert is_corrupt(sqlite3.DatabaseError("database disk image is malformed"))
    assert not is_corrupt(sqlite3.OperationalError("database or disk is full"))


def test_a_restarted_agent_continues_the_announced_episode():
    health = StorageHealth()
    health.resume(NOW - 60, 5)
    assert health.firing and health.failed(NOW, "still full") == []  # no second firing
    resolved = health.succeeded(NOW + 1)
    assert [e.kind for e in resolved] == [EventKind.RESOLVED]
    assert resolved[0].started_at == NOW - 60
    assert [a.action for a in health.to_store()[1]] == ["alert.firing", "alert.resolved"]
