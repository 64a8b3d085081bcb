"""Matchers, silences, acks and fingerprints."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.silence import (
    Ack,
    Matcher,
    Silence,
    fingerprint,
    is_acked,
    is_silenced,
    parse_matcher,
    parse_matchers,
)

LABELS = {"alertname": "openai_error_rate", "component": "openai", "metric": "error_rate",
          "severity": "critical"}


def silence(matchers="component=openai", starts_at=100.0, ends_at=200.0, **kw) -> Silence:
    return Silence(kw.pop("id", "s1"), matchers, starts_at, ends_at,
                   kw.pop("created_by", "ops@alice"), kw.pop("comment", "upgrading"))


# -- matchers ---------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("component=openai", Matcher("component", "openai")),
    ("component!=openai", Matcher("component", "openai", is_equal=False)),
    ("metric=~error_.*", Matcher("metric", "error_.*", is_regex=True)),
    ("metric!~error_.*", Matcher("metric", "error_.*", is_regex=True, is_equal=False)),
    (' component = "open ai" ', Matcher("component", "open ai")),
    ('comment="a \\"b\\", c\\\\d"', Matcher("comment", 'a "b", c\\d')),
    ("team=", Matcher("team", "")),
    ('team=""', Matcher("team", "")),
    ("x==y", Matcher("x", "=y")),
])
def test_parse_matcher(text, expected) -> None:
    assert parse_matcher(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("component openai", "expected <label><op><value>"),
    ("=openai", "missing label name"),
    ("compo-nent=openai", "label name 'compo-nent'"),
    ("1abc=x", "label name '1abc'"),
    ('component="openai', "unterminated quoted value"),
    ('component="a"b"', "unescaped quote"),
    ('component="a\\q"', "bad escape"),
    ("metric=~(unclosed", "invalid regex"),
])
def test_invalid_matchers_say_what_is_wrong(text, message) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_matcher(text)


def test_parse_matchers_lists_braces_and_quoted_commas() -> None:
    assert parse_matchers("a=b,c=~d.*") == (Matcher("a", "b"), Matcher("c", "d.*", True))
    assert parse_matchers('{component="openai", metric=~"x{1,3}",}') == (
        Matcher("component", "openai"), Matcher("metric", "x{1,3}", True))
    assert parse_matchers("a=b,") == (Matcher("a", "b"),)


@pytest.mark.parametrize(("text", "message"), [
    ("", "no matcher given"), ("  {} ", "no matcher given"),
    ("a=b,,c=d", "empty matcher"), (",a=b", "empty matcher"),
    ("a=b,c", "invalid matcher 'c'"),
])
def test_parse_matchers_errors(text, message) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_matchers(text)


@pytest.mark.parametrize(("matcher", "labels", "hit"), [
    ("component=~open", {"component": "openai"}, False),  # regexes are fully anchored
    ("component=~open.*", {"component": "openai"}, True),
    ("component=~.*ai", {"component": "openai"}, True),
    ("component=~ai", {"component": "openai"}, False),
    ("component=~openai|ollama", {"component": "ollama"}, True),  # alternation anchored too
    ("component=~openai|ollama", {"component": "xollama"}, False),
    ("component!~open.*", {"component": "openai"}, False),
    ("component!~open.*", {"component": "ollama"}, True),
    ("component=openai", {"component": "openai"}, True),
    ("component=openai", {"component": "OpenAI"}, False),
    ("component!=openai", {"component": "ollama"}, True),
    ("team!=core", {}, True),   # a missing label matches as ""
    ("team=", {}, True),
    ("team=~.+", {}, False),
    ("component=~a", {"component": "a\n"}, False),
])
def test_matcher_semantics(matcher, labels, hit) -> None:
    assert parse_matcher(matcher).matches(labels) is hit


def test_matcher_constructor_validates() -> None:
    with pytest.raises(ValueError, match="label name"):
        Matcher("", "x")
    with pytest.raises(ValueError, match="invalid regex"):
        Matcher("a", "[", is_regex=True)


@settings(deadline=None, database=None)
@given(name=st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True),
       value=st.text(max_size=12), is_regex=st.booleans(), is_equal=st.booleans())
def test_str_round_trips_through_the_parser(name, value, is_regex, is_equal) -> None:
    if is_regex:
        value = re.escape(value)
    matcher = Matcher(name, value, is_regex, is_equal)
    assert parse_matcher(str(matcher)) == matcher
    assert parse_matchers(f"{matcher},{matcher}") == (matcher, matcher)


# -- silences ---------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "message"), [
    ({"matchers": ()}, "at least one matcher"),
    ({"matchers": []}, "at least one matcher"),
    ({"matchers": "a=~.*"}, "match every alert"),
    ({"matchers": "team=,x!=y"}, "match every alert"),
    ({"matchers": ("component=openai",)}, "Matcher objects"),
    ({"ends_at": None}, "ends_at is required"),
    ({"starts_at": None}, "starts_at is required"),
    ({"ends_at": 100.0}, "ends_at must be after starts_at"),
    ({"ends_at": float("inf")}, "finite"),
    ({"comment": ""}, "comment is required"),
    ({"comment": "   "}, "comment is required"),
    ({"created_by": ""}, "created_by is required"),
    ({"id": ""}, "id is required"),
])
def test_invalid_silences_are_rejected(kwargs, message) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        silence(**kwargs)


def test_silence_without_end_or_comment_when_omitted() -> None:
    with pytest.raises(ValueError, match="ends_at is required"):
        Silence("s", (Matcher("component", "openai"),), 0.0)
    with pytest.raises(ValueError, match="created_by is required"):
        Silence("s", (Matcher("component", "openai"),), 0.0, 10.0)
    with pytest.raises(ValueError, match="comment is required"):
        Silence("s", (Matcher("component", "openai"),), 0.0, 10.0, "ops")


def test_silence_accepts_a_matcher_string_and_a_list() -> None:
    assert silence("component=openai,metric=~err.*").matchers == (
        Matcher("component", "openai"), Matcher("metric", "err.*", True))
    assert silence([Matcher("component", "openai")]).matchers == (Matcher("component", "openai"),)


@pytest.mark.parametrize(("now", "state", "silenced"), [
    (99.9, "pending", False), (100.0, "active", True), (199.9, "active", True),
    (200.0, "expired", False), (500.0, "expired", False),
])
def test_silence_window_expires_at_ends_at(now, state, silenced) -> None:
    s = silence()
    assert s.state(now) == state
    assert (is_silenced(LABELS, [s], now) is s) is silenced


def test_is_silenced_needs_every_matcher_and_prefers_the_longest() -> None:
    other = silence("component=ollama", id="s0")
    short = silence("alertname=openai_error_rate,severity=critical", id="s1", ends_at=150.0)
    long = silence("component=~open.*", id="s2", ends_at=300.0)
    partial = silence("component=openai,metric=latency_ms", id="s3", ends_at=900.0)
    assert is_silenced(LABELS, [other, short, long, partial], 120.0) is long
    assert is_silenced(LABELS, [other, short, partial], 120.0) is short
    assert is_silenced(LABELS, [other, partial], 120.0) is None
    assert is_silenced(LABELS, [], 120.0) is None


# -- acks and fingerprints ----------------------------------------------------

def test_ack_expiry_and_matching() -> None:
    fp = fingerprint("openai_error_rate", {"component": "openai"})
    timed = Ack(fp, "looking into it", 200.0, "ana")
    forever = Ack(fp, "", None, "bo")
    other = Ack("0" * 16, "x", None, "cy")
    assert is_acked(fp, [timed], 199.0) is timed
    assert is_acked(fp, [timed], 200.0) is None  # expires exactly at expires_at
    assert is_acked(fp, [timed, forever], 100.0) is forever
    assert is_acked(fp, [forever, timed], 100.0) is forever
    assert is_acked(fp, [other], 100.0) is None


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"alert_fingerprint": ""}, "alert_fingerprint is required"),
    ({"by": ""}, "by is required"),
    ({"expires_at": float("nan")}, "finite"),
])
def test_invalid_acks(kwargs, message) -> None:
    args = {"alert_fingerprint": "abc", "comment": "", "expires_at": None, "by": "ana"} | kwargs
    with pytest.raises(ValueError, match=re.escape(message)):
        Ack(**args)


def test_fingerprint_is_stable_and_order_independent() -> None:
    a = fingerprint("openai_error_rate", {"component": "openai", "metric": "error_rate"})
    b = fingerprint("openai_error_rate", {"metric": "error_rate", "component": "openai"})
    assert a == b == "d5b5df2d6dd3c843"  # pinned: stored acks must keep matching
    assert re.fullmatch(r"[0-9a-f]{16}", a)
    assert fingerprint("openai_latency", {"component": "openai", "metric": "error_rate"}) != a
    assert fingerprint("openai_error_rate", {"component": "ollama", "metric": "error_rate"}) != a
    # no ambiguity from joining: the name cannot leak into a label
    assert fingerprint("a", {"b": "c"}) != fingerprint("a,b", {"": "c"})
