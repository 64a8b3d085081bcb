"""A webhook receiver that refuses connections must not slow the probe schedule, and the
notification must arrive (once) as soon as the receiver listens."""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from agentproc import firing, notices, write_config

WINDOW_S = 2.5


def _failures_metric(text: str) -> float:
    match = re.search(r'^alice_ops_notification_failures_total\{receiver="hook"\} (\S+)$',
                      text, re.M)
    assert match, text
    return float(match.group(1))


async def test_probes_keep_their_pace_while_the_receiver_is_down(tmp_path, sim, start_agent,
                                                                 webhook_receiver):
    hook = webhook_receiver.reserve()  # a free port nobody listens on yet
    config = write_config(tmp_path / "alice-ops.yaml", sim.urls, data_path=tmp_path / "state.db",
                          notifiers={"webhooks": [{"name": "hook", "url": hook.url,
                                                   "timeout_ms": 2000}]})
    agent = await start_agent(config)
    sim.set_scenario("openai-outage")
    await agent.wait_for(firing("openai_health"), "openai_health firing")

    # Not vacuous: the receiver really was down and the dispatcher saw it fail.
    snap = await agent.wait_for(
        lambda s: s["agent"]["notification_failures_total"].get("hook", 0) >= 1,
        "a failed delivery to the hook")
    assert snap["agent"]["notifications_sent_total"].get("hook", 0) == 0
    assert _failures_metric((await agent.get("/metrics")).text) >= 1
    assert any("notify hook failed" in r["msg"] for r in agent.records()), agent.tail()

    # The schedule keeps its pace (1 s) while deliveries fail.
    t0, c0, seq0 = time.monotonic(), snap["agent"]["cycles_total"]["openai"], snap["seq"]
    await asyncio.sleep(WINDOW_S)
    snap = await agent.snapshot()
    elapsed = time.monotonic() - t0
    ran = snap["agent"]["cycles_total"]["openai"] - c0
    assert ran >= int(elapsed) - 1 and ran >= 2, (ran, elapsed)
    assert snap["seq"] > seq0
    assert snap["agent"]["notifications_sent_total"].get("hook", 0) == 0
    assert snap["agent"]["outbox_pending"] >= 1
    assert not hook.requests

    await webhook_receiver.listen(hook)
    try:
        await asyncio.wait_for(hook.got.wait(), 20)
    except TimeoutError:
        pytest.fail(f"the notification never arrived after the receiver came up:\n{agent.tail()}")
    await agent.wait_for(lambda s: s["agent"]["outbox_pending"] == 0
                         and s["agent"]["notifications_sent_total"].get("hook", 0) >= 1,
                         "the outbox drained")
    await asyncio.sleep(1.5)  # a duplicate would go out on the next dispatcher pass
    assert len(notices(hook.requests, "openai_health", "firing")) == 1, \
        [r.body for r in hook.requests]
