"""Pure readings of what a deployment answered: JSON shapes, where a status lives, which
nested values are statuses, which numbers a metrics answer holds, what an NLU answer
looks like. Data in, data out: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from agent.discover.candidates import (
    CONFIDENCE_KEYS,
    INTENT_KEYS,
    LATENCY_HINTS,
    STATUS_KEYS,
    STATUS_WORDS,
)

MAX_DEPTH = 5
SUMMARY_KEYS = ("p50", "p95", "p99", "avg", "mean", "max")


def shape(doc: Any, depth: int = 2, width: int = 8) -> str:
    """`{status, database{status, ping}, services{ollama, tts, stt}}`-style outline."""
    if isinstance(doc, dict):
        if not doc:
            return "{}"
        parts = []
        for key in list(doc)[:width]:
            value = doc[key]
            inner = shape(value, depth - 1, width) if depth > 0 and isinstance(
                value, (dict, list)) and value else ""
            parts.append(f"{key}{inner}")
        more = f", +{len(doc) - width}" if len(doc) > width else ""
        return "{" + ", ".join(parts) + more + "}"
    if isinstance(doc, list):
        return f"[{len(doc)} items]"
    return type(doc).__name__ if doc is not None else "null"


def is_status_word(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower() in STATUS_WORDS


def find_status(doc: Any) -> tuple[str, Any] | None:
    """(key, value) of the top-level status, found by name (status/state/health/
    healthy) holding a word or a true/false flag."""
    if not isinstance(doc, dict):
        return None
    for key in STATUS_KEYS:
        if key in doc and isinstance(doc[key], (str, bool)):
            return key, doc[key]
    return None


def _walk(doc: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], dict]]:
    if len(path) > MAX_DEPTH or not isinstance(doc, dict):
        return
    yield path, doc
    for key, value in doc.items():
        if isinstance(value, dict):
            yield from _walk(value, (*path, str(key)))


def find_sub_statuses(doc: Any, top_key: str | None) -> list[str]:
    """Sub-status patterns: `a.b.status` for a nested mapping with a status-like key
    holding a word, `a.*` for a mapping whose values are all status words."""
    found: list[str] = []
    for path, node in _walk(doc):
        if not path:
            continue
        prefix = ".".join(path)
        key = next((k for k in STATUS_KEYS if isinstance(node.get(k), str)), None)
        if key is not None:
            found.append(f"{prefix}.{key}")
            continue
        values = list(node.values())
        if values and all(is_status_word(v) for v in values):
            found.append(f"{prefix}.*")
    return [p for p in found if p != top_key]


@dataclass(frozen=True)
class Summary:
    """A `{count, p50, p95}`-style mapping in a JSON metrics answer."""

    path: str
    keys: tuple[str, ...]


def numbers(doc: Any, prefix: str = "", limit: int = 500) -> list[tuple[str, float]]:
    """Every numeric leaf (not true/false) as (dotted path, value), up to `limit`."""
    out: list[tuple[str, float]] = []

    def visit(node: Any, path: str, depth: int) -> None:
        if len(out) >= limit or depth > MAX_DEPTH + 2:
            return
        if isinstance(node, bool):
            return
        if isinstance(node, (int, float)):
            out.append((path, float(node)))
        elif isinstance(node, dict):
            for key, value in node.items():
                visit(value, f"{path}.{key}" if path else str(key), depth + 1)

    visit(doc, prefix, 0)
    return out


def summaries(doc: Any) -> list[Summary]:
    found = []
    for path, node in _walk(doc):
        keys = tuple(k for k in SUMMARY_KEYS if isinstance(node.get(k), (int, float))
                     and not isinstance(node.get(k), bool))
        if path and "count" in node and keys:
            found.append(Summary(".".join(path), keys))
    return found


@dataclass(frozen=True)
class JsonBinding:
    """A threshold row the fitted config binds to a JSON metrics path."""

    metric: str
    path: str
    title: str | None = None
    """None: an existing row of the shipped table (its title, unit and limits stay)."""
    target: float | None = None
    alert: float | None = None
    export_as: str | None = None


def _words(path: str) -> set[str]:
    return set(path.lower().replace(".", "_").split("_"))


def json_bindings(doc: Any) -> list[JsonBinding]:
    """Latency and tool figures a metrics answer holds, by name: a tool call/execution
    latency summary binds the shipped tool_execution_time_p95 row; a final (end-to-end)
    latency summary becomes a new final_latency_p95 row."""
    out: list[JsonBinding] = []
    seen: set[str] = set()
    for summary in summaries(doc):
        if "p95" not in summary.keys:
            continue
        words = _words(summary.path)
        timed = bool(words & {"latency", "time", "ms", "duration"})
        if "tool" in words and timed and "tool_execution_time_p95" not in seen:
            seen.add("tool_execution_time_p95")
            out.append(JsonBinding("tool_execution_time_p95", f"{summary.path}.p95",
                                   export_as="alice_tool_call_latency_p95_ms"))
        elif "final" in words and timed and "final_latency_p95" not in seen:
            seen.add("final_latency_p95")
            out.append(JsonBinding("final_latency_p95", f"{summary.path}.p95",
                                   title="Final answer latency p95", target=1000, alert=3000,
                                   export_as="alice_final_latency_p95_ms"))
    return out


@dataclass(frozen=True)
class NluShape:
    """Where an NLU answer keeps its intent, confidence and server latency."""

    keys: str
    intent_path: str | None
    intent: Any
    confidence_path: str | None
    latency_path: str | None


def _leaves(doc: Any, path: str = "", depth: int = 0) -> Iterator[tuple[str, str, Any]]:
    if isinstance(doc, dict) and depth <= 3:
        for key, value in doc.items():
            sub = f"{path}.{key}" if path else str(key)
            yield sub, str(key).lower(), value
            yield from _leaves(value, sub, depth + 1)


def nlu_shape(doc: Any) -> NluShape | None:
    """The answer shape of a classifier, or None when it holds no intent-like key."""
    if not isinstance(doc, dict):
        return None
    leaves = list(_leaves(doc))
    intent = next(((p, v) for key in INTENT_KEYS for p, k, v in leaves
                   if k == key and (v is None or isinstance(v, str))), None)
    if intent is None:
        return None
    confidence = next((p for key in CONFIDENCE_KEYS for p, k, v in leaves
                       if k == key and isinstance(v, (int, float))
                       and not isinstance(v, bool)), None)
    latency = next((p for p, k, v in leaves if any(h in k for h in LATENCY_HINTS)
                    and isinstance(v, (int, float)) and not isinstance(v, bool)), None)
    return NluShape(shape(doc), intent[0], intent[1], confidence, latency)


def missing_fields(doc: Any) -> list[str]:
    """Body fields a FastAPI/pydantic 422 answer says are missing (`detail[].loc`)."""
    detail = doc.get("detail") if isinstance(doc, dict) else None
    out = []
    for item in detail if isinstance(detail, list) else ():
        loc = item.get("loc") if isinstance(item, dict) else None
        if (isinstance(loc, list) and len(loc) == 2 and loc[0] == "body"
                and isinstance(loc[1], str) and item.get("type") == "missing"):
            out.append(loc[1])
    return out


def short(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."
