"""rules.nlu: gold sets in each format, reading classifier answers (null, none_label,
aliases, nested paths), and scoring with several right answers and per-kind figures."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.nlu import (NO_INTENT, AnswerError, AnswerShape, GoldItem, GoldSetError, Outcome,
                       accuracy_row, parse_gold_text, read_answer, summarize)

ROW = accuracy_row()


def test_jsonl_with_every_kind_of_expectation():
    text = "\n".join([
        '{"text": "spela upp", "intent": "play"}',
        '# a comment',
        '{"kind": "tool_required", "text": "höj volymen", "expect_any_of": ["SET_VOLUME"]}',
        '{"text": "höj", "expect_any_of": ["SET_VOLUME", null]}',
        '{"text": "berätta något kul", "intent": null}',
        '{"kind": "chat_only", "text": "hur mår du idag?"}',
        '{"text": "pausa", "expect": {"source": "router", "tool": "PAUSE", "args": {}}}',
    ])
    items = parse_gold_text(text, "g.jsonl")
    assert [(i.line, i.intent, sorted(i.accepted), i.kind) for i in items] == [
        (1, "PLAY", ["PLAY"], None),
        (3, "SET_VOLUME", ["SET_VOLUME"], "tool_required"),
        (4, "SET_VOLUME", [NO_INTENT, "SET_VOLUME"], None),
        (5, NO_INTENT, [NO_INTENT], None),
        (6, NO_INTENT, [NO_INTENT], "chat_only"),
        (7, "PAUSE", ["PAUSE"], None),
    ]


def test_a_json_array_names_the_line_of_each_item():
    doc = [{"text": "spela", "intent": "PLAY"}, {"text": "pausa", "expect_any_of": ["PAUSE"]}]
    text = json.dumps(doc, indent=2)
    items = parse_gold_text(text, "g.json")
    assert [i.intent for i in items] == ["PLAY", "PAUSE"]
    lines = text.splitlines()
    assert [lines[i.line - 1].strip() for i in items] == ["{", "{"]
    assert lines[items[1].line].strip() == '"text": "pausa",'
    bad = json.dumps(doc + [{"text": "x", "intent": 7}], indent=2)
    with pytest.raises(GoldSetError) as info:
        parse_gold_text(bad, "g.json")
    line = bad.splitlines().index("  {", len(text.splitlines()) - 2) + 1
    assert str(info.value) == f"g.json:{line}: 'intent' must be a non-empty string or null"


def test_an_object_holding_one_list_of_cases():
    """The shape of Alice's server/tests/intent_cases.json."""
    text = ('{\n  "cases": [\n    {"text": "spela upp",\n     "expect": {"source": "router", '
            '"tool": "PLAY", "args": {}, "comment": "exakt"}},\n    {"text": "höj volymen '
            'till 80%", "expect": {"tool": "SET_VOLUME", "args": {"level": 80}}}\n  ]\n}\n')
    items = parse_gold_text(text, "intent_cases.json")
    assert [(i.line, i.intent) for i in items] == [(3, "PLAY"), (5, "SET_VOLUME")]
    with pytest.raises(GoldSetError, match=r"^g.json: a JSON object must hold exactly one "
                                           r"list of items .*found 2$"):
        parse_gold_text('{"a": [], "b": []}', "g.json")
    with pytest.raises(GoldSetError, match=r"^g.json:1: 'expect' must hold one of"):
        parse_gold_text('{"cases": [{"text": "x", "expect": {"args": {}}}]}', "g.json")


def test_one_jsonl_line_with_a_list_is_an_item_not_a_document():
    items = parse_gold_text('{"text": "höj", "expect_any_of": ["SET_VOLUME", null]}', "g")
    assert items[0].accepted == frozenset({"SET_VOLUME", NO_INTENT})


def test_an_empty_document_is_an_error():
    with pytest.raises(GoldSetError, match=r"^g.json: the gold set is empty$"):
        parse_gold_text("[]", "g.json")


SHAPE = AnswerShape(aliases={"set_vol": "SET_VOLUME", "CHAT": None})


@pytest.mark.parametrize("body, intent", [
    ({"intent": "PLAY"}, "PLAY"),
    ({"intent": " play "}, "PLAY"),
    ({"intent": None}, NO_INTENT),
    ({"intent": "SET_VOL"}, "SET_VOLUME"),
    ({"intent": "chat"}, NO_INTENT),
])
def test_answers_with_null_and_aliases(body, intent):
    assert read_answer(body, SHAPE).intent == intent


def test_none_label_nested_paths_and_numbers():
    shape = AnswerShape(intent_path="classification.intent_category",
                        confidence_path="classification.confidence",
                        latency_path="timing.0.ms", none_label="unknown")
    body = {"classification": {"intent_category": "UNKNOWN", "confidence": 0.4},
            "timing": [{"ms": 12}]}
    answer = read_answer(body, shape)
    assert (answer.intent, answer.confidence, answer.server_latency_ms) == (NO_INTENT, 0.4, 12.0)
    answer = read_answer({"classification": {"intent_category": "weather",
                                             "confidence": True}}, shape)
    assert (answer.intent, answer.confidence, answer.server_latency_ms) == ("WEATHER", None,
                                                                           None)


@pytest.mark.parametrize("body, problem", [
    ({"label": "PLAY"}, "answer has no 'intent'"),
    ({"intent": ""}, "is an empty string"),
    ({"intent": 3}, "is int, not a label"),
    ([1, 2], "answer has no 'intent'"),
])
def test_answers_without_a_usable_intent(body, problem):
    with pytest.raises(AnswerError, match=problem):
        read_answer(body, AnswerShape())


def test_absent_intent_may_mean_no_intent():
    shape = AnswerShape(intent_path="meta.tool.name", absent_intent="none")
    assert read_answer({"ok": True, "text": "Hej!"}, shape).intent == NO_INTENT
    assert read_answer({"meta": {"tool": {"name": "pause"}}}, shape).intent == "PAUSE"


def item(intent, *accept, kind=None, line=1):
    return GoldItem(f"t{line}", intent, line, frozenset(accept), kind)


def test_any_listed_label_is_right_and_counts_for_the_label_given():
    gold = item("SET_VOLUME", "SET_VOLUME", NO_INTENT)
    outcomes = [Outcome(gold, NO_INTENT), Outcome(gold, "SET_VOLUME"), Outcome(gold, "PLAY"),
                Outcome(item(NO_INTENT), NO_INTENT), Outcome(item(NO_INTENT), None,
                                                             error="timed out")]
    report = summarize(outcomes, ROW)
    assert (report.correct, report.total, report.failed) == (3, 5, 1)
    stats = {s.intent: s for s in report.intents}
    assert (stats[NO_INTENT].support, stats[NO_INTENT].correct) == (3, 2)
    assert (stats["SET_VOLUME"].support, stats["SET_VOLUME"].correct) == (2, 1)
    assert set(report.confusions) == {("SET_VOLUME", "PLAY", 1), (NO_INTENT, "(failed)", 1)}
    assert report.unmatched == (("PLAY", 1),)


def test_per_kind_breakdown_and_confidence():
    outcomes = [Outcome(item("PLAY", kind="tool_required"), "PLAY", confidence=0.9),
                Outcome(item("PAUSE", kind="tool_required"), "PLAY", confidence=0.5),
                Outcome(item(NO_INTENT, kind="chat_only"), NO_INTENT),
                Outcome(item(NO_INTENT), None, error="HTTP 500")]
    report = summarize(outcomes, ROW)
    assert [(k.kind, k.total, k.correct, k.failed, k.accuracy) for k in report.kinds] == [
        ("-", 1, 0, 1, None), ("chat_only", 1, 1, 0, 1.0), ("tool_required", 2, 1, 0, 0.5)]
    assert (report.confidence_right, report.confidence_wrong) == (0.9, 0.5)
    doc = report.to_json()
    assert doc["kinds"][2] == {"kind": "tool_required", "total": 2, "correct": 1, "failed": 0,
                               "accuracy_percent": 50.0}
    assert summarize(outcomes[:1], ROW).kinds[0].kind == "tool_required"
    assert summarize([Outcome(item("PLAY"), "PLAY")], ROW).kinds == ()


LABELS = ("PLAY", "PAUSE", NO_INTENT)
gold = st.tuples(st.sampled_from(LABELS), st.sets(st.sampled_from(LABELS), max_size=2))
answer = st.one_of(st.none(), st.sampled_from(LABELS + ("STOP",)))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(gold, answer), min_size=1, max_size=50))
def test_counts_stay_consistent_with_several_right_answers(cases):
    outcomes = [Outcome(item(first, *({first} | more) if more else (), line=i), pred)
                for i, ((first, more), pred) in enumerate(cases)]
    report = summarize(outcomes, ROW, top=1000)
    assert report.correct == sum(o.predicted in o.item.accepted for o in outcomes)
    assert sum(n for _, _, n in report.confusions) == report.total - report.correct
    for s in report.intents:
        missed = sum(n for e, _, n in report.confusions if e == s.intent)
        false_pos = sum(n for _, p, n in report.confusions if p == s.intent)
        assert s.support == s.correct + missed
        assert s.predicted == s.correct + false_pos
    assert sum(s.support for s in report.intents) == report.total
