"""Opening state.db: where it lives, who may read it, and the settings that make it durable.

What `connect` configures, and what that guarantees:

* `journal_mode=WAL` (kept in the file): a commit appends to `state.db-wal`; readers
  never block the writer and the writer never blocks readers, so a second `Store` on
  the same file (`alice-ops` while the agent runs) can read at any time.
* `synchronous=FULL` (per connection): SQLite fsyncs the WAL before COMMIT returns.
  So once `commit_cycle`, `mark_sent`, `mark_failed`, `add_audit`, `add_silence`, ...
  have returned, that transaction survives a power cut or a kernel crash, not only a
  crash or `kill -9` of the process (which loses nothing committed in any mode: the
  WAL is then already in the OS page cache). A transaction whose COMMIT had not
  returned is, on the next open, either wholly there or wholly absent: never half a
  cycle. (WAL with `synchronous=NORMAL` would stay consistent too but could lose the
  last commits to a power cut; the alert, notification and audit records are worth
  the one fsync per cycle.) On macOS `fullfsync=ON` is added, because plain fsync
  there does not flush the drive's cache.
* What no setting can promise: durability on storage that acknowledges fsync without
  persisting (some consumer SSDs, virtual disks with unsafe write caching), or on a
  network file system (WAL needs shared memory on one host: keep state.db local).
* `busy_timeout=5000`: a writer waits up to 5 s for another writer before failing.
* `foreign_keys=ON`, and the file is created 0600 in directories created 0700 (SQLite
  gives the -wal and -shm files the database file's mode).
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Mapping
from pathlib import Path

from agent.store import schema
from agent.store.errors import StoreError, is_corrupt

BUSY_TIMEOUT_MS = 5000


def default_path(env: Mapping[str, str] = os.environ) -> Path:
    """`$XDG_DATA_HOME/alice-ops/state.db`, by default `~/.local/share/alice-ops/state.db`."""
    base = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME") or Path.home()) / ".local/share")
    return Path(base) / "alice-ops" / "state.db"


def state_path(config) -> Path:
    """The state file a config names (`agent.data_path`, `~` expanded), else the default."""
    data = config.agent.data_path
    return Path(data).expanduser() if data else default_path()


def _create_private(path: Path) -> None:
    """Create the missing directories as 0700 (as the XDG base directory spec asks) and
    the file as 0600; existing ones are left as they are."""
    missing = [d for d in (path.parent, *path.parent.parents) if not d.exists()]
    for directory in reversed(missing):
        directory.mkdir(mode=0o700, exist_ok=True)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def _configure(conn: sqlite3.Connection, path: Path) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    # Only switch when needed: asking for WAL on a WAL file would be a no-op anyway,
    # but checking first keeps an open from ever needing more than a read lock.
    if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower()
        if mode != "wal":
            raise StoreError(f"{path}: cannot switch to WAL journal mode (got {mode!r})")
    conn.execute("PRAGMA synchronous = FULL")
    if sys.platform == "darwin":
        conn.execute("PRAGMA fullfsync = ON")


def _open_for_writing(p: Path) -> bool:  # the mode bits too: root may write anything
    return os.access(p, os.W_OK) and bool(p.stat().st_mode & 0o222)


def writable(path: Path) -> bool:
    """Whether `path` can be written (or created): a read-only copy (file or folder not
    writable) is opened read-only instead of failing on the WAL's shared memory."""
    if path.exists():
        return _open_for_writing(path) and _open_for_writing(path.parent)
    return True


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection: `mode=ro` while the WAL files can be used (an agent may be
    writing), `immutable=1` for a copy in a read-only folder (nothing is created there;
    a -wal copied beside it is not read: copy a stopped agent's file)."""
    uri = path.resolve().as_uri()
    last: sqlite3.Error | None = None
    queries = ("mode=ro", "mode=ro&immutable=1") if _open_for_writing(path.parent) else \
        ("mode=ro&immutable=1",)
    for query in queries:
        try:
            conn = sqlite3.connect(f"{uri}?{query}", uri=True,
                                   timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.Error as exc:
            last = exc
    assert last is not None
    raise last


def connect(path: Path, *, read_only: bool | None = None) -> sqlite3.Connection:
    """Create if needed, configure and migrate; return an autocommit-mode connection
    (`isolation_level=None`: the caller issues BEGIN/COMMIT itself).

    `read_only` (default: when the file or its folder is not writable) opens an
    existing file without creating, migrating or writing anything: the read-only
    commands work on a read-only copy and beside a running agent.

    Raises:
        StoreError: the file cannot be created or opened, is not an alice-ops state
            database, or has a newer schema than this version knows (`corrupt` set
            when SQLite reports the file damaged).
    """
    if read_only is None:
        read_only = not writable(path)
    if read_only:
        if not path.exists():
            raise StoreError(f"{path}: cannot open: no such file")
        try:
            conn = _connect_read_only(path)
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot open read-only: {exc}",
                             corrupt=is_corrupt(exc)) from exc
        try:
            schema.check(conn, str(path))
        except BaseException as exc:
            conn.close()
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"{path}: cannot read: {exc}", corrupt=is_corrupt(exc)) from exc
            raise
        return conn
    try:
        _create_private(path)
    except OSError as exc:
        raise StoreError(f"{path}: cannot create: {exc.strerror or exc}") from exc
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open: {exc}") from exc
    try:
        _configure(conn, path)
        schema.migrate(conn, str(path))
    except StoreError:
        conn.close()
        raise
    except sqlite3.DatabaseError as exc:  # locked, read-only, disk full; NOTADB, CORRUPT
        conn.close()
        if is_corrupt(exc):
            raise StoreError(f"{path}: not an alice-ops state database or damaged ({exc})",
                             corrupt=True) from exc
        raise StoreError(f"{path}: cannot open: {exc}") from exc
    except BaseException:
        conn.close()
        raise
    return conn
