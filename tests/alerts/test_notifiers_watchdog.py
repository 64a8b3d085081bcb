"""The dispatcher's keepalive: a receiver with `resend_interval_s` and `keepalive` (the
Alertmanager notifier with the Watchdog) is posted to at start and every interval while
nothing fires; without `keepalive` nothing is sent while nothing fires."""

from __future__ import annotations

import asyncio
import time

from alerts.dispatch import Dispatcher
from alerts.notifiers.alertmanager import AlertmanagerNotifier
from waiting import wait_for_async


class EmptyOutbox:
    def due_outbox(self, now, limit):
        return []

    def mark_sent(self, ids, now):
        raise AssertionError("nothing to mark")

    def mark_failed(self, id, error, next_attempt_at):
        raise AssertionError("nothing to fail")


class Recorder:
    def __init__(self, name, keepalive):
        self.name, self.keepalive, self.resend_interval_s = name, keepalive, 0.2
        self.calls: list[tuple[float, int]] = []

    async def send(self, notices):
        self.calls.append((time.monotonic(), len(notices)))


async def test_keepalive_receiver_is_posted_every_interval_and_the_other_is_not():
    alive, quiet = Recorder("alive", True), Recorder("quiet", False)
    dispatcher = Dispatcher([alive, quiet], EmptyOutbox(), poll_interval_s=0.05)
    task = asyncio.create_task(dispatcher.run())
    try:
        async def three():
            return len(alive.calls) >= 3
        assert await wait_for_async(three, 5)
    finally:
        await dispatcher.stop(grace_s=1)
        await task
    assert all(n == 0 for _, n in alive.calls)  # send([]): the Watchdog alone
    gaps = [b - a for (a, _), (b, _) in zip(alive.calls, alive.calls[1:])]
    assert all(gap >= 0.15 for gap in gaps), gaps  # every resend interval, not every poll
    assert quiet.calls == []
    assert dispatcher.sent_total == {"alive": len(alive.calls), "quiet": 0}


def test_alertmanager_notifier_is_keepalive_only_with_the_watchdog():
    assert AlertmanagerNotifier("am", "http://127.0.0.1:9", watchdog=True).keepalive
    assert not AlertmanagerNotifier("am", "http://127.0.0.1:9").keepalive
