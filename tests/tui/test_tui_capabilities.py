"""The Remediation, Costs and Checklists screens and the overview's routing split and
spend gauge, driven with Pilot against the simulator and an in-process agent (configured
as `alice-tui --demo` runs it): dry-run, typed confirmation and run of a playbook (the
simulator's backend receives it), ticking a checklist item (the agent's run records it),
read-only mode offering none of the mutating keys, and the command palette's actions."""

from __future__ import annotations

import pytest
from tui_helpers import FakeSource, demo_agent, make_app, screen_text, wait_for

from tui.screens.checklists import ChecklistsScreen
from tui.screens.confirm_run import ConfirmRun
from tui.screens.plan_dialog import PlanDialog
from tui.screens.remediation import RemediationScreen
from tui.screens.tick_form import TickForm
from tui.source import InProcessSource
from tui.widgets.component_tile import ComponentTile
from tui.widgets.keyed_table import KeyedTable

SIZE = (80, 24)
PLAYBOOK = "intent-accuracy-drop"  # http steps only: the simulator's backend admin API


def select(table: KeyedTable, key: str) -> bool:
    for i, row in enumerate(table.ordered_rows):
        if row.key.value == key:
            table.move_cursor(row=i, animate=False)
            return True
    return False


@pytest.fixture
async def live(tmp_path):
    async with demo_agent(tmp_path) as (sim, service):
        yield sim, service


async def test_overview_routing_split_and_spend_gauge(live):
    sim, service = live
    app = make_app(InProcessSource(service=service), refresh_min_s=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "by midnight" in screen_text(app)
                       and len(app.screen.query(ComponentTile)) == 6, timeout=20)
        text = screen_text(app)
        assert "routing fast" in text and "in band 60-70%" in text
        assert "spend  OK " in text and "/10.00 USD" in text
        names = {t.name_ for t in app.screen.query(ComponentTile)}
        assert "cost" not in names and "openai" in names  # the gauge stands for it
        assert any(c["name"] == "cost" for c in app.snapshot["components"])


async def test_costs_screen_shows_windows_sources_and_routing(live):
    _sim, service = live
    app = make_app(InProcessSource(service=service), refresh_min_s=0.1)
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_for(pilot, lambda: (app.snapshot or {}).get("cost"), timeout=20)
        await pilot.press("4")
        await wait_for(pilot, lambda: "weekly" in screen_text(app))
        text = screen_text(app)
        for word in ("hourly", "daily", "weekly", "burn rate", "prometheus", "advice:",
                     "alerts at 80 % / 95 %"):
            assert word in text, word


async def test_remediation_dry_run_confirm_and_run(live):
    sim, service = live
    app = make_app(InProcessSource(service=service), refresh_min_s=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None, timeout=20)
        await pilot.press("3")
        screen = await wait_for(pilot, lambda: isinstance(app.screen, RemediationScreen)
                                and app.screen)
        table = screen.query_one("#playbooks", KeyedTable)
        await wait_for(pilot, lambda: select(table, PLAYBOOK))

        await pilot.press("p")  # the dry-run: the exact request, nothing sent
        dialog = await wait_for(pilot, lambda: isinstance(app.screen, PlanDialog)
                                and app.screen)
        shown = screen_text(app)
        assert f"{sim.urls['backend']}/api/admin/config" in shown
        assert '"fast_path_confidence_threshold": 0.7' in shown
        assert "config" not in sim.state or not sim.state["config"]
        assert dialog.plan["playbook"] == PLAYBOOK
        await pilot.press("escape")

        await wait_for(pilot, lambda: isinstance(app.screen, RemediationScreen))
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmRun))
        await pilot.press(*"intent", "enter")  # not the name: refused, the form stays
        await wait_for(pilot, lambda: f"type {PLAYBOOK} exactly" in screen_text(app))
        app.screen.query_one("#confirm").value = ""
        await pilot.press(*PLAYBOOK, "enter")
        await wait_for(pilot, lambda: (sim.state.get("config") or {}).get(
            "fast_path_confidence_threshold") == 0.7, timeout=20)
        await wait_for(pilot, lambda: (screen.last_result or {}).get("outcome") == "ok",
                       timeout=20)
        runs = screen.query_one("#runs", KeyedTable)
        await wait_for(pilot, lambda: runs.row_count >= 2)  # the plan and the run
        text = screen_text(app)
        assert "OK" in text and "tester@alice-tui" in text

        await pilot.press("u")  # resume: not suspended, still recorded
        await wait_for(pilot, lambda: (screen.last_result or {}).get("resumed") is True)


async def test_checklist_tick_and_weekly(live):
    _sim, service = live
    app = make_app(InProcessSource(service=service), refresh_min_s=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await service.runtime.checklists.tick()  # the agent's own 15 s tick, now
        await wait_for(pilot, lambda: ((app.snapshot or {}).get("checklists") or {})
                       .get("daily"), timeout=10)
        await pilot.press("5")
        screen = await wait_for(pilot, lambda: isinstance(app.screen, ChecklistsScreen)
                                and app.screen)
        table = screen.query_one("#checklist", KeyedTable)
        await wait_for(pilot, lambda: select(table, "hud_display"))
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TickForm))
        await pilot.press("backspace", "backspace", "backspace", "backspace", *"fail",
                          "enter", "enter")  # fail needs a note: refused
        await wait_for(pilot, lambda: "a note is required" in screen_text(app))
        await pilot.press(*"HUD clock frozen", "enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, TickForm))

        def answered():
            run = service.runtime.checklists_state().get("daily") or {}
            item = next((i for i in run.get("items", []) if i["id"] == "hud_display"), {})
            return item.get("result") == "fail" and item.get("note") == "HUD clock frozen" \
                and item.get("by") == "tester@alice-tui"
        await wait_for(pilot, answered, timeout=10)
        await wait_for(pilot, lambda: "HUD clock frozen" in str(table.get_cell(
            "hud_display", "note")) and "FAIL" in str(table.get_cell("hud_display", "result")))
        # the detail pane under the table shows the highlighted item whole at 80 columns
        await wait_for(pilot, lambda: "HUD clock frozen" in screen_text(app).split("────")[-1]
                       and "answered by tester@alice-tui at " in screen_text(app))
        await pilot.press("w")
        await wait_for(pilot, lambda: screen.kind == "weekly"
                       and screen_text(app).lstrip().split("\n")[1].lstrip()
                       .startswith("weekly"))


async def test_read_only_offers_no_mutating_key(ok_snapshot):
    snap = dict(ok_snapshot, remediation={"playbooks": [
        {"name": "openai-outage", "title": "OpenAI outage", "mode": "off", "state": "ready",
         "steps": 3, "suspended": True}], "history": []},
        checklists={"daily": {"items": [{"id": "hud_display", "text": "HUD", "kind":
                                         "manual", "result": None}]}})
    app = make_app(FakeSource(snap), snap, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Dry-run playbook openai-outage" in titles
        assert not [t for t in titles if t.startswith(("Run playbook", "Resume playbook",
                                                        "Tick "))]
        await pilot.press("3")
        await wait_for(pilot, lambda: isinstance(app.screen, RemediationScreen))
        await pilot.press("r", "u")
        await pilot.pause(0.2)
        assert isinstance(app.screen, RemediationScreen)
        footer = screen_text(app).splitlines()[-1]
        assert "dry-run" in footer and " run " not in footer and "resume" not in footer
        await pilot.press("5")
        await wait_for(pilot, lambda: isinstance(app.screen, ChecklistsScreen))
        await pilot.press("t", "enter")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ChecklistsScreen)


async def test_palette_commands_reach_the_screens(ok_snapshot):
    snap = dict(ok_snapshot, remediation={"playbooks": [
        {"name": "openai-outage", "title": "OpenAI outage", "mode": "off", "state": "ready",
         "steps": 3}], "history": []},
        checklists={"daily": {"items": [{"id": "hud_display", "text": "Verify HUD",
                                         "kind": "manual", "result": None}]}})

    class Source(FakeSource):
        async def remediation_plan(self, name, by):
            self.commands.append(("plan", name, by))
            return {"playbook": name, "title": "OpenAI outage", "steps": [
                {"type": "notify", "title": "tell the team", "message": "m",
                 "severity": "info", "timeout_s": 5}], "revert": []}

    source = Source(snap)
    app = make_app(source, snap)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        commands["Dry-run playbook openai-outage"].callback()
        await wait_for(pilot, lambda: isinstance(app.screen, PlanDialog))
        assert source.commands[-1] == ("plan", "openai-outage", "tester@alice-tui")
        assert "1. tell the team" in screen_text(app)
        await pilot.press("escape")
        commands["Run playbook openai-outage"].callback()
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmRun))
        await pilot.press("escape")
        commands["Tick daily item: Verify HUD"].callback()
        await wait_for(pilot, lambda: isinstance(app.screen, TickForm))
