"""The dashboard's per-session cap, cost per audio minute and rate-limit headroom (issue 16):
the overview's second spend line judges the most expensive session against
`cost.session_cap_usd` (word and cause whole at 80x24, NO_COLOR too), and the Costs screen
lists the sessions, the cost per audio minute with its basis and the rate-limit headroom
naming the row that judged it. Live against the simulator's `session-runaway` scenario,
on its recording (session_runaway.json, tests/tui/data/record_session_runaway.py), and on
the pure line builders."""

from __future__ import annotations

import copy
import io
import re

import pytest
from rich.console import Console, Group
from tui_helpers import (FakeSource, demo_agent, load, make_app, ready, screen_text,
                         wait_for)

from tui.screens.costs import audio_lines, ratelimit_lines, sessions_lines
from tui.source import InProcessSource
from tui.widgets.component_tile import ComponentTile
from tui.widgets.spend_gauge import session_text

SIZE = (80, 24)
OVER_CAP = re.compile(r"sessions  CRITICAL  sess_sim03 spent \d+\.\d+ USD > cap 0\.10 USD")


def runaway() -> dict:
    return load("session_runaway.json")


def plain(parts, width: int = 78) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None, record=True)
    console.print(Group(*parts))
    return " ".join(console.export_text().split())


def with_rate_limits(snapshot: dict, judged_by: str = "cost", title: str = "") -> dict:
    """The snapshot plus what LiteLLM's gauges give (requests with a limit, tokens without)
    and the row that judged requests: the cost row or an openai row (deep probe, or the
    app's figure, titled so)."""
    snap = copy.deepcopy(snapshot)
    snap["cost"]["rate_limits"] = [
        {"kind": "requests", "remaining": 900.0, "limit": 5000.0, "left_percent": 18.0,
         "source": "min(litellm_remaining_requests_metric)", "discovered": True},
        {"kind": "tokens", "remaining": 150000.0, "limit": None, "left_percent": None,
         "source": "min(litellm_remaining_tokens_metric)", "discovered": True}]
    component = next(c for c in snap["components"] if c["name"] == judged_by)
    component["metrics"].append({
        "component": judged_by, "name": "rate_limit_requests_left", "value": 18.0,
        "unit": "percent", "target": "> 20 %", "alert": "< 5 %", "status": "warning",
        "title": title or "Requests left in the rate-limit window"})
    return snap


def line_of(text: str, start: str) -> str:
    return next(line.strip() for line in text.splitlines() if line.strip().startswith(start))


async def test_a_runaway_session_turns_the_session_line_critical(tmp_path):
    async with demo_agent(tmp_path, cost={"session_cap_usd": 0.1}) as (sim, service):
        app = make_app(InProcessSource(service=service, label="demo"), refresh_min_s=0.1)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: "sessions  OK  " in screen_text(app), timeout=30)
            calm = line_of(screen_text(app), "sessions")
            assert re.fullmatch(r"sessions  OK  \S+ spent 0\.\d+ USD, \d+ % of cap 0\.10 USD"
                                r"( \(\d+ sessions\))?", calm), calm
            sim.set_scenario("session-runaway")
            await wait_for(pilot, lambda: OVER_CAP.search(screen_text(app)), timeout=40)
            assert "spend  OK" in screen_text(app)  # the daily budget is fine: two lines
            await pilot.press("4")
            await wait_for(pilot, lambda: app.current_mode == "costs"
                           and "sess_sim03" in screen_text(app))
            text = screen_text(app)
            assert re.search(r"sessions\s+CRITICAL\s+cap 0\.10 USD", text), text
            assert re.search(r"sess_sim03\s+\d+\.\d{4}\s+\d+%\s+EXCEEDED\s+text \S+/", text)
            assert "basis: measured" in text and "USD/min all in" in text


@pytest.mark.parametrize("ascii_only", [False, True])
async def test_no_color_keeps_the_session_words_at_80x24(monkeypatch, ascii_only):
    monkeypatch.setenv("NO_COLOR", "1")
    snap = with_rate_limits(runaway())
    app = make_app(FakeSource(snap), snap, ascii_only=ascii_only)
    assert app.no_color
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None
                       and len(app.screen.query(ComponentTile)) == 6)
        await pilot.pause(0.1)
        assert OVER_CAP.fullmatch(line_of(screen_text(app), "sessions").split(" (")[0])
        await pilot.press("4")
        await wait_for(pilot, lambda: "tokens in/out" in screen_text(app))
        text = screen_text(app)
        assert re.search(r"sessions\s+CRITICAL\s+cap 0\.10 USD\s+8 sessions, gpt-realtime "
                         "prices", text), text
        assert "basis: measured" in text
        if ascii_only:
            assert not sorted({ch for ch in text if not ch.isascii()})


def test_a_long_session_id_is_cut_in_the_middle_never_the_word_or_the_figures():
    snap = runaway()
    per = snap["cost"]["per_session"]
    sid = "3f2b9c1e-7d4a-4e8b-9a6f-0c5d2e1b8a77"
    per["top"][0]["session"], per["text"] = sid, f"session {sid} spent 0.42 USD > cap 0.25 USD"
    for ascii_only, mark in ((False, "…"), (True, "~")):
        line = session_text(snap, 78, ascii_only).plain
        assert len(line) <= 78 and line.startswith("sessions  CRITICAL  3f2b")
        assert line.endswith("8a77 spent 0.42 USD > cap 0.25 USD") and mark in line


def test_rate_limits_name_the_row_that_judged_them_and_their_units():
    snap = with_rate_limits(runaway())
    text = plain(ratelimit_lines(snap, snap["cost"]))
    assert ("requests WARNING 18 % left; app metrics: 900 requests left of 5.0k judged on "
            "cost/rate_limit_requests_left (app metrics); from "
            "min(litellm_remaining_requests_metric)") in text
    assert ("tokens not judged: 150.0k tokens left set cost.rate_limits.tokens.limit to "
            "judge it; from min(litellm_remaining_tokens_metric)") in text
    deep = with_rate_limits(runaway(), judged_by="openai")
    assert "18 % left; app metrics: 900 requests left of 5.0k (18 %) judged on " \
        "openai/rate_limit_requests_left (deep probe headers)" in \
        plain(ratelimit_lines(deep, deep["cost"]))
    bound = with_rate_limits(runaway(), judged_by="openai",
                             title="Requests left in the rate-limit window (app metrics)")
    assert "left of 5.0k judged on openai/rate_limit_requests_left (app metrics)" in \
        plain(ratelimit_lines(bound, bound["cost"]))
    assert ratelimit_lines(runaway(), runaway()["cost"]) == []  # no figure, no row: no lines


def test_audio_says_its_basis():
    cost = runaway()["cost"]
    measured = plain(audio_lines(cost))
    assert re.search(r"audio gpt-realtime, basis: measured measured \d\.\d{4} USD/min all in "
                     r"\(\d\.\d min in \+ \d\.\d out: \d\.\d{4} USD\) list price 0\.0192 "
                     r"USD/min in, 0\.0768 USD/min out", measured), measured
    cost["audio"].update(basis="list price", measured=None)
    assert plain(audio_lines(cost)) == ("audio gpt-realtime, basis: list price list price "
                                        "0.0192 USD/min in, 0.0768 USD/min out")
    cost["audio"].update(basis="no audio price", list_usd_per_minute=None)
    assert "no audio price in the price table (cost.prices adds one)" in \
        plain(audio_lines(cost))


def test_sessions_without_a_cap_and_with_a_cap_but_no_series():
    cost = runaway()["cost"]
    per = cost["per_session"]
    off = copy.deepcopy(cost)
    off["per_session"].update(cap_usd=None, status="off", text="8 sessions")
    for t in off["per_session"]["top"]:
        t["percent_of_cap"] = None
    text = plain(sessions_lines(off))
    assert "sessions no cap (cost.session_cap_usd) 8 sessions" in text
    assert re.search(r"sess_sim03 \d+\.\d{4} - - text", text), text
    assert session_text({"cost": off}, 78).plain == ""  # no cap: no overview line
    per.update(available=False, status="absent", top=[], count=0,
               reason="no series alice_realtime_session_tokens_total in Prometheus",
               text="no series alice_realtime_session_tokens_total in Prometheus")
    assert "not measured, a blind spot: no series alice_realtime_session_tokens_total" in \
        plain(sessions_lines(cost))
    line = session_text({"cost": cost}, 78).plain
    assert line.startswith("sessions  absent  cap 0.10 USD: not measured (blind spot): no")


@pytest.mark.parametrize("screen", ["1", "4"], ids=["overview", "costs"])
def test_session_runaway_snapshot(snap_compare, screen):
    snap = with_rate_limits(runaway())
    app = make_app(FakeSource(snap), snap)
    assert snap_compare(app, terminal_size=SIZE, run_before=ready(screen))
