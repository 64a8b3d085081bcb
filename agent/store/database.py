"""`Store`: the agent's durable state in one SQLite file (the "store.commit" step of a cycle).

How the file is opened, and what a returned write guarantees, is in
`agent.store.connection`. A `Store` wraps one connection and is used from one thread
(the agent's store worker); sqlite3's `check_same_thread` enforces it. Every write
method is one transaction. Every timestamp is passed in by the caller; nothing here
reads a clock.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, Callable

from vocab.redact import redact_comment
from agent.store import history
from agent.store.connection import connect
from agent.store.errors import StoreError, is_corrupt
from agent.store.rows import (
    AckRow,
    AlertStateRow,
    AuditRecord,
    AuditRow,
    BucketRow,
    OutboxItem,
    OutboxRow,
    SamplePoint,
    SilenceRow,
)

DAY_S = 86400.0

Sample = tuple[float, str, str, float | None, int]  # ts, component, metric, value, status
StateUpdate = tuple[str, str, Mapping[str, str], Mapping[str, Any]]  # fp, rule, labels, state
Write = Callable[[sqlite3.Connection], None]  # more rows in the cycle's transaction


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _scrub_comment(record: AuditRecord) -> AuditRecord:
    """An audit record whose free-text `comment` has its key shapes masked."""
    comment = record.detail.get("comment")
    if not isinstance(comment, str):
        return record
    return replace(record, detail={**record.detail, "comment": redact_comment(comment)})


class Store:
    """The alice-agent's state.db. Open with `Store.open(path)`; close or use `with`."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        """Use `Store.open`; this takes an already configured and migrated connection."""
        self._conn = conn
        self.path = path

    # -- lifecycle ---------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path, *, read_only: bool | None = None) -> Store:
        """Open (creating if needed) and migrate the database at `path`; `read_only`
        (default: when the file or its folder is not writable) opens it as it is.

        Raises:
            StoreError: the file cannot be created or opened, is not an alice-ops state
                database, or has a newer schema than this version knows.
        """
        path = Path(path).expanduser()
        return cls(connect(path, read_only=read_only), path)

    def close(self) -> None:
        """Close the connection; calling it again does nothing."""
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _write(self, what: str) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken with BEGIN IMMEDIATE so it never has to upgrade
        a read lock (which could fail with SQLITE_BUSY despite busy_timeout)."""
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: {what}: {exc}", corrupt=is_corrupt(exc)) from exc

    @contextmanager
    def _read(self, what: str) -> Iterator[sqlite3.Connection]:
        """One read transaction: every query inside sees the same snapshot."""
        conn = self._conn
        try:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: {what}: {exc}", corrupt=is_corrupt(exc)) from exc

    # -- the cycle ---------------------------------------------------------------

    def commit_cycle(self, now: float, samples: Iterable[Sample] = (),
                     states: Iterable[StateUpdate] = (), outbox: Iterable[OutboxItem] = (),
                     audit: Iterable[AuditRecord] = (), writes: Iterable[Write] = ()) -> int:
        """Record one cycle in one transaction: all of it, or (on any error) none of it.

        Args:
            now: the cycle's time; becomes `updated_at`, `created_at`, the outbox items'
                first `next_attempt_at`, and `last_seen()`.
            samples: `(ts, component, metric, value, status_int)`; a None or NaN value
                is stored as NULL (unknown).
            states: `(fingerprint, rule, labels, state)` upserted by fingerprint.
            outbox: items queued unless their `dedupe_key` was ever queued before.
            audit: records appended to the audit trail.
            writes: more writes of the same cycle (e.g. the remediation ledgers), each
                called with the connection inside the transaction.

        Returns:
            How many outbox items were newly queued.
        """
        # Serialize first: bad input fails before the write lock is taken.
        sample_rows = [(ts, c, m, v, int(s)) for ts, c, m, v, s in samples]
        state_rows = [(fp, rule, _json(dict(labels)), _json(dict(state)), now)
                      for fp, rule, labels, state in states]
        outbox_rows = [(o.dedupe_key, o.receiver, o.fingerprint, o.kind, _json(o.payload), now,
                        now) for o in outbox]
        audit_rows = [self._audit_params(a) for a in audit]
        with self._write("commit cycle") as conn:
            conn.executemany("INSERT INTO samples (ts, component, metric, value, status) "
                             "VALUES (?, ?, ?, ?, ?)", sample_rows)
            conn.executemany(
                """INSERT INTO alert_states (fingerprint, rule, labels, state, updated_at)
                   VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (fingerprint) DO UPDATE SET rule = excluded.rule,
                     labels = excluded.labels, state = excluded.state,
                     updated_at = excluded.updated_at""", state_rows)
            queued = 0
            for row in outbox_rows:
                # ON CONFLICT on the key alone: unlike INSERT OR IGNORE it does not also
                # swallow NOT NULL violations.
                queued += conn.execute(
                    """INSERT INTO outbox (dedupe_key, receiver, fingerprint, kind, payload,
                                           created_at, next_attempt_at)
                       VALUES (?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT (dedupe_key) DO NOTHING""", row).rowcount
            self._insert_audit(conn, audit_rows)
            for write in writes:
                write(conn)
            conn.execute("INSERT INTO meta (key, value) VALUES ('last_seen', ?) "
                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (now,))
        return queued

    def last_seen(self) -> float | None:
        """The `now` of the last committed cycle, or None for a new database."""
        with self._read("read last_seen") as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'last_seen'").fetchone()
        return None if row is None else float(row[0])

    # -- alert states --------------------------------------------------------------

    def load_alert_states(self) -> dict[str, AlertStateRow]:
        """Every saved alert state by fingerprint (to `restore` after a restart)."""
        with self._read("load alert states") as conn:
            rows = conn.execute("SELECT fingerprint, rule, labels, state, updated_at "
                                "FROM alert_states").fetchall()
        return {fp: AlertStateRow(rule, json.loads(labels), json.loads(state), updated_at)
                for fp, rule, labels, state, updated_at in rows}

    def delete_alert_state(self, fingerprint: str) -> bool:
        """Forget one alert; False if it was not saved."""
        with self._write("delete alert state") as conn:
            return conn.execute("DELETE FROM alert_states WHERE fingerprint = ?",
                                (fingerprint,)).rowcount > 0

    # -- outbox ------------------------------------------------------------------

    _OUTBOX_COLUMNS = ("id, dedupe_key, receiver, fingerprint, kind, payload, created_at, "
                       "attempts, next_attempt_at, sent_at, last_error")

    @staticmethod
    def _outbox_row(row: Sequence[Any]) -> OutboxRow:
        values = list(row)
        values[5] = json.loads(values[5])
        return OutboxRow(*values)

    def due_outbox(self, now: float, limit: int = 100) -> list[OutboxRow]:
        """Unsent notifications whose `next_attempt_at <= now`, oldest first."""
        with self._read("read outbox") as conn:
            rows = conn.execute(
                f"""SELECT {self._OUTBOX_COLUMNS} FROM outbox
                    WHERE sent_at IS NULL AND next_attempt_at <= ?
                    ORDER BY created_at, id LIMIT ?""", (now, limit)).fetchall()
        return [self._outbox_row(r) for r in rows]

    def mark_sent(self, ids: Iterable[int], now: float) -> int:
        """Record delivery; returns how many unsent rows were marked."""
        params = [(now, i) for i in ids]
        with self._write("mark notifications sent") as conn:
            return sum(conn.execute("UPDATE outbox SET sent_at = ? "
                                    "WHERE id = ? AND sent_at IS NULL", p).rowcount
                       for p in params)

    def mark_failed(self, id: int, error: str, next_attempt_at: float) -> bool:
        """Count a failed attempt, keep its error, and schedule the retry."""
        with self._write("mark notification failed") as conn:
            return conn.execute(
                """UPDATE outbox SET attempts = attempts + 1, last_error = ?,
                   next_attempt_at = ? WHERE id = ? AND sent_at IS NULL""",
                (error, next_attempt_at, id)).rowcount > 0

    def outbox_stats(self) -> dict[str, int]:
        """`pending` (unsent), `failed_attempts_total` (over rows still kept), `sent`."""
        with self._read("read outbox stats") as conn:
            pending, failed, sent = conn.execute(
                """SELECT count(*) FILTER (WHERE sent_at IS NULL), coalesce(sum(attempts), 0),
                          count(sent_at) FROM outbox""").fetchone()
        return {"pending": pending, "failed_attempts_total": failed, "sent": sent}

    def sent_notifications(self, fingerprint: str | None = None) -> list[OutboxRow]:
        """Delivered notifications (of one alert, if given), in the order they were sent."""
        with self._read("read sent notifications") as conn:
            rows = conn.execute(
                f"""SELECT {self._OUTBOX_COLUMNS} FROM outbox
                    WHERE sent_at IS NOT NULL AND (:fp IS NULL OR fingerprint = :fp)
                    ORDER BY sent_at, id""", {"fp": fingerprint}).fetchall()
        return [self._outbox_row(r) for r in rows]

    # -- silences and acks -----------------------------------------------------------

    def add_silence(self, silence: SilenceRow, audit: AuditRecord | None = None) -> None:
        """Save a new silence (and, atomically with it, its audit record).

        Raises:
            StoreError: a silence with this id exists.
        """
        params = (silence.id, _json(silence.matchers), silence.starts_at, silence.ends_at,
                  silence.created_by, redact_comment(silence.comment), silence.created_at,
                  silence.expired_at)
        audit_rows = [self._audit_params(_scrub_comment(audit))] if audit else []
        with self._write(f"add silence {silence.id}") as conn:
            conn.execute("INSERT INTO silences (id, matchers, starts_at, ends_at, created_by, "
                         "comment, created_at, expired_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         params)
            self._insert_audit(conn, audit_rows)

    def expire_silence(self, id: str, now: float, audit: AuditRecord | None = None) -> bool:
        """End a silence now. False if unknown, already expired or already over; the
        audit record is written only when the silence was expired."""
        audit_rows = [self._audit_params(audit)] if audit else []
        with self._write(f"expire silence {id}") as conn:
            done = conn.execute("UPDATE silences SET expired_at = ? WHERE id = ? AND "
                                "expired_at IS NULL AND ends_at > ?", (now, id, now)).rowcount
            if done:
                self._insert_audit(conn, audit_rows)
        return done > 0

    def silences(self, now: float, include_expired: bool = False) -> list[SilenceRow]:
        """Active silences (`starts_at <= now < ends_at`, not expired), or with
        `include_expired` every silence kept (pending, active and over), by start."""
        where = ("" if include_expired else
                 "WHERE starts_at <= :now AND :now < ends_at AND expired_at IS NULL")
        with self._read("read silences") as conn:
            rows = conn.execute(
                f"""SELECT id, matchers, starts_at, ends_at, created_by, comment, created_at,
                           expired_at FROM silences {where} ORDER BY starts_at, id""",
                {"now": now}).fetchall()
        return [SilenceRow(r[0], json.loads(r[1]), *r[2:]) for r in rows]

    def add_ack(self, fingerprint: str, comment: str, expires_at: float, by: str,
                now: float, audit: AuditRecord | None = None) -> None:
        """Acknowledge an alert until `expires_at`, replacing an earlier ack of it (the
        comment stored with key shapes masked, like a silence's)."""
        comment = redact_comment(comment)
        audit_rows = [self._audit_params(_scrub_comment(audit))] if audit else []
        with self._write(f"ack {fingerprint}") as conn:
            conn.execute("DELETE FROM acks WHERE fingerprint = ?", (fingerprint,))
            conn.execute("INSERT INTO acks (fingerprint, comment, expires_at, by, created_at) "
                         "VALUES (?, ?, ?, ?, ?)", (fingerprint, comment, expires_at, by, now))
            self._insert_audit(conn, audit_rows)

    def acks(self, now: float) -> list[AckRow]:
        """Acks still in force (`expires_at > now`), oldest first."""
        with self._read("read acks") as conn:
            rows = conn.execute("SELECT fingerprint, comment, expires_at, by, created_at "
                                "FROM acks WHERE expires_at > ? ORDER BY created_at",
                                (now,)).fetchall()
        return [AckRow(*r) for r in rows]

    def remove_ack(self, fingerprint: str, audit: AuditRecord | None = None) -> bool:
        """Withdraw an ack; False if there was none."""
        audit_rows = [self._audit_params(audit)] if audit else []
        with self._write(f"remove ack {fingerprint}") as conn:
            done = conn.execute("DELETE FROM acks WHERE fingerprint = ?",
                                (fingerprint,)).rowcount
            if done:
                self._insert_audit(conn, audit_rows)
        return done > 0

    # -- audit -------------------------------------------------------------------

    @staticmethod
    def _audit_params(record: AuditRecord) -> tuple[Any, ...]:
        fields = asdict(record)
        fields["detail"] = _json(fields["detail"])
        return tuple(fields.values())

    @staticmethod
    def _insert_audit(conn: sqlite3.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
        conn.executemany("INSERT INTO audit (ts, actor, action, target, outcome, detail) "
                         "VALUES (?, ?, ?, ?, ?, ?)", rows)

    def add_audit(self, ts: float, actor: str, action: str, target: str, outcome: str,
                  detail: Mapping[str, Any]) -> None:
        """Append one record to the audit trail, durably."""
        row = self._audit_params(AuditRecord(ts, actor, action, target, outcome, dict(detail)))
        with self._write("write audit") as conn:
            self._insert_audit(conn, [row])

    def audit_log(self, limit: int = 100, action: str | None = None) -> list[AuditRow]:
        """The latest audit records (of one action, if given), newest first."""
        with self._read("read audit log") as conn:
            rows = conn.execute(
                """SELECT id, ts, actor, action, target, outcome, detail FROM audit
                   WHERE (:action IS NULL OR action = :action)
                   ORDER BY ts DESC, id DESC LIMIT :limit""",
                {"action": action, "limit": limit}).fetchall()
        return [AuditRow(*r[:6], json.loads(r[6])) for r in rows]

    def alert_history(self, limit: int = 100,
                      before: int | None = None) -> tuple[list[AuditRow], int]:
        """Audit records of alert transitions (actions `alert.*`), newest first: at most
        `limit` with an id below `before` (the last id of the previous page), and how
        many there are in all. Ids follow the order the records were written."""
        where = "action >= 'alert.' AND action < 'alert/'"  # LIKE 'alert.%', no escaping
        with self._read("read alert history") as conn:
            rows = conn.execute(
                f"""SELECT id, ts, actor, action, target, outcome, detail FROM audit
                   WHERE {where} AND (:before IS NULL OR id < :before)
                   ORDER BY id DESC LIMIT :limit""",
                {"before": before, "limit": limit}).fetchall()
            total = conn.execute(f"SELECT count(*) FROM audit WHERE {where}").fetchone()[0]
        return [AuditRow(*r[:6], json.loads(r[6])) for r in rows], int(total)

    # -- samples history -------------------------------------------------------------

    def samples(self, component: str, metric: str, since: float,
                until: float | None = None) -> list[SamplePoint]:
        """`(ts, value, status)` with `since <= ts <= until`: raw samples and, for older
        minutes, the bucket's average and worst status at the minute start."""
        with self._read("read samples") as conn:
            return history.points(conn, component, metric, since, until)

    def buckets(self, component: str, metric: str, since: float,
                until: float | None = None) -> list[BucketRow]:
        """The downsampled minutes with their min/max/count (for bands on a chart)."""
        with self._read("read sample buckets") as conn:
            return history.buckets(conn, component, metric, since, until)

    # -- housekeeping ----------------------------------------------------------------

    def maintain(self, now: float, retention_s: float = 7 * DAY_S,
                 raw_keep_s: float = 3600.0) -> dict[str, int]:
        """Downsample and apply retention in one transaction, then checkpoint the WAL.

        Raw samples from whole minutes older than `raw_keep_s` become one-minute
        buckets; buckets, delivered notifications, and silences/acks that ended more
        than `retention_s` ago are deleted. Undelivered notifications, alert states
        and the audit trail are kept.

        Returns:
            Counts: raw_downsampled, buckets_written, buckets_deleted, outbox_deleted,
            silences_deleted, acks_deleted.
        """
        horizon = now - retention_s
        with self._write("maintain") as conn:
            folded, written = history.downsample(conn, now, raw_keep_s)
            counts = {
                "raw_downsampled": folded,
                "buckets_written": written,
                "buckets_deleted": conn.execute(
                    "DELETE FROM samples_1m WHERE ts < ?", (horizon,)).rowcount,
                "outbox_deleted": conn.execute(
                    "DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ?",
                    (horizon,)).rowcount,
                "silences_deleted": conn.execute(
                    "DELETE FROM silences WHERE coalesce(expired_at, ends_at) < ?",
                    (horizon,)).rowcount,
                "acks_deleted": conn.execute(
                    "DELETE FROM acks WHERE expires_at < ?", (horizon,)).rowcount,
            }
        try:  # PASSIVE never waits for readers; a busy WAL is checkpointed next time
            self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: checkpoint: {exc}") from exc
        return counts

    def quick_check(self) -> str:
        """SQLite's `PRAGMA quick_check` (the page structure, without index contents):
        "ok", or its findings one per line."""
        with self._read("quick check") as conn:
            rows = conn.execute("PRAGMA quick_check").fetchall()
        return "\n".join(str(r[0]) for r in rows)

    def integrity_check(self) -> str:
        """SQLite's `PRAGMA integrity_check`: "ok", or its findings one per line."""
        with self._read("integrity check") as conn:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        return "\n".join(str(r[0]) for r in rows)
