"""Gather what the automatic checklist items are judged on (the I/O edge).

`gather` reads the check report (given, or probed now), the alert history in the
store, spend against the daily budget (`agent.cost.spend_report`), the fast/think
split from Prometheus, ERROR lines appended to the
configured logs since the last scan, and backup file ages, and turns every failure
into a reason. Nothing here judges: that is `rules.checklists.judge_automatic`.
"""

from __future__ import annotations

import glob
import os

from agent.checklists import store as cstore
from agent.config import Config
from agent.store import Store
from rules.checklists import AlertFact, BackupFact, Checklist, Facts, path_windows
from rules.evaluate import Report

CHUNK = 1 << 20
ERROR_MARK = b"ERROR"
OVERNIGHT_MAX_S = 3 * 86400.0
PATH_QUERY = "sum(increase({metric}[{window}]))"


def count_errors(path: str, cursor: tuple[int, int] | None) -> tuple[int, tuple[int, int]]:
    """ERROR lines in `path` after `cursor` (inode, offset); a file that was replaced or
    truncated since (log rotation) is read from the start. Returns the count and the new
    cursor, at the end of the last complete line."""
    st = os.stat(path)
    offset = 0
    if cursor is not None and cursor[0] == st.st_ino and cursor[1] <= st.st_size:
        offset = cursor[1]
    count, pending = 0, b""
    with open(path, "rb") as fh:
        fh.seek(offset)
        while chunk := fh.read(CHUNK):
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()
            count += sum(1 for line in lines if ERROR_MARK in line)
            offset += len(chunk)
    return count, (st.st_ino, offset - len(pending))


def scan_logs(globs: tuple[str, ...], cursors: dict[str, tuple[int, int]]
              ) -> tuple[tuple[tuple[str, int], ...] | None, str, dict[str, tuple[int, int]]]:
    if not globs:
        return None, "no log files configured (security.log_globs not set)", {}
    paths = sorted({p for g in globs for p in glob.glob(os.path.expanduser(g), recursive=True)
                    if os.path.isfile(p)})
    if not paths:
        return None, f"no file matches security.log_globs ({', '.join(globs)})", {}
    found, new_cursors, unreadable = [], {}, []
    for path in paths:
        try:
            count, new_cursors[path] = count_errors(path, cursors.get(path))
        except OSError as exc:
            unreadable.append(f"{path}: {exc.strerror or exc.__class__.__name__}")
            continue
        found.append((path, count))
    if not found:
        return None, "cannot read the logs: " + "; ".join(unreadable), {}
    return tuple(found), "", new_cursors


def backup_facts(config: Config) -> tuple[BackupFact, ...]:
    out = []
    from agent.checklists.runner import settings_of

    for b in settings_of(config).backups:
        newest, mtime = None, None
        for path in glob.glob(os.path.expanduser(b.path)):
            try:
                m = os.stat(path).st_mtime
            except OSError:
                continue
            if mtime is None or m > mtime:
                newest, mtime = path, m
        out.append(BackupFact(b.path, newest, mtime, b.max_age_h * 3600))
    return tuple(out)


async def path_facts(config: Config, windows: tuple[str, ...]) -> dict:
    """Routed request counts (fast, think) per window, from Prometheus."""
    from agent.probes import prometheus

    target = config.targets.prometheus
    if target is None:
        return {"path_reason": "no targets.prometheus configured"}
    if not windows:
        return {}
    queries = [(f"{metric}@{w}", PATH_QUERY.format(metric=metric, window=w))
               for w in windows for metric in ("fast_path_requests_total",
                                               "think_path_requests_total")]
    result = await prometheus.probe(target, queries)
    readings = result.readings
    paths, reasons = {}, []
    for w in windows:
        fast = readings.get(f"fast_path_requests_total@{w}")
        think = readings.get(f"think_path_requests_total@{w}")
        if fast is not None and think is not None and fast.known and think.known:
            paths[w] = (fast.value, think.value)
        else:
            bad = fast if fast is None or not fast.known else think
            reasons.append(bad.reason if bad is not None else result.summary)
    out: dict = {"path_requests": paths}
    if reasons:
        out["path_reason"] = reasons[0]
    return out


async def spend_facts(config: Config, now: float) -> dict:
    """Today's spend and daily budget as the cost capability judges them."""
    from agent.cost import spend_report

    report = await spend_report(config, now)
    daily = report.budget("daily")
    out = {"budget_usd": daily.limit_usd, "spend_status": daily.status}
    if daily.spent_usd is None:
        out["spend_reason"] = report.reason or report.texts.get("daily") or \
            "no spend source answered"
    else:
        out["spend_usd"] = daily.spent_usd
    return out


async def gather(config: Config, store: Store | None, checklist: Checklist, now: float,
                 report: Report | None, period: str, io: cstore.IO = cstore.inline
                 ) -> tuple[Facts, dict]:
    """Facts for `checklist`'s automatic items, and the new log cursors to save with the
    run. `io(fn, *args)` runs store calls on the store's thread (default: inline)."""
    if report is None:
        from agent.check import check

        report = await check(config)
    configured = frozenset(c.name for c in report.components)
    fields: dict = {"report": report, "configured": configured,
                    "endpoints": tuple(e.name for e in config.targets.endpoints),
                    "backups": backup_facts(config)}
    if store is not None:
        previous = await io(cstore.last_auto_run_at, store, "daily", period)
        since = previous if previous is not None and now - previous < OVERNIGHT_MAX_S \
            else now - 86400
        events = await io(cstore.alert_events, store, since)
        if events or await io(store.last_seen) is not None:
            fields["alerts"] = tuple(AlertFact(*e) for e in events)
        else:
            fields["alerts_reason"] = (f"no alert history: alice-agent has not run with "
                                       f"{store.path}")
        fields["alerts_since"] = since
        old_cursors = await io(cstore.log_cursors, store)
    else:
        old_cursors = {}
    lines, reason, cursors = scan_logs(config.security.log_globs, old_cursors)
    fields["error_lines"], fields["log_globs"] = lines, tuple(config.security.log_globs)
    if reason:
        fields["log_reason"] = reason
    fields.update(await path_facts(config, path_windows(checklist)))
    fields.update(await spend_facts(config, now))
    return Facts(at=now, **fields), cursors
