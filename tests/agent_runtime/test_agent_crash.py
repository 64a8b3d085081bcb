"""kill -9 with an alert firing: the restarted agent keeps the episode (same start), the
receiver hears about it exactly once across both runs, and the state file is intact."""

from __future__ import annotations

import contextlib
import signal
import sqlite3

from agentproc import alert, firing, notices, write_config


def _integrity(path) -> str:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


async def test_kill_9_keeps_the_firing_alert_and_notifies_once(tmp_path, sim, start_agent,
                                                               webhook_receiver):
    hook = await webhook_receiver()
    db = tmp_path / "state.db"
    config = write_config(tmp_path / "alice-ops.yaml", sim.urls, data_path=db,
                          notifiers={"webhooks": [{"name": "hook", "url": hook.url}]})
    first = await start_agent(config)
    sim.set_scenario("openai-outage")
    snap = await first.wait_for(firing("openai_health"), "openai_health firing")
    before = alert(snap, "openai_health")
    # Delivered AND recorded as delivered (outbox_pending is read back from the file).
    await first.wait_for(lambda s: s["agent"]["notifications_sent_total"].get("hook", 0) >= 1
                         and s["agent"]["outbox_pending"] == 0, "the notification marked sent")
    told = notices(hook.requests, "openai_health", "firing")
    assert len(told) == 1 and told[0]["generatorURL"] == f"{first.url}/api/v1/snapshot"

    first.signal(signal.SIGKILL)
    assert await first.wait_exit() == -signal.SIGKILL
    assert _integrity(db) == "ok"

    second = await start_agent(config)
    assert any("restored" in r["msg"] and "firing" in r["msg"] for r in second.records()), \
        second.tail()
    snap = await second.wait_for(
        lambda s: s["agent"]["cycles_total"].get("openai", 0) >= 3
        and s["agent"]["outbox_pending"] == 0, "three openai cycles after the restart")
    after = alert(snap, "openai_health")
    assert after is not None and after["state"] == "firing"
    assert (after["started_at"], after["fired_at"]) == (before["started_at"], before["fired_at"])
    assert after["fingerprint"] == before["fingerprint"]
    assert len(notices(hook.requests, "openai_health", "firing")) == 1, \
        [r.body for r in hook.requests]

    second.signal(signal.SIGTERM)
    assert await second.wait_exit() == 0
    assert _integrity(db) == "ok"
