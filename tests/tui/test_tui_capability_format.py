"""The pure parts of the Remediation, Costs and Checklists screens: rows, summaries, the
dry-run text, the forms' checks, ASCII mode (every character drawable by a poor font)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from tui.screens.checklists import item_row, run_summary
from tui.screens.confirm_run import check_confirmation
from tui.screens.costs import cost_view
from tui.screens.plan_dialog import plan_text, step_lines
from tui.screens.remediation import playbook_row, run_row
from tui.screens.tick_form import check_answer


def rendered(renderable, width: int = 80) -> str:
    console = Console(width=width, color_system=None, record=True, legacy_windows=False,
                      file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def test_playbook_and_run_rows(outage_snapshot):
    now = outage_snapshot["taken_at_unix"] + 2
    playbooks = {p["name"]: p for p in outage_snapshot["remediation"]["playbooks"]}
    row = playbook_row(playbooks["openai-outage"], now)
    assert row[0] == "openai-outage" and row[1].plain == "TRIGGERED"
    assert row[4].plain.startswith("PLANNED ") and "openai_health" in row[5]
    cooling = dict(playbooks["openai-outage"], state="cooldown", cooldown_left_s=90)
    assert playbook_row(cooling, now)[1].plain == "COOLDOWN 1m"  # fmt.format_duration
    run = outage_snapshot["remediation"]["history"][0]
    cells = run_row(run, now)
    assert cells[1:4][0] == "openai-outage" and cells[3].plain == "PLANNED"
    assert cells[4] == "ops@example"


def test_checklist_rows_and_summary(outage_snapshot):
    daily = outage_snapshot["checklists"]["daily"]
    rows = {i["id"]: item_row(i) for i in daily["items"]}
    hud = rows["hud_display"]
    assert hud[0].plain == "WARN" and hud[1] == "manual"
    assert "HUD shows the offline banner (ops@example)" in hud[3]
    assert rows["services_green"][0].plain == "OPEN" and rows["services_green"][1] == "auto"
    auto = dict(daily["items"][0], result="pass", source="auto", evidence="6/6 green")
    assert item_row(auto)[0].plain == "PASS" and item_row(auto)[3] == "6/6 green"
    text = run_summary("daily", daily, outage_snapshot["checklists"]["schedule"], 0)
    assert text.startswith("daily 20") and "1 of 17 answered (16 open)" in text
    assert "deadline 23:59" in text
    assert run_summary("weekly", None, None, 0).startswith("weekly: no run yet")


@pytest.mark.parametrize("result, note, expected", [
    ("y", "", {"result": "pass", "note": ""}),
    (" PASS ", " fine ", {"result": "pass", "note": "fine"}),
    ("skip", "", {"result": "skipped", "note": ""}),
    ("n", "HUD frozen", {"result": "fail", "note": "HUD frozen"}),
])
def test_check_answer(result, note, expected):
    assert check_answer(result, note) == expected


@pytest.mark.parametrize("result, note, problem", [
    ("maybe", "", "result: one of pass, warn, fail, skipped"),
    ("warn", " ", "a note is required for warn and fail"),
])
def test_check_answer_refuses(result, note, problem):
    with pytest.raises(ValueError, match=problem):
        check_answer(result, note)


def test_check_confirmation():
    assert check_confirmation("full-recovery", " full-recovery ") == "full-recovery"
    for typed in ("", "full", "Full-Recovery", "y"):
        with pytest.raises(ValueError, match="type full-recovery exactly"):
            check_confirmation("full-recovery", typed)


def test_plan_text_shows_every_step_exactly():
    plan = {"playbook": "openai-outage", "title": "OpenAI outage", "guide": "Emergency",
            "revert_on_resolve": True, "steps": [
                {"type": "env", "title": "switch to local-only", "file": "/srv/alice/.env",
                 "set": {"VOICE_ARCHITECTURE": "local_only", "OPENAI_API_KEY": "<secret>"},
                 "diff": [{"key": "VOICE_ARCHITECTURE", "old": "hybrid",
                           "new": "local_only"}], "timeout_s": 30, "optional": False},
                {"type": "compose", "title": "backend", "timeout_s": 30,
                 "argv": ["docker", "compose", "-f", "local.yml", "up", "-d", "backend"]},
                {"type": "http", "title": "HUD", "method": "POST",
                 "url": "http://b/api/admin/set-mode", "body": {"mode": "offline"},
                 "timeout_s": 10, "optional": True}],
            "revert": [{"type": "notify", "title": "tell", "message": "back",
                        "severity": "info", "timeout_s": 5}]}
    text = plan_text(plan).plain
    for part in ("3 step(s), in order:", "1. switch to local-only",
                 "in /srv/alice/.env: VOICE_ARCHITECTURE=local_only, OPENAI_API_KEY=<secret>",
                 '"new": "local_only"', "$ docker compose -f local.yml up -d backend",
                 "POST http://b/api/admin/set-mode", 'body {"mode": "offline"}', "(optional)",
                 "revert (when the alert resolves):", "r1. tell", "info: back"):
        assert part in text, part
    assert text.isascii()
    assert "timeout 30 s" in step_lines(plan["steps"][0], "1").plain


def test_cost_view_in_ascii_and_without_a_cost_section(outage_snapshot):
    now = outage_snapshot["taken_at_unix"] + 2
    text = rendered(cost_view(outage_snapshot, now, 76, ascii_only=True))
    for part in ("hourly", "daily", "weekly", "burn rate", "sources", "prometheus"):
        assert part in text
    assert text.isascii()
    assert "cost: {}" in rendered(cost_view({"cost": {}}, now, 76))


def test_checklist_item_detail_shows_what_the_columns_cut():
    from tui.screens.checklists import item_detail

    now = 1_764_000_000.0
    item = {"id": "health", "text": "Run the health check - all services green",
            "evidence": "gateway critical: connection refused", "note": "paged on-call",
            "by": "ops@box", "at": now - 60}
    lines = item_detail(item, now).splitlines()
    assert lines[0] == "Run the health check - all services green"
    assert lines[1] == "evidence: gateway critical: connection refused"
    assert lines[2] == "note: paged on-call"
    assert lines[3].startswith("answered by ops@box at ")
    assert item_detail({"text": "Verify HUD"}, now) == "Verify HUD"  # open: just the text
    assert item_detail(None, now) == ""
