"""Maintenance windows (pure): recurring silences, a cron expression plus a duration.

`Window` is one configured window; `occurrence(window, now)` the run of it in force at
`now`, if any; `silence(window, start)` that run as an ordinary `Silence` (so matching,
the snapshot and the TUI treat it like any other); `changes(windows, announced, now)` the
start and end notices due. Probing, evaluation and recording never stop inside a window:
only notifications of the matching alerts are held, as with any silence.

Cron is the classic 5 fields (minute hour day-of-month month day-of-week) with `*`,
lists, ranges, `/step` and names (`jan`, `mon`); day 0 and 7 are Sunday; when both day
fields are restricted either may match (Vixie cron). Times are read in `tz`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Iterable

from alerts.notifiers.notice import FIRING, RESOLVED, Notice, dedupe_key
from alerts.silence import Silence, fingerprint, parse_matchers

ALERTNAME = "maintenance_window"
_MONTHS = {m: i + 1 for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))}
_DAYS = {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}), ("hour", 0, 23, {}), ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS), ("day of week", 0, 7, _DAYS))
MAX_DURATION_S = 31 * 86400.0


@dataclass(frozen=True)
class Cron:
    """A parsed cron expression: the allowed values of each field."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool
    any_weekday: bool

    def matches(self, when: datetime) -> bool:
        """Whether the minute `when` (in the window's zone) is a start time."""
        if when.minute not in self.minutes or when.hour not in self.hours \
                or when.month not in self.months:
            return False
        day_ok = when.day in self.days
        weekday_ok = (when.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return day_ok and weekday_ok
        return day_ok or weekday_ok


def _value(text: str, lo: int, hi: int, names: dict[str, int], what: str) -> int:
    key = text.strip().lower()
    value = names[key] if key in names else int(key) if key.isdigit() else None
    if value is None or not lo <= value <= hi:
        raise ValueError(f"{what}: {text!r} is not in {lo}-{hi}")
    return value


def _field(text: str, lo: int, hi: int, names: dict[str, int], what: str) -> set[int]:
    out: set[int] = set()
    for part in text.split(","):
        body, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) < 1:
                raise ValueError(f"{what}: bad step in {part!r}")
            step = int(step_text)
        if body == "*":
            first, last = lo, hi
        elif "-" in body:
            a, _, b = body.partition("-")
            first, last = _value(a, lo, hi, names, what), _value(b, lo, hi, names, what)
            if first > last:
                raise ValueError(f"{what}: range {body!r} runs backwards")
        else:
            first = _value(body, lo, hi, names, what)
            last = hi if step_text else first
        out.update(range(first, last + 1, step))
    return out


def parse_cron(text: str) -> Cron:
    """Parse a 5-field cron expression; ValueError names the field that is wrong.

    >>> sorted(parse_cron("*/20 2 * * sun").minutes)
    [0, 20, 40]
    """
    parts = text.split()
    if len(parts) != 5:
        raise ValueError(f"cron {text!r}: expected 5 fields (minute hour day-of-month month "
                         f"day-of-week), got {len(parts)}")
    sets = [_field(p, lo, hi, names, f"cron {text!r} {what}")
            for p, (what, lo, hi, names) in zip(parts, _FIELDS)]
    weekdays = {0 if d == 7 else d for d in sets[4]}
    return Cron(text, frozenset(sets[0]), frozenset(sets[1]), frozenset(sets[2]),
                frozenset(sets[3]), frozenset(weekdays), parts[2].startswith("*"),
                parts[4].startswith("*"))


@dataclass(frozen=True)
class Window:
    """One recurring maintenance window.

    Attributes:
        name: Its name (the `window` label of its notices).
        cron: When each run starts.
        duration_s: How long each run lasts.
        matchers: Which alerts it silences (`parse_matchers` syntax).
        reason: Why (shown in the silence comment and the notices).
        tz: The zone the cron is read in.
    """

    name: str
    cron: Cron
    duration_s: float
    matchers: str
    reason: str
    tz: tzinfo = timezone.utc

    def __post_init__(self) -> None:
        if not 60 <= self.duration_s <= MAX_DURATION_S:
            raise ValueError(f"window {self.name}: duration_s must be 60 s to 31 days")
        parse_matchers(self.matchers)  # ValueError names what is wrong


def occurrence(window: Window, now: float) -> float | None:
    """Start (unix seconds) of the run in force at `now`, or None: the latest start
    minute at or before `now` within `duration_s`."""
    here = datetime.fromtimestamp(now, window.tz).replace(second=0, microsecond=0)
    steps = int(window.duration_s // 60) + 1
    for back in range(steps):
        when = here - timedelta(minutes=back)
        start = when.timestamp()
        if start + window.duration_s <= now:
            return None
        if window.cron.matches(when):
            return start
    return None


def silence(window: Window, start: float) -> Silence:
    """The run starting at `start` as a silence (id `maintenance-NAME`)."""
    return Silence(id=f"maintenance-{window.name}", matchers=parse_matchers(window.matchers),
                   starts_at=start, ends_at=start + window.duration_s,
                   created_by="maintenance", comment=window.reason)


def silences(windows: Iterable[Window], now: float) -> list[Silence]:
    """The silences of every window in force at `now`."""
    out = []
    for window in windows:
        start = occurrence(window, now)
        if start is not None:
            out.append(silence(window, start))
    return out


def _notice(window: Window, start: float, status: str) -> Notice:
    labels = {"window": window.name}
    fp = fingerprint(ALERTNAME, labels)
    end = start + window.duration_s
    until = datetime.fromtimestamp(end, timezone.utc).isoformat(timespec="minutes")
    if status == FIRING:
        summary = (f"maintenance window {window.name} started: {window.reason}; "
                   f"alerts matching {window.matchers} are held until {until}")
    else:
        summary = f"maintenance window {window.name} ended: {window.reason}"
    return Notice(fp, ALERTNAME, {**labels, "severity": "info"},
                  {"summary": summary,
                   "description": f"cron {window.cron.text!r}, {window.duration_s:g}s; "
                                  "monitoring and recording continue inside the window"},
                  status, start, None if status == FIRING else end,  # type: ignore[arg-type]
                  dedupe_key(fp, start, status, 0))


def changes(windows: Iterable[Window], announced: dict[str, float], now: float
            ) -> tuple[list[Notice], dict[str, float]]:
    """Start and end notices due at `now`, and the new map of announced runs
    (window name -> start). A run is announced once it starts; its end is told once it
    is over. The notices' dedupe keys are per run, so a replay never queues one twice."""
    out: list[Notice] = []
    runs: dict[str, float] = {}
    by_name = {w.name: w for w in windows}
    for name, window in by_name.items():
        start = occurrence(window, now)
        held = announced.get(name)
        if held is not None and held != start:
            out.append(_notice(window, held, RESOLVED))
        if start is not None:
            if held != start:
                out.append(_notice(window, start, FIRING))
            runs[name] = start
    return out, runs
