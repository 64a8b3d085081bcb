"""Alert history: the store's paged read of `alert.*` audit records (real SQLite), the
History screen paging 10,000 records through a source, and the pure row helpers."""

from __future__ import annotations

import pytest
from tui_helpers import FakeSource, history_records, make_app, screen_text, wait_for

from agent.store.database import Store
from agent.store.rows import AuditRecord
from tui.screens.history import AlertHistoryScreen, history_row, page_info
from tui.widgets.alert_table import AlertTable

SIZE = (80, 24)


def test_store_pages_alert_records_newest_first(tmp_path):
    store = Store.open(tmp_path / "state.db")
    try:
        records = []
        for i in range(2500):
            action = ("alert.firing", "alert.resolved", "silence.add")[i % 3]
            records.append(AuditRecord(1000.0 + i, "agent", action, f"rule_{i}", "warning",
                                       {"summary": f"s{i}"}))
        store.commit_cycle(3600.0, audit=records)
        alerts = [r for r in records if r.action.startswith("alert.")]
        seen, before = [], None
        while True:
            rows, total = store.alert_history(500, before)
            assert total == len(alerts)
            seen += rows
            if len(rows) < 500:
                break
            before = rows[-1].id
        assert [r.target for r in seen] == [r.target for r in reversed(alerts)]
        assert all(r.action.startswith("alert.") for r in seen)
        assert store.alert_history(10, seen[-1].id) == ([], len(alerts))
    finally:
        store.close()


def test_history_row_and_page_info():
    row = history_row({"id": 3, "ts": 1000.0, "event": "firing", "alert": "openai_error_rate",
                       "severity": "critical", "detail": {"summary": "5xx 40 %"}}, 1010.0)
    assert [getattr(c, "plain", c) for c in row[1:]] == ["FIRING", "CRITICAL",
                                                        "openai_error_rate", "5xx 40 %"]
    assert "red" in str(row[1].style)
    assert page_info(1, 500, 10_000, 500).startswith("records 501-1000 of 10,000, page 2/20")
    assert page_info(1, 200, 10_000).startswith("records 201-400 of 10,000, page 2/50")
    assert page_info(0, 0, 0) == "no alert transitions recorded yet"


async def test_history_screen_pages_ten_thousand_records(ok_snapshot):
    source = FakeSource(ok_snapshot)
    now = float(ok_snapshot["taken_at_unix"])
    source.history = history_records(10_000, now)
    app = make_app(source, ok_snapshot)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await wait_for(pilot, lambda: app.current_mode == "alerts")
        await pilot.press("h")
        screen = await wait_for(pilot, lambda: isinstance(app.screen, AlertHistoryScreen)
                                and app.screen)
        table = screen.query_one(AlertTable)
        await wait_for(pilot, lambda: table.row_count == 200)
        assert "records 1-200 of 10,000, page 1/50" in screen_text(app)
        assert table.selected_key() == "10000"
        assert source.commands[-1] == ("history", 200, None)
        await pilot.press("ctrl+end", "pagedown")  # past the last row: the next page
        await wait_for(pilot, lambda: screen.page == 1 and table.selected_key() == "9800")
        assert source.commands[-1] == ("history", 200, 9801)
        assert "records 201-400 of 10,000, page 2/50" in screen_text(app)
        await pilot.press("pageup")  # on the first row: the previous page, its last row
        await wait_for(pilot, lambda: table.selected_key() == "9801")
        loads = screen.loads
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.loads == loads + 1)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.current_mode == "alerts"
                       and not isinstance(app.screen, AlertHistoryScreen))
        loads = screen.loads
        await pilot.press("h")  # kept: the same screen, its page not older than 5 s
        await wait_for(pilot, lambda: app.screen is screen)
        await pilot.pause(0.2)
        assert screen.loads == loads and table.row_count == 200


async def test_history_from_the_command_palette_and_an_error_shown(ok_snapshot):
    class Broken(FakeSource):
        async def alert_history(self, limit, before=None):
            from tui.source import CommandError

            raise CommandError("agent unreachable: cannot connect")

    app = make_app(Broken(ok_snapshot), ok_snapshot)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        app.action_alert_history()
        screen = await wait_for(pilot, lambda: isinstance(app.screen, AlertHistoryScreen)
                                and app.screen)
        await wait_for(pilot, lambda: screen.problem is not None)
        assert "alert history unavailable: agent unreachable" in screen_text(app)


@pytest.mark.parametrize("query, error", [("limit=0", "limit: expected a whole number 1..1000"),
                                          ("limit=abc", "limit: expected a whole number"),
                                          ("before=-1", "before: expected a record id")])
async def test_history_api_rejects_bad_parameters(tmp_path, query, error):
    """The agent API over a real runtime (demo stack in this loop), via aiohttp."""
    import httpx
    from tui_helpers import demo_agent

    from agent.api import bound_port, serve

    async with demo_agent(tmp_path) as (_sim, service):
        runner = await serve(service.runtime, "127.0.0.1:0", "tok")
        try:
            url = f"http://127.0.0.1:{bound_port(runner)}/api/v1/alerts/history"
            async with httpx.AsyncClient(timeout=10) as client:
                ok = await client.get(url, params={"limit": "5"})
                bad = await client.get(f"{url}?{query}")
        finally:
            await runner.cleanup()
    assert ok.status_code == 200 and set(ok.json()) == {"records", "total", "next_before"}
    assert bad.status_code == 400 and bad.json()["error"].startswith(error)
