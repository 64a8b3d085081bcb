"""Which maintenance runs were announced, kept in state.db so a restart continues them.

One `meta` row (`maintenance_announced`: window name -> the start of the run whose start
notice was queued). It is written inside the cycle's commit that queues the notices
(`write_announced`, through `Runtime.defer_write`), so the notices and the record of them
are committed together or not at all; `load_announced` reads it back at start.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from typing import Mapping

from agent.store.database import Store

KEY = "maintenance_announced"
log = logging.getLogger("alice_ops.agent.store")


def write_announced(conn: sqlite3.Connection, announced: Mapping[str, float]) -> None:
    """Upsert the announced runs inside the caller's transaction."""
    text = json.dumps({str(k): float(v) for k, v in announced.items()}, sort_keys=True)
    conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                 "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (KEY, text))


def load_announced(store: Store) -> dict[str, float]:
    """The announced runs as last committed ({} for a new file; a damaged value is
    logged and read as {}: the windows in force are then announced again)."""
    with store._read("read maintenance runs") as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (KEY,)).fetchone()
    if row is None:
        return {}
    try:
        data = json.loads(row[0])
        return {str(k): float(v) for k, v in data.items()}
    except (TypeError, ValueError, AttributeError) as exc:
        log.warning("%s: meta %s is not a map of window -> start (%s); read as none",
                    store.path, KEY, exc)
        return {}
