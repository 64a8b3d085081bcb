"""The heartbeat (judged from the latest snapshot, pinged at a real loopback receiver) and
`check --agent`'s verdicts (pure table), plus external labels on /metrics series."""

from __future__ import annotations

from types import SimpleNamespace

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from agent.cli.check_agent import judge as judge_agent
from agent.exporter import with_external_labels
from agent.heartbeat import Heartbeat, judge, ping_url
from vocab.model import Status
from webhooks import Receivers

NOW = 1_700_000_000.0


def snap(age_s: float, interval_s: float = 5.0):
    return SimpleNamespace(taken_at=NOW - age_s,
                           stats=SimpleNamespace(expected_interval_s=interval_s))


@pytest.mark.parametrize("snapshot, problem, healthy, why", [
    (snap(1), None, True, ""),
    (snap(14.9), None, True, ""),
    (snap(15.1), None, False, "latest snapshot is 15s old (stale after 15s)"),
    (snap(4.5, interval_s=1), None, True, ""),  # at least 5 s
    (None, None, False, "no snapshot yet"),
    (snap(1), "disk full", False, "store failing: disk full"),
])
def test_heartbeat_judge(snapshot, problem, healthy, why):
    verdict = judge(snapshot, problem, NOW)
    assert (verdict.healthy, verdict.reason) == (healthy, why)


def test_ping_url():
    assert ping_url("https://hc-ping.com/abc", True) == "https://hc-ping.com/abc"
    assert ping_url("https://hc-ping.com/abc/", False) == "https://hc-ping.com/abc/fail"


async def test_heartbeat_pings_ok_then_fail_then_nothing_without_send_fail():
    receivers = Receivers()
    receiver = await receivers()
    state = {"snap": snap(1), "problem": None}
    beat = Heartbeat(receiver.url, 1, lambda: state["snap"], lambda: state["problem"],
                     method="POST", clock=lambda: NOW, timeout_s=5)
    try:
        async with httpx.AsyncClient() as client:
            assert (await beat.beat(client)).healthy
            state["problem"] = "disk full"
            assert not (await beat.beat(client)).healthy
            beat.send_fail = False
            await beat.beat(client)
    finally:
        await receivers.close()
    assert [r.path for r in receiver.requests] == ["/hook", "/hook/fail"]
    assert receiver.requests[1].body == "store failing: disk full"  # POST carries the why
    assert beat.sent == {"ok": 1, "fail": 1}


async def test_heartbeat_failure_is_logged_once_without_the_url_path(caplog):
    from alertmanager import free_port

    url = f"http://127.0.0.1:{free_port()}/ping/0f3e-secret-uuid"
    beat = Heartbeat(url, 1, lambda: snap(1), clock=lambda: NOW, timeout_s=2)
    async with httpx.AsyncClient() as client:
        await beat.beat(client)
        await beat.beat(client)
    lines = [r.getMessage() for r in caplog.records if "heartbeat" in r.getMessage()]
    assert len(lines) == 1 and "secret-uuid" not in lines[0]
    assert beat.last_error and beat.sent == {"ok": 0, "fail": 0}


def body(age_s: float, status: str = "warning", interval_s: float = 5.0) -> dict:
    return {"taken_at_unix": NOW - age_s, "status": status,
            "agent": {"expected_interval_s": interval_s}, "components": [], "alerts": []}


@pytest.mark.parametrize("http_status, doc, status, alive, fresh, reason", [
    (200, body(2), Status.WARNING, True, True, "alive, snapshot 2.0s old; overall warning"),
    (200, body(2, "ok"), Status.OK, True, True, "alive, snapshot 2.0s old; overall ok"),
    (200, body(16), Status.CRITICAL, True, False,
     "stale: its latest snapshot is 16s old (more than 3 x 5s): its cycles stopped"),
    (200, body(4, "ok", interval_s=1), Status.OK, True, True,
     "alive, snapshot 4.0s old; overall ok"),
    (None, None, Status.CRITICAL, False, False, "no answer: refused"),
    (401, {"error": "x"}, Status.UNKNOWN, True, False,
     "the agent wants a token (--token-file or $ALICE_OPS_TOKEN): HTTP 401"),
    (503, {"error": "no snapshot yet: the first probes are still running"}, Status.UNKNOWN,
     True, False, "no snapshot yet: the first probes are still running"),
    (503, None, Status.UNKNOWN, True, False, "no snapshot yet (HTTP 503)"),
    (200, {"hello": 1}, Status.UNKNOWN, True, False,
     "not an agent snapshot: taken_at_unix or status missing"),
    (404, None, Status.UNKNOWN, True, False, "not an agent snapshot: HTTP 404"),
])
def test_check_agent_verdicts(http_status, doc, status, alive, fresh, reason):
    verdict = judge_agent("http://a:9321", http_status, doc, NOW, "refused")
    assert (verdict.status, verdict.alive, verdict.fresh, verdict.reason) == \
        (status, alive, fresh, reason)
    assert verdict.to_json()["status"] == status.word


class _Fixed:
    def collect(self):
        family = GaugeMetricFamily("alice_ops_x", "doc", labels=["component", "site"])
        family.add_metric(["openai", "own"], 1)
        yield family
        plain = GaugeMetricFamily("alice_ops_y", "doc")
        plain.add_metric([], 2)
        yield plain


def test_external_labels_on_every_series_and_a_series_own_label_wins():
    registry = CollectorRegistry()
    registry.register(with_external_labels(_Fixed(), {"site": "lab", "instance": "a"}))
    assert registry.get_sample_value("alice_ops_y", {"site": "lab", "instance": "a"}) == 2
    assert registry.get_sample_value(
        "alice_ops_x", {"component": "openai", "site": "own", "instance": "a"}) == 1
    assert b'instance="a"' in generate_latest(registry)
    bare = _Fixed()
    assert with_external_labels(bare, {}) is bare


async def test_check_agent_has_a_total_deadline_against_an_agent_that_hangs():
    """A server that accepts and never answers: CRITICAL within the deadline."""
    import asyncio
    import time

    from agent.cli.check_agent import fetch

    writers = []

    async def hang(reader, writer):
        writers.append(writer)
        await asyncio.Event().wait()

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        started = time.monotonic()
        verdict = await asyncio.to_thread(fetch, f"http://127.0.0.1:{port}", "tok", 0.5)
        took = time.monotonic() - started
    finally:
        server.close()
        for writer in writers:  # a connection left open warns in whichever test runs next
            writer.close()
        await server.wait_closed()
    assert verdict.status is Status.CRITICAL and not verdict.alive
    assert verdict.reason == "no answer: timed out after 0.5s"
    assert took < 3
