"""Pixel snapshots (pytest-textual-snapshot) of the dashboard on recorded snapshots with a
frozen clock: the overview at 80x24 and 160x48, healthy and in an OpenAI outage, plus
the Alerts, Remediation, Costs and Checklists screens and ASCII mode. Update with
`--snapshot-update` after checking a diff."""

from __future__ import annotations

import pytest
from tui_helpers import FakeSource, make_app, ready



@pytest.mark.parametrize("fixture", ["ok_snapshot", "outage_snapshot"], ids=["ok", "outage"])
@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_overview(snap_compare, request, fixture, size):
    snapshot = request.getfixturevalue(fixture)
    app = make_app(FakeSource(snapshot), snapshot)
    assert snap_compare(app, terminal_size=size, run_before=ready())


def test_alerts_screen_in_outage(snap_compare, outage_snapshot):
    app = make_app(FakeSource(outage_snapshot), outage_snapshot)
    assert snap_compare(app, terminal_size=(100, 24), run_before=ready("2"))


def test_overview_ascii(snap_compare, outage_snapshot):
    app = make_app(FakeSource(outage_snapshot), outage_snapshot, ascii_only=True)
    assert snap_compare(app, terminal_size=(80, 24), run_before=ready())


@pytest.mark.parametrize("screen", ["3", "4", "5"], ids=["remediation", "costs", "checklists"])
def test_capability_screens_in_outage(snap_compare, outage_snapshot, screen):
    app = make_app(FakeSource(outage_snapshot), outage_snapshot)
    assert snap_compare(app, terminal_size=(80, 24), run_before=ready(screen))
