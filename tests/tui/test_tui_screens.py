"""Every screen and key, driven with Pilot against a fake source replaying recorded
snapshots (fast and deterministic; the live agent is in test_tui_live.py)."""

from __future__ import annotations

import copy

import pytest
from tui_helpers import FakeSource, make_app, screen_text, wait_for

from tui import format as fmt
from tui.keys import ACTIONS, effective_key, key_display
from tui.messages import SnapshotArrived
from tui.screens.ack_form import AckForm
from tui.screens.detail import AlertDetail, ComponentDetail
from tui.screens.help import HelpScreen
from tui.screens.silence_form import SilenceForm
from tui.widgets.alert_table import AlertTable
from tui.widgets.component_tile import ComponentTile

SIZE = (80, 24)


async def started(pilot, app):
    await wait_for(pilot, lambda: app.snapshot is not None and app.current_mode == "overview"
                   and len(app.screen.query(ComponentTile)) > 0)


@pytest.mark.parametrize("key, mode, words", [
    ("1", "overview", ["openai", "CRITICAL", "routing fast   5%", "BELOW BAND",
                       "spend  OK ", "by midnight", "Firing alerts (3)"]),
    ("2", "alerts", ["FIRING", "openai_error_rate", "Silences (1 active)"]),
    ("3", "remediation", ["9 playbooks", "openai-outage", "READY", "PLANNED",
                          "ops@example"]),
    ("4", "costs", ["hourly", "daily", "weekly", "burn rate", "prometheus", "BELOW BAND"]),
    ("5", "checklists", ["daily 20", "1 of 17 answered", "WARN", "OPEN",
                         "Verify HUD displays correctly"]),
    ("6", "capacity", ["CPU use", "Memory use", "Disk use", "GPU: no GPU",
                       "Think path queue depth"]),
])
async def test_number_keys_switch_screens(outage_snapshot, key, mode, words):
    app = make_app(FakeSource(outage_snapshot), outage_snapshot)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        if key != "1":
            await pilot.press("2" if key == "1" else key)
        await wait_for(pilot, lambda: app.current_mode == mode)
        text = await wait_for(pilot, lambda: (t := screen_text(app)) and
                              all(w in t for w in words) and t)
        assert f"{key} " in text.splitlines()[0]  # the header names the screen


async def test_overview_tiles_show_word_value_target_alert_and_age(outage_snapshot):
    app = make_app(FakeSource(outage_snapshot), outage_snapshot)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        text = screen_text(app)
        for name in ("openai", "ollama", "gateway", "backend", "prometheus", "host"):
            assert name in text
        assert "openai  CRITICAL" in text and "backend  OK" in text
        assert "t<300ms a>500ms" in text  # the headline metric against target and alert
        openai = next(c for c in outage_snapshot["components"] if c["name"] == "openai")
        ago = fmt.age(openai["last_good_at"], outage_snapshot["taken_at_unix"] + 2)
        assert f"good {ago}" in text  # last good probe of openai, on the frozen clock
        assert "data 2s ago" in text.splitlines()[0]
        assert "STALE" not in text


async def test_help_lists_every_key_and_closes(outage_snapshot):
    app = make_app(FakeSource(outage_snapshot), outage_snapshot, keys={"silence": "S"})
    async with app.run_test(size=(160, 60)) as pilot:
        await started(pilot, app)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = screen_text(app)
        for action in ACTIONS:
            assert action.description.split(":")[0] in text
            assert key_display(effective_key(action.id, app.keys)) in text
        assert "ctrl+p" in text and "tab / shift+tab" in text and "pgup / pgdn" in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))


async def test_q_quits(ok_snapshot):
    app = make_app(FakeSource(ok_snapshot), ok_snapshot)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running)
    assert app.return_code == 0


async def test_escape_goes_back_to_overview(ok_snapshot):
    app = make_app(FakeSource(ok_snapshot), ok_snapshot)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("4")
        await wait_for(pilot, lambda: app.current_mode == "costs")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.current_mode == "overview")


async def test_tab_moves_between_tiles_and_enter_opens_details(outage_snapshot):
    app = make_app(FakeSource(outage_snapshot), outage_snapshot)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("tab")
        first = app.focused
        assert isinstance(first, ComponentTile) and first.name_ == "openai"
        await pilot.press("tab")
        assert isinstance(app.focused, ComponentTile) and app.focused.name_ == "ollama"
        await pilot.press("shift+tab")
        assert app.focused is first
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ComponentDetail))
        text = screen_text(app)
        assert "Fast path error rate" in text and "< 1 %" in text and "> 5 %" in text
        assert "openai_health" in text  # the component's alerts
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.current_mode == "overview"
                       and not isinstance(app.screen, ComponentDetail))


async def test_slash_filters_the_alerts_and_escape_clears(outage_snapshot):
    app = make_app(FakeSource(outage_snapshot), outage_snapshot)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("slash")  # from the overview: opens the Alerts filter
        await wait_for(pilot, lambda: app.current_mode == "alerts"
                       and app.focused is not None and app.focused.id == "filter")
        table = app.screen.query_one(AlertTable)
        assert table.row_count == 3
        await pilot.press(*"error_rate")  # "error" alone: the error rate and an HTTP 503
        await wait_for(pilot, lambda: table.row_count == 1)
        assert "1 of 3 alerts; filter: 'error_rate'" in screen_text(app)
        await pilot.press("enter")
        assert app.focused is table
        await pilot.press("escape")
        await wait_for(pilot, lambda: table.row_count == 3)
        assert app.current_mode == "alerts"  # the first esc only clears the filter
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.current_mode == "overview")


async def test_enter_on_an_alert_shows_its_details(outage_snapshot):
    app = make_app(FakeSource(outage_snapshot), outage_snapshot)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("2")
        await wait_for(pilot, lambda: app.screen.query(AlertTable)
                       and app.screen.query_one(AlertTable).row_count == 3)
        await select_alert(pilot, app, "openai_response_latency_p95")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AlertDetail))
        text = screen_text(app)
        assert "openai_response_latency_p95" in text
        assert "provider incident, tracked in INC-42 (ops@example)" in text  # why silenced


async def open_alerts(pilot, app, row_name: str | None = None):
    await started(pilot, app)
    await pilot.press("2")
    table = await wait_for(pilot, lambda: app.current_mode == "alerts"
                           and (t := app.screen.query_one(AlertTable)).row_count and t)
    if row_name is not None:
        await select_alert(pilot, app, row_name)
    return table


async def select_alert(pilot, app, name: str) -> None:
    """Down (wrapping to the top once) until the alert `name` is selected."""
    table = app.screen.query_one(AlertTable)
    for _ in range(2 * table.row_count + 1):
        if app.screen.selected_alert()["name"] == name:
            return
        await pilot.press("down" if table.cursor_row < table.row_count - 1 else "ctrl+home")
    raise AssertionError(f"no alert {name} in the table")


async def test_silence_form_sends_the_silence(outage_snapshot):
    source = FakeSource(outage_snapshot)
    app = make_app(source, outage_snapshot)
    async with app.run_test(size=SIZE) as pilot:
        await open_alerts(pilot, app, "openai_error_rate")
        await pilot.press("s")
        form = await wait_for(pilot, lambda: isinstance(app.screen, SilenceForm)
                              and app.screen)
        assert form.query_one("#matchers").value == 'alertname="openai_error_rate"'
        await pilot.press("enter")  # empty reason: refused with a message, form stays
        await wait_for(pilot, lambda: "a reason is required" in screen_text(app))
        form.query_one("#duration").value = "2h"
        form.query_one("#reason").focus()
        await pilot.press(*"provider outage", "enter")
        await wait_for(pilot, lambda: source.commands)
        assert source.commands == [("silence", 'alertname="openai_error_rate"', 7200.0,
                                    "provider outage", "tester@alice-tui")]
        assert not isinstance(app.screen, SilenceForm)


async def test_silence_form_rejects_a_bad_duration(outage_snapshot):
    source = FakeSource(outage_snapshot)
    app = make_app(source, outage_snapshot)
    async with app.run_test(size=SIZE) as pilot:
        await open_alerts(pilot, app)
        await pilot.press("s")
        form = await wait_for(pilot, lambda: isinstance(app.screen, SilenceForm)
                              and app.screen)
        form.query_one("#duration").value = "soon"
        await pilot.press(*"why", "enter")
        await wait_for(pilot, lambda: "bad duration 'soon'" in screen_text(app))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, SilenceForm))
        assert source.commands == []


async def test_ack_and_expire(outage_snapshot):
    source = FakeSource(outage_snapshot)
    app = make_app(source, outage_snapshot)
    async with app.run_test(size=SIZE) as pilot:
        await open_alerts(pilot, app, "openai_error_rate")
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AckForm))
        await pilot.press(*"on it", "enter")
        await wait_for(pilot, lambda: source.commands)
        assert source.commands[-1] == ("ack", "openai_error_rate", "on it", 86400.0,
                                       "tester@alice-tui")
        await pilot.press("x")  # not silenced: a warning, no command
        await pilot.pause(0.1)
        assert len(source.commands) == 1
        await select_alert(pilot, app, "openai_response_latency_p95")
        await pilot.press("x")
        await wait_for(pilot, lambda: len(source.commands) == 2)
        assert source.commands[-1] == ("expire", outage_snapshot["silences"][0]["id"])


async def test_a_refused_command_is_reported(outage_snapshot):
    source = FakeSource(outage_snapshot)
    source.fail_with = "agent refused the silence: missing or wrong bearer token"
    app = make_app(source, outage_snapshot)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_alerts(pilot, app)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, SilenceForm))
        await pilot.press(*"why", "enter")
        await wait_for(pilot, lambda: "silence failed" in screen_text(app))
        assert "bearer token" in screen_text(app)


async def test_read_only_offers_no_mutating_action(outage_snapshot):
    app = make_app(FakeSource(outage_snapshot), outage_snapshot, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await open_alerts(pilot, app)
        footer = screen_text(app).splitlines()[-1]
        assert "silence" not in footer and "ack" not in footer
        for key in ("s", "a", "x"):
            await pilot.press(key)
            await pilot.pause(0.05)
            assert not isinstance(app.screen, (SilenceForm, AckForm))
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert not any(t.startswith(("Silence", "Acknowledge", "Expire")) for t in titles)
        assert "(read-only)" in screen_text(app).splitlines()[0]


async def test_a_source_without_token_is_read_only(outage_snapshot):
    app = make_app(FakeSource(outage_snapshot, can_mutate=False), outage_snapshot)
    assert app.read_only


async def test_command_palette_exposes_every_action(outage_snapshot):
    app = make_app(FakeSource(outage_snapshot), outage_snapshot)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        for title in ("Screen: Overview", "Screen: Alerts", "Screen: Remediation",
                      "Screen: Costs", "Screen: Checklists", "Screen: Capacity / Host",
                      "Help: keys", "Filter alerts", "Silence alert", "Acknowledge alert",
                      "Expire silence", "Quit"):
            assert title in titles
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "CommandPalette")
        await pilot.press(*"Screen: Capa")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.current_mode == "capacity")
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "CommandPalette")
        await pilot.press(*"Silence alert")
        await pilot.pause(0.3)
        await pilot.press("enter")
        form = await wait_for(pilot, lambda: isinstance(app.screen, SilenceForm)
                              and app.screen)
        # not on the Alerts screen: the newest firing alert is the one offered
        assert form.query_one("#matchers").value.startswith('alertname="openai_')


async def test_keys_come_from_the_config_keymap(outage_snapshot):
    source = FakeSource(outage_snapshot)
    app = make_app(source, outage_snapshot, keys={"silence": "S", "quit": "ctrl+x",
                                                   "screen.alerts": "A"})
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("2")
        await pilot.pause(0.1)
        assert app.current_mode == "overview"
        await pilot.press("A")
        await wait_for(pilot, lambda: app.current_mode == "alerts")
        await pilot.press("s")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, SilenceForm)
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, SilenceForm))
        await pilot.press("escape")
        await pilot.press("q")
        await pilot.pause(0.1)
        assert app.is_running
        await pilot.press("ctrl+x")
        await wait_for(pilot, lambda: not app.is_running)


async def test_stale_when_the_source_disconnects_and_fresh_again(ok_snapshot):
    source = FakeSource(ok_snapshot)
    app = make_app(source, ok_snapshot, tick_s=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        assert "STALE" not in screen_text(app)
        source.connected, source.problem = False, "cannot connect (connection refused)"
        await wait_for(pilot, lambda: "STALE" in screen_text(app))
        assert "cannot connect" in screen_text(app).splitlines()[0]
        source.connected, source.problem = True, None
        await wait_for(pilot, lambda: "STALE" not in screen_text(app))


async def test_stale_when_updates_stop(ok_snapshot):
    now = [ok_snapshot["taken_at_unix"]]
    app = make_app(FakeSource(ok_snapshot), ok_snapshot, clock=lambda: now[0], tick_s=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        now[0] += 2.9  # < 3 x the 1 s expected interval
        await pilot.pause(0.2)
        assert "STALE" not in screen_text(app)
        now[0] += 5
        await wait_for(pilot, lambda: "STALE" in screen_text(app))
        assert "no update for 7s" in screen_text(app)


async def test_updates_land_in_place(outage_snapshot):
    source = FakeSource(outage_snapshot)
    app = make_app(source, outage_snapshot, refresh_min_s=0.0)
    async with app.run_test(size=SIZE) as pilot:
        table = await open_alerts(pilot, app)
        await pilot.press("1")
        await wait_for(pilot, lambda: app.current_mode == "overview")
        tiles = list(app.screen.query(ComponentTile))
        newer = copy.deepcopy(outage_snapshot)
        newer["seq"] += 1
        newer["alerts"][1]["cause"] = "99 % > 5 %"
        newer["components"][0]["summary"] = "HTTP 502"
        source.push(newer)
        await wait_for(pilot, lambda: "HTTP 502" in screen_text(app))
        assert list(app.screen.query(ComponentTile)) == tiles  # same widgets, new data
        await pilot.press("2")
        fp = newer["alerts"][1]["fingerprint"]
        await wait_for(pilot, lambda: "99 %" in table.get_cell(fp, "cause"))
        assert table.rows_added == 3 and table.cell_updates == 1


async def test_long_histories_are_paged(outage_snapshot):
    many = copy.deepcopy(outage_snapshot)
    template = many["alerts"][2]
    many["alerts"] = [dict(template, name=f"endpoint_{i:04d}", fingerprint=f"fp{i:04d}",
                           state="resolved") for i in range(1200)]
    app = make_app(FakeSource(many), many)
    async with app.run_test(size=SIZE) as pilot:
        table = await open_alerts(pilot, app)
        assert table.row_count == 500
        await pilot.press("ctrl+end", "pagedown")
        await wait_for(pilot, lambda: app.screen.page == 1)
        assert table.row_count == 500 and table.cursor_row == 0
        assert app.screen.selected_alert()["name"] == "endpoint_0500"
        await pilot.press("ctrl+end", "pagedown")
        await wait_for(pilot, lambda: app.screen.page == 2 and table.row_count == 200)
        assert "rows 1001-1200, page 3/3" in screen_text(app)
        await pilot.press("ctrl+home", "pageup")
        await wait_for(pilot, lambda: app.screen.page == 1)
        assert app.screen.selected_alert()["name"] == "endpoint_0999"


def test_a_newer_snapshot_replaces_an_older_one_in_the_queue():
    old, new = SnapshotArrived({"seq": 1}, 0.0), SnapshotArrived({"seq": 2}, 0.0)
    assert new.can_replace(old)


async def test_no_color_keeps_the_words(outage_snapshot, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(FakeSource(outage_snapshot), outage_snapshot)
    assert app.no_color
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        text = screen_text(app)
        assert "CRITICAL" in text and "OK" in text


async def test_ascii_mode_draws_ascii_only(outage_snapshot):
    app = make_app(FakeSource(outage_snapshot), outage_snapshot, ascii_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        for key in ("1", "2", "6"):
            await pilot.press(key)
            await pilot.pause(0.1)
            text = screen_text(app)
            bad = sorted({ch for ch in text if not ch.isascii()})
            assert not bad, f"screen {key}: {bad}"


@pytest.mark.parametrize("key, screen", [("2", "AlertsScreen"), ("3", "RemediationScreen"),
                                         ("5", "ChecklistsScreen")])
async def test_a_screen_draws_once_on_mount(outage_snapshot, monkeypatch, key, screen):
    """Textual runs every class's on_mount along the MRO by itself: a screen that also
    called super().on_mount() drew the snapshot twice on mount."""
    import traceback

    import tui.screens.alerts
    import tui.screens.checklists
    import tui.screens.remediation

    cls = next(getattr(m, screen) for m in (tui.screens.alerts, tui.screens.checklists,
                                            tui.screens.remediation) if hasattr(m, screen))
    callers: list[str] = []
    original = cls.show

    def show(self, snapshot):
        callers.append(traceback.extract_stack()[-2].name)
        original(self, snapshot)

    monkeypatch.setattr(cls, "show", show)
    app = make_app(FakeSource(outage_snapshot), outage_snapshot)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press(key)
        await wait_for(pilot, lambda: type(app.screen).__name__ == screen)
        await pilot.pause()
        assert callers.count("on_mount") == 1


async def test_a_screen_shown_again_has_a_current_header(outage_snapshot):
    """Only the current screen's header follows the clock; the others catch up when
    they are shown again."""
    at = [float(outage_snapshot["taken_at_unix"]) + 2]
    app = make_app(FakeSource(outage_snapshot), outage_snapshot, clock=lambda: at[0])
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("2")
        await wait_for(pilot, lambda: "data 2s ago" in screen_text(app).splitlines()[0]
                       and "2 Alerts" in screen_text(app).splitlines()[0])
        await pilot.press("1")
        await wait_for(pilot, lambda: app.current_mode == "overview")
        at[0] += 60
        app.received_at = at[0]  # a snapshot as old as before, just received: not STALE
        app._tick()
        await wait_for(pilot, lambda: "data 1m ago" in screen_text(app).splitlines()[0])
        await pilot.press("2")
        await wait_for(pilot, lambda: app.current_mode == "alerts")
        await pilot.pause()
        assert "data 1m ago" in screen_text(app).splitlines()[0]
