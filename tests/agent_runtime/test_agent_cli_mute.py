"""`alice-ops alerts silence|ack|unsilence` on the state file of a running agent: the agent
picks them up within a couple of seconds and stops notifying about the muted alert."""

from __future__ import annotations

import asyncio
import time

from agentproc import alert, alice_ops, firing, notices, write_config

QUIET_S = 2.2  # > 2 reminder intervals


async def test_cli_silence_and_ack_reach_the_running_agent(tmp_path, sim, start_agent,
                                                           webhook_receiver):
    hook = await webhook_receiver()
    db = tmp_path / "state.db"
    config = write_config(tmp_path / "alice-ops.yaml", sim.urls, data_path=db,
                          alerts={"repeat_interval_s": 1},
                          notifiers={"webhooks": [{"name": "hook", "url": hook.url}]})
    agent = await start_agent(config)
    sim.set_scenario("openai-outage")
    await agent.wait_for(firing("openai_health"), "openai_health firing")
    # Not vacuous: unmuted, the alert is re-announced every second.
    deadline = time.monotonic() + 10
    while len(notices(hook.requests, "openai_health", "firing")) < 2:
        assert time.monotonic() < deadline, "no reminder went out"
        await asyncio.sleep(0.1)

    out = await alice_ops("alerts", "--data", str(db), "silence", "component=openai",
                           "-d", "1h", "-m", "planned maintenance", "--by", "tester")
    sid = out.split()[1]
    asked = time.monotonic()
    await agent.wait_for(lambda s: (alert(s, "openai_health") or {}).get("silenced_by") == sid,
                         "the CLI silence", timeout_s=5)
    assert time.monotonic() - asked < 2.5
    # a notice planned before the silence may still be in flight: the outbox drains first
    await agent.wait_for(lambda s: s["agent"]["outbox_pending"] == 0, "an empty outbox",
                         timeout_s=10)
    muted = len(notices(hook.requests, "openai_health"))
    await asyncio.sleep(QUIET_S)  # time passing on purpose: two reminder intervals, none sent
    assert len(notices(hook.requests, "openai_health")) == muted

    await alice_ops("alerts", "--data", str(db), "ack", "openai_health", "-m", "on it")
    await agent.wait_for(lambda s: (alert(s, "openai_health") or {}).get("acked") == "on it",
                         "the CLI ack", timeout_s=5)
    await alice_ops("alerts", "--data", str(db), "unsilence", sid)
    snap = await agent.wait_for(
        lambda s: (alert(s, "openai_health") or {}).get("silenced_by") is None,
        "the silence ended", timeout_s=5)
    assert alert(snap, "openai_health")["state"] == "firing"
    await asyncio.sleep(QUIET_S)  # acked: no reminders although no silence holds it now
    assert len(notices(hook.requests, "openai_health")) == muted

    listed = await alice_ops("--json", "alerts", "--data", str(db), "list")
    assert '"acked": "on it"' in listed
