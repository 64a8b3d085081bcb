"""Reading a health endpoint: the status word, nested sub-statuses and what the words mean.

`judge()` is pure (HTTP code, parsed body and a `HealthCheck` in, a verdict out); the
backend and gateway probes and `alice-ops discover` share it. `fetch()` is the one GET,
under a total deadline (httpx's own timeouts are per phase: a server dripping bytes
could hold a request far longer).

A sub-status in a bad word makes the component `sub_status_bad` (critical or warning),
one in a degraded word makes it WARNING, and the summary names it
(`database.status: "error"`); ignore-words (`unknown`, `disabled`) and values that are
no status at all are kept in the details but never counted.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from agent.config import HealthCheck
from vocab.model import Status
from agent.probes.http import ProbeFailure, get_json

STATUS_KEYS = ("status", "state", "health")
"""Keys read for the status of a mapping found at a sub-status path."""
MISSING = object()


@dataclass(frozen=True)
class SubStatus:
    """One nested status: its concrete path, the value found and how it counted."""

    name: str
    value: Any
    kind: str
    """ok | degraded | bad | ignored (an ignore-word) | absent | not a status"""

    @property
    def counted(self) -> bool:
        return self.kind in ("ok", "degraded", "bad")

    def to_json(self) -> dict:
        value = None if self.value is MISSING else self.value
        return {"path": self.name, "value": value, "kind": self.kind, "counted": self.counted}


@dataclass(frozen=True)
class HealthVerdict:
    """The judgement of one health answer; `summary` is one human line ("/api/health
    answered HTTP 503, status 'down'", "backend reports 'ok'; database.status: \"error\"")."""

    status: Status
    summary: str
    reported: Any = None
    subs: tuple[SubStatus, ...] = ()

    def details(self, path: str) -> dict:
        return {"path": path, "status": self.reported,
                "sub_statuses": [s.to_json() for s in self.subs]}


def lookup(doc: Any, path: str) -> Any:
    """The value at a dotted path (list items by index), or MISSING."""
    if not path:
        return doc
    node = doc
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return MISSING
    return node


def expand(doc: Any, pattern: str) -> Iterator[tuple[str, Any]]:
    """Every (concrete path, value) a pattern names; `*` is each key of a mapping (each
    item of a list). A path that leads nowhere yields (pattern, MISSING) once."""
    found = False
    stack: list[tuple[list[str], Any, list[str]]] = [([], doc, pattern.split("."))]
    while stack:
        done, node, rest = stack.pop(0)
        if not rest:
            found = True
            yield ".".join(done), node
            continue
        head, tail = rest[0], rest[1:]
        if head == "*":
            items = (node.items() if isinstance(node, dict)
                     else enumerate(node) if isinstance(node, list) else ())
            stack[:0] = [([*done, str(key)], value, tail) for key, value in items]
        else:
            value = lookup(node, head) if isinstance(node, (dict, list)) else MISSING
            if value is not MISSING:
                stack.insert(0, ([*done, head], value, tail))
    if not found:
        yield pattern, MISSING


def same_value(value: Any, want: Any) -> bool:
    """JSON equality where true is not 1 and false is not 0."""
    if isinstance(value, bool) or isinstance(want, bool):
        return type(value) is type(want) and value == want
    return value == want


def word_kind(value: Any, check: HealthCheck) -> str:
    """How a status value counts: ok | degraded | ignored | bad | absent | not a status."""
    if value is MISSING:
        return "absent"
    if isinstance(value, bool):
        return "ok" if value else "bad"
    if not isinstance(value, str):
        return "not a status"
    word = value.strip().lower()
    for kind, words in (("ok", check.ok), ("degraded", check.degraded),
                        ("ignored", check.ignore)):
        if word in (w.strip().lower() for w in words):
            return kind
    return "bad"


def _sub_value(value: Any) -> Any:
    """A mapping at a sub-status path is read by its status-like key."""
    if isinstance(value, dict):
        for key in STATUS_KEYS:
            if key in value:
                return value[key]
        return MISSING
    return value


def sub_statuses(body: Any, check: HealthCheck) -> tuple[SubStatus, ...]:
    seen: dict[str, SubStatus] = {}
    for pattern in check.sub_statuses:
        for name, raw in expand(body, pattern):
            value = _sub_value(raw)
            if name not in seen:
                seen[name] = SubStatus(name, value, word_kind(value, check))
    return tuple(seen.values())


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)[:40]


def judge(code: int, body: Any, check: HealthCheck, subject: str) -> HealthVerdict:
    """Judge one answer of `GET check.path` (HTTP code, parsed JSON or None); `subject`
    starts the summary of a reported word ("backend reports 'ok'")."""
    path = check.path
    reported = lookup(body, check.status_path) if check.status_path else MISSING
    reported = None if reported is MISSING else reported
    if code != 200:
        extra = f", status {reported!r}" if isinstance(reported, str) and reported else ""
        return HealthVerdict(Status.CRITICAL, f"{path} answered HTTP {code}{extra}", reported)
    subs = sub_statuses(body, check)
    if not check.status_path:
        status, head = Status.OK, f"{path} answered HTTP 200"
    elif isinstance(reported, (str, bool)):
        kind = word_kind(reported, check)
        status = {"ok": Status.OK, "degraded": Status.WARNING}.get(kind, Status.CRITICAL)
        head = f"{subject} reports {reported!r}"
    else:
        where = "" if check.status_path == "status" else f" at {check.status_path!r}"
        return HealthVerdict(Status.CRITICAL, f"{path} has no status field{where}", reported,
                             subs)
    bad_level = Status.CRITICAL if check.sub_status_bad == "critical" else Status.WARNING
    notes = []
    for sub in subs:
        if sub.kind == "bad":
            status = max(status, bad_level)
        elif sub.kind == "degraded":
            status = max(status, Status.WARNING)
        else:
            continue
        notes.append(f"{sub.name}: {_shown(sub.value)}")
    summary = head + (f"; {', '.join(notes)}" if notes else "")
    return HealthVerdict(status, summary, reported, subs)


async def fetch(client: httpx.AsyncClient, base_url: str, check: HealthCheck,
                timeout_ms: float) -> tuple[int, Any, float]:
    """GET the health path under a total deadline; ProbeFailure with the reason."""
    try:
        async with asyncio.timeout(timeout_ms / 1000):
            return await get_json(client, base_url + check.path, timeout_ms)
    except TimeoutError:
        raise ProbeFailure(f"no answer within {timeout_ms:g} ms") from None
