"""Checklist runs: load the definitions, run the automatic items, record answers, and
the JSON view the CLI, the API and the dashboard show.

Store calls go through `io(fn, *args)`: inline for the CLI, the store's own thread in
the agent (`Runtime.db`).
"""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path
from typing import Any

from agent.checklists import store as cstore
from agent.checklists.facts import gather
from agent.checklists.store import IO, inline
from agent.config import ChecklistSettings, Config
from vocab.redact import redact
from agent.store import AuditRecord, Store
from rules.checklists import (
    Answer,
    Checklist,
    ChecklistError,
    Run,
    default_checklists,
    is_complete,
    judge_automatic,
    load_yaml,
    open_items,
    parse_checklists,
    period_of,
    record,
    status_of,
)
from rules.evaluate import Report


def settings_of(config: Config) -> ChecklistSettings:
    """The config's checklists section, or its defaults when the section is left out."""
    return config.checklists or ChecklistSettings()


def checklists_of(config: Config) -> dict[str, Checklist]:
    """The shipped checklists with `checklists.file` applied (ChecklistError if bad)."""
    base = default_checklists()
    path = settings_of(config).file
    if path is None:
        return base
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise ChecklistError(f"{path}: cannot read checklists.file: "
                             f"{exc.strerror or exc.__class__.__name__}") from None
    return parse_checklists(load_yaml(text, path), path, base)


def time_zone(config: Config) -> tzinfo:
    """checklists.timezone, else the system's zone (a real zone, so DST is followed)."""
    zone = settings_of(config).timezone
    if zone:
        from zoneinfo import ZoneInfo

        return ZoneInfo(zone)
    from tzlocal import get_localzone

    return get_localzone()


async def run_automatic(config: Config, store: Store, checklist: Checklist, now: float,
                        report: Report | None = None, io: IO = inline,
                        by: str = "agent") -> Run:
    """Judge every automatic item now and record it into this period's run (manual
    answers given earlier in the period are kept)."""
    tz = time_zone(config)
    period = period_of(checklist.kind, now, tz)
    facts, cursors = await gather(config, store, checklist, now, report, period, io)
    secrets = _secrets(config)
    answers = {k: Answer(a.result, redact(a.evidence, secrets), a.by if by == "agent" else by,
                         a.at, a.source) for k, a in judge_automatic(checklist, facts).items()}
    run = record(await io(cstore.load_run, store, checklist.kind, period), checklist, period,
                 answers, now)
    applied = {k: a for k, a in answers.items() if run.answers.get(k) == a}
    audit = [AuditRecord(now, by, "checklist.auto", f"{checklist.kind}/{period}",
                         status_of(applied).word,
                         {"results": {k: a.result for k, a in applied.items()}})]
    await io(cstore.save_run, store, run, list(applied), audit)
    if cursors:
        await io(cstore.save_log_cursors, store, cursors, now)
    return run


async def answer(config: Config, store: Store, checklist: Checklist, item_id: str,
                 result: str, note: str, by: str, now: float, io: IO = inline) -> Run:
    """Record one person's answer (pass/fail/skipped, or warn) to one item."""
    item = checklist.item(item_id)
    if item is None:
        raise ValueError(f"no item {item_id!r} in the {checklist.kind} checklist")
    if result not in ("pass", "fail", "warn", "skipped"):
        raise ValueError(f"answer must be pass, fail, warn or skipped, got {result!r}")
    note = redact(note.strip(), _secrets(config))[:500]
    period = period_of(checklist.kind, now, time_zone(config))
    ans = Answer(result, note or f"answered {result} by {by}", by, now, "manual", note)
    run = record(await io(cstore.load_run, store, checklist.kind, period), checklist, period,
                 {item_id: ans}, now)
    audit = [AuditRecord(now, by, "checklist.answer", f"{checklist.kind}/{period}/{item_id}",
                         result, {"note": note})]
    await io(cstore.save_run, store, run, [item_id], audit)
    return run


def _secrets(config: Config) -> list[str]:
    from agent.check import secrets_of

    return secrets_of(config)


def view(checklist: Checklist, run: Run | None, period: str) -> dict[str, Any]:
    """One run as JSON.

    Shape (the snapshot's `checklists.daily` / `checklists.weekly`, `checklist --json`)::

        {"kind": "daily", "title": "...", "period": "2026-11-25",
         "status": "ok|warning|critical|unknown",     # worst answered item
         "complete": false, "started_at": unix|null, "updated_at": unix|null,
         "completed_at": unix|null, "open": ["hud_display", ...],   # unanswered ids
         "counts": {"pass": 9, "warn": 1, "fail": 0, "unknown": 1, "skipped": 1, "open": 5},
         "items": [{"id", "section", "text", "kind": "automatic|manual", "check",
                    "prompt", "result": "pass|warn|fail|unknown|skipped|null",
                    "evidence", "note", "by", "at": unix|null, "source": "auto|manual|null"}]}
    """
    answers = run.answers if run is not None else {}
    items = []
    counts = {r: 0 for r in ("pass", "warn", "fail", "unknown", "skipped", "open")}
    for item in checklist.items:
        a = answers.get(item.id)
        counts[a.result if a else "open"] += 1
        items.append({**item.to_json(), "result": a.result if a else None,
                      "evidence": a.evidence if a else None, "note": a.note if a else "",
                      "by": a.by if a else None, "at": a.at if a else None,
                      "source": a.source if a else None})
    return {"kind": checklist.kind, "title": checklist.title, "period": period,
            "status": status_of(answers, checklist.items).word,
            "complete": is_complete(checklist, answers),
            "started_at": run.started_at if run else None,
            "updated_at": run.updated_at if run else None,
            "completed_at": run.completed_at if run else None,
            "open": [i.id for i in open_items(checklist, answers, manual_only=False)],
            "counts": counts, "items": items}

