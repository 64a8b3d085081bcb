"""The per-session cap and cost per audio minute (pure): per-session token series read into
usage, each session priced and judged against `cost.session_cap_usd`, the alert's own words,
the blind spot of a cap with no source, and the audio-minute figures (list and measured)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.config import Config, SessionUsageSettings, parse_config
from agent.cost.component import cost_rows, session_reading
from agent.cost.sessions import (per_session_section, section_status, session_queries,
                                 sessions_from_results)
from rules.budget import Level, Levels
from rules.cost_table import (TokenUsage, audio_cost, audio_minutes, cap_text, default_table,
                              judge_sessions, usd)
from rules.evaluate import evaluate
from rules.thresholds import judge
from vocab.model import ProbeResult, Status

REALTIME = "gpt-4o-realtime-preview-2024-10-01"
S = SessionUsageSettings()


def row(session: str, kind: str, value: float, *, session_label: str = "session",
        type_label: str = "type") -> dict:
    return {"metric": {session_label: session, type_label: kind}, "value": [0, str(value)]}


def answered(*rows: dict, present: bool = True) -> dict[str, list]:
    found = [{"metric": {}, "value": [0, "4"]}] if present else []
    return {"session_usage": list(rows),
            "session_series:alice_realtime_session_tokens_total": found}


def test_queries_are_the_usage_query_and_a_presence_check_per_series():
    assert session_queries(S) == {
        "session_usage": "sum by (session, type) (alice_realtime_session_tokens_total)",
        "session_series:alice_realtime_session_tokens_total":
            "count(alice_realtime_session_tokens_total)"}


def test_rows_become_usage_per_session_by_token_type():
    usage = sessions_from_results(answered(
        row("abc123", "audio_out", 1200), row("abc123", "text_in", 50),
        row("abc123", "no-such-type", 9e9), row("def456", "audio_in", 600),
        row("idle", "audio_in", 0), {"metric": {"type": "text_in"}, "value": [0, "7"]}),
        "", S)
    assert usage.available and set(usage.usages) == {"abc123", "def456"}  # idle: no tokens
    assert usage.usages["abc123"] == TokenUsage(text_in=50, audio_out=1200)
    assert usage.total == TokenUsage(text_in=50, audio_in=600, audio_out=1200)


def test_labels_and_type_values_are_configurable():
    custom = SessionUsageSettings(promql="sum by (sid, kind) (voice_tokens_total)",
                                  session_label="sid", type_label="kind",
                                  types={"input_audio": "audio_in", "output_audio": "audio_out"})
    usage = sessions_from_results({"session_usage": [
        row("s1", "input_audio", 600, session_label="sid", type_label="kind"),
        row("s1", "output_audio", 1200, session_label="sid", type_label="kind")]}, "", custom)
    assert usage.usages["s1"] == TokenUsage(audio_in=600, audio_out=1200)


def test_series_in_another_shape_say_which_labels_they_have():
    usage = sessions_from_results({"session_usage": [
        row("s1", "audio_in", 600, session_label="sid"),
        row("s1", "input_audio", 60)]}, "", S)
    assert not usage.available and usage.missing == ()
    assert "labels seen: session, sid, type" in usage.reason
    assert "set session_label, type_label and types" in usage.reason


def test_a_series_never_exported_is_missing_not_an_outage():
    usage = sessions_from_results(answered(present=False), "", S)
    assert not usage.available and usage.missing == ("alice_realtime_session_tokens_total",)
    assert "no series alice_realtime_session_tokens_total" in usage.reason
    failed = sessions_from_results({}, "1 queries failed (connection refused)", S)
    assert not failed.available and failed.missing == () and "refused" in failed.reason


def test_no_session_running_is_zero_spend():
    usage = sessions_from_results(answered(), "", S)
    assert usage.available and usage.usages == {}
    _, price = default_table().price(REALTIME)
    section = per_session_section(usage, REALTIME, price, 0.25, Levels())
    assert section["status"] == "ok" and section["count"] == 0
    assert session_reading(section, 0.95).value == 0.0


def test_the_cause_names_the_session_the_spend_and_the_cap_with_units():
    assert cap_text("abc123", 0.42, 0.25) == "session abc123 spent 0.42 USD > cap 0.25 USD"
    assert cap_text("abc123", 0.21, 0.25) == "session abc123 spent 0.21 USD, 84 % of cap 0.25 USD"
    assert cap_text("s", 0.0958, 0.1) == "session s spent 0.0958 USD, 95 % of cap 0.1000 USD"
    assert cap_text("s", 0.0996, 0.1).endswith("99 % of cap 0.1000 USD")
    assert usd(0.0042) == "0.0042" and usd(12.5) == "12.50" and usd(0) == "0.00"


def test_sessions_are_judged_most_expensive_first_at_the_budget_levels():
    _, price = default_table().price(REALTIME)
    usages = {"cheap": TokenUsage(audio_in=600), "runaway": TokenUsage(audio_out=2400),
              "mid": TokenUsage(audio_out=1000)}
    judged = judge_sessions(price, usages, 0.25, Levels())
    assert [sid for sid, _ in judged] == ["runaway", "mid", "cheap"]
    assert judged[0][1].cost_usd == pytest.approx(0.48) and judged[0][1].level is Level.EXCEEDED
    assert judged[1][1].level is Level.WARNING  # 0.20 USD: 80 % of the cap
    section = per_session_section(sessions_from_results(answered(
        row("runaway", "audio_out", 2400), row("cheap", "audio_in", 600)), "", S),
        REALTIME, price, 0.25, Levels())
    assert section["status"] == "critical" and section_status(section) is Status.CRITICAL
    assert section["text"] == "session runaway spent 0.48 USD > cap 0.25 USD"
    assert section["top"][0]["percent_of_cap"] == 192.0


def test_no_cap_is_off_and_a_cap_without_source_is_a_blind_spot():
    _, price = default_table().price(REALTIME)
    missing = sessions_from_results(answered(present=False), "", S)
    off = per_session_section(missing, REALTIME, price, None, Levels())
    assert off["status"] == "off" and section_status(off) is None
    blind = per_session_section(missing, REALTIME, price, 0.25, Levels())
    assert blind["status"] == "absent" and section_status(blind) is None
    reading = session_reading(blind, 0.95)
    assert reading.absent and reading.missing == ("alice_realtime_session_tokens_total",)
    failed = per_session_section(sessions_from_results({}, "timeout", S), REALTIME, price,
                                 0.25, Levels())
    assert failed["status"] == "unknown" and section_status(failed) is Status.UNKNOWN


def test_the_row_exists_only_with_a_cap_and_its_blind_spot_names_the_series():
    assert "session_cap" not in {r.metric for r in cost_rows(parse_config("cost: {}", "<t>",
                                                                          {}))}
    config = parse_config("cost: {session_cap_usd: 0.25}", "<t>", {})
    cap = next(r for r in cost_rows(config) if r.metric == "session_cap")
    assert (cap.unit, cap.target, cap.alert) == ("USD", pytest.approx(0.2),
                                                 pytest.approx(0.2375))
    _, price = default_table().price(REALTIME)
    blind = per_session_section(sessions_from_results(answered(present=False), "", S),
                                REALTIME, price, 0.25, Levels())
    result = ProbeResult("cost", Status.OK, "ok",
                         readings={"session_cap_usd": session_reading(blind, 0.95)})
    report = evaluate({"cost": result}, (cap,), 0.0)
    assert report.status is Status.OK
    (spot,) = report.blind_spots
    assert spot.metrics == ("session_cap",)
    assert spot.missing == ("alice_realtime_session_tokens_total",)
    assert "alice_realtime_session_tokens_total" in spot.fix[0]


@pytest.mark.parametrize("spent, status", [(0.0, Status.OK), (0.199, Status.OK),
                                           (0.2, Status.WARNING), (0.2375, Status.CRITICAL),
                                           (0.42, Status.CRITICAL)])
def test_the_row_judges_the_top_session_at_the_levels_of_the_cap(spent, status):
    config = parse_config("cost: {session_cap_usd: 0.25}", "<t>", {})
    cap = next(r for r in cost_rows(config) if r.metric == "session_cap")
    section = {"available": True, "cap_usd": 0.25, "top": [{"usd": spent}] if spent else []}
    assert judge(cap, session_reading(section, 0.95).value) is status


def test_bad_cap_and_bad_type_mapping_name_the_key():
    with pytest.raises(Exception) as err:
        Config.model_validate({"cost": {"session_cap_usd": -1}})
    assert "session_cap_usd" in str(err.value)
    with pytest.raises(Exception) as err:
        Config.model_validate({"cost": {"session_usage": {"types": {"x": "video_in"}}}})
    assert "session_usage" in str(err.value) and "types" in str(err.value)


# -- cost per audio minute --------------------------------------------------------------

def test_list_price_per_audio_minute_from_the_audio_token_rates():
    name, price = default_table().price(REALTIME)
    doc = audio_cost(name, price, None)
    assert doc["basis"] == "list price" and doc["measured"] is None
    assert doc["list_usd_per_minute"] == {"input": pytest.approx(0.06),
                                          "output": pytest.approx(0.24)}
    name, price = default_table().price("gpt-4o-mini")
    assert audio_cost(name, price, None)["basis"] == "no audio price"


def test_measured_audio_minutes_cost_all_their_tokens():
    name, price = default_table().price(REALTIME)
    usage = TokenUsage(audio_in=600, audio_out=1200, text_in=1000)  # 1 min in, 1 min out
    assert audio_minutes(usage) == (1.0, 1.0)
    doc = audio_cost(name, price, usage)
    assert doc["basis"] == "measured"
    assert doc["measured"]["usd"] == pytest.approx(0.06 + 0.24 + 0.005)
    assert doc["measured"]["usd_per_audio_minute"] == pytest.approx(0.305 / 2)
    # text only: no audio minute to divide by, so the list price stands
    assert audio_cost(name, price, TokenUsage(text_in=10))["basis"] == "list price"


tokens = st.floats(min_value=0, max_value=1e7, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=6), st.tuples(tokens, tokens, tokens),
                       max_size=8),
       st.floats(min_value=0.01, max_value=100))
def test_more_spend_never_ranks_lower_or_judges_lower(sessions, cap):
    _, price = default_table().price(REALTIME)
    usages = {sid: TokenUsage(text_in=a, audio_in=b, audio_out=c)
              for sid, (a, b, c) in sessions.items()}
    judged = judge_sessions(price, usages, cap, Levels())
    costs = [sp.cost_usd for _, sp in judged]
    assert costs == sorted(costs, reverse=True)
    levels = [sp.level for _, sp in judged]
    assert levels == sorted(levels, reverse=True)
    section = per_session_section(
        sessions_from_results(answered(*(row(sid, t, getattr(u, t)) for sid, u in
                                         usages.items() for t in ("text_in", "audio_in",
                                                                  "audio_out"))), "", S),
        REALTIME, price, cap, Levels())
    worst = max(levels, default=Level.OK)
    assert section["status"] == worst.status.word
    assert section["count"] == sum(1 for u in usages.values() if u != TokenUsage())


@pytest.mark.parametrize("cost, key", [
    ("{session_cap_usd: -1}", "cost.session_cap_usd"),
    ("{session_cap_usd: 0.25, session_usage: {types: {out: video}}}",
     "cost.session_usage.types.out"),
    ("{session_usage: {sessionlabel: s}}", "cost.session_usage.sessionlabel"),
])
def test_bad_config_is_one_line_naming_the_key_path(tmp_path, capsys, cost, key):
    from agent.cli.main import main

    path = tmp_path / "alice-ops.yaml"
    path.write_text(f"cost: {cost}\n")
    assert main(["cost", "--config", str(path)]) == 3
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and key in err and "Traceback" not in err


def test_sessions_audio_and_rate_limits_on_the_agents_metrics(cost_samples):
    from agent.cost.metrics import cost_families

    _, price = default_table().price(REALTIME)
    per = per_session_section(sessions_from_results(answered(
        row("abc123", "audio_out", 2400), row("def456", "audio_in", 600)), "", S),
        REALTIME, price, 0.25, Levels())
    section = {"budgets": [], "per_session": per,
               "audio": audio_cost(REALTIME, price, TokenUsage(audio_in=600, audio_out=1200)),
               "rate_limits": [{"kind": "requests", "remaining": 900.0}]}

    get = cost_samples(section)
    assert get("alice_ops_cost_session_usd", {"session": "abc123"}) == pytest.approx(0.48)
    assert get("alice_ops_cost_session_cap_usd") == 0.25
    assert get("alice_ops_cost_audio_list_usd_per_minute",
               {"direction": "output", "model": REALTIME}) == pytest.approx(0.24)
    assert get("alice_ops_cost_audio_usd_per_minute", {"model": REALTIME}) == pytest.approx(0.15)
    assert get("alice_ops_rate_limit_remaining", {"kind": "requests"}) == 900.0
    blind = {"budgets": [], "per_session": per_session_section(
        sessions_from_results(answered(present=False), "", S), REALTIME, price, 0.25, Levels())}
    names = {m.name for m in cost_families(blind)}
    assert not names & {"alice_ops_cost_session_usd", "alice_ops_cost_session_cap_usd"}
