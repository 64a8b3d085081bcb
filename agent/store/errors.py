"""The one exception the store raises: a message fit for `alice-ops: <what>: <why>`."""

from __future__ import annotations


class StoreError(Exception):
    """state.db cannot be opened, migrated, read or written.

    The message already names the file and the problem, so the CLI prints it as one
    line on stderr without a traceback. Every `sqlite3.Error` is turned into this at
    the store's boundary; bugs in the caller's data (a payload that is not JSON) keep
    their own `TypeError`/`ValueError`.
    """
