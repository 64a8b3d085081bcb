"""The dashboard against the simulator through the in-process source: the agent runs in
the test's event loop (probing every 0.5 s); the simulator switches to an OpenAI
outage, the openai tile turns CRITICAL, and a silence and an ack made on the Alerts
screen reach the agent's state."""

from __future__ import annotations

from tui_helpers import demo_agent, make_app, screen_text, wait_for

from tui.screens.ack_form import AckForm
from tui.screens.history import AlertHistoryScreen
from tui.screens.silence_form import SilenceForm
from tui.source import InProcessSource
from tui.widgets.alert_table import AlertTable


COMPONENTS = ("openai", "ollama", "gateway", "backend", "prometheus", "host")
STATUS_WORDS = ("OK", "WARNING", "UNKNOWN", "CRITICAL")


def _all_tiles(text: str) -> bool:
    return all(any(f"{name}  {word}" in text for word in STATUS_WORDS) for name in COMPONENTS)


def _alert(service, name):
    snap = service.runtime.snapshot
    return next((a for a in snap.alerts if a.name == name), None) if snap else None


async def test_outage_silence_and_ack_through_the_dashboard(tmp_path):
    async with demo_agent(tmp_path) as (sim, service):
        source = InProcessSource(service=service, label="demo")
        assert source.expected_interval_s == 0.5
        app = make_app(source, refresh_min_s=0.1)
        async with app.run_test(size=(80, 24)) as pilot:
            # every tile painted with its status word, not only the first one to arrive
            await wait_for(pilot, lambda: "openai  OK" in screen_text(app)
                           and _all_tiles(screen_text(app)), timeout=30)
            assert "STALE" not in screen_text(app)

            sim.set_scenario("openai-outage")
            await wait_for(pilot, lambda: "openai  CRITICAL" in screen_text(app), timeout=20)

            await pilot.press("2")
            table = await wait_for(pilot, lambda: app.current_mode == "alerts"
                                   and app.screen.query_one(AlertTable))
            await wait_for(pilot, lambda: (a := _alert(service, "openai_error_rate"))
                           and a.phase == "firing", timeout=20)
            await wait_for(pilot, lambda: _select(table, "openai_error_rate"), timeout=10)
            assert app.screen.selected_alert()["name"] == "openai_error_rate"

            await pilot.press("s")
            form = await wait_for(pilot, lambda: isinstance(app.screen, SilenceForm)
                                  and app.screen)
            form.query_one("#duration").value = "30m"
            form.query_one("#reason").focus()
            await pilot.press(*"provider outage, INC-7", "enter")
            await wait_for(pilot, lambda: service.runtime.snapshot.silences, timeout=10)
            silence = service.runtime.snapshot.silences[0]
            assert silence["matchers"] == ['alertname="openai_error_rate"']
            assert silence["comment"] == "provider outage, INC-7"
            assert silence["created_by"] == "tester@alice-tui"
            await wait_for(pilot, lambda: _alert(service, "openai_error_rate").silenced_by
                           == silence["id"], timeout=10)
            await wait_for(pilot, lambda: "silenced" in screen_text(app), timeout=10)

            await pilot.press("a")
            await wait_for(pilot, lambda: isinstance(app.screen, AckForm))
            await pilot.press(*"failing over to local", "enter")
            await wait_for(pilot, lambda: _alert(service, "openai_error_rate").acked
                           == "failing over to local", timeout=10)

            # the history: the agent's audit trail of the transition, read through the
            # in-process source (Runtime.alert_history over the store)
            await pilot.press("h")
            await wait_for(pilot, lambda: isinstance(app.screen, AlertHistoryScreen))
            await wait_for(pilot, lambda: any(
                "FIRING" in line and "openai_error_rate" in line
                for line in screen_text(app).splitlines()), timeout=10)


def _select(table, name) -> bool:
    """Cursor to the row of alert `name` once it is in the table."""
    for i, row in enumerate(table.ordered_rows):
        if table.get_cell(row.key, "name") == name:
            table.move_cursor(row=i)
            return True
    return False
