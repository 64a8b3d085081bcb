"""ntfy and Slack-compatible webhooks against loopback HTTP receivers: the payload shapes,
one request per group, secrets kept out of errors, and the outbox path (a receiver that
fails, then answers: retried, delivered once)."""

from __future__ import annotations

import asyncio
import time

import pytest

from agent.config import Config
from vocab.model import Status
from agent.receivers import make_notifiers
from agent.store import OutboxItem, Store
from alerts.dispatch import Dispatcher
from alerts.lifecycle import AlertEvent, EventKind
from alerts.notifiers import Backoff, NotifyError, notice_from_event, outbox_entries
from alerts.notifiers.ntfy import NtfyNotifier, ntfy_payload
from alerts.notifiers.slack import SlackNotifier, slack_payload
from alerts.notifiers.wire import WireOptions
from alertmanager import free_port
from waiting import wait_for_async

T0 = time.time() - 60
CAUSE = "p95 2725 ms > 500 ms"
TOKEN = "tk_ntfy_secret_0042"
SLACK_SECRET = "XyZsecretWebhookPart99"
OPTS = WireOptions(external_labels={"site": "lab"},
                   runbooks={"openai_response_latency_p95": ("openai-latency",)},
                   runbook_base_url="https://docs.example/README.md")


def event(kind=EventKind.FIRING, rule="openai_response_latency_p95", severity="critical",
          component="openai"):
    return AlertEvent(kind=kind, rule=rule, labels={"component": component, "metric": "p95"},
                      severity=severity, started_at=T0, at=T0 + 30, value=2725.0,
                      status=Status.CRITICAL if kind is not EventKind.RESOLVED else Status.OK,
                      summary=f"{rule} firing [{severity}]: {CAUSE}")


FIRING = notice_from_event(event())
WARNING = notice_from_event(event(rule="ollama_health", severity="warning", component="ollama"))
RESOLVED = notice_from_event(event(EventKind.RESOLVED))


# --- ntfy --------------------------------------------------------------------------------


def test_ntfy_payload_shape():
    body = ntfy_payload([FIRING, WARNING], "alice-ops", OPTS)
    assert set(body) == {"topic", "title", "message", "priority", "tags", "click"}
    assert body["topic"] == "alice-ops"
    assert body["title"] == ("[FIRING:2] openai_response_latency_p95, ollama_health (critical) "
                             "site=lab")
    assert body["priority"] == 5
    assert body["tags"][0] == "rotating_light"
    assert "openai_response_latency_p95" in body["tags"]
    assert CAUSE in body["message"]
    assert "runbook: alice-ops remediate plan openai-latency" in body["message"]
    assert body["click"] == "https://docs.example/README.md#remediation"


@pytest.mark.parametrize("notices, priority, tag", [
    ([WARNING], 4, "warning"), ([RESOLVED], 2, "white_check_mark"),
])
def test_ntfy_priority_follows_the_worst_severity(notices, priority, tag):
    body = ntfy_payload(notices, "t")
    assert body["priority"] == priority and body["tags"][0] == tag
    assert "click" not in body  # no runbook_base_url, no link


async def test_ntfy_publishes_json_to_the_server_root_with_the_token(webhook_receiver):
    receiver = await webhook_receiver()
    server = receiver.url.rsplit("/", 1)[0]  # http://127.0.0.1:PORT
    push = NtfyNotifier("push", server, "alice-ops", token=TOKEN, timeout_s=5, opts=OPTS)
    await push.send([FIRING, WARNING])
    await push.aclose()
    assert len(receiver.requests) == 1
    got = receiver.requests[0]
    assert got.path == "/"
    assert got.headers["Authorization"] == f"Bearer {TOKEN}"
    assert got.body == ntfy_payload([FIRING, WARNING], "alice-ops", OPTS)


async def test_ntfy_error_is_one_line_without_the_token(webhook_receiver):
    receiver = await webhook_receiver(status=500)  # echoes the Authorization header back
    push = NtfyNotifier("push", receiver.url.rsplit("/", 1)[0], "t", token=TOKEN, timeout_s=5)
    with pytest.raises(NotifyError, match=r"HTTP 500") as caught:
        await push.send([FIRING])
    await push.aclose()
    assert TOKEN not in caught.value.reason and "\n" not in caught.value.reason


# --- Slack-compatible --------------------------------------------------------------------


def test_slack_payload_shape():
    body = slack_payload([RESOLVED, FIRING], OPTS, channel="#ops")
    assert body["text"] == "[FIRING:1] openai_response_latency_p95 (critical) site=lab"
    assert body["channel"] == "#ops"
    first, second = body["attachments"]  # firing first
    assert first["title"] == "FIRING openai_response_latency_p95 [critical]"
    assert first["color"] == "#d00000" and second["color"] == "#2eb67d"
    assert CAUSE in first["text"]
    assert first["title_link"] == "https://docs.example/README.md#remediation"
    fields = {f["title"]: f["value"] for f in first["fields"]}
    assert fields == {"severity": "critical", "component": "openai", "metric": "p95",
                      "site": "lab", "runbook": "alice-ops remediate plan openai-latency"}
    assert second["title"].startswith("RESOLVED ")
    assert all(a["fallback"] for a in body["attachments"])


async def test_slack_posts_to_the_webhook(webhook_receiver):
    receiver = await webhook_receiver()
    chat = SlackNotifier("chat", receiver.url, timeout_s=5, opts=OPTS)
    await chat.send([FIRING])
    await chat.aclose()
    assert [r.body for r in receiver.requests] == [slack_payload([FIRING], OPTS)]


async def test_slack_error_never_shows_the_url_path(webhook_receiver):
    receiver = await webhook_receiver(status=404)
    url = receiver.url.replace("/hook", f"/services/T000/B000/{SLACK_SECRET}")
    chat = SlackNotifier("chat", url, timeout_s=5)
    with pytest.raises(NotifyError, match=r"^POST http://127\.0\.0\.1:\d+: HTTP 404") as caught:
        await chat.send([FIRING])
    await chat.aclose()
    assert SLACK_SECRET not in caught.value.reason and "services" not in caught.value.reason
    assert SLACK_SECRET not in repr(chat)


# --- through the outbox ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["ntfy", "slack"])
async def test_failing_then_answering_receiver_gets_the_group_once(tmp_path, webhook_receiver,
                                                                   kind):
    receiver = await webhook_receiver(status=503)
    base = receiver.url.rsplit("/", 1)[0]
    settings = {"ntfy": [{"name": "r", "url": base, "topic": "alice", "token": TOKEN}],
                "slack": [{"name": "r", "url": f"{base}/services/T/B/{SLACK_SECRET}"}]}[kind]
    config = Config.model_validate({"agent": {"external_labels": {"site": "lab"}},
                                    "notifiers": {kind: settings}})
    notifier = next(n for n in make_notifiers(config) if n.name == "r")
    with Store.open(tmp_path / "state.db") as store:
        entries = outbox_entries([FIRING, WARNING], ["r"])
        store.commit_cycle(time.time(), outbox=[OutboxItem(**e) for e in entries])
        dispatcher = Dispatcher([notifier], store, backoff=Backoff(base_s=0.1, cap_s=0.2))
        task = asyncio.create_task(dispatcher.run())
        try:
            async def failed_twice():
                return dispatcher.failures_total["r"] >= 2
            assert await wait_for_async(failed_twice, 10)
            reason = dispatcher.last_errors["r"]
            assert "HTTP 503" in reason and TOKEN not in reason and SLACK_SECRET not in reason
            receiver.status = 200

            async def delivered():
                return not store.due_outbox(time.time() + 3600, 10)
            assert await wait_for_async(delivered, 10)
        finally:
            await dispatcher.stop(grace_s=1)
            await task
            await notifier.aclose()
    text = str(receiver.requests[-1].body)
    assert "openai_response_latency_p95" in text and "ollama_health" in text  # one group
    assert "site=lab" in text
    assert len(receiver.requests) == dispatcher.failures_total["r"] + 1  # then no more


def test_receiver_names_default_from_the_url_and_must_be_unique():
    config = Config.model_validate({"notifiers": {
        "ntfy": [{"url": "https://ntfy.sh", "topic": "a"}],
        "slack": [{"url": "https://hooks.slack.com/services/T/B/x"}]}})
    assert [n.name for n in make_notifiers(config)] == [
        "log", "ntfy-ntfy.sh-443", "slack-hooks.slack.com-443"]
    with pytest.raises(ValueError, match="also the name of"):
        Config.model_validate({"notifiers": {
            "ntfy": [{"name": "x", "url": "https://ntfy.sh", "topic": "a"}],
            "slack": [{"name": "x", "url": f"http://127.0.0.1:{free_port()}/h"}]}})
