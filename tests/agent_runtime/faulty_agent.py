"""`alice-agent` with a fault switch at the store boundary, for the storage-fault tests.

While the file named by $ALICE_TEST_STORE_FAULT exists, the state file behaves as its
content says: `full` makes every write transaction's COMMIT fail as SQLite does on a
full disk ("database or disk is full"); `corrupt` makes every statement fail as on
damaged pages ("database disk image is malformed"). Removing the file clears the
fault. Everything else is the real agent: `python faulty_agent.py --config FILE ...`.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from agent.store import database  # noqa: E402

FLAG = os.environ.get("ALICE_TEST_STORE_FAULT", "")


def _fault() -> str:
    try:
        return Path(FLAG).read_text().strip() if FLAG else ""
    except OSError:
        return ""


class FaultyConnection:
    """A sqlite3 connection whose statements fail while the fault file says so."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._writing = False

    def _check(self, sql: str) -> None:
        verb = sql.strip().split(None, 1)[0].upper() if sql.strip() else ""
        if verb == "BEGIN":
            self._writing = "IMMEDIATE" in sql.upper()
        fault = _fault()
        if fault == "corrupt" and verb not in ("ROLLBACK", "PRAGMA"):
            raise sqlite3.DatabaseError("database disk image is malformed")
        if fault == "full" and verb == "COMMIT" and self._writing:
            raise sqlite3.OperationalError("database or disk is full")

    def execute(self, sql: str, *args):
        self._check(sql)
        return self._conn.execute(sql, *args)

    def executemany(self, sql: str, *args):
        self._check(sql)
        return self._conn.executemany(sql, *args)

    def __getattr__(self, name: str):
        return getattr(self._conn, name)


_open = database.Store.open.__func__


def _faulty_open(cls, path, **kwargs):
    store = _open(cls, path, **kwargs)
    store._conn = FaultyConnection(store._conn)
    return store


database.Store.open = classmethod(_faulty_open)

if __name__ == "__main__":
    from agent.cli.agent_main import main

    sys.exit(main())
