"""The pure checklist core: definitions, answers merged into runs, judging automatic items
from facts, and the daily schedule (run time, deadline) computed from `now`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from vocab.model import Status
from rules.checklists import (
    RESULTS,
    AlertFact,
    Answer,
    BackupFact,
    ChecklistError,
    Facts,
    default_checklists,
    is_complete,
    judge_automatic,
    judge_item,
    manual_answer,
    needs_auto_run,
    next_run_at,
    overdue,
    parse_checklists,
    period_of,
    record,
    status_of,
)
from rules.evaluate import ComponentStatus, MetricStatus, Report

STOCKHOLM = ZoneInfo("Europe/Stockholm")

# The guide's checklists, item by item (Operations Runbooks).
GUIDE_DAILY = [
    "all services green", "overnight alerts", "OpenAI API key", "error logs", "backup",
    "response times", "intent classification accuracy", "resource usage",
    "WebSocket connection stability", "spend vs. budget", "fast/think path ratio",
    "cost per user session", "Adjust routing", "end-to-end in Swedish", "HUD",
    "tool integrations", "user feedback"]
GUIDE_WEEKLY = [
    "dependencies and security patches", "test suite", "old logs", "backup/restore",
    "rotate API keys", "weekly performance report", "response time trends",
    "cost optimization", "capacity utilization", "alert thresholds",
    "operations documentation", "configuration changes", "troubleshooting procedures",
    "capacity planning estimates", "runbook accuracy"]


def local(text: str, tz=STOCKHOLM) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=tz).timestamp()


def test_every_guide_item_is_on_its_checklist():
    lists = default_checklists()
    for kind, expected in (("daily", GUIDE_DAILY), ("weekly", GUIDE_WEEKLY)):
        texts = [i.text.lower() for i in lists[kind].items]
        for phrase in expected:
            assert any(phrase.lower() in t for t in texts), (kind, phrase)
        ids = [i.id for i in lists[kind].items]
        assert len(ids) == len(set(ids))
    daily = lists["daily"]
    automatic = {i.id for i in daily.items if i.automatic}
    assert {"services_green", "overnight_alerts", "spend_vs_budget", "path_ratio",
            "response_times", "intent_accuracy", "resource_usage", "websocket_stability",
            "tool_integrations", "error_logs", "backups"} <= automatic
    assert all(i.prompt for i in daily.items if not i.automatic)


def test_override_changes_adds_and_drops_items():
    base = default_checklists()
    data = {"daily": {"items": [
        {"id": "hud_display", "enabled": False},
        {"id": "backups", "args": {"note": "x"}},
        {"id": "vpn", "section": "Morning Health Check", "text": "VPN up", "prompt": "Up?"},
        {"id": "user_feedback", "check": "services"}]}}
    lists = parse_checklists(data, "extra.yaml", base)
    daily = lists["daily"]
    assert daily.item("hud_display") is None
    assert daily.item("vpn").prompt == "Up?" and not daily.item("vpn").automatic
    assert daily.item("backups").check == "backups" and daily.item("backups").args == {"note": "x"}
    assert daily.item("user_feedback").automatic and daily.item("user_feedback").prompt is None
    assert lists["weekly"] is base["weekly"]


@pytest.mark.parametrize("data, message", [
    ({"daily": {"items": [{"id": "x", "section": "S", "text": "T"}]}},
     "f.yaml: daily.items[0]: give exactly one of check"),
    ({"daily": {"items": [{"id": "x", "section": "S", "text": "T", "check": "nope"}]}},
     "f.yaml: daily.items[0].check: unknown check 'nope'"),
    ({"daily": {"items": [{"id": "x", "section": "S", "text": "T", "prompt": "?",
                           "colour": 1}]}}, "f.yaml: daily.items[0].colour: unknown key"),
    ({"monthly": {}}, "f.yaml: monthly: unknown checklist"),
    ({"daily": {"items": [{"section": "S"}]}}, "f.yaml: daily.items[0].id: required"),
])
def test_bad_definitions_name_file_and_key(data, message):
    with pytest.raises(ChecklistError) as err:
        parse_checklists(data, "f.yaml", default_checklists())
    assert str(err.value).startswith(message)


def test_periods_follow_the_local_day_and_iso_week():
    late = local("2026-11-29T23:30:00")  # Sunday 23:30 in Stockholm
    assert period_of("daily", late, STOCKHOLM) == "2026-11-29"
    assert period_of("weekly", late, STOCKHOLM) == "2026-W48"
    after = local("2026-11-30T00:30:00")  # Monday in Stockholm, still Sunday in UTC
    assert period_of("daily", after, STOCKHOLM) == "2026-11-30"
    assert period_of("daily", after, UTC) == "2026-11-29"
    assert period_of("weekly", after, STOCKHOLM) == "2026-W49"


answers_st = st.dictionaries(
    st.sampled_from([i.id for i in default_checklists()["daily"].items]),
    st.builds(Answer, st.sampled_from(RESULTS), st.text(max_size=5), st.just("u"),
              st.floats(0, 1e9), st.sampled_from(["auto", "manual"])), max_size=20)


@given(first=answers_st, second=answers_st)
@settings(max_examples=60, deadline=None)
def test_resuming_keeps_earlier_answers_and_completion(first, second):
    daily = default_checklists()["daily"]
    run = record(None, daily, "2026-11-25", first, now=100.0)
    again = record(run, daily, "2026-11-25", second, now=200.0)
    for item_id, ans in first.items():
        newer = second.get(item_id)
        kept = newer is None or (newer.source == "auto" and ans.source == "manual")
        assert again.answers[item_id] == (ans if kept else newer)
    for item_id, ans in second.items():
        if item_id not in first:
            assert again.answers[item_id] == ans
    assert again.started_at == 100.0 and again.updated_at == 200.0
    assert is_complete(daily, again.answers) == (set(first) | set(second) ==
                                                 {i.id for i in daily.items})
    if run.completed_at is not None:
        assert again.completed_at == run.completed_at
    assert status_of(again.answers) == Status.worst(
        {"pass": Status.OK, "skipped": Status.OK, "warn": Status.WARNING,
         "fail": Status.CRITICAL, "unknown": Status.UNKNOWN}[a.result]
        for a in again.answers.values())


def test_a_machine_answer_never_replaces_a_persons():
    daily = default_checklists()["daily"]
    by_hand = Answer("pass", "restored a test backup", "maria", 1.0, "manual")
    run = record(None, daily, "d", {"backups": by_hand}, 1.0)
    run = record(run, daily, "d", {"backups": Answer("fail", "too old", "agent", 2.0),
                                   "services_green": Answer("pass", "", "agent", 2.0)}, 2.0)
    assert run.answers["backups"] == by_hand
    assert run.answers["services_green"].by == "agent"
    run = record(run, daily, "d", {"backups": Answer("fail", "", "ola", 3.0, "manual")}, 3.0)
    assert run.answers["backups"].by == "ola"


def test_record_refuses_an_unknown_item():
    with pytest.raises(ValueError, match="no item 'nope'"):
        record(None, default_checklists()["daily"], "d", {"nope": Answer("pass", "", "u", 1)}, 1)


def test_manual_answers():
    assert [manual_answer(t) for t in ("y", " YES", "n", "no", "skip", "s", "maybe", "")] == \
        ["pass", "pass", "fail", "fail", "skipped", "skipped", None, None]


# -- judging automatic items ------------------------------------------------------------

def metric(component, name, value, status, unit="ms", reason=""):
    return MetricStatus(component, name, name.replace("_", " "), value, unit, "< 300 ms",
                        "> 500 ms", status, reason)


def report(components, metrics=()):
    comps = tuple(ComponentStatus(n, s, summary, 1.0,
                                  tuple(m for m in metrics if m.component == n))
                  for n, s, summary in components)
    return Report(Status.worst(c.status for c in comps), 0.0, comps)


def item(item_id, kind="daily"):
    return default_checklists()[kind].item(item_id)


def test_services_pass_and_fail_with_evidence():
    good = Facts(at=0, report=report([("openai", Status.OK, "fine"), ("gateway", Status.OK, "up")]))
    assert judge_item(item("services_green"), good) == ("pass", "all 2 components ok")
    bad = Facts(at=0, report=report([("openai", Status.OK, "fine"),
                                     ("gateway", Status.CRITICAL, "connection refused")]))
    assert judge_item(item("services_green"), bad) == \
        ("fail", "gateway critical: connection refused")
    assert judge_item(item("openai_key_usage"), bad) == ("pass", "openai ok: fine")
    assert judge_item(item("services_green"), Facts(at=0))[0] == "unknown"


def test_metrics_items_show_figures_and_missing_components_are_skipped():
    r = report([("openai", Status.OK, ""), ("ollama", Status.WARNING, "")],
               [metric("openai", "openai_response_latency_p95", 232.0, Status.OK),
                metric("ollama", "local_ai_processing_time_p95", 2600.0, Status.WARNING)])
    result, evidence = judge_item(item("response_times"), Facts(at=0, report=r))
    assert result == "warn" and "232 ms" in evidence and "2600 ms" in evidence
    assert judge_item(item("intent_accuracy"), Facts(at=0, report=r))[0] == "skipped"
    nodata = report([("backend", Status.UNKNOWN, "")],
                    [metric("backend", "intent_classification_accuracy", None, Status.UNKNOWN,
                            reason="query returned no data")])
    assert judge_item(item("intent_accuracy"), Facts(at=0, report=nodata)) == \
        ("unknown", "intent classification accuracy: no data (query returned no data)")


def test_websocket_item_fails_when_the_gateway_is_down():
    r = report([("gateway", Status.CRITICAL, "connection refused")],
               [metric("gateway", "websocket_connection_stability", 99.9, Status.OK, "percent")])
    result, evidence = judge_item(item("websocket_stability"), Facts(at=0, report=r))
    assert result == "fail" and evidence.startswith("gateway critical: connection refused")


def test_overnight_alerts():
    since = local("2026-11-24T08:00:00")
    quiet = Facts(at=since + 86400, alerts=(), alerts_since=since)
    assert judge_item(item("overnight_alerts"), quiet)[0] == "pass"
    events = (AlertFact(since + 10, "gateway_health", "firing", "critical"),
              AlertFact(since + 20, "gateway_health", "resolved", "critical"),
              AlertFact(since + 30, "openai_error_rate", "firing", "warning"))
    result, evidence = judge_item(item("overnight_alerts"),
                                  Facts(at=since + 86400, alerts=events, alerts_since=since))
    assert result == "fail"
    assert "2 alert(s) fired" in evidence and "still firing: openai_error_rate" in evidence
    resolved = events[:2]
    assert judge_item(item("overnight_alerts"),
                      Facts(at=0, alerts=resolved, alerts_since=since))[0] == "warn"
    assert judge_item(item("overnight_alerts"), Facts(at=0)) == ("unknown", "no alert history")


@pytest.mark.parametrize("spent, result", [(10.0, "pass"), (41.0, "warn"), (50.0, "fail")])
def test_spend_against_budget(spent, result):
    verdict = judge_item(item("spend_vs_budget"), Facts(at=0, spend_usd=spent, budget_usd=50.0))
    assert verdict[0] == result and f"${spent:.2f} of $50.00" in verdict[1]


@pytest.mark.parametrize("fast, think, result", [(60, 40, "pass"), (75, 25, "warn"),
                                                  (90, 10, "fail"), (0, 0, "unknown")])
def test_fast_think_ratio(fast, think, result):
    facts = Facts(at=0, path_requests={"24h": (float(fast), float(think))})
    assert judge_item(item("path_ratio"), facts)[0] == result


def test_error_logs_and_backups():
    assert judge_item(item("error_logs"), Facts(at=0))[0] == "skipped"
    unreadable = Facts(at=0, log_globs=("/srv/*/app.log",), log_reason="cannot read the "
                       "logs: /srv/unconfigured/app.log: Permission denied")
    assert judge_item(item("error_logs"), unreadable)[0] == "unknown"  # not by its wording
    logs = Facts(at=0, error_lines=(("a.log", 0), ("b.log", 3)))
    assert judge_item(item("error_logs"), logs) == \
        ("warn", "3 ERROR line(s) since the last run in 1 file(s); most in b.log (3)")
    now = 1_000_000.0
    fresh = BackupFact("/b/*.tar", "/b/1.tar", now - 3600, 26 * 3600)
    old = BackupFact("/c/*.tar", "/c/1.tar", now - 30 * 3600, 26 * 3600)
    none = BackupFact("/d/*", None, None, 3600)
    assert judge_item(item("backups"), Facts(at=now, backups=(fresh,))) == \
        ("pass", "/b/1.tar 1.0 h old")
    result, evidence = judge_item(item("backups"), Facts(at=now, backups=(fresh, old, none)))
    assert result == "fail" and "/c/1.tar is 30.0 h old (max 26.0 h)" in evidence \
        and "/d/*: no backup file found" in evidence
    assert judge_item(item("backups"), Facts(at=now))[0] == "skipped"


def test_judge_automatic_answers_only_automatic_items():
    daily = default_checklists()["daily"]
    answers = judge_automatic(daily, Facts(at=5.0), by="agent")
    assert set(answers) == {i.id for i in daily.items if i.automatic}
    assert all(a.by == "agent" and a.at == 5.0 and a.source == "auto" for a in answers.values())


# -- schedule ----------------------------------------------------------------------------

def test_next_run_and_deadline():
    now = local("2026-11-25T07:59:00")
    assert next_run_at(now, "08:00", STOCKHOLM) == local("2026-11-25T08:00:00")
    assert next_run_at(local("2026-11-25T08:00:00"), "08:00", STOCKHOLM) == \
        local("2026-11-26T08:00:00")
    daily = default_checklists()["daily"]
    assert not overdue(local("2026-11-25T09:59:59"), "10:00", STOCKHOLM, daily, None).overdue
    late = overdue(local("2026-11-25T10:00:00"), "10:00", STOCKHOLM, daily, None)
    assert late.overdue and late.status is Status.WARNING and "hud_display" in late.open_items
    everything = {i.id: Answer("pass", "", "u", 1.0) for i in daily.items}
    done = record(None, daily, "2026-11-25", everything, local("2026-11-25T09:00:00"))
    assert not overdue(local("2026-11-25T11:00:00"), "10:00", STOCKHOLM, daily, done).overdue
    # yesterday's complete run does not count for today
    assert overdue(local("2026-11-26T10:30:00"), "10:00", STOCKHOLM, daily, done).overdue
    partial = record(None, daily, "2026-11-25",
                     {k: v for k, v in everything.items() if k != "hud_display"},
                     local("2026-11-25T09:00:00"))
    assert overdue(local("2026-11-25T10:01:00"), "10:00", STOCKHOLM, daily,
                   partial).open_items == ("hud_display",)


def test_catch_up_run_after_a_late_start():
    daily = default_checklists()["daily"]
    assert not needs_auto_run(local("2026-11-25T07:00:00"), "08:00", STOCKHOLM, None, daily)
    assert needs_auto_run(local("2026-11-25T09:00:00"), "08:00", STOCKHOLM, None, daily)
    manual_only = record(None, daily, "2026-11-25",
                         {"hud_display": Answer("pass", "", "u", 1.0)}, 1.0)
    assert needs_auto_run(local("2026-11-25T09:00:00"), "08:00", STOCKHOLM, manual_only, daily)
    auto = record(manual_only, daily, "2026-11-25",
                  {"services_green": Answer("pass", "", "agent", 2.0)}, 2.0)
    assert not needs_auto_run(local("2026-11-25T09:00:00"), "08:00", STOCKHOLM, auto, daily)


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1),
                    timezones=st.just(UTC)),
       st.sampled_from(["00:00", "02:30", "08:00", "23:59"]),
       st.sampled_from(["Europe/Stockholm", "America/New_York", "UTC", "Australia/Sydney"]))
@example(datetime(2024, 3, 30, 12, tzinfo=UTC), "02:30", "Europe/Stockholm")  # in the gap
@example(datetime(2024, 10, 26, 12, tzinfo=UTC), "02:30", "Europe/Stockholm")  # twice
@settings(max_examples=200, deadline=None)
def test_next_run_is_the_first_wall_clock_match_after_now(moment, at, zone):
    tz = ZoneInfo(zone)
    now = moment.timestamp()
    ours = next_run_at(now, at, tz)
    local = datetime.fromtimestamp(ours, tz)
    assert ours > now and ours - now <= 26 * 3600
    if local.strftime("%H:%M") != at:  # only where `at` falls in a spring-forward gap
        scheduled = datetime.combine(local.date(), datetime.strptime(at, "%H:%M").time())
        assert local.replace(tzinfo=None) - scheduled == timedelta(hours=1)
    earlier_day = datetime.combine(local.date() - timedelta(days=1), local.time(), tzinfo=tz)
    assert earlier_day.timestamp() <= now  # no occurrence was skipped


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1),
                    timezones=st.just(UTC)),
       st.sampled_from(["08:00", "23:59"]),
       st.sampled_from(["Europe/Stockholm", "America/New_York", "UTC"]))
@example(datetime(2024, 3, 31, tzinfo=UTC), "00:00", "Europe/Stockholm")  # apscheduler skips
@settings(max_examples=100, deadline=None)
def test_next_run_agrees_with_apschedulers_cron_trigger(moment, at, zone):
    """The agent schedules with CronTrigger; the pure function says when that is. Where
    they differ, apscheduler 3 skipped a day next to a DST change (the agent's tick
    catches a missed morning run up), so ours is the earlier, correct one."""
    from apscheduler.triggers.cron import CronTrigger

    tz = ZoneInfo(zone)
    hour, minute = (int(x) for x in at.split(":"))
    theirs = CronTrigger(hour=hour, minute=minute, timezone=tz).get_next_fire_time(
        None, moment + timedelta(microseconds=1)).timestamp()
    ours = next_run_at(moment.timestamp(), at, tz)
    assert ours == pytest.approx(theirs) or (ours < theirs and theirs - ours <= 86400 + 3600)


@pytest.mark.parametrize("section, message", [
    ("{daily_at: '25:00'}", "checklists.daily_at: expected a time of day HH:MM, got '25:00'"),
    ("{timezone: Mars/Olympus}", "checklists.timezone: unknown time zone 'Mars/Olympus'"),
    ("{daily_at: '10:00', deadline: '09:30'}",
     "checklists: deadline 09:30 must be later than daily_at 10:00"),
    ("{backups: [{path: /b, max_age_h: 0}]}", "checklists.backups[0].max_age_h: "),
])
def test_config_section_errors_name_the_key(section, message):
    from agent.config import ConfigError, parse_config

    with pytest.raises(ConfigError) as err:
        parse_config(f"checklists: {section}\n", "a.yaml")
    assert len(err.value.problems) == 1
    assert err.value.problems[0].startswith("a.yaml:1: " + message), err.value.problems


def test_config_section_defaults_and_normalised_times():
    from agent.config import parse_config

    c = parse_config("checklists: {daily_at: '7:05', timezone: Europe/Stockholm}\n", "a.yaml")
    assert (c.checklists.daily_at, c.checklists.deadline) == ("07:05", "10:00")
    from agent.checklists.runner import settings_of

    bare = parse_config("targets: {}\n", "a.yaml")
    assert bare.checklists is None and settings_of(bare).daily_at == "08:00"
