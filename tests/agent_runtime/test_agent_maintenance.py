"""A real alice-agent inside a maintenance window: the start is notified once, and the
matching alert fires (monitoring and recording go on) but is held, silenced by the
window. (Which alerts a window matches, and its end notice: tests/alerts/test_maintenance.py.)"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone

from agentproc import alert, firing, notices, write_config

QUIET_S = 2.2  # > 2 reminder intervals


async def test_a_window_holds_what_it_matches_and_says_it_started(tmp_path, sim, start_agent,
                                                                  webhook_receiver):
    hook = await webhook_receiver()
    now = datetime.now(timezone.utc)
    window = {"name": "openai-maint", "cron": f"{now.minute} {now.hour} * * *",
              "duration_s": 900, "matchers": 'component="openai"',
              "reason": "rotating the OpenAI key"}
    config = write_config(tmp_path / "alice-ops.yaml", sim.urls,
                          data_path=tmp_path / "state.db",
                          alerts={"repeat_interval_s": 1, "maintenance": [window]},
                          notifiers={"webhooks": [{"name": "hook", "url": hook.url}]})
    agent = await start_agent(config)
    deadline = time.monotonic() + 15
    while not notices(hook.requests, "maintenance_window", "firing"):
        assert time.monotonic() < deadline, "the window's start was not notified"
        await asyncio.sleep(0.1)
    start = notices(hook.requests, "maintenance_window", "firing")[0]
    assert start["labels"]["window"] == "openai-maint"
    assert "rotating the OpenAI key" in start["annotations"]["summary"]

    sim.set_scenario("openai-outage")
    snap = await agent.wait_for(firing("openai_health"), "openai_health firing")
    assert alert(snap, "openai_health")["silenced_by"] == "maintenance-openai-maint"
    assert any(s["id"] == "maintenance-openai-maint" for s in snap["silences"])
    await agent.wait_for(lambda s: s["agent"]["outbox_pending"] == 0, "an empty outbox",
                         timeout_s=10)
    await asyncio.sleep(QUIET_S)  # time passing on purpose: reminders would go out now
    assert notices(hook.requests, "openai_health") == []
    assert len(notices(hook.requests, "maintenance_window", "firing")) == 1  # told once
    history = await agent.get("/api/v1/alerts/history")  # recorded although held
    assert history.status_code == 200 and "openai_health" in history.text, history.text
