"""rules.nlu: gold-set parsing, scoring and the guide's accuracy thresholds."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.config import ThresholdOverride
from vocab.model import Status
from rules.nlu import (FAILED, GoldItem, GoldSetError, Outcome, accuracy_row, parse_gold_set,
                       percentile, summarize)

ROW = accuracy_row()
INTENTS = ("GREETING", "WEATHER", "MUSIC", "EMAIL")


def outcomes(pairs):
    return [Outcome(GoldItem(f"t{i}", gold, i + 1), pred, latency_ms=10.0 + i)
            for i, (gold, pred) in enumerate(pairs)]


@pytest.mark.parametrize("correct, status", [
    (95, Status.OK), (91, Status.OK), (90, Status.WARNING), (85, Status.WARNING),
    (84, Status.CRITICAL), (0, Status.CRITICAL),
])
def test_status_follows_the_guides_table(correct, status):
    pairs = [("GREETING", "GREETING")] * correct + [("GREETING", "WEATHER")] * (100 - correct)
    report = summarize(outcomes(pairs), ROW)
    assert report.accuracy_percent == pytest.approx(correct)
    assert report.status is status


def test_failed_requests_count_as_wrong_and_are_reported():
    pairs = [("GREETING", "GREETING")] * 9 + [("WEATHER", None)]
    items = outcomes(pairs)
    items[-1] = Outcome(items[-1].item, None, error="timed out")
    report = summarize(items, ROW)
    assert (report.accuracy, report.failed, report.status) == (0.9, 1, Status.WARNING)
    assert report.confusions == (("WEATHER", FAILED, 1),)
    assert report.errors == (("timed out", 1),)


def test_no_answer_at_all_is_unknown():
    report = summarize(outcomes([("GREETING", None)] * 3), ROW)
    assert report.accuracy is None and report.status is Status.UNKNOWN


def test_config_override_moves_the_threshold():
    row = accuracy_row([ThresholdOverride(component="backend",
                                          metric="intent_classification_accuracy",
                                          target=70, alert=60)])
    pairs = [("GREETING", "GREETING")] * 75 + [("GREETING", "MUSIC")] * 25
    assert summarize(outcomes(pairs), row).status is Status.OK
    assert summarize(outcomes(pairs), ROW).status is Status.CRITICAL


def test_per_intent_figures_and_confusions():
    pairs = [("GREETING", "GREETING"), ("GREETING", "WEATHER"), ("WEATHER", "WEATHER"),
             ("MUSIC", "WEATHER"), ("MUSIC", "WEATHER")]
    report = summarize(outcomes(pairs), ROW)
    stats = {s.intent: s for s in report.intents}
    assert (stats["WEATHER"].precision, stats["WEATHER"].recall) == (pytest.approx(1 / 4), 1.0)
    assert (stats["MUSIC"].precision, stats["MUSIC"].recall) == (None, 0.0)
    assert report.confusions[0] == ("MUSIC", "WEATHER", 2)
    assert report.latency_p50_ms == 12.0


@pytest.mark.parametrize("line, problem", [
    ("{not json", "not valid JSON"),
    ('["a", "b"]', "expected an object"),
    ('{"text": "hej"}', "'intent' is missing"),
    ('{"text": "hej", "intent": "A", "expect_any_of": ["A"]}', "give one of intent, "
                                                              "expect_any_of, not both"),
    ('{"text": "hej", "expect_any_of": []}', "'expect_any_of' must be a non-empty list"),
    ('{"text": "hej", "expect_any_of": ["A", 3]}', "'expect_any_of[1]' must be a non-empty"),
    ('{"text": "hej", "expect": "PLAY"}', "'expect' must be an object"),
    ('{"text": "hej", "kind": ""}', "'kind' must be a non-empty string"),
    ('{"text": "", "intent": "GREETING"}', "'text' must be a non-empty string"),
    ('{"text": "hej", "intent": 3}', "'intent' must be a non-empty string"),
    ('{"text": "hej", "intent": "GREETING", "lang": "sv"}', "unknown key(s): lang"),
])
def test_bad_gold_lines_name_file_line_and_problem(line, problem):
    lines = ['{"text": "Hej", "intent": "GREETING"}', "", line]
    with pytest.raises(GoldSetError) as info:
        parse_gold_set(lines, "gold.jsonl")
    assert str(info.value).startswith("gold.jsonl:3: ") and problem in str(info.value)


def test_empty_gold_set_is_an_error():
    with pytest.raises(GoldSetError, match="empty"):
        parse_gold_set(["# only a comment", ""], "g.jsonl")


def test_percentile():
    assert percentile([], 50) is None
    assert percentile([5.0], 95) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5


pair = st.tuples(st.sampled_from(INTENTS), st.one_of(st.none(), st.sampled_from(INTENTS)))


@settings(max_examples=150, deadline=None)
@given(st.lists(pair, min_size=1, max_size=60))
def test_scores_agree_with_the_confusion_counts(pairs):
    report = summarize(outcomes(pairs), ROW, top=1000)
    assert report.correct == sum(g == p for g, p in pairs)
    if report.accuracy is not None:
        assert 0.0 <= report.accuracy <= 1.0
        assert report.accuracy == pytest.approx(report.correct / report.total)
    wrong = sum(n for _, _, n in report.confusions)
    assert wrong == report.total - report.correct
    for s in report.intents:
        assert s.correct <= min(s.support, s.predicted)
        missed = sum(n for e, _, n in report.confusions if e == s.intent)
        assert s.support == s.correct + missed
        false_pos = sum(n for _, p, n in report.confusions if p == s.intent)
        assert s.predicted == s.correct + false_pos
        for value in (s.precision, s.recall):
            assert value is None or 0.0 <= value <= 1.0
    assert sum(s.support for s in report.intents) == report.total
    assert sum(s.predicted for s in report.intents) == report.total - report.failed


@settings(max_examples=100, deadline=None)
@given(st.lists(pair, min_size=1, max_size=40), st.sampled_from(INTENTS))
def test_one_more_right_answer_never_judges_worse(pairs, intent):
    before = summarize(outcomes(pairs), ROW)
    after = summarize(outcomes(pairs + [(intent, intent)]), ROW)
    if before.accuracy is not None:
        assert after.accuracy >= before.accuracy
        assert after.status <= before.status
