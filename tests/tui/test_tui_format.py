"""Pure formatting helpers, tested without an App (parametrized tables)."""

from __future__ import annotations

import pytest

from tui import format as fmt
from tui.keys import normalize_key, validate_keymap
from tui.sse import SseParser
from tui.widgets.alert_table import alert_row, page_of
from tui.widgets.component_tile import tile_lines
from tui.widgets.firing_alerts import firing_lines
from tui.widgets.header import header_text
from tui.widgets.routing_bar import MISSING, routing_text
from tui.widgets.spend_gauge import projection_bar, spend_text


@pytest.mark.parametrize("values, width, ascii_only, expected", [
    ([1, 2, 3, 4, 5, 6, 7, 8], 8, False, "▁▂▃▄▅▆▇█"),
    ([1, 2, 3, 4, 5, 6, 7, 8], 8, True, "_.-~=+*#"),
    ([5, 5, 5], 3, False, "▄▄▄"),  # flat: mid-height
    ([1, None, 8], 3, False, "▁·█"),
    ([1, None, 8], 3, True, "_.#"),
    ([None, None], 4, False, "··"),
    ([1, 2, 3, 4, 5, 6, 7, 8], 2, False, "▁█"),  # the last `width` values, own scale
    ([], 5, False, ""),
    ([1, 2], 0, False, ""),
])
def test_sparkline(values, width, ascii_only, expected):
    assert fmt.sparkline(values, width, ascii_only) == expected


@pytest.mark.parametrize("seconds, expected", [
    (0, "0s"), (0.9, "0s"), (45, "45s"), (60, "1m"), (3599, "59m"), (3600, "1h"),
    (3900, "1h05m"), (86400, "1d"), (90000, "1d1h"), (-5, "0s"),
])
def test_format_duration(seconds, expected):
    assert fmt.format_duration(seconds) == expected


@pytest.mark.parametrize("ts, expected", [
    (None, "never"), (997.0, "3s ago"), (1000.5, "now"), (1500.0, "now"),  # skew: "now"
    ("1970-01-01T00:16:37+00:00", "3s ago"), ("garbage", "never"), (400.0, "10m ago"),
])
def test_age(ts, expected):
    assert fmt.age(ts, 1000.0) == expected


@pytest.mark.parametrize("text, seconds", [
    ("90", 90), ("90s", 90), ("30m", 1800), ("2h", 7200), ("1d", 86400), ("1w", 604800),
    (" 1.5h ", 5400), ("2H", 7200),
])
def test_parse_duration(text, seconds):
    assert fmt.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "-5m", "2 hours", "h", "1y"])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError, match="bad duration"):
        fmt.parse_duration(text)


@pytest.mark.parametrize("value, unit, expected", [
    (42.123, "ms", "42.1 ms"), (2699.99, "ms", "2700 ms"), (93.2, "percent", "93.2 %"),
    (8.69, "score", "8.69/10"), (3.0, "count", "3"), (None, "ms", "no data"),
    (float("nan"), "ms", "no data"), (40.0, "tokens_per_s", "40 tok/s"),
])
def test_format_value(value, unit, expected):
    assert fmt.format_value(value, unit) == expected


@pytest.mark.parametrize("width, expected", [
    (60, "2400 ms  target < 300 ms  alert > 500 ms"),
    (35, "2400 ms tgt < 300 ms alert > 500 ms"),
    (25, "2400ms t<300ms a>500ms"),
    (20, "2400ms t<300 a>500"),
    (10, "2400ms t<…"),
])
def test_threshold_line_fits_the_width(width, expected):
    line = fmt.threshold_line("2400 ms", "< 300 ms", "> 500 ms", width)
    assert line == expected
    assert len(line) <= width


@pytest.mark.parametrize("status, word, style", [
    ("ok", "OK", "green"), ("warning", "WARNING", "yellow"), ("critical", "CRITICAL", "red"),
    ("unknown", "UNKNOWN", "magenta"), (None, "UNKNOWN", "magenta"),
])
def test_status_is_word_and_colour(status, word, style):
    assert fmt.status_word(status) == word
    assert style in fmt.status_style(status)


def test_worst_ranks_unknown_above_warning():
    assert fmt.worst(["ok", "warning", "unknown"]) == "unknown"
    assert fmt.worst(["ok", "critical", "unknown"]) == "critical"


@pytest.mark.parametrize("now, received, connected, problem, expected", [
    (100.0, 99.0, True, None, None),
    (100.0, 90.0, True, None, None),  # 10 s < 3 x 5 s
    (100.0, 80.0, True, None, "no update for 20s"),
    (100.0, 99.0, False, "cannot connect", "cannot connect"),
    (100.0, None, False, None, "source disconnected"),
    (100.0, None, True, None, None),  # still waiting for the first snapshot
])
def test_staleness(now, received, connected, problem, expected):
    assert fmt.staleness(now, received, connected, problem, 5.0) == expected


def test_newest_first_and_order(outage_snapshot):
    alerts = outage_snapshot["alerts"]
    newest = fmt.newest_first(alerts)
    times = [fmt.parse_ts(a["fired_at"]) for a in newest]
    assert times == sorted(times, reverse=True)
    mixed = [{"name": "r", "state": "resolved", "fired_at": 5.0},
             {"name": "p", "state": "pending", "started_at": 9.0},
             {"name": "f", "state": "firing", "fired_at": 1.0}]
    assert [a["name"] for a in fmt.order_alerts(mixed)] == ["f", "p", "r"]


@pytest.mark.parametrize("query, hits", [
    ("", 3), ("openai", 3), ("error", 2), ("silenced", 1), ("acked", 1), ("HTTP 503", 1),
    ("component=openai", 3), ("FIRING critical", 3), ("nothing-like-this", 0),
])
def test_alert_filter(outage_snapshot, query, hits):
    assert sum(fmt.alert_matches(a, query) for a in outage_snapshot["alerts"]) == hits


def test_default_matchers_quote():
    assert fmt.default_matchers({"name": 'a"b'}) == 'alertname="a\\"b"'
    assert fmt.default_matchers(None) == ""


def test_routing_bar_marks_the_band():
    bar = fmt.routing_bar(65, 20, ascii_only=True)
    assert bar.count("[") == 1 and bar.count("]") == 1
    assert bar.index("[") < bar.index("]")
    assert bar.replace("[", "").replace("]", "").count("#") == 13
    assert fmt.in_band(65) and not fmt.in_band(59.9)


def test_routing_and_spend_lines_without_a_cost_section_say_so(ok_snapshot):
    ok_snapshot["cost"] = {}
    assert routing_text(ok_snapshot, 80).plain == MISSING
    assert "cost: {}" in MISSING
    assert spend_text(ok_snapshot, 80).plain == ""  # no gauge that reads as zero spend
    assert routing_text(None, 80).plain == ""  # before the first snapshot: nothing to say


def test_routing_line_from_the_cost_section(ok_snapshot, outage_snapshot):
    text = routing_text(ok_snapshot, 80, ascii_only=True).plain
    assert "fast  65%" in text and "think  35%" in text and "in band 60-70%" in text
    assert len(text) <= 80 and "[" in text and "]" in text
    out = routing_text(outage_snapshot, 80).plain  # openai down: traffic goes local
    assert "fast   5%" in out and "BELOW BAND 60-70%" in out


def test_routing_line_without_traffic(ok_snapshot):
    ok_snapshot["cost"]["routing"].update(fast_share_percent=None, verdict="no traffic")
    assert routing_text(ok_snapshot, 80).plain.startswith("routing split: no traffic")


@pytest.mark.parametrize("spent, projected, level, marks", [
    (1.0, 2.0, "ok", ("OK", "1.00/10.00 USD", "10%", "2.00 by midnight")),
    (8.5, 12.0, "warning", ("WARNING", "8.50/10.00 USD", "85%", "12.00 by midnight")),
    (9.7, 14.0, "critical", ("CRITICAL", "97%",)),
])
def test_spend_gauge_level_word_bar_and_projection(ok_snapshot, spent, projected, level,
                                                   marks):
    daily = next(b for b in ok_snapshot["cost"]["budgets"] if b["window"] == "daily")
    daily.update(spent_usd=spent, projected_usd=projected, level=level, limit_usd=10.0,
                 percent=spent * 10)
    line = spend_text(ok_snapshot, 80, ascii_only=True).plain
    assert all(m in line for m in marks), line
    assert len(line) <= 80 and "->" in line
    assert line.count("#") == round(spent / 10 * len(line.split("USD ")[1].split(" ")[0]))


def test_projection_bar():
    assert projection_bar(2, 6, 10, 10, ascii_only=True) == "##====----"
    assert projection_bar(2, 20, 10, 10, ascii_only=True) == "##=======>"
    assert projection_bar(0, None, 10, 4, ascii_only=True) == "----"


def test_spend_gauge_unknown_spend(ok_snapshot):
    for b in ok_snapshot["cost"]["budgets"]:
        b.update(spent_usd=None, level="unknown")
    ok_snapshot["cost"]["reason"] = "no spend source answered"
    line = spend_text(ok_snapshot, 100).plain
    assert "UNKNOWN" in line and "no spend source answered" in line


def test_tile_lines_fit_and_show_value_target_alert(outage_snapshot):
    openai = next(c for c in outage_snapshot["components"] if c["name"] == "openai")
    now = outage_snapshot["taken_at_unix"] + 2
    lines = [t.plain for t in tile_lines(openai, now, 22, 5)]  # a tile at 80x24
    assert len(lines) == 5 and all(len(line) <= 22 for line in lines)
    # the cause is never cut: two lines for it, the worst metric's word and value
    assert lines[0].strip() + " " + lines[1].strip() == "server error (HTTP 503)"
    assert lines[2].rstrip().endswith("CRITICAL")
    assert "<300" in lines[3] and ">500" in lines[3]
    assert lines[4].endswith("ago")
    squeezed = [t.plain for t in tile_lines(openai, now, 22, 4)]  # one row less: no value
    assert squeezed[0].strip() + " " + squeezed[1].strip() == "server error (HTTP 503)"
    assert squeezed[2].rstrip().endswith("CRITICAL") and squeezed[3].endswith("ago")
    wide = [t.plain for t in tile_lines(openai, now, 30, 4)]  # it fits: one line, a pair
    assert wide[0].strip() == "server error (HTTP 503)" and "CRITICAL" in wide[1]
    assert "<300" in wide[2] and ">500" in wide[2]
    tall = [t.plain for t in tile_lines(openai, now, 49, 10)]
    assert sum("CRITICAL" in line for line in tall) == 2  # both metrics, each with its word
    assert any("target < 1 %" in line and "alert > 5 %" in line for line in tall)


def test_tile_lines_ascii_has_no_unicode(outage_snapshot):
    now = outage_snapshot["taken_at_unix"] + 2
    for c in outage_snapshot["components"]:
        for line in tile_lines(c, now, 22, 4, ascii_only=True):
            assert line.plain.isascii(), line.plain


def test_firing_lines_newest_first_and_marks(outage_snapshot):
    now = outage_snapshot["taken_at_unix"] + 2
    lines = [t.plain for t in firing_lines(outage_snapshot, now, 78, 10)]
    assert lines[0].startswith("Firing alerts (3)")
    assert any("[silenced]" in line for line in lines)
    assert any("[acked]" in line for line in lines)
    assert all(len(line) <= 78 for line in lines)
    short = [t.plain for t in firing_lines(outage_snapshot, now, 78, 3)]
    assert short[-1].startswith("... and 2 more")


def test_header_turns_stale(outage_snapshot):
    now = outage_snapshot["taken_at_unix"] + 2
    fresh = header_text(outage_snapshot, now=now, stale=None, screen="Overview", number=1,
                        source="demo", read_only=False).plain
    assert "CRITICAL" in fresh and "3 firing" in fresh and "data 2s ago" in fresh
    assert "STALE" not in fresh
    stale = header_text(outage_snapshot, now=now + 60, stale="agent disconnected",
                        screen="Overview", number=1, source="attach", read_only=True,
                        ascii_only=True).plain
    assert "STALE" in stale and "agent disconnected" in stale and "read-only" in stale
    assert stale.isascii()


def test_alert_row_and_paging(outage_snapshot):
    a = outage_snapshot["alerts"][0]
    row = alert_row(a, outage_snapshot["taken_at_unix"])
    assert row[0].plain == "FIRING" and row[1].plain == "CRITICAL" and row[4] == a["name"]
    assert row[3].plain.endswith(fmt.alert_cause(a))
    held = alert_row({**a, "cause": "no data", "inhibited_by": "backend_health",
                      "silenced_by": None, "acked": None, "flapping": True},
                     outage_snapshot["taken_at_unix"])
    assert held[3].plain == "[flapping] no data; follows from backend_health"
    assert held[4] == a["name"]
    items = list(range(1234))
    window, page, pages = page_of(items, 2)
    assert (window[0], len(window), page, pages) == (1000, 234, 2, 3)
    assert page_of(items, 99)[1] == 2 and page_of([], 0) == ([], 0, 1)


def test_sse_parser():
    p = SseParser()
    out = [p.feed(line) for line in [": keep-alive", "", "id: 7", "event: snapshot",
                                     'data: {"seq":', "data: 7}", "", "data: x", ""]]
    events = [e for e in out if e]
    assert [(e.event, e.data, e.id) for e in events] == [
        ("snapshot", '{"seq":\n7}', "7"), ("message", "x", "7")]


@pytest.mark.parametrize("mapping, error", [
    ({"quit": "ctrl+q"}, None),
    ({"silence": "S", "ack": "A"}, None),
    ({"help": "?"}, None),
    ({"nope": "z"}, "nope: unknown action"),
    ({"quit": ""}, "quit: key must be"),
    ({"quit": 5}, "quit: key must be"),
    ({"quit": "question_mark"}, "already the key of help"),
    ({"silence": "2"}, "already the key of screen.alerts"),
    (["quit"], "expected a mapping"),
])
def test_validate_keymap(mapping, error):
    if error is None:
        assert validate_keymap(mapping)
    else:
        with pytest.raises(ValueError, match=error):
            validate_keymap(mapping)


def test_normalize_key():
    assert normalize_key("?") == "question_mark"
    assert normalize_key(" esc ") == "escape"
    assert normalize_key("ctrl+q") == "ctrl+q"


def test_threshold_line_without_a_value_stays_readable():
    assert fmt.threshold_line("no data", "< 500 ms", "> 2000 ms", 20) == "n/a t<500ms a>2000ms"
    assert fmt.threshold_line("no data", "< 500 ms", "> 2000 ms", 17) == "n/a t<500 a>2000"


def test_order_alerts_by_severity_then_age_inhibited_under_their_cause():
    alerts = [{"name": "warn_old", "state": "firing", "severity": "warning", "fired_at": 1.0},
              {"name": "crit_new", "state": "firing", "severity": "critical", "fired_at": 9.0},
              {"name": "crit_old", "state": "firing", "severity": "critical", "fired_at": 2.0},
              {"name": "follower", "state": "firing", "severity": "critical", "fired_at": 0.5,
               "inhibited_by": "warn_old"}]
    assert [a["name"] for a in fmt.order_alerts(alerts)] == [
        "crit_old", "crit_new", "warn_old", "follower"]


def test_firing_lines_keep_severity_and_cause_whole_at_80_columns():
    cause = "HTTP 503 from GET /v1/models"
    snap = {"alerts": [
        {"name": "openai_response_latency_p95_with_a_long_name", "state": "firing",
         "severity": "critical", "fired_at": 100.0, "cause": "p95 2725 ms > 500 ms"},
        {"name": "openai_health", "state": "firing", "severity": "critical",
         "fired_at": 90.0, "cause": cause},
        {"name": "openai_api_latency_ms", "state": "firing", "severity": "warning",
         "fired_at": 95.0, "cause": "no data", "inhibited_by": "openai_health"}]}
    lines = [t.plain for t in firing_lines(snap, 200.0, 78, 10)]
    assert lines[0].startswith("Firing alerts (3)") and "1 follow" in lines[0]
    assert len(lines) == 3 and all(len(line) <= 78 for line in lines)
    assert lines[1].startswith("CRITICAL") and cause in lines[1] and "+1 under it" in lines[1]
    assert "p95 2725 ms > 500 ms" in lines[2] and "…" in lines[2]  # the name was cut


def test_wrap_breaks_at_spaces_and_cuts_only_the_last_line():
    assert fmt.wrap("server error (HTTP 503)", 22, 2) == ["server error (HTTP", "503)"]
    assert fmt.wrap("a b c", 10, 1) == ["a b c"]
    assert fmt.wrap("one two three four", 5, 2) == ["one", "two …"]
    assert fmt.wrap("", 5, 2) == [""]
