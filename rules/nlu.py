"""Intent-classification benchmark, judged: gold-set parsing and the pure scoring of
classifier answers (accuracy, per-intent precision/recall, confusions, latency).

The guide's "Intent Classification Accuracy Drop (<85%)" runbook and its Key
Operational Metrics row (accuracy > 90 % target, < 85 % alert) decide the status,
through the threshold table row `backend/intent_classification_accuracy` so config
overrides apply. A failed request counts as a wrong answer; no answer at all is UNKNOWN.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Sequence

from agent.model import Status
from rules.thresholds import ThresholdRow, apply_overrides, default_rows, judge

ACCURACY_KEY = ("backend", "intent_classification_accuracy")
FAILED = "(failed)"
"""The predicted label of an item whose request failed, in confusions."""


class GoldSetError(ValueError):
    """A gold-set line that cannot be used; the message names source:line and the problem."""


@dataclass(frozen=True)
class GoldItem:
    text: str
    intent: str
    line: int


@dataclass(frozen=True)
class Outcome:
    """What the classifier answered for one gold item (predicted None: the request failed)."""

    item: GoldItem
    predicted: str | None
    latency_ms: float | None = None
    """Round trip as the client saw it."""
    server_latency_ms: float | None = None
    """What the backend reported (`latency_ms` in its answer)."""
    error: str = ""

    @property
    def correct(self) -> bool:
        return self.predicted == self.item.intent


@dataclass(frozen=True)
class IntentStats:
    intent: str
    support: int
    """Gold items with this intent."""
    predicted: int
    """Answers naming this intent."""
    correct: int
    precision: float | None
    """correct / predicted; None when nothing was predicted as this intent."""
    recall: float | None
    """correct / support; None when the gold set has no such item."""


@dataclass(frozen=True)
class BenchReport:
    total: int
    correct: int
    failed: int
    accuracy: float | None
    """Fraction in [0, 1]; None when no item got an answer."""
    status: Status
    row: ThresholdRow
    intents: tuple[IntentStats, ...]
    confusions: tuple[tuple[str, str, int], ...]
    """(expected, predicted, count) for wrong answers, most frequent first."""
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    server_latency_p95_ms: float | None
    errors: tuple[tuple[str, int], ...]
    """Distinct request failure reasons with their counts."""

    @property
    def accuracy_percent(self) -> float | None:
        return None if self.accuracy is None else 100 * self.accuracy

    def to_json(self) -> dict:
        return {
            "status": self.status.word,
            "accuracy_percent": _round(self.accuracy_percent),
            "target": self.row.target_text, "alert": self.row.alert_text,
            "total": self.total, "correct": self.correct, "failed": self.failed,
            "latency_ms": {"p50": _round(self.latency_p50_ms), "p95": _round(self.latency_p95_ms),
                           "server_p95": _round(self.server_latency_p95_ms)},
            "intents": [{"intent": s.intent, "support": s.support, "predicted": s.predicted,
                         "correct": s.correct, "precision": _round(s.precision, 4),
                         "recall": _round(s.recall, 4)} for s in self.intents],
            "confusions": [{"expected": e, "predicted": p, "count": n}
                           for e, p, n in self.confusions],
            "errors": [{"reason": r, "count": n} for r, n in self.errors],
        }


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def parse_gold_set(lines: Iterable[str], source: str) -> tuple[GoldItem, ...]:
    """JSONL, one {"text": str, "intent": str} per line; blank and `#` lines are skipped.

    Raises GoldSetError naming `source:line` and the problem at the first bad line.
    """
    items = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{source}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise GoldSetError(f"{where}: not valid JSON: {exc.msg} (column {exc.colno})") \
                from None
        if not isinstance(data, dict):
            raise GoldSetError(f"{where}: expected an object {{\"text\": ..., \"intent\": ...}}, "
                               f"got {type(data).__name__}")
        for key in ("text", "intent"):
            value = data.get(key)
            if not isinstance(value, str) or not value.strip():
                problem = "is missing" if key not in data else "must be a non-empty string"
                raise GoldSetError(f"{where}: {key!r} {problem}")
        unknown = sorted(set(data) - {"text", "intent"})
        if unknown:
            raise GoldSetError(f"{where}: unknown key(s): {', '.join(unknown)}")
        items.append(GoldItem(data["text"], data["intent"].strip().upper(), number))
    if not items:
        raise GoldSetError(f"{source}: the gold set is empty")
    return tuple(items)


def accuracy_row(overrides: Iterable = ()) -> ThresholdRow:
    """The threshold row for accuracy, with config `thresholds:` overrides applied
    (a row disabled there falls back to the shipped default)."""
    rows = {row.key: row for row in default_rows()}
    changed = {row.key: row for row in apply_overrides(tuple(rows.values()), overrides)}
    return changed.get(ACCURACY_KEY, rows[ACCURACY_KEY])


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in [0, 100]); None for no values."""
    data = sorted(v for v in values if not math.isnan(v))
    if not data:
        return None
    pos = (len(data) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (pos - low)


def summarize(outcomes: Sequence[Outcome], row: ThresholdRow, top: int = 10) -> BenchReport:
    """Score the answers. Failed requests count as wrong; with no answer at all the
    accuracy is unknown and so is the status."""
    total = len(outcomes)
    answered = [o for o in outcomes if o.predicted is not None]
    correct = sum(o.correct for o in outcomes)
    accuracy = correct / total if answered and total else None
    status = judge(row, None if accuracy is None else 100 * accuracy)
    support = Counter(o.item.intent for o in outcomes)
    predicted = Counter(o.predicted for o in answered)
    hits = Counter(o.item.intent for o in outcomes if o.correct)
    intents = tuple(
        IntentStats(intent, support[intent], predicted[intent], hits[intent],
                    hits[intent] / predicted[intent] if predicted[intent] else None,
                    hits[intent] / support[intent] if support[intent] else None)
        for intent in sorted(set(support) | set(predicted)))
    wrong = Counter((o.item.intent, o.predicted or FAILED) for o in outcomes if not o.correct)
    confusions = tuple((e, p, n) for (e, p), n in
                       sorted(wrong.items(), key=lambda kv: (-kv[1], kv[0])))[:top]
    latencies = [o.latency_ms for o in answered if o.latency_ms is not None]
    server = [o.server_latency_ms for o in answered if o.server_latency_ms is not None]
    errors = Counter(o.error or "no answer" for o in outcomes if o.predicted is None)
    return BenchReport(total=total, correct=correct, failed=total - len(answered),
                       accuracy=accuracy, status=status, row=row, intents=intents,
                       confusions=confusions, latency_p50_ms=percentile(latencies, 50),
                       latency_p95_ms=percentile(latencies, 95),
                       server_latency_p95_ms=percentile(server, 95),
                       errors=tuple(sorted(errors.items(), key=lambda kv: (-kv[1], kv[0]))))
