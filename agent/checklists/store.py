"""Checklist runs in state.db (schema version 3): one row per (kind, period), one per
answered item, plus the read offsets of scanned log files.

Plain functions over a `Store`, each one transaction; they run on whatever thread
owns the store (the agent's store worker, or the CLI's main thread).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from agent.store import AuditRecord, Store
from rules.checklists import Answer, Run

IO = Callable[..., Awaitable[Any]]
"""How a caller runs a store call: `await io(fn, *args)` (the agent's `Runtime.db`)."""


async def inline(fn, *args):
    """Run the store call on this thread (the CLI)."""
    return fn(*args)


def load_run(store: Store, kind: str, period: str) -> Run | None:
    with store._read("read checklist run") as conn:
        row = conn.execute("SELECT id, started_at, updated_at, completed_at FROM "
                           "checklist_runs WHERE kind = ? AND period = ?",
                           (kind, period)).fetchone()
        if row is None:
            return None
        items = conn.execute("SELECT item_id, result, evidence, note, source, by, at FROM "
                             "checklist_items WHERE run_id = ?", (row[0],)).fetchall()
    answers = {i: Answer(result=r, evidence=e, by=b, at=at, source=s, note=n)
               for i, r, e, n, s, b, at in items}
    return Run(kind, period, row[1], row[2], answers, row[3])


def save_run(store: Store, run: Run, changed: Iterable[str],
             audit: Iterable[AuditRecord] = ()) -> None:
    """Upsert the run and the answers to `changed` items (with their audit records)."""
    changed = list(changed)
    rows = [(i, run.answers[i]) for i in changed]
    audit_rows = [store._audit_params(a) for a in audit]
    with store._write(f"save {run.kind} checklist {run.period}") as conn:
        conn.execute(
            """INSERT INTO checklist_runs (kind, period, started_at, updated_at, completed_at)
               VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (kind, period) DO UPDATE SET updated_at = excluded.updated_at,
                 completed_at = coalesce(checklist_runs.completed_at, excluded.completed_at)""",
            (run.kind, run.period, run.started_at, run.updated_at, run.completed_at))
        run_id = conn.execute("SELECT id FROM checklist_runs WHERE kind = ? AND period = ?",
                              (run.kind, run.period)).fetchone()[0]
        conn.executemany(
            """INSERT INTO checklist_items (run_id, item_id, result, evidence, note, source,
                                            by, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (run_id, item_id) DO UPDATE SET result = excluded.result,
                 evidence = excluded.evidence, note = excluded.note, source = excluded.source,
                 by = excluded.by, at = excluded.at""",
            [(run_id, i, a.result, a.evidence, a.note, a.source, a.by, a.at) for i, a in rows])
        store._insert_audit(conn, audit_rows)


def history(store: Store, kind: str | None = None, limit: int = 30) -> list[Run]:
    """The latest runs (of one kind, if given), newest period first, with answers."""
    with store._read("read checklist history") as conn:
        keys = conn.execute(
            """SELECT kind, period FROM checklist_runs WHERE (:kind IS NULL OR kind = :kind)
               ORDER BY started_at DESC, id DESC LIMIT :limit""",
            {"kind": kind, "limit": limit}).fetchall()
    return [run for k, p in keys if (run := load_run(store, k, p)) is not None]


def last_auto_run_at(store: Store, kind: str, before_period: str) -> float | None:
    """When the latest automatic answer of an earlier period was recorded."""
    with store._read("read previous checklist run") as conn:
        row = conn.execute(
            """SELECT max(i.at) FROM checklist_items i JOIN checklist_runs r ON r.id = i.run_id
               WHERE r.kind = ? AND r.period < ? AND i.source = 'auto'""",
            (kind, before_period)).fetchone()
    return None if row is None or row[0] is None else float(row[0])


def log_cursors(store: Store) -> dict[str, tuple[int, int]]:
    """path -> (inode, offset) where the last error-log scan stopped."""
    with store._read("read log cursors") as conn:
        rows = conn.execute("SELECT path, inode, offset FROM checklist_log_cursors").fetchall()
    return {p: (i, o) for p, i, o in rows}


def save_log_cursors(store: Store, cursors: dict[str, tuple[int, int]], now: float) -> None:
    with store._write("save log cursors") as conn:
        conn.executemany(
            """INSERT INTO checklist_log_cursors (path, inode, offset, updated_at)
               VALUES (?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET inode = excluded.inode,
               offset = excluded.offset, updated_at = excluded.updated_at""",
            [(p, i, o, now) for p, (i, o) in cursors.items()])


def alert_events(store: Store, since: float) -> list[tuple[float, str, str, str]]:
    """(ts, rule, firing|resolved, severity) of alert audit records since `since`."""
    with store._read("read alert history") as conn:
        rows = conn.execute(
            """SELECT ts, target, action, outcome FROM audit
               WHERE ts >= ? AND action IN ('alert.firing', 'alert.resolved')
               ORDER BY ts, id""", (since,)).fetchall()
    return [(ts, rule, action.removeprefix("alert."), sev) for ts, rule, action, sev in rows]


__all__ = [
    "IO",
    "alert_events",
    "history",
    "inline",
    "last_auto_run_at",
    "load_run",
    "log_cursors",
    "save_log_cursors",
    "save_run",
]
