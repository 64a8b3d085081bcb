"""Notices, Alertmanager-format payloads, and the log / webhook / Alertmanager notifiers.

Formatters are checked field by field; the webhook notifier against a real aiohttp
receiver on loopback; the Alertmanager notifier against Debian's Alertmanager.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from datetime import datetime

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vocab.model import Status
from alerts.lifecycle import AlertEvent, EventKind
from alerts.notifiers import (
    AlertmanagerNotifier,
    LogNotifier,
    Notice,
    NotifyError,
    WebhookNotifier,
    alertmanager_v2_alerts,
    alertmanager_webhook_payload,
    dedupe_key,
    notice_from_event,
    rfc3339,
)
from alerts.notifiers.payload import RESEND_TTL_FACTOR, ZERO_TIME
from alertmanager import free_port

T0 = 1_700_000_000.0
RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
TOKEN = "s3cr3t-hook-token-1234"


def event(kind=EventKind.FIRING, rule="openai_error_rate", severity="critical",
          started_at=T0, at=T0 + 60, component="openai", metric="error_rate", value=0.2,
          status=Status.CRITICAL):
    return AlertEvent(kind=kind, rule=rule, labels={"component": component, "metric": metric},
                      severity=severity, started_at=started_at, at=at, value=value,
                      status=status, summary=f"{rule} {kind.value}")


def parse_time(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# --- Notice -----------------------------------------------------------------------------


def test_notice_from_firing_event():
    ev = event()
    n = notice_from_event(ev)
    assert n.status == "firing" and n.ends_at is None and n.reminder == 0
    assert n.fingerprint == ev.fingerprint
    assert n.alertname == "openai_error_rate"
    assert n.labels == {"component": "openai", "metric": "error_rate", "severity": "critical"}
    assert n.all_labels == {**n.labels, "alertname": "openai_error_rate"}
    assert n.annotations["summary"] == ev.summary
    assert "value 0.2" in n.annotations["description"]
    assert n.starts_at == T0
    assert n.dedupe_key == dedupe_key(ev.fingerprint, T0, "firing", 0)


def test_notice_from_resolved_event_ends_at_event_time():
    n = notice_from_event(event(EventKind.RESOLVED, at=T0 + 300, status=Status.OK), reminder=3)
    assert (n.status, n.ends_at, n.reminder) == ("resolved", T0 + 300, 0)
    assert n.dedupe_key.endswith(":resolved:0")


@pytest.mark.parametrize("kind", [EventKind.PENDING, EventKind.FLAPPING])
def test_pending_and_flapping_are_not_notified(kind):
    with pytest.raises(ValueError, match=kind.value):
        notice_from_event(event(kind))


def test_dedupe_keys_differ_by_episode_status_and_repeat():
    keys = {dedupe_key("fp", T0, "firing", 0), dedupe_key("fp", T0, "firing", 1),
            dedupe_key("fp", T0, "resolved", 0), dedupe_key("fp", T0 + 1, "firing", 0),
            dedupe_key("fp2", T0, "firing", 0)}
    assert len(keys) == 5
    assert dedupe_key("fp", T0, "firing", 0) == dedupe_key("fp", T0 + 1e-7, "firing", 0)


def test_notice_dict_round_trip_and_json():
    n = notice_from_event(event(EventKind.SEVERITY_CHANGED), reminder=2)
    assert Notice.from_dict(json.loads(json.dumps(n.to_dict()))) == n
    with pytest.raises(ValueError, match="malformed"):
        Notice.from_dict({"fingerprint": "x"})


def test_notice_rejects_inconsistent_status():
    with pytest.raises(ValueError):
        Notice("fp", "a", {}, {}, "firing", T0, T0 + 1, "k")
    with pytest.raises(ValueError):
        Notice("fp", "a", {}, {}, "exploded", T0, None, "k")


# --- payload formatters -----------------------------------------------------------------

WEBHOOK_KEYS = {"version", "groupKey", "truncatedAlerts", "status", "receiver", "groupLabels",
                "commonLabels", "commonAnnotations", "externalURL", "alerts"}
ALERT_KEYS = {"status", "labels", "annotations", "startsAt", "endsAt", "generatorURL",
              "fingerprint"}


def test_rfc3339():
    assert rfc3339(0) == "1970-01-01T00:00:00.000Z"
    assert rfc3339(T0 + 0.25) == "2023-11-14T22:13:20.250Z"
    assert rfc3339(None) == ZERO_TIME == "0001-01-01T00:00:00Z"


@given(st.floats(min_value=0, max_value=4_000_000_000, allow_nan=False))
def test_rfc3339_round_trips_to_the_millisecond(ts):
    text = rfc3339(ts)
    assert RFC3339_UTC.match(text)
    assert abs(parse_time(text) - ts) <= 0.0005 + 1e-6


def test_webhook_payload_has_alertmanagers_shape():
    firing = notice_from_event(event())
    resolved = notice_from_event(event(EventKind.RESOLVED, rule="ollama_latency",
                                       component="ollama", metric="latency_ms",
                                       severity="critical", at=T0 + 90))
    body = alertmanager_webhook_payload([firing, resolved], "ops-hook", {}, "http://agent:9321",
                                        generator_url="http://agent:9321/api/v1/snapshot")
    assert set(body) == WEBHOOK_KEYS
    assert body["version"] == "4" and body["truncatedAlerts"] == 0
    assert body["status"] == "firing"
    assert body["receiver"] == "ops-hook"
    assert body["groupLabels"] == {} and body["groupKey"] == "{}:{}"
    assert body["externalURL"] == "http://agent:9321"
    assert body["commonLabels"] == {"severity": "critical"}
    assert body["commonAnnotations"] == {"severity": "critical"}  # also an annotation
    first, second = body["alerts"]
    assert set(first) == ALERT_KEYS and set(second) == ALERT_KEYS
    assert first["status"] == "firing"
    assert first["labels"] == {"alertname": "openai_error_rate", "component": "openai",
                               "metric": "error_rate", "severity": "critical"}
    assert first["annotations"] == {**firing.annotations, "severity": "critical"}
    assert first["startsAt"] == "2023-11-14T22:13:20.000Z"
    assert first["endsAt"] == "0001-01-01T00:00:00Z"
    assert first["fingerprint"] == firing.fingerprint
    assert first["generatorURL"] == "http://agent:9321/api/v1/snapshot"
    assert second["status"] == "resolved"
    assert parse_time(second["endsAt"]) == T0 + 90
    json.dumps(body)  # plain JSON all the way down


def test_webhook_payload_all_resolved_and_group_labels():
    resolved = [notice_from_event(event(EventKind.RESOLVED, component=c, at=T0 + 5))
                for c in ("openai", "ollama")]
    body = alertmanager_webhook_payload(resolved, "r", {"alertname": "openai_error_rate"}, "")
    assert body["status"] == "resolved"
    assert body["groupKey"] == '{}:{alertname="openai_error_rate"}'
    assert body["commonLabels"] == {"alertname": "openai_error_rate", "metric": "error_rate",
                                    "severity": "critical"}
    assert body["commonAnnotations"] == {"summary": "openai_error_rate resolved",
                                         "severity": "critical"}


def test_v2_alerts_shape_and_ends_at_policy():
    firing = notice_from_event(event())
    resolved = notice_from_event(event(EventKind.RESOLVED, component="ollama", at=T0 + 90))
    now = T0 + 100
    alerts = alertmanager_v2_alerts([firing, resolved], "http://agent/x", now=now,
                                    resend_interval_s=60)
    assert [set(a) for a in alerts] == [{"labels", "annotations", "startsAt", "endsAt",
                                         "generatorURL"}] * 2
    assert alerts[0]["labels"]["alertname"] == "openai_error_rate"
    assert alerts[0]["generatorURL"] == "http://agent/x"
    assert parse_time(alerts[0]["startsAt"]) == T0
    assert parse_time(alerts[0]["endsAt"]) == now + RESEND_TTL_FACTOR * 60
    assert parse_time(alerts[1]["endsAt"]) == T0 + 90
    assert all(RFC3339_UTC.match(a[k]) for a in alerts for k in ("startsAt", "endsAt"))


# --- log notifier -----------------------------------------------------------------------


async def test_log_notifier_writes_one_json_line_per_notice(caplog):
    notices = [notice_from_event(event()),
               notice_from_event(event(EventKind.RESOLVED, component="ollama"))]
    with caplog.at_level(logging.INFO, logger="alice_ops.alerts"):
        await LogNotifier().send(notices)
    records = [r for r in caplog.records if r.name == "alice_ops.alerts"]
    assert [r.levelno for r in records] == [logging.WARNING, logging.INFO]
    lines = [json.loads(r.getMessage()) for r in records]
    assert all("\n" not in r.getMessage() for r in records)
    assert [line["status"] for line in lines] == ["firing", "resolved"]
    assert lines[0]["alertname"] == "openai_error_rate"
    assert lines[0]["labels"]["component"] == "openai"
    assert lines[0]["dedupe_key"] == notices[0].dedupe_key
    assert lines[1]["ends_at"] == rfc3339(notices[1].ends_at)


# --- webhook notifier against a real receiver -------------------------------------------


async def test_webhook_posts_alertmanager_format_with_bearer_and_headers(webhook_receiver):
    receiver = await webhook_receiver()
    notices = [notice_from_event(event()), notice_from_event(event(component="ollama"))]
    async with WebhookNotifier("ops", receiver.url, token=TOKEN, headers={"X-Team": "voice"},
                               external_url="http://agent:9321") as hook:
        await hook.send(notices)
    assert len(receiver.requests) == 1
    got = receiver.requests[0]
    assert got.path == "/hook"
    assert got.headers["Authorization"] == f"Bearer {TOKEN}"
    assert got.headers["X-Team"] == "voice"
    assert got.headers["Content-Type"].startswith("application/json")
    assert set(got.body) == WEBHOOK_KEYS
    assert got.body["receiver"] == "ops" and got.body["status"] == "firing"
    assert [a["labels"]["component"] for a in got.body["alerts"]] == ["openai", "ollama"]
    assert all(a["endsAt"] == ZERO_TIME for a in got.body["alerts"])


async def test_webhook_shares_a_given_client(webhook_receiver):
    receiver = await webhook_receiver()
    async with httpx.AsyncClient() as client:
        hook = WebhookNotifier("ops", receiver.url, client=client)
        await hook.send([notice_from_event(event())])
        await hook.aclose()  # not ours: the shared client stays open
        assert not client.is_closed
    assert len(receiver.requests) == 1


async def test_webhook_http_500_is_a_redacted_one_line_error(webhook_receiver):
    receiver = await webhook_receiver(status=500)
    async with WebhookNotifier("ops", receiver.url, token=TOKEN) as hook:
        with pytest.raises(NotifyError) as caught:
            await hook.send([notice_from_event(event())])
    reason = caught.value.reason
    assert "HTTP 500" in reason and "/hook" not in reason  # a path may be a secret (Slack)
    assert "boom" in reason  # the body excerpt is kept ...
    assert TOKEN not in reason and TOKEN not in str(caught.value)  # ... minus the secret
    assert "\n" not in reason


async def test_webhook_refused_connection_hides_url_secrets():
    port = free_port()  # nothing listens there
    url = f"http://user:hunter2-pass@127.0.0.1:{port}/hook?key=query-secret-1"
    async with WebhookNotifier("ops", url, token=TOKEN, headers={"X-Api-Key": "hdr-secret"},
                               timeout_s=2) as hook:
        assert TOKEN not in repr(hook) and "hunter2" not in repr(hook)
        with pytest.raises(NotifyError) as caught:
            await hook.send([notice_from_event(event())])
    reason = caught.value.reason
    assert reason.startswith(f"POST http://127.0.0.1:{port}: cannot connect")
    for secret in (TOKEN, "hunter2-pass", "query-secret-1", "hdr-secret"):
        assert secret not in reason


async def test_webhook_timeout(webhook_receiver):
    receiver = await webhook_receiver(delay_s=1.0)
    async with WebhookNotifier("ops", receiver.url, timeout_s=0.2) as hook:
        with pytest.raises(NotifyError, match=r"timed out after 0.2s"):
            await hook.send([notice_from_event(event())])


async def test_webhook_sends_nothing_for_no_notices(webhook_receiver):
    receiver = await webhook_receiver()
    async with WebhookNotifier("ops", receiver.url) as hook:
        await hook.send([])
    assert receiver.requests == []


# --- Alertmanager notifier against the real Alertmanager --------------------------------


async def _active_alerts(client: httpx.AsyncClient, url: str) -> list[dict]:
    response = await client.get(f"{url}/api/v2/alerts",
                                params={"active": "true", "silenced": "false",
                                        "inhibited": "false"})
    response.raise_for_status()
    return response.json()


async def _poll(predicate, timeout_s: float = 10.0):
    deadline = time.monotonic() + timeout_s
    while True:
        result = await predicate()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.1)


async def test_alertmanager_notifier_fires_then_resolves(alertmanager_url):
    started = time.time() - 30
    fire = notice_from_event(event(started_at=started, at=started + 10))
    async with httpx.AsyncClient(timeout=5) as client, \
            AlertmanagerNotifier("am", alertmanager_url, generator_url="http://agent:9321",
                                 client=client) as am:
        await am.send([fire])

        async def ours():
            return [a for a in await _active_alerts(client, alertmanager_url)
                    if a["labels"].get("alertname") == "openai_error_rate"]

        shown = await _poll(ours)
        assert len(shown) == 1, shown
        alert = shown[0]
        assert alert["status"]["state"] == "active"
        # identity without severity: an escalation stays this one alert
        assert alert["labels"] == {k: v for k, v in fire.all_labels.items() if k != "severity"}
        assert alert["annotations"] == {**fire.annotations, "severity": "critical"}
        assert abs(parse_time(alert["startsAt"]) - started) < 0.002
        assert parse_time(alert["endsAt"]) > time.time() + 60  # the resend TTL
        assert alert["generatorURL"] == "http://agent:9321"

        resolved = notice_from_event(event(EventKind.RESOLVED, started_at=started,
                                           at=time.time(), status=Status.OK))
        await am.send([resolved])

        async def gone():
            return not await ours()

        assert await _poll(gone), "alert still active after being resolved"


async def test_alertmanager_rejection_is_a_notify_error(alertmanager_url):
    bad = Notice("fp", "x", {"0-not a label": "v"}, {}, "firing", time.time(), None, "k")
    async with AlertmanagerNotifier("am", alertmanager_url, token=TOKEN) as am:
        with pytest.raises(NotifyError, match="HTTP 400") as caught:
            await am.send([bad])
    assert TOKEN not in caught.value.reason


async def test_alertmanager_refused_connection():
    async with AlertmanagerNotifier("am", f"http://127.0.0.1:{free_port()}") as am:
        with pytest.raises(NotifyError, match=r"POST http://127\.0\.0\.1:\d+: cannot connect"):
            await am.send([notice_from_event(event())])
