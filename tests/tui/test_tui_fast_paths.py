"""The shortcuts the benchmarks (`python -m tui.bench`) led to give the same results as
the plain way: bulk table updates, skipped redraws, lazily parsed events, the config
path found without agent.config, tiles mounted as components appear, and the opt-in
timing marks. Behaviour only; the figures are printed by the benchmarks."""

from __future__ import annotations

import copy
import os
import random

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable
from tui_helpers import FakeSource, load, make_app, screen_text, wait_for

from tui import cli
from tui.screens.overview import tile_components
from tui.source import AttachSource
from tui.widgets.alert_table import AlertTable
from tui.widgets.component_tile import ComponentTile
from tui.widgets.footer import DashboardFooter
from tui.widgets.keyed_table import KeyedTable

SIZE = (80, 24)
COLUMNS = (("state", "state"), ("name", "name"), ("summary", "summary"))


def rows_for(keys: list[int], salt: str = "") -> list[tuple[str, tuple]]:
    return [(f"k{i:04d}", (Text(f"S{i % 3}", style="bold" if i % 2 else ""), f"name-{i}",
                           f"summary {salt}{i} " + "x" * (i % 17))) for i in keys]


class TableApp(App):
    def compose(self) -> ComposeResult:
        yield KeyedTable(COLUMNS, id="keyed")
        yield DataTable(id="plain")


def table_state(table: DataTable) -> tuple:
    cells = [tuple(Text(c).plain if isinstance(c, str) else c.plain
                   for c in table.get_row(row.key)) for row in table.ordered_rows]
    widths = [c.content_width for c in table.ordered_columns]
    return [row.key.value for row in table.ordered_rows], cells, widths, table.virtual_size


async def test_keyed_table_bulk_updates_match_a_table_built_from_scratch():
    rng = random.Random(3)
    app = TableApp()
    async with app.run_test(size=SIZE) as pilot:
        keyed, plain = app.query_one("#keyed", KeyedTable), app.query_one("#plain", DataTable)
        for label, key in COLUMNS:
            plain.add_column(label, key=key)
        population = list(range(1500))
        for step in range(8):
            keys = sorted(rng.sample(population, rng.choice([0, 3, 40, 500])),
                          key=lambda _k: rng.random())
            rows = rows_for(keys, salt=str(step % 3))
            selected = keyed.selected_key()
            keyed.sync(rows)
            plain.clear()
            for key, cells in rows:
                plain.add_row(*cells, key=key)
            await pilot.pause()
            want_keys, want_cells, want_widths, _ = table_state(plain)
            got_keys, got_cells, got_widths, _ = table_state(keyed)
            assert got_keys == want_keys and got_cells == want_cells
            # column widths only grow (as in DataTable): at least what the rows need
            assert all(g >= w for g, w in zip(got_widths, want_widths, strict=True))
            if selected in dict(rows):
                assert keyed.selected_key() == selected
        keyed.clear()
        keyed._cells = {}
        keyed.sync(rows_for([1, 2, 3]))
        await pilot.pause()
        fresh = table_state(keyed)
        plain.clear()
        for key, cells in rows_for([1, 2, 3]):
            plain.add_row(*cells, key=key)
        await pilot.pause()
        assert fresh[:3] == table_state(plain)[:3]


async def test_keyed_table_measures_like_datatable():
    """The fast width of a text cell is what DataTable's own measuring gives."""
    app = TableApp()
    async with app.run_test(size=SIZE) as pilot:
        keyed, plain = app.query_one("#keyed", KeyedTable), app.query_one("#plain", DataTable)
        for label, key in COLUMNS:
            plain.add_column(label, key=key)
        rows = [("a", (Text("FIRING"), "name_with_ünïcode_日本", "plain summary")),
                ("b", (Text("OK"), "[bold]markup[/bold]", "an :smile: emoji code")),
                ("c", (Text("PENDING"), "two\nlines", "x" * 60))]
        keyed.sync(rows)
        for key, cells in rows:
            plain.add_row(*cells, key=key)
        await pilot.pause()
        assert table_state(keyed)[2] == table_state(plain)[2]


async def test_paging_and_filtering_ten_thousand_alerts():
    base = load("outage.json")
    template = base["alerts"][0]
    many = copy.deepcopy(base)
    many["alerts"] = [dict(template, name=f"alert_{i:05d}", fingerprint=f"fp{i:05d}",
                           state="resolved" if i % 10 else "firing",
                           summary=f"summary {i}", silenced_by=None)
                      for i in range(10_000)]
    source = FakeSource(many)
    app = make_app(source, many)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        await pilot.press("2")
        table = await wait_for(pilot, lambda: app.current_mode == "alerts"
                               and (t := app.screen.query_one(AlertTable)).row_count and t)
        assert table.row_count == 500
        await pilot.press("slash", *"alert_0999", "enter")
        await wait_for(pilot, lambda: table.row_count == 10)  # alert_09990..09999
        assert "10 of 10000 alerts" in screen_text(app)
        newer = copy.deepcopy(many)
        newer["seq"] += 1
        newer["alerts"][9995]["summary"] = "brand new words"
        source.push(newer)
        await wait_for(pilot, lambda: app.snapshot["seq"] == newer["seq"])
        await pilot.press("escape", "slash", *"brand new", "enter")
        await wait_for(pilot, lambda: table.row_count == 1)
        assert app.screen.selected_alert()["name"] == "alert_09995"
        await pilot.press("escape")
        await wait_for(pilot, lambda: table.row_count == 500)
        assert "10000 alerts" in screen_text(app)


def test_config_path_without_agent_config(tmp_path):
    from agent.config import find_config

    for explicit, env in [("x.yaml", {}), (None, {"ALICE_OPS_CONFIG": "/etc/a.yaml"}),
                          (None, {"XDG_CONFIG_HOME": str(tmp_path)}), (None, {}),
                          (None, {"ALICE_OPS_CONFIG": "", "XDG_CONFIG_HOME": ""})]:
        assert cli.find_config(explicit, env) == find_config(explicit, env)


async def test_attach_parses_only_the_event_it_hands_out():
    source = AttachSource("http://127.0.0.1:9")
    source._accept_raw('{"seq": 1, "components": []}')
    source._accept_raw('{"seq": 2, "components": []}')
    assert (await source.next_snapshot(-1, timeout=0.1))["seq"] == 2
    assert await source.next_snapshot(2, timeout=0.05) is None
    source._accept_raw('{"seq": 3, garbled')
    assert await source.next_snapshot(2, timeout=0.05) is None
    source._accept_raw('{"seq": 4, "components": []}')
    assert (await source.next_snapshot(2, timeout=0.1))["seq"] == 4


async def test_tiles_stay_as_components_appear(ok_snapshot):
    """The agent lists a component once probed: tiles are added, not rebuilt, and the
    feed does not wait the refresh interval before showing new components."""
    comps = ok_snapshot["components"]
    snaps = []
    for n in (2, 4, len(comps)):
        snap = copy.deepcopy(ok_snapshot)
        snap["seq"] = 100 + n
        snap["components"] = comps[:n]
        snaps.append(snap)
    source = FakeSource(snaps[0])
    app = make_app(source, ok_snapshot, refresh_min_s=30.0)  # updates: at most every 30 s
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(app.screen.query(ComponentTile)) == 2, timeout=5)
        first = list(app.screen.query(ComponentTile))
        for snap in snaps[1:]:
            source.push(snap)
            await wait_for(pilot, lambda snap=snap: len(app.screen.query(ComponentTile))
                           == len(tile_components(snap)), timeout=5)
        tiles = list(app.screen.query(ComponentTile))
        assert [t.name_ for t in tiles] == [c["name"] for c in comps if c["name"] != "cost"]
        assert tiles[:2] == first  # the same widgets, kept in place


async def test_footer_not_rebuilt_when_focus_moves_between_tiles(outage_snapshot):
    app = make_app(FakeSource(outage_snapshot), outage_snapshot)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(app.screen.query(ComponentTile)) == 6)
        footer = app.screen.query_one(DashboardFooter)
        await wait_for(pilot, lambda: len(footer.children) > 0)
        keys = list(footer.children)
        await pilot.press("tab", "tab")
        await pilot.pause(0.1)
        assert list(footer.children) == keys
        await pilot.press("2", "slash")  # the filter box takes the keys: the footer changes
        await wait_for(pilot, lambda: list(footer.children) != keys
                       if (footer := app.screen.query_one(DashboardFooter)) else False)


def shown_keys(footer: DashboardFooter) -> list[str]:
    return [k.key for k in footer.children if getattr(k, "key", None) and k.display
            and k.styles.visibility != "hidden"]


async def test_filter_focus_hides_printable_keys_in_place(outage_snapshot):
    """`/` on the Alerts screen: the filter box (always in the layout) takes the focus, the
    footer hides the keys that would be typed into it without rebuilding or moving any,
    and escape shows them again: the same FooterKey widgets in the same places
    throughout, the table's height the same."""
    app = make_app(FakeSource(outage_snapshot), outage_snapshot)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await wait_for(pilot, lambda: app.current_mode == "alerts")
        table = app.screen.query_one(AlertTable)
        footer = app.screen.query_one(DashboardFooter)
        await wait_for(pilot, lambda: "s" in shown_keys(footer))
        widgets, full, height = list(footer.children), shown_keys(footer), table.size.height
        regions = [w.region for w in widgets]
        await pilot.press("slash")
        await wait_for(pilot, lambda: app.focused is not None and app.focused.id == "filter")
        await wait_for(pilot, lambda: "s" not in shown_keys(footer))
        assert list(footer.children) == widgets
        still = [(w, r) for w, r in zip(widgets, regions) if w.styles.visibility != "hidden"]
        assert still and all(w.region == r for w, r in still)  # hidden in place: no reflow
        assert not {"s", "a", "x", "q"} & set(shown_keys(footer))
        assert table.size.height == height
        await pilot.press("escape")
        await wait_for(pilot, lambda: shown_keys(footer) == full)
        assert list(footer.children) == widgets and app.focused is table


async def test_bench_marks_are_written_when_asked(tmp_path, monkeypatch, ok_snapshot):
    marks = tmp_path / "marks"
    monkeypatch.setenv("ALICE_TUI_BENCH_FILE", str(marks))
    monkeypatch.setenv("ALICE_TUI_BENCH_COMPONENTS", str(len(ok_snapshot["components"])))
    app = make_app(FakeSource(ok_snapshot), ok_snapshot)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: marks.exists() and
                       "first_full_paint" in marks.read_text(), timeout=10)
    events = [line.split()[0] for line in marks.read_text().splitlines()]
    assert events[:2] == ["app_mount", "first_snapshot"]
    assert events.index("first_paint") <= events.index("first_full_paint")


def test_no_bench_marks_by_default(tmp_path, monkeypatch):
    from tui import marks

    monkeypatch.delenv("ALICE_TUI_BENCH_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    marks.mark("main")
    assert not marks.enabled() and os.listdir(tmp_path) == []


@pytest.mark.parametrize("query, hits", [("alert_0001", 10), ("firing summary", 1000)])
def test_filter_haystack_matches_alert_matches(query, hits):
    from tui import format as fmt

    base = load("outage.json")["alerts"][0]
    alerts = [dict(base, name=f"alert_{i:05d}", state="firing" if i % 10 == 0 else "pending",
                   summary=f"summary {i}") for i in range(10_000)]
    by_hay = [a for a in alerts
              if all(w in fmt.alert_haystack(a) for w in fmt.query_words(query))]
    assert by_hay == [a for a in alerts if fmt.alert_matches(a, query)]
    assert len(by_hay) == hits


async def test_feed_unthrottled_while_components_settle(ok_snapshot, monkeypatch):
    """Right after the list of components changed (start-up), every snapshot is shown as
    it comes, e.g. the one that brings a component's first probe result; once the list
    has settled, updates wait for the refresh interval again."""
    import tui.app

    monkeypatch.setattr(tui.app, "SETTLE_S", 0.5)
    first = copy.deepcopy(ok_snapshot)
    second = copy.deepcopy(ok_snapshot)
    second["seq"] = first["seq"] + 1
    second["components"][0]["summary"] = "second"
    third, fourth = copy.deepcopy(second), copy.deepcopy(second)
    third["seq"], fourth["seq"] = second["seq"] + 1, second["seq"] + 2
    source = FakeSource(first, second)
    app = make_app(source, ok_snapshot, refresh_min_s=30.0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.snapshots_shown == 2, timeout=2)  # no 30 s wait
        await pilot.pause(0.7)  # the list settled
        source.push(third)
        await wait_for(pilot, lambda: app.snapshots_shown == 3, timeout=2)
        source.push(fourth)
        await pilot.pause(0.5)
        assert app.snapshots_shown == 3  # throttled again: refresh_min_s is 30 s


async def test_collection_runs_between_keys_and_is_given_back_on_exit(ok_snapshot):
    """Once the dashboard is up the automatic collector is off and a 1 s timer collects
    (never inside a key's frame); when the app ends, automatic collection is back."""
    import gc

    app = make_app(FakeSource(ok_snapshot), ok_snapshot)
    assert gc.isenabled()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: not gc.isenabled(), timeout=10)
        garbage = []
        garbage.append(garbage)  # a reference cycle only a collection frees
        del garbage
        young = gc.get_count()[0]
        await wait_for(pilot, lambda: gc.get_count()[0] < young, timeout=5)
    assert gc.isenabled()
