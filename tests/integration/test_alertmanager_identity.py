"""Identity against a REAL Alertmanager (Debian's, on a free loopback port).

The agent's path is used whole: lifecycle events -> `plan` -> outbox rows in the agent's
SQLite store -> `Dispatcher` -> `AlertmanagerNotifier` -> `POST /api/v2/alerts`; the
state is read back from Alertmanager's `GET /api/v2/alerts` and from the notifications
Alertmanager itself sends to a webhook.

* An alert that escalates warning -> critical -> warning -> resolved is ONE alert in
  Alertmanager at every step, and nothing of it is left active after the resolution.
* Two agents (sites a and b, same alert) against one Alertmanager: one heals, and
  Alertmanager never tells anyone the other resolved. Without external labels the same
  story does give a false "resolved": the test can fail.
* The Watchdog is always there, re-posted while nothing fires.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import httpx
import pytest

from vocab.model import Status
from agent.store import OutboxItem, Store
from alerts.dispatch import Dispatcher, plan
from alerts.lifecycle import AlertEvent, EventKind
from alerts.notifiers import AlertmanagerNotifier, outbox_entries
from alerts.notifiers.wire import WireOptions
from alertmanager import WITH_HOOK, running_alertmanager
from waiting import wait_for_async
from webhooks import Receivers

RULE = "openai_health"
LABELS = {"component": "openai", "metric": "health", "service": "alice"}


async def until(predicate, timeout_s: float = 10.0):
    """A plain predicate waited on from the event loop (the dispatcher runs meanwhile)."""
    async def check():
        return predicate()
    return await wait_for_async(check, timeout_s)


def parse_time(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def event(kind: EventKind, severity: str, started_at: float, at: float) -> AlertEvent:
    status = {"critical": Status.CRITICAL, "warning": Status.WARNING}[severity]
    if kind is EventKind.RESOLVED:
        status = Status.OK
    return AlertEvent(kind=kind, rule=RULE, labels=LABELS, severity=severity,
                      started_at=started_at, at=at, value=None, status=status,
                      summary=f"{RULE} {kind.value} [{severity}]: HTTP 503 from GET /v1/models")


class Agent:
    """One agent's notify path: the planner's ledger, a SQLite outbox, a dispatcher and an
    Alertmanager notifier labelled with `external_labels`."""

    def __init__(self, tmp_path, name: str, am_url: str, external_labels: dict[str, str],
                 watchdog: bool = False, resend_interval_s: float = 60.0,
                 severity_label: bool = False) -> None:
        self.store = Store.open(tmp_path / f"{name}.db")
        self.ledger: dict = {}
        self.notifier = AlertmanagerNotifier(
            "am", am_url, generator_url=f"http://{name}:9321/api/v1/snapshot",
            resend_interval_s=resend_interval_s, watchdog=watchdog,
            severity_label=severity_label,
            opts=WireOptions(external_labels=external_labels,
                             runbooks={RULE: ("openai-outage",)},
                             runbook_base_url="https://docs.example/alice-ops/README.md"))
        self.dispatcher = Dispatcher([self.notifier], self.store)
        self.task: asyncio.Task | None = None

    async def __aenter__(self) -> Agent:
        self.task = asyncio.create_task(self.dispatcher.run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.dispatcher.stop(grace_s=2)
        await self.task
        await self.notifier.aclose()
        self.store.close()

    def cycle(self, *events: AlertEvent) -> int:
        """Plan this cycle's notices, commit them to the outbox, wake the dispatcher;
        returns how many notices were queued."""
        now = time.time()
        planned = plan(events, self.ledger, silenced=lambda _: False, repeat_interval_s=3600,
                       now=now)
        self.ledger = planned.ledger
        items = [OutboxItem(**e) for e in outbox_entries(planned.notices, ["am"])]
        self.store.commit_cycle(now, outbox=items)
        self.dispatcher.wake()
        return len(planned.notices)

    def delivered(self) -> bool:
        return not self.store.due_outbox(time.time() + 3600, 100)


async def am_alerts(client: httpx.AsyncClient, url: str, name: str = RULE) -> list[dict]:
    """Every alert Alertmanager holds by that name that has not ended (active, silenced,
    inhibited or unprocessed)."""
    response = await client.get(f"{url}/api/v2/alerts",
                                params={"filter": f'alertname="{name}"'})
    response.raise_for_status()
    return [a for a in response.json() if parse_time(a["endsAt"]) > time.time()]


@pytest.mark.parametrize("severity_label", [False, True],
                         ids=["severity annotation", "severity label too"])
async def test_escalation_and_deescalation_stay_one_alert_and_leave_nothing_behind(
        tmp_path, severity_label):
    """By default ONE Alertmanager alert throughout (one fingerprint). With severity as a
    label too each severity is its own alert, but still only one is active at any step."""
    with running_alertmanager(tmp_path / "am") as am_url:
        async with Agent(tmp_path, "a", am_url, {"site": "lab"},
                         severity_label=severity_label) as agent, \
                httpx.AsyncClient(timeout=5) as client:
            started = time.time() - 5
            steps = [(EventKind.FIRING, "warning"), (EventKind.SEVERITY_CHANGED, "critical"),
                     (EventKind.SEVERITY_CHANGED, "warning")]
            seen_starts: set[float] = set()
            for i, (kind, severity) in enumerate(steps):
                assert agent.cycle(event(kind, severity, started, started + i + 1)) == 1
                assert await until(agent.delivered)

                async def at_severity(severity=severity):
                    alerts = await am_alerts(client, am_url)
                    return alerts if any(a["annotations"]["severity"] == severity
                                         for a in alerts) else None

                alerts = await wait_for_async(at_severity, 10)
                assert alerts, f"step {i}: Alertmanager never showed severity {severity}"
                assert len(alerts) == 1, f"step {i} ({severity}): {alerts}"  # ONE alert
                got = alerts[0]
                expected = {"alertname": RULE, "site": "lab", **LABELS}
                if severity_label:
                    expected["severity"] = severity
                assert got["labels"] == expected
                assert got["annotations"]["runbook"] == "alice-ops remediate plan openai-outage"
                assert got["annotations"]["runbook_url"] == \
                    "https://docs.example/alice-ops/README.md#remediation"
                assert "HTTP 503 from GET /v1/models" in got["annotations"]["summary"]
                seen_starts.add(round(parse_time(got["startsAt"]), 3))
                fingerprints = {a["fingerprint"] for a in alerts}
                if i == 0:
                    first_fingerprint = fingerprints
                if not severity_label:
                    assert fingerprints == first_fingerprint  # the same Alertmanager alert
            assert len(seen_starts) == 1  # one episode, one startsAt throughout

            assert agent.cycle(event(EventKind.RESOLVED, "warning", started, time.time())) == 1

            async def gone():
                return not await am_alerts(client, am_url)

            t0 = time.monotonic()
            assert await wait_for_async(gone, 10), await am_alerts(client, am_url)
            assert time.monotonic() - t0 < 10  # not the 4 x resend TTL of a stale copy




def _told(hook, status: str) -> list[dict]:
    """Every alert Alertmanager's own notifications reported with that status."""
    return [a for r in hook.requests if isinstance(r.body, dict)
            for a in r.body.get("alerts", []) if a.get("status") == status
            and a["labels"].get("alertname") == RULE]


async def _two_agents_one_heals(tmp_path, labels_a: dict, labels_b: dict):
    receivers = Receivers()
    hook = await receivers()
    try:
        with running_alertmanager(tmp_path / "am", config=WITH_HOOK.format(url=hook.url)) \
                as am_url:
            async with Agent(tmp_path, "a", am_url, labels_a) as a, \
                    Agent(tmp_path, "b", am_url, labels_b) as b, \
                    httpx.AsyncClient(timeout=5) as client:
                started = time.time() - 5
                a.cycle(event(EventKind.FIRING, "critical", started, started + 1))
                b.cycle(event(EventKind.FIRING, "critical", started + 0.5, started + 1.5))
                assert await until(lambda: a.delivered() and b.delivered())
                assert await until(lambda: _told(hook, "firing")), \
                    "Alertmanager never notified the firing"
                a.cycle(event(EventKind.RESOLVED, "critical", started, time.time()))
                assert await until(a.delivered)
                # Alertmanager tells the hook what changed within its group_interval
                await until(lambda: _told(hook, "resolved"), 6)
                return _told(hook, "resolved"), await am_alerts(client, am_url)
    finally:
        await receivers.close()


async def test_two_sites_one_heals_no_false_resolved_for_the_other(tmp_path):
    resolved, active = await _two_agents_one_heals(tmp_path, {"site": "a"}, {"site": "b"})
    assert resolved, "Alertmanager never reported site a's resolution"
    assert {a["labels"]["site"] for a in resolved} == {"a"}  # never b
    assert [a["labels"]["site"] for a in active] == ["b"]  # b still firing there


async def test_without_site_labels_the_two_agents_merge_and_one_heals_for_both(tmp_path):
    """The measured bug, kept as a contrast: one label set for both agents."""
    resolved, active = await _two_agents_one_heals(tmp_path, {}, {})
    assert resolved and active == []  # b's still-firing alert was reported resolved


async def test_watchdog_is_always_firing_and_reposted_while_nothing_else_fires(tmp_path):
    with running_alertmanager(tmp_path / "am") as am_url:
        async with Agent(tmp_path, "a", am_url, {"site": "lab"}, watchdog=True,
                         resend_interval_s=1.0), httpx.AsyncClient(timeout=5) as client:
            first = await wait_for_async(lambda: am_alerts(client, am_url, "Watchdog"), 10)
            assert first, "no Watchdog in Alertmanager"
            assert first[0]["labels"] == {"alertname": "Watchdog", "site": "lab"}
            assert first[0]["annotations"]["severity"] == "none"
            ends = parse_time(first[0]["endsAt"])

            async def refreshed():
                now = await am_alerts(client, am_url, "Watchdog")
                return now if now and parse_time(now[0]["endsAt"]) > ends + 0.5 else None

            again = await wait_for_async(refreshed, 10)
            assert again, "the Watchdog was not re-posted"
            assert again[0]["startsAt"] == first[0]["startsAt"]  # one never-ending alert
            assert await am_alerts(client, am_url) == []  # and nothing else fires
