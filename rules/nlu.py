"""Intent-classification benchmark, judged: reading a classifier's answer and the pure
scoring of the answers (accuracy, per-intent precision/recall, confusions, per-kind
breakdown, latency). Gold sets are parsed by `rules.nlu_gold` (re-exported here).

The guide's "Intent Classification Accuracy Drop (<85%)" runbook and its Key
Operational Metrics row (accuracy > 90 % target, < 85 % alert) decide the status,
through the threshold table row `backend/intent_classification_accuracy` so config
overrides apply. "No intent" (a JSON null, the none_label, an alias to null) is an
answer like any label; a failed request counts as a wrong answer; no answer at all is
UNKNOWN.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Literal, Mapping, Sequence

from vocab.model import Status
from rules.nlu_gold import (NO_INTENT, GoldItem, GoldSetError, label, parse_gold_set,
                            parse_gold_text)
from rules.thresholds import ThresholdRow, apply_overrides, default_rows, judge

__all__ = ["ACCURACY_KEY", "FAILED", "NO_INTENT", "Answer", "AnswerError", "AnswerShape",
           "BenchReport", "GoldItem", "GoldSetError", "IntentStats", "KindStats", "Outcome",
           "accuracy_row", "parse_gold_set", "parse_gold_text", "percentile", "read_answer",
           "summarize", "value_at"]

ACCURACY_KEY = ("backend", "intent_classification_accuracy")
FAILED = "(failed)"
"""The predicted label of an item whose request failed, in confusions."""
NO_KIND = "-"
"""The kind of items without one, in the per-kind breakdown."""
_MISSING = object()


class AnswerError(ValueError):
    """A classifier answer that holds no usable intent; the message says what is wrong."""


@dataclass(frozen=True)
class AnswerShape:
    """Where a classifier's JSON answer holds what the bench reads (dotted paths; a
    number part indexes a list: `choices.0.label`)."""

    intent_path: str = "intent"
    confidence_path: str | None = "confidence"
    latency_path: str | None = "latency_ms"
    """Server-reported milliseconds."""
    none_label: str | None = None
    """The label meaning "no intent" (compared case-insensitively)."""
    aliases: Mapping[str, str | None] = field(default_factory=dict)
    """Server label -> gold label (null: "no intent"), applied before comparing."""
    absent_intent: Literal["error", "none"] = "error"
    """An answer without intent_path: a failed request, or "no intent"."""


@dataclass(frozen=True)
class Answer:
    intent: str
    """The label after aliases (NO_INTENT for "no intent")."""
    confidence: float | None = None
    server_latency_ms: float | None = None


def value_at(doc: Any, path: str) -> Any:
    """The value at a dotted path (`_MISSING` when any part is absent)."""
    for part in path.split("."):
        if isinstance(doc, dict) and part in doc:
            doc = doc[part]
        elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        else:
            return _MISSING
    return doc


def is_missing(value: Any) -> bool:
    return value is _MISSING


def _number(doc: Any, path: str | None) -> float | None:
    if not path:
        return None
    got = value_at(doc, path)
    if isinstance(got, bool) or not isinstance(got, (int, float)) or not math.isfinite(got):
        return None
    return float(got)


def read_answer(body: Any, shape: AnswerShape) -> Answer:
    """The intent a classifier answered, mapped to a gold label; AnswerError when the
    answer holds none. Confidence and server latency are read when present."""
    got = value_at(body, shape.intent_path)
    if got is _MISSING:
        if shape.absent_intent != "none":
            raise AnswerError(f"answer has no {shape.intent_path!r}")
        intent = NO_INTENT
    elif got is None:
        intent = NO_INTENT
    elif isinstance(got, str):
        if shape.none_label is not None and label(got) == label(shape.none_label):
            intent = NO_INTENT
        elif not got.strip():
            raise AnswerError(f"answer's {shape.intent_path!r} is an empty string (set "
                              "none_label: \"\" if that means no intent)")
        else:
            aliases = {label(k): v for k, v in shape.aliases.items()}
            mapped = aliases.get(label(got), got)
            intent = NO_INTENT if mapped is None else label(mapped)
    else:
        raise AnswerError(f"answer's {shape.intent_path!r} is {type(got).__name__}, "
                          "not a label")
    return Answer(intent, _number(body, shape.confidence_path),
                  _number(body, shape.latency_path))


@dataclass(frozen=True)
class Outcome:
    """What the classifier answered for one gold item (predicted None: the request
    failed; NO_INTENT: it answered "no intent")."""

    item: GoldItem
    predicted: str | None
    latency_ms: float | None = None
    """Round trip as the client saw it."""
    server_latency_ms: float | None = None
    """What the backend reported (the target's latency_path)."""
    error: str = ""
    confidence: float | None = None

    @property
    def correct(self) -> bool:
        return self.predicted is not None and self.predicted in self.item.accepted

    @property
    def expected(self) -> str:
        """The gold label this outcome counts for: the one answered when right, else
        the item's first right answer."""
        return self.predicted if self.correct and self.predicted else self.item.intent


@dataclass(frozen=True)
class IntentStats:
    intent: str
    support: int
    """Gold items counted for this intent (a right answer counts for the label given)."""
    predicted: int
    """Answers naming this intent."""
    correct: int
    precision: float | None
    """correct / predicted; None when nothing was predicted as this intent."""
    recall: float | None
    """correct / support; None when the gold set has no such item."""


@dataclass(frozen=True)
class KindStats:
    kind: str
    total: int
    correct: int
    failed: int
    accuracy: float | None
    """correct / total; None when no item of this kind got an answer."""


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
    kinds: tuple[KindStats, ...] = ()
    """Per `kind` of the gold items; empty when no item has one."""
    unmatched: tuple[tuple[str, int], ...] = ()
    """Labels answered that no gold item accepts (candidates for aliases), with counts."""
    confidence_right: float | None = None
    """Mean confidence of right answers (None: the answers carry none)."""
    confidence_wrong: float | None = None

    @property
    def accuracy_percent(self) -> float | None:
        return None if self.accuracy is None else 100 * self.accuracy

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status.word,
            "accuracy_percent": _round(self.accuracy_percent),
            "target": self.row.target_text, "alert": self.row.alert_text,
            "total": self.total, "correct": self.correct, "failed": self.failed,
            "latency_ms": {"p50": _round(self.latency_p50_ms), "p95": _round(self.latency_p95_ms),
                           "server_p95": _round(self.server_latency_p95_ms)},
            "confidence": {"mean_right": _round(self.confidence_right, 4),
                           "mean_wrong": _round(self.confidence_wrong, 4)},
            "intents": [{"intent": s.intent, "support": s.support, "predicted": s.predicted,
                         "correct": s.correct, "precision": _round(s.precision, 4),
                         "recall": _round(s.recall, 4)} for s in self.intents],
            "kinds": [{"kind": k.kind, "total": k.total, "correct": k.correct,
                       "failed": k.failed, "accuracy_percent":
                       _round(None if k.accuracy is None else 100 * k.accuracy)}
                      for k in self.kinds],
            "confusions": [{"expected": e, "predicted": p, "count": n}
                           for e, p, n in self.confusions],
            "unmatched_labels": [{"label": lab, "count": n} for lab, n in self.unmatched],
            "errors": [{"reason": r, "count": n} for r, n in self.errors],
        }


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def accuracy_row(overrides: Iterable[Any] = ()) -> ThresholdRow:
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


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _kinds(outcomes: Sequence[Outcome]) -> tuple[KindStats, ...]:
    if not any(o.item.kind for o in outcomes):
        return ()
    out = []
    for kind in sorted({o.item.kind or NO_KIND for o in outcomes}):
        mine = [o for o in outcomes if (o.item.kind or NO_KIND) == kind]
        right = sum(o.correct for o in mine)
        answered = sum(o.predicted is not None for o in mine)
        out.append(KindStats(kind, len(mine), right, len(mine) - answered,
                             right / len(mine) if answered else None))
    return tuple(out)


def _by_count(counter: Counter[Any]) -> tuple[tuple[Any, int], ...]:
    return tuple(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def summarize(outcomes: Sequence[Outcome], row: ThresholdRow, top: int = 10) -> BenchReport:
    """Score the answers. Failed requests count as wrong; with no answer at all the
    accuracy is unknown and so is the status."""
    total = len(outcomes)
    answered = [o for o in outcomes if o.predicted is not None]
    correct = sum(o.correct for o in outcomes)
    accuracy = correct / total if answered and total else None
    status = judge(row, None if accuracy is None else 100 * accuracy)
    support = Counter(o.expected for o in outcomes)
    predicted = Counter(o.predicted for o in outcomes if o.predicted is not None)
    hits = Counter(o.expected for o in outcomes if o.correct)
    intents = tuple(
        IntentStats(intent, support[intent], predicted[intent], hits[intent],
                    hits[intent] / predicted[intent] if predicted[intent] else None,
                    hits[intent] / support[intent] if support[intent] else None)
        for intent in sorted(set(support) | set(predicted)))
    wrong = Counter((o.item.intent, o.predicted or FAILED) for o in outcomes if not o.correct)
    confusions = tuple((e, p, n) for (e, p), n in _by_count(wrong))[:top]
    known = set().union(*(o.item.accepted for o in outcomes)) if outcomes else set()
    unmatched = Counter(o.predicted for o in answered if o.predicted not in known)
    latencies = [o.latency_ms for o in answered if o.latency_ms is not None]
    server = [o.server_latency_ms for o in answered if o.server_latency_ms is not None]
    errors = Counter(o.error or "no answer" for o in outcomes if o.predicted is None)
    return BenchReport(
        total=total, correct=correct, failed=total - len(answered), accuracy=accuracy,
        status=status, row=row, intents=intents, confusions=confusions,
        latency_p50_ms=percentile(latencies, 50), latency_p95_ms=percentile(latencies, 95),
        server_latency_p95_ms=percentile(server, 95), errors=_by_count(errors),
        kinds=_kinds(outcomes), unmatched=_by_count(unmatched),
        confidence_right=_mean([o.confidence for o in answered
                                if o.correct and o.confidence is not None]),
        confidence_wrong=_mean([o.confidence for o in answered
                                if not o.correct and o.confidence is not None]))
