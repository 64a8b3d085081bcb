"""Grouped delivery end to end: a real state.db outbox, the dispatcher with a group policy,
a REAL webhook receiver (Alertmanager's webhook payload), a REAL SMTP server (aiosmtpd) and
an Alertmanager-v2 endpoint. One notice per component group, carrying the group; a later
change of a told group waits group_interval; Alertmanager still gets every row at once."""

from __future__ import annotations

import asyncio
import email
import time

import pytest
from aiosmtpd.controller import Controller

from agent.store import OutboxItem, Store
from alerts.dispatch import Dispatcher
from alerts.lifecycle import AlertEvent, EventKind
from alerts.notifiers import (AlertmanagerNotifier, Backoff, WebhookNotifier, notice_from_event,
                              outbox_entries)
from alerts.notifiers.email import EmailNotifier
from alerts.notifiers.grouping import GroupPolicy
from alertmanager import free_port
from vocab.model import Status
from waiting import wait_for_async

WAIT_S, INTERVAL_S = 0.6, 2.0


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[float, email.message.Message]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append((time.time(), email.message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def inbox():
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()


def event(rule, component, started_at, kind=EventKind.FIRING):
    return AlertEvent(kind=kind, rule=rule, labels={"component": component, "metric": rule},
                      severity="critical", started_at=started_at, at=time.time(), value=None,
                      status=Status.OK if kind is EventKind.RESOLVED else Status.CRITICAL,
                      summary=f"{rule} {kind.value}", cause="HTTP 503 from GET /v1/models")


def queue(store, events, receivers):
    notices = [notice_from_event(e) for e in events]
    store.commit_cycle(time.time(), outbox=[OutboxItem(**e)
                                            for e in outbox_entries(notices, receivers)])


def alerts_of(body):
    return [(a["labels"]["alertname"], a["status"]) for a in body["alerts"]]


async def test_one_notice_per_component_group_and_later_news_waits_group_interval(
        tmp_path, webhook_receiver, inbox):
    hook, am = await webhook_receiver(), await webhook_receiver()
    receivers = [WebhookNotifier("hook", hook.url, timeout_s=5),
                 EmailNotifier("mail", "127.0.0.1", inbox.port, "alice@example.org",
                               ["ops@example.org"], security="none", timeout_s=5),
                 AlertmanagerNotifier("am", f"http://127.0.0.1:{am.port}", timeout_s=5,
                                      resend_interval_s=3600)]
    names = [r.name for r in receivers]
    with Store.open(tmp_path / "state.db") as store:
        dispatcher = Dispatcher(receivers, store, backoff=Backoff(base_s=0.1, cap_s=0.2),
                                poll_interval_s=5,
                                grouping=GroupPolicy(("component",), WAIT_S, INTERVAL_S))
        task = asyncio.create_task(dispatcher.run())
        try:
            t0 = time.time()
            queue(store, [event("openai_health", "openai", t0),
                          event("openai_latency", "openai", t0),
                          event("ollama_health", "ollama", t0)], names)
            dispatcher.wake()

            async def first_round():
                return len(hook.requests) >= 2 and len(inbox.messages) >= 2 and am.requests
            assert await wait_for_async(first_round, 10)
            first_at = time.time()
            assert first_at - t0 >= WAIT_S  # a new group waits group_wait
            # Alertmanager groups itself: every row in one POST, as without grouping
            (posted,) = am.requests
            assert sorted(a["labels"]["alertname"] for a in posted.body) == [
                "ollama_health", "openai_health", "openai_latency"]
            by_group = {r.body["groupLabels"]["component"]: r.body for r in hook.requests}
            openai = by_group["openai"]
            assert openai["groupKey"] == '{}:{component="openai"}'
            assert openai["commonLabels"]["component"] == "openai"
            assert openai["commonAnnotations"]["cause"] == "HTTP 503 from GET /v1/models"
            assert sorted(alerts_of(openai)) == [
                ("openai_health", "firing"), ("openai_latency", "firing")]
            assert [a["labels"]["alertname"] for a in by_group["ollama"]["alerts"]] == [
                "ollama_health"]
            subjects = sorted(m["Subject"] for _, m in inbox.messages)
            assert subjects == ["[FIRING:1] ollama_health (critical)",
                                "[FIRING:2] openai_health, openai_latency (critical)"]
            async def marked():
                return len([r for r in store.sent_notifications() if r.receiver == "hook"]) == 3
            assert await wait_for_async(marked, 5)
            told = {r.payload["alertname"]: r.sent_at for r in store.sent_notifications()
                    if r.receiver == "hook"}
            assert told["openai_health"] == told["openai_latency"]  # one mark for the group
            # the told openai group: its resolution waits group_interval after its last notice
            queue(store, [event("openai_latency", "openai", t0, EventKind.RESOLVED)], names)
            dispatcher.wake()

            async def resolved():
                return len(hook.requests) >= 3 and len(inbox.messages) >= 3 and \
                    not store.due_outbox(time.time() + 3600, 100)  # all marked sent
            assert await wait_for_async(resolved, 10)
            assert time.time() - first_at >= INTERVAL_S - 0.3
            assert alerts_of(hook.requests[2].body) == [("openai_latency", "resolved")]
            assert hook.requests[2].body["groupLabels"] == {"component": "openai"}
            assert [a["labels"]["alertname"] for a in am.requests[1].body] == ["openai_latency"]
        finally:
            await dispatcher.stop(grace_s=1)
            await task
            for r in receivers:
                await r.aclose()
    assert len(hook.requests) == 3 and len(inbox.messages) == 3
    assert dispatcher.sent_total == {"hook": 3, "mail": 3, "am": 2}


async def test_rows_of_one_group_are_marked_sent_in_one_commit(tmp_path, webhook_receiver):
    hook = await webhook_receiver()
    with Store.open(tmp_path / "state.db") as store:
        calls = []
        mark_sent = store.mark_sent

        class Counting:
            due_outbox, mark_failed = store.due_outbox, store.mark_failed

            def mark_sent(self, ids, now):
                calls.append(sorted(ids))
                return mark_sent(ids, now)

        notifier = WebhookNotifier("hook", hook.url, timeout_s=5)
        dispatcher = Dispatcher([notifier], Counting(),
                                grouping=GroupPolicy(("component",), 0.0, 60.0))
        t0 = time.time()
        queue(store, [event(f"backend_{m}", "backend", t0) for m in ("health", "p95", "nlu")]
              + [event("gateway_health", "gateway", t0)], ["hook"])
        task = asyncio.create_task(dispatcher.run())
        try:
            async def sent():
                return len(calls) == 2
            assert await wait_for_async(sent, 10)
        finally:
            await dispatcher.stop(grace_s=1)
            await task
            await notifier.aclose()
    assert sorted(len(c) for c in calls) == [1, 3]  # one mark (one commit) per notice
    assert sorted(len(r.body["alerts"]) for r in hook.requests) == [1, 3]
