"""The shape of state.db and how an older file is brought up to it.

The schema version lives in `PRAGMA user_version`. `MIGRATIONS[n - 1]` takes a
database from version n - 1 to n; append new migrations, never edit shipped ones.
`PRAGMA application_id` marks the file as ours, so a stranger's SQLite database is
refused instead of having our tables added to it.
"""

from __future__ import annotations

import sqlite3

from agent.store.errors import StoreError

APPLICATION_ID = 0x416C6963  # "Alic"

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: everything
    (
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value)",
        """CREATE TABLE samples (
            ts REAL NOT NULL, component TEXT NOT NULL, metric TEXT NOT NULL,
            value REAL NULL, status INTEGER NOT NULL)""",
        "CREATE INDEX samples_by_series ON samples (component, metric, ts)",
        """CREATE TABLE samples_1m (
            ts REAL NOT NULL, component TEXT NOT NULL, metric TEXT NOT NULL,
            avg REAL NULL, min REAL NULL, max REAL NULL,
            count INTEGER NOT NULL, worst_status INTEGER NOT NULL,
            PRIMARY KEY (component, metric, ts))""",
        """CREATE TABLE alert_states (
            fingerprint TEXT PRIMARY KEY, rule TEXT NOT NULL, labels TEXT NOT NULL,
            state TEXT NOT NULL, updated_at REAL NOT NULL)""",
        """CREATE TABLE outbox (
            id INTEGER PRIMARY KEY, dedupe_key TEXT NOT NULL UNIQUE,
            receiver TEXT NOT NULL, fingerprint TEXT NOT NULL, kind TEXT NOT NULL,
            payload TEXT NOT NULL, created_at REAL NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL NOT NULL,
            sent_at REAL NULL, last_error TEXT NULL)""",
        "CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL",
        "CREATE INDEX outbox_by_fingerprint ON outbox (fingerprint, sent_at)",
        """CREATE TABLE silences (
            id TEXT PRIMARY KEY, matchers TEXT NOT NULL, starts_at REAL NOT NULL,
            ends_at REAL NOT NULL, created_by TEXT NOT NULL, comment TEXT NOT NULL,
            created_at REAL NOT NULL, expired_at REAL NULL)""",
        """CREATE TABLE acks (
            fingerprint TEXT NOT NULL, comment TEXT NOT NULL, expires_at REAL NOT NULL,
            by TEXT NOT NULL, created_at REAL NOT NULL)""",
        "CREATE INDEX acks_by_fingerprint ON acks (fingerprint)",
        """CREATE TABLE audit (
            id INTEGER PRIMARY KEY, ts REAL NOT NULL, actor TEXT NOT NULL,
            action TEXT NOT NULL, target TEXT NOT NULL, outcome TEXT NOT NULL,
            detail TEXT NOT NULL)""",
        "CREATE INDEX audit_by_ts ON audit (ts)",
        f"PRAGMA application_id = {APPLICATION_ID}",
    ),
    # 2: remediation (runs, per-playbook ledger) -- owned by the remediation work
    (
        """CREATE TABLE IF NOT EXISTS remediation_runs (
            id INTEGER PRIMARY KEY, playbook TEXT NOT NULL, kind TEXT NOT NULL,
            actor TEXT NOT NULL, started_at REAL NOT NULL, finished_at REAL NULL,
            outcome TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS remediation_runs_by_start ON remediation_runs (started_at)",
        """CREATE TABLE IF NOT EXISTS remediation_ledger (
            playbook TEXT PRIMARY KEY, ledger TEXT NOT NULL, updated_at REAL NOT NULL)""",
    ),
    # 3: checklists (runs and item answers) -- owned by the checklist work
    (
        """CREATE TABLE checklist_runs (
            id INTEGER PRIMARY KEY, kind TEXT NOT NULL, period TEXT NOT NULL,
            started_at REAL NOT NULL, updated_at REAL NOT NULL, completed_at REAL NULL,
            UNIQUE (kind, period))""",
        """CREATE TABLE checklist_items (
            run_id INTEGER NOT NULL REFERENCES checklist_runs (id), item_id TEXT NOT NULL,
            result TEXT NOT NULL, evidence TEXT NOT NULL, note TEXT NOT NULL,
            source TEXT NOT NULL, by TEXT NOT NULL, at REAL NOT NULL,
            PRIMARY KEY (run_id, item_id))""",
        """CREATE TABLE checklist_log_cursors (
            path TEXT PRIMARY KEY, inode INTEGER NOT NULL, offset INTEGER NOT NULL,
            updated_at REAL NOT NULL)""",
    ),
    # 4: cost (spend readings) -- owned by the cost work
    (),
)

LATEST = len(MIGRATIONS)

def _pragma_int(conn: sqlite3.Connection, name: str) -> int:
    return int(conn.execute(f"PRAGMA {name}").fetchone()[0])


def _check_ours(conn: sqlite3.Connection, label: str) -> int:
    """Return the file's schema version after making sure we may touch it."""
    version = _pragma_int(conn, "user_version")
    app_id = _pragma_int(conn, "application_id")
    if app_id not in (0, APPLICATION_ID):
        raise StoreError(f"{label}: not an alice-ops state database "
                         f"(application_id {app_id:#x})")
    if version == 0 and app_id == 0:
        strangers = conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").fetchone()[0]
        if strangers:
            raise StoreError(f"{label}: not an alice-ops state database "
                             "(it holds tables of another program)")
    if version > LATEST:
        raise StoreError(f"{label}: schema version {version} is newer than this alice-ops "
                         f"(knows {LATEST}); upgrade alice-ops")
    return version


def check(conn: sqlite3.Connection, label: str) -> int:
    """For a read-only connection: the file is ours and not newer than this version
    (an older one is read as it is: every reader selects only columns it has)."""
    return _check_ours(conn, label)


def migrate(conn: sqlite3.Connection, label: str) -> int:
    """Bring the database to `LATEST` in one transaction; return the version found.

    The connection must be in autocommit mode (`isolation_level=None`). The version is
    read again under the write lock, so two processes opening a new file at once
    migrate it once.
    """
    found = _check_ours(conn, label)
    if found == LATEST:
        return found
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = _check_ours(conn, label)
        for version in range(current + 1, LATEST + 1):
            for statement in MIGRATIONS[version - 1]:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {LATEST}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # some errors (disk full) already rolled it back
            conn.execute("ROLLBACK")
        raise
    return found
