"""The one exception the store raises: a message fit for `alice-ops: <what>: <why>`."""

from __future__ import annotations

import sqlite3

# SQLite's primary result codes that mean "the file itself is damaged or not a database"
# (https://sqlite.org/rescode.html): SQLITE_CORRUPT (11) and SQLITE_NOTADB (26).
CORRUPT_CODES = frozenset({11, 26})


class StoreError(Exception):
    """state.db cannot be opened, migrated, read or written.

    The message already names the file and the problem, so the CLI prints it as one
    line on stderr without a traceback. Every `sqlite3.Error` is turned into this at
    the store's boundary; bugs in the caller's data (a payload that is not JSON) keep
    their own `TypeError`/`ValueError`. `corrupt` is True when SQLite said the file is
    damaged (or is not a database): retrying will not help, `alice-agent --recover` will.
    """

    def __init__(self, message: str, *, corrupt: bool = False) -> None:
        super().__init__(message)
        self.corrupt = corrupt


def is_corrupt(exc: BaseException) -> bool:
    """Whether a sqlite3 error says the database file is damaged."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return (code & 0xFF) in CORRUPT_CODES
    text = str(exc).lower()
    return isinstance(exc, sqlite3.DatabaseError) and (
        "malformed" in text or "not a database" in text)
