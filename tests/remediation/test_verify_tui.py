"""The dashboard's Remediation screen shows a not-applicable playbook as N/A and the
highlighted playbook's reason under the table (from the snapshot's remediation section)."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tui"))

from tui_helpers import FakeSource, load, make_app, screen_text, wait_for  # noqa: E402

from tui.screens.remediation import playbook_row, verdict_line  # noqa: E402

REASON = ("not applicable: step 4 (HUD shows offline mode): POST /api/admin/set-mode is not "
          "served (GET answered 404) (and 2 more)")


def with_verdicts(snapshot: dict) -> dict:
    snap = copy.deepcopy(snapshot)
    for pb in snap["remediation"]["playbooks"]:
        held = pb["name"] == "openai-outage"
        pb.update(applicable="not_applicable" if held else "applicable",
                  not_applicable_reason=REASON if held else "",
                  verified_at=snap["taken_at"])
    return snap


def test_rows_and_the_verdict_line():
    snap = with_verdicts(load("outage.json"))
    playbooks = {p["name"]: p for p in snap["remediation"]["playbooks"]}
    now = snap["taken_at_unix"]
    assert playbook_row(playbooks["openai-outage"], now)[1].plain == "N/A TRIGGERED"
    assert playbook_row(playbooks["local-ai-failure"], now)[1].plain == "READY"
    assert verdict_line(playbooks["openai-outage"]) == \
        f"openai-outage: {REASON}; never run automatically"
    assert verdict_line(playbooks["local-ai-failure"]).endswith(": applicable (every step "
                                                               "fits this deployment)")
    unverified = dict(playbooks["local-ai-failure"], applicable=None)
    assert verdict_line(unverified) == "local-ai-failure: not verified yet"
    assert verdict_line(None) == ""


async def test_the_screen_shows_the_reason():
    snap = with_verdicts(load("outage.json"))
    app = make_app(FakeSource(snap), snap)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.snapshot is not None)
        await pilot.press("3")
        text = await wait_for(pilot, lambda: "N/A TRIGGERED" in screen_text(app)
                              and screen_text(app))
        assert "openai-outage: not applicable: step 4 (HUD shows offline mode): POST " \
               "/api/admin/set-mode is not served" in " ".join(text.split())
