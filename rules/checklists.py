"""The guide's daily and weekly operations checklists and their pure logic.

Definitions come from `rules/defaults/checklists.yaml` (plus an optional override
file); a run is the answers recorded for one checklist in one period (a local
day, an ISO week). Everything here is data in, data out: automatic items are
judged from `Facts` the I/O edge (`agent.checklists.facts`) gathered, runs are
merged and judged complete, and the agent's schedule (run time, deadline) is
computed from `now` and a time zone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from importlib import resources
from typing import Any, Collection, Sequence

import yaml

from vocab.model import Status
from rules.evaluate import Report
from rules.thresholds import format_value

KINDS = ("daily", "weekly")
RESULTS = ("pass", "warn", "fail", "unknown", "skipped")
CHECKS = ("services", "overnight_alerts", "metrics", "spend", "path_ratio", "error_logs",
          "backups", "endpoints")
DEFAULTS_FILE = "rules/defaults/checklists.yaml"

RESULT_OF_STATUS = {Status.OK: "pass", Status.WARNING: "warn", Status.CRITICAL: "fail",
                    Status.UNKNOWN: "unknown"}
STATUS_OF_RESULT = {"pass": Status.OK, "skipped": Status.OK, "warn": Status.WARNING,
                    "fail": Status.CRITICAL, "unknown": Status.UNKNOWN}


class ChecklistError(ValueError):
    """A checklist definition that cannot be used; the message names file and key."""


# -- definitions ------------------------------------------------------------------------

@dataclass(frozen=True)
class Item:
    """One line of a checklist: automatic (`check` + `args`) or manual (`prompt`)."""

    id: str
    section: str
    text: str
    check: str | None = None
    args: Mapping[str, Any] = field(default_factory=dict)
    prompt: str | None = None

    @property
    def automatic(self) -> bool:
        return self.check is not None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "section": self.section, "text": self.text,
                "kind": "automatic" if self.automatic else "manual", "check": self.check,
                "prompt": self.prompt}


@dataclass(frozen=True)
class Checklist:
    kind: str
    title: str
    items: tuple[Item, ...]

    def item(self, item_id: str) -> Item | None:
        return next((i for i in self.items if i.id == item_id), None)


_ITEM_KEYS = {"id", "section", "text", "check", "args", "prompt", "enabled"}


def _item(raw: Any, where: str, base: Item | None) -> Item | None:
    if not isinstance(raw, dict):
        raise ChecklistError(f"{where}: expected a mapping with id, section, text and "
                             "check or prompt")
    unknown = sorted(set(raw) - _ITEM_KEYS)
    if unknown:
        raise ChecklistError(f"{where}.{unknown[0]}: unknown key")
    if raw.get("enabled", True) is False:
        return None
    merged: dict[str, Any] = {} if base is None else {
        "section": base.section, "text": base.text, "check": base.check,
        "args": dict(base.args), "prompt": base.prompt}
    if "check" in raw and "prompt" not in raw:
        merged["prompt"] = None
    if "prompt" in raw and "check" not in raw:
        merged["check"], merged["args"] = None, {}
    merged.update({k: v for k, v in raw.items() if k not in ("id", "enabled")})
    for key in ("section", "text"):
        if not isinstance(merged.get(key), str) or not merged[key].strip():
            raise ChecklistError(f"{where}.{key}: required text is missing")
    check, prompt = merged.get("check"), merged.get("prompt")
    if (check is None) == (prompt is None):
        raise ChecklistError(f"{where}: give exactly one of check (automatic) or prompt "
                             "(manual)")
    if check is not None and check not in CHECKS:
        raise ChecklistError(f"{where}.check: unknown check {check!r} (one of: "
                             f"{', '.join(CHECKS)})")
    if prompt is not None and not isinstance(prompt, str):
        raise ChecklistError(f"{where}.prompt: expected text")
    args = merged.get("args") or {}
    if not isinstance(args, dict):
        raise ChecklistError(f"{where}.args: expected a mapping")
    return Item(id=str(raw["id"]), section=merged["section"], text=merged["text"],
                check=check, args=args, prompt=prompt)


def parse_checklists(data: Any, source: str,
                     base: Mapping[str, Checklist] | None = None) -> dict[str, Checklist]:
    """Checklists from parsed YAML. With `base`, `data` overrides it: items matched by
    id change the fields they give, new ids are added, `enabled: false` drops one."""
    if not isinstance(data, dict):
        raise ChecklistError(f"{source}: expected a mapping with daily: and weekly:")
    unknown = sorted(set(data) - set(KINDS))
    if unknown:
        raise ChecklistError(f"{source}: {unknown[0]}: unknown checklist (daily or weekly)")
    out = dict(base or {})
    for kind in KINDS:
        section = data.get(kind)
        if section is None:
            if kind not in out:
                raise ChecklistError(f"{source}: {kind}: checklist is missing")
            continue
        where = f"{source}: {kind}"
        if not isinstance(section, dict) or not isinstance(section.get("items", []), list):
            raise ChecklistError(f"{where}: expected a mapping with an items list")
        old = out.get(kind)
        items: dict[str, Item | None] = {i.id: i for i in old.items} if old else {}
        for n, raw in enumerate(section.get("items", [])):
            item_where = f"{where}.items[{n}]"
            if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) \
                    or not raw["id"].strip():
                raise ChecklistError(f"{item_where}.id: required text is missing")
            if old is None and raw["id"] in items:
                raise ChecklistError(f"{item_where}.id: {raw['id']!r} is used twice")
            items[raw["id"]] = _item(raw, item_where, items.get(raw["id"]))
        title = section.get("title", old.title if old else None)
        if not isinstance(title, str):
            raise ChecklistError(f"{where}.title: required text is missing")
        out[kind] = Checklist(kind, title, tuple(i for i in items.values() if i is not None))
    return out


def load_yaml(text: str, source: str) -> Any:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise ChecklistError(f"{where}: YAML syntax error: "
                             f"{getattr(exc, 'problem', None) or exc}") from None


@lru_cache(maxsize=1)
def default_checklists() -> dict[str, Checklist]:
    text = resources.files("rules").joinpath("defaults/checklists.yaml").read_text("utf-8")
    return parse_checklists(load_yaml(text, DEFAULTS_FILE), DEFAULTS_FILE)


# -- runs -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Answer:
    """The outcome of one item in one run."""

    result: str
    evidence: str
    by: str
    at: float
    source: str = "auto"  # "auto" (judged by the tool) or "manual" (a person)
    note: str = ""

    def __post_init__(self) -> None:
        if self.result not in RESULTS:
            raise ValueError(f"result must be one of {', '.join(RESULTS)}, got {self.result!r}")

    def to_json(self) -> dict[str, Any]:
        return {"result": self.result, "evidence": self.evidence, "by": self.by,
                "at": self.at, "source": self.source, "note": self.note}


@dataclass(frozen=True)
class Run:
    """One checklist's answers in one period (`2026-11-25`, `2026-W48`)."""

    kind: str
    period: str
    started_at: float
    updated_at: float
    answers: Mapping[str, Answer] = field(default_factory=dict)
    completed_at: float | None = None


def period_of(kind: str, now: float, tz: tzinfo) -> str:
    """The local day (daily) or ISO week (weekly) that `now` falls in."""
    local = datetime.fromtimestamp(now, tz)
    if kind == "daily":
        return local.date().isoformat()
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


def is_complete(checklist: Checklist, answers: Mapping[str, Answer]) -> bool:
    """Every item has an answer (a skip is an answer; it says someone decided)."""
    return all(item.id in answers for item in checklist.items)


def open_items(checklist: Checklist, answers: Mapping[str, Answer],
               manual_only: bool = True) -> list[Item]:
    return [i for i in checklist.items
            if i.id not in answers and (not manual_only or not i.automatic)]


def record(run: Run | None, checklist: Checklist, period: str,
           answers: Mapping[str, Answer], now: float) -> Run:
    """The run with `answers` recorded: they replace earlier answers to the same items,
    every other earlier answer is kept (a resumed run). An automatic answer never
    replaces a person's answer to the same item (someone checked it by hand).
    `completed_at` is set the first time every item has an answer and kept afterwards."""
    unknown = [i for i in answers if checklist.item(i) is None]
    if unknown:
        raise ValueError(f"no item {unknown[0]!r} in the {checklist.kind} checklist")
    if run is None:
        run = Run(checklist.kind, period, started_at=now, updated_at=now)
    answers = {k: a for k, a in answers.items()
               if not (a.source == "auto" and k in run.answers
                       and run.answers[k].source == "manual")}
    merged = {**run.answers, **answers}
    completed = run.completed_at
    if completed is None and is_complete(checklist, merged):
        completed = now
    return replace(run, answers=merged, updated_at=now, completed_at=completed)


def status_of(answers: Mapping[str, Answer], items: tuple[Item, ...] | None = None) -> Status:
    """Worst result, as `check` ranks it: fail > unknown > warn > pass/skipped."""
    chosen = answers.values() if items is None else \
        [answers[i.id] for i in items if i.id in answers]
    return Status.worst(STATUS_OF_RESULT[a.result] for a in chosen)


def manual_answer(text: str) -> str | None:
    """y/yes/pass -> pass, n/no/fail -> fail, s/skip -> skipped; None if unclear."""
    word = text.strip().lower()
    for result, words in (("pass", ("y", "yes", "pass", "ok")),
                          ("fail", ("n", "no", "fail")),
                          ("skipped", ("s", "skip", "skipped"))):
        if word in words:
            return result
    return None


# -- facts and automatic items ----------------------------------------------------------

@dataclass(frozen=True)
class AlertFact:
    """An alert event from the agent's audit trail."""

    at: float
    rule: str
    kind: str  # "firing" | "resolved"
    severity: str


@dataclass(frozen=True)
class BackupFact:
    pattern: str
    newest: str | None
    mtime: float | None
    max_age_s: float


@dataclass(frozen=True)
class Facts:
    """What the I/O edge learned for the automatic items; a None field was not read
    and its `*_reason` says why."""

    at: float
    report: Report | None = None
    report_reason: str = "check did not run"
    configured: frozenset[str] = frozenset()
    alerts: tuple[AlertFact, ...] | None = None
    alerts_since: float = 0.0
    alerts_reason: str = "no alert history"
    spend_usd: float | None = None
    budget_usd: float | None = None
    spend_status: Status | None = None
    """The cost capability's judgement of the daily budget (its warning/critical
    levels); None: judged here from `warn_percent`."""
    spend_reason: str = "spend not read"
    path_requests: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    path_reason: str = "routing counters not read"
    error_lines: tuple[tuple[str, int], ...] | None = None
    log_globs: tuple[str, ...] = ()
    """security.log_globs; none configured: the error_logs item is skipped."""
    log_reason: str = "no log files configured (security.log_globs)"
    backups: tuple[BackupFact, ...] = ()
    endpoints: tuple[str, ...] = ()


Verdict = tuple[str, str]  # (result, evidence)


def _components(facts: Facts, names: Collection[str] | None) -> Verdict:
    if facts.report is None:
        return "unknown", facts.report_reason
    comps = [c for c in facts.report.components if names is None or c.name in names]
    if not comps:
        return "skipped", f"not configured: {', '.join(names or ())}"
    worst = Status.worst(c.status for c in comps)
    if worst is Status.OK:
        if len(comps) == 1:
            return "pass", f"{comps[0].name} ok: {comps[0].summary}"
        return "pass", f"all {len(comps)} components ok"
    bad = [f"{c.name} {c.status.word}: {c.summary}" for c in comps if c.status is not Status.OK]
    return RESULT_OF_STATUS[worst], "; ".join(bad)


def _metrics(facts: Facts, keys: Sequence[str]) -> Verdict:
    if facts.report is None:
        return "unknown", facts.report_reason
    wanted = [tuple(str(k).split("/", 1)) for k in keys]
    found = {(m.component, m.name): m for m in facts.report.metrics}
    shown = [found[k] for k in wanted if k in found]
    if not shown:
        return "skipped", "no such metric is checked here: " + ", ".join(map(str, keys))
    worst = Status.worst(m.status for m in shown)
    parts = []
    for m in shown:
        if m.value is None:
            parts.append(f"{m.title}: no data ({m.reason or 'unreadable'})")
        else:
            want = "target " + m.target if m.status is not Status.CRITICAL else "alert " + m.alert
            parts.append(f"{m.title} {format_value(m.value, m.unit)} ({want})")
    return RESULT_OF_STATUS[worst], "; ".join(parts)


def _alerts(facts: Facts) -> Verdict:
    if facts.alerts is None:
        return "unknown", facts.alerts_reason
    since = datetime.fromtimestamp(facts.alerts_since).strftime("%Y-%m-%d %H:%M")
    fired = [a for a in facts.alerts if a.kind == "firing"]
    if not fired:
        return "pass", f"no alert fired since {since}"
    last: dict[str, AlertFact] = {}
    for a in sorted(facts.alerts, key=lambda a: a.at):
        last[a.rule] = a
    still = sorted(r for r, a in last.items() if a.kind == "firing")
    names = sorted({a.rule for a in fired})
    text = f"{len(fired)} alert(s) fired since {since}: {', '.join(names)}"
    if still:
        return "fail", text + f"; still firing: {', '.join(still)}"
    return "warn", text + "; all resolved"


def _spend(facts: Facts, args: Mapping[str, Any]) -> Verdict:
    if facts.spend_usd is None:
        return "unknown", facts.spend_reason
    if facts.budget_usd is None:
        return "unknown", f"spent ${facts.spend_usd:.2f} today; no daily budget configured"
    share = 100 * facts.spend_usd / facts.budget_usd if facts.budget_usd > 0 else math.inf
    text = f"${facts.spend_usd:.2f} of ${facts.budget_usd:.2f} daily budget ({share:.0f} %)"
    if facts.spend_status is not None:
        return RESULT_OF_STATUS[facts.spend_status], text
    if share >= 100:
        return "fail", text
    return ("warn" if share >= float(args.get("warn_percent", 80)) else "pass"), text


def _path_ratio(facts: Facts, args: Mapping[str, Any]) -> Verdict:
    window = str(args.get("window", "24h"))
    counts = facts.path_requests.get(window)
    if counts is None:
        return "unknown", facts.path_reason
    fast, think = counts
    if fast + think <= 0 or math.isnan(fast + think):
        return "unknown", f"no routed requests in the last {window}"
    share = 100 * fast / (fast + think)
    target = float(args.get("target_fast_percent", 60))
    off = abs(share - target)
    text = (f"fast {share:.0f} % / think {100 - share:.0f} % over {window} "
            f"({fast:.0f} / {think:.0f} requests; target {target:.0f}/{100 - target:.0f})")
    if off > float(args.get("fail_points", 25)):
        return "fail", text
    return ("warn" if off > float(args.get("warn_points", 10)) else "pass"), text


def _error_logs(facts: Facts) -> Verdict:
    if facts.error_lines is None:
        return ("unknown" if facts.log_globs else "skipped"), facts.log_reason
    total = sum(n for _, n in facts.error_lines)
    if total == 0:
        return "pass", f"no ERROR lines in {len(facts.error_lines)} file(s) since the last run"
    worst = max(facts.error_lines, key=lambda fn: fn[1])
    return "warn", (f"{total} ERROR line(s) since the last run in "
                    f"{sum(1 for _, n in facts.error_lines if n)} file(s); most in "
                    f"{worst[0]} ({worst[1]})")


def _age(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def _backups(facts: Facts) -> Verdict:
    if not facts.backups:
        return "skipped", "no backups configured (checklists.backups)"
    bad, good = [], []
    for b in facts.backups:
        if b.mtime is None:
            bad.append(f"{b.pattern}: no backup file found")
            continue
        age = facts.at - b.mtime
        if age > b.max_age_s:
            bad.append(f"{b.newest} is {_age(age)} old (max {_age(b.max_age_s)})")
        else:
            good.append(f"{b.newest} {_age(max(age, 0))} old")
    return ("fail", "; ".join(bad + good)) if bad else ("pass", "; ".join(good))


def _endpoints(facts: Facts, args: Mapping[str, Any]) -> Verdict:
    verdicts = []
    if facts.endpoints:
        verdicts.append(_components(facts, set(facts.endpoints)))
    if args.get("metrics"):
        result = _metrics(facts, args["metrics"])
        if result[0] != "skipped":
            verdicts.append(result)
    if not verdicts:
        return "skipped", "no tool integration endpoints configured (targets.endpoints)"
    worst = max(verdicts, key=lambda v: STATUS_OF_RESULT[v[0]])
    return worst[0], "; ".join(v[1] for v in verdicts)


def judge_item(item: Item, facts: Facts) -> Verdict:
    """(result, evidence) of one automatic item from the gathered facts."""
    args = item.args
    if item.check == "services":
        names = args.get("components")
        return _components(facts, set(names) if names else None)
    if item.check == "metrics":
        result, evidence = _metrics(facts, args.get("metrics", ()))
        if args.get("components") and result != "unknown":
            comp = _components(facts, set(args["components"]))
            if comp[0] != "skipped" and STATUS_OF_RESULT[comp[0]] > STATUS_OF_RESULT[result]:
                return comp[0], f"{comp[1]}; {evidence}"
        return result, evidence
    if item.check == "overnight_alerts":
        return _alerts(facts)
    if item.check == "spend":
        return _spend(facts, args)
    if item.check == "path_ratio":
        return _path_ratio(facts, args)
    if item.check == "error_logs":
        return _error_logs(facts)
    if item.check == "backups":
        return _backups(facts)
    if item.check == "endpoints":
        return _endpoints(facts, args)
    raise ValueError(f"item {item.id}: not an automatic item")


def judge_automatic(checklist: Checklist, facts: Facts, by: str = "agent"
                    ) -> dict[str, Answer]:
    """An answer for every automatic item of the checklist."""
    out = {}
    for item in checklist.items:
        if item.automatic:
            result, evidence = judge_item(item, facts)
            out[item.id] = Answer(result, evidence, by, facts.at, "auto")
    return out


def path_windows(checklist: Checklist) -> tuple[str, ...]:
    """The `window`s the checklist's path_ratio items need counted."""
    return tuple(sorted({str(i.args.get("window", "24h")) for i in checklist.items
                         if i.check == "path_ratio"}))


# -- the agent's schedule -----------------------------------------------------------------

def clock(text: str) -> time:
    hour, minute = text.split(":")
    return time(int(hour), int(minute))


def at_local(day: date, when: time, tz: tzinfo) -> float:
    """Unix time of a wall-clock time on a local day. An ambiguous time (autumn DST
    change) is its first occurrence; a time skipped by a spring change is read with
    the offset before the change, i.e. lands just after the gap (PEP 495)."""
    return datetime.combine(day, when, tzinfo=tz).timestamp()


def next_run_at(now: float, daily_at: str, tz: tzinfo) -> float:
    """The next time (strictly after `now`) the daily automatic run is due."""
    today = datetime.fromtimestamp(now, tz).date()
    for offset in range(3):
        candidate = at_local(today + timedelta(days=offset), clock(daily_at), tz)
        if candidate > now:
            return candidate
    raise AssertionError("unreachable: a day later is always later")


def today_at(now: float, hhmm: str, tz: tzinfo) -> float:
    """Unix time of the wall-clock time `hhmm` on the local day of `now`."""
    return at_local(datetime.fromtimestamp(now, tz).date(), clock(hhmm), tz)


@dataclass(frozen=True)
class Overdue:
    """Whether today's daily checklist is past its deadline unfinished."""

    overdue: bool
    open_items: tuple[str, ...]
    deadline_at: float

    @property
    def status(self) -> Status:
        return Status.WARNING if self.overdue else Status.OK


def overdue(now: float, deadline: str, tz: tzinfo, checklist: Checklist,
            run: Run | None) -> Overdue:
    """Past today's deadline with a manual item unanswered (or no run at all) is
    overdue; before the deadline, or once every item is answered, it is not."""
    due = today_at(now, deadline, tz)
    answers = run.answers if run is not None and run.period == period_of(
        "daily", now, tz) else {}
    missing = tuple(i.id for i in open_items(checklist, answers, manual_only=False))
    return Overdue(now >= due and bool(missing), missing, due)


def needs_auto_run(now: float, daily_at: str, tz: tzinfo, run: Run | None,
                   checklist: Checklist) -> bool:
    """After today's run time with no automatic answers yet for today (an agent started
    after 08:00 catches up once)."""
    if now < today_at(now, daily_at, tz):
        return False
    if run is None or run.period != period_of("daily", now, tz):
        return True
    return not any(run.answers.get(i.id) for i in checklist.items if i.automatic)
