"""Remediation's part of state.db: runs, per-playbook ledgers, and their audit records.

The "store" step for actions. A run is written as `started` before its first step
and finished with its outcome; a run still `started` when the store is opened again
by `recover` was cut short by a crash and becomes `interrupted` (with an audit
record saying so). Every write here is one transaction together with its audit rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from agent.store import AuditRecord, AuditRow, Store
from rules.remediation import Ledger, interrupted


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True)
class RunRow:
    id: int
    playbook: str
    kind: str
    actor: str
    started_at: float
    finished_at: float | None
    outcome: str
    reason: str
    detail: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        from agent.snapshot import iso

        return {"id": self.id, "playbook": self.playbook, "kind": self.kind,
                "actor": self.actor, "started_at": iso(self.started_at),
                "finished_at": iso(self.finished_at), "outcome": self.outcome,
                "reason": self.reason, "detail": dict(self.detail)}


_RUN_COLUMNS = "id, playbook, kind, actor, started_at, finished_at, outcome, reason, detail"


def _run_row(row: tuple) -> RunRow:
    return RunRow(*row[:8], json.loads(row[8]))


def _audit(store: Store, conn, records: Iterable[AuditRecord]) -> None:
    store._insert_audit(conn, [store._audit_params(r) for r in records])


def start_run(store: Store, playbook: str, kind: str, actor: str, now: float, reason: str,
              detail: Mapping[str, Any], audit: Iterable[AuditRecord] = ()) -> int:
    """Record a run as `started` (before any step); return its id."""
    with store._write(f"start remediation {playbook}") as conn:
        run_id = conn.execute(
            "INSERT INTO remediation_runs (playbook, kind, actor, started_at, outcome, reason, "
            "detail) VALUES (?, ?, ?, ?, 'started', ?, ?)",
            (playbook, kind, actor, now, reason, _json(detail))).lastrowid
        _audit(store, conn, audit)
    return int(run_id)


def record_run(store: Store, playbook: str, kind: str, actor: str, now: float, outcome: str,
               reason: str, detail: Mapping[str, Any],
               audit: Iterable[AuditRecord] = ()) -> int:
    """A finished record in one go (plans, dry-runs, refusals, give-ups)."""
    with store._write(f"record remediation {playbook}") as conn:
        run_id = conn.execute(
            "INSERT INTO remediation_runs (playbook, kind, actor, started_at, finished_at, "
            "outcome, reason, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (playbook, kind, actor, now, now, outcome, reason, _json(detail))).lastrowid
        _audit(store, conn, audit)
    return int(run_id)


def finish_run(store: Store, run_id: int, now: float, outcome: str, detail: Mapping[str, Any],
               audit: Iterable[AuditRecord] = ()) -> None:
    with store._write(f"finish remediation run {run_id}") as conn:
        conn.execute("UPDATE remediation_runs SET finished_at = ?, outcome = ?, detail = ? "
                     "WHERE id = ?", (now, outcome, _json(detail), run_id))
        _audit(store, conn, audit)


def add_audit(store: Store, records: Iterable[AuditRecord]) -> None:
    with store._write("remediation audit") as conn:
        _audit(store, conn, records)


def recover(store: Store, now: float) -> list[RunRow]:
    """Mark runs a crash left `started` as `interrupted`, clear `running` in the ledgers;
    return the runs marked."""
    with store._write("recover remediation runs") as conn:
        runs = [_run_row(r) for r in conn.execute(
            f"SELECT {_RUN_COLUMNS} FROM remediation_runs WHERE outcome = 'started'")]
        for run in runs:
            conn.execute("UPDATE remediation_runs SET outcome = 'interrupted', finished_at = ? "
                         "WHERE id = ?", (now, run.id))
        _audit(store, conn, [AuditRecord(now, "agent" if run.actor == "agent" else run.actor,
                                         "remediation.interrupted", run.playbook, "interrupted",
                                         {"run_id": run.id, "kind": run.kind,
                                          "started_at": run.started_at,
                                          "why": "the process ended before the run finished"})
                             for run in runs])
        for playbook, text in conn.execute(
                "SELECT playbook, ledger FROM remediation_ledger").fetchall():
            led = Ledger.from_json(json.loads(text))
            if led.running:
                conn.execute("UPDATE remediation_ledger SET ledger = ?, updated_at = ? "
                             "WHERE playbook = ?",
                             (_json(interrupted(led).to_json()), now, playbook))
    return runs


def load_ledgers(store: Store) -> dict[str, Ledger]:
    with store._read("read remediation ledgers") as conn:
        rows = conn.execute("SELECT playbook, ledger FROM remediation_ledger").fetchall()
    return {name: Ledger.from_json(json.loads(text)) for name, text in rows}


def write_ledgers(conn, ledgers: Mapping[str, Ledger], now: float) -> None:
    """Upsert the ledgers inside the caller's transaction (the agent's cycle commit)."""
    rows = [(name, _json(led.to_json()), now) for name, led in ledgers.items()]
    conn.executemany("INSERT INTO remediation_ledger (playbook, ledger, updated_at) "
                     "VALUES (?, ?, ?) ON CONFLICT (playbook) DO UPDATE SET "
                     "ledger = excluded.ledger, updated_at = excluded.updated_at", rows)


def save_ledgers(store: Store, ledgers: Mapping[str, Ledger], now: float,
                 audit: Iterable[AuditRecord] = ()) -> None:
    with store._write("save remediation ledgers") as conn:
        write_ledgers(conn, ledgers, now)
        _audit(store, conn, audit)


def runs(store: Store, limit: int = 50, playbook: str | None = None) -> list[RunRow]:
    """Latest runs (of one playbook, if given), newest first."""
    with store._read("read remediation runs") as conn:
        rows = conn.execute(
            f"""SELECT {_RUN_COLUMNS} FROM remediation_runs
                WHERE (:pb IS NULL OR playbook = :pb)
                ORDER BY started_at DESC, id DESC LIMIT :limit""",
            {"pb": playbook, "limit": limit}).fetchall()
    return [_run_row(r) for r in rows]


def audit_trail(store: Store, limit: int = 200) -> list[AuditRow]:
    """Remediation audit records, newest first."""
    with store._read("read remediation audit") as conn:
        rows = conn.execute(
            """SELECT id, ts, actor, action, target, outcome, detail FROM audit
               WHERE action LIKE 'remediation.%' ORDER BY ts DESC, id DESC LIMIT ?""",
            (limit,)).fetchall()
    return [AuditRow(*r[:6], json.loads(r[6])) for r in rows]


def resume_requests(store: Store) -> dict[str, float]:
    """Latest `remediate resume` per playbook (from any process): the agent applies one
    newer than a suspension, so a CLI resume is never lost to the agent's own writes."""
    with store._read("read remediation resumes") as conn:
        rows = conn.execute("SELECT target, max(ts) FROM audit WHERE action = "
                            "'remediation.resume' GROUP BY target").fetchall()
    return {name: float(ts) for name, ts in rows}
