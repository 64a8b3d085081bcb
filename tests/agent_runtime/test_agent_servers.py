"""The agent against real servers: Alertmanager receives and resolves its alerts, and a
real Prometheus scrapes its /metrics with the same values as the snapshot."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone

import httpx
import pytest

from agentproc import alert, component, firing, write_config
from alertmanager import running_alertmanager
from promserver import running_prometheus

pytestmark = pytest.mark.integration
RANK = {"ok": 0, "warning": 1, "unknown": 2, "critical": 3}


async def _am_alerts(url: str, alertname: str) -> list[dict]:
    async with httpx.AsyncClient(timeout=2.0) as client:
        response = await client.get(f"{url}/api/v2/alerts",
                                    params={"filter": f'alertname="{alertname}"'})
    response.raise_for_status()
    return response.json()


def _ended(entry: dict) -> bool:
    ends = datetime.fromisoformat(entry["endsAt"].replace("Z", "+00:00"))
    return ends <= datetime.now(timezone.utc)


async def test_alertmanager_receives_the_alert_and_its_resolution(tmp_path, sim, start_agent):
    with running_alertmanager(tmp_path / "am") as am_url:
        config = write_config(tmp_path / "alice-ops.yaml", sim.urls,
                              data_path=tmp_path / "state.db",
                              notifiers={"alertmanagers": [{"name": "am", "url": am_url}]})
        agent = await start_agent(config)
        await agent.wait_for(lambda s: (component(s, "openai") or {}).get("status") == "ok",
                             "openai ok")

        sim.set_scenario("openai-outage")
        snap = await agent.wait_for(firing("openai_health"), "openai_health firing")
        started = alert(snap, "openai_health")["started_at"]

        deadline = time.monotonic() + 15
        ours: list[dict] = []
        while time.monotonic() < deadline and not ours:
            ours = [a for a in await _am_alerts(am_url, "openai_health")
                    if a["labels"].get("component") == "openai"
                    and a["labels"].get("service") == "alice" and not _ended(a)]
            await asyncio.sleep(0.2)
        assert ours, "Alertmanager never got an active openai_health alert"
        got = ours[0]
        assert got["annotations"]["severity"] == "critical"  # not a label: not identity
        assert "severity" not in got["labels"]
        assert got["status"]["state"] in ("active", "unprocessed")
        assert datetime.fromisoformat(got["startsAt"].replace("Z", "+00:00")).replace(
            microsecond=0) == datetime.fromisoformat(started)
        assert got["generatorURL"] == f"{agent.url}/api/v1/snapshot"  # the bound port, not 0

        sim.set_scenario("normal")
        await agent.wait_for(lambda s: (alert(s, "openai_health") or {}).get("state")
                             == "resolved", "openai_health resolved")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            entries = await _am_alerts(am_url, "openai_health")
            if all(_ended(a) for a in entries):
                break
            await asyncio.sleep(0.2)
        else:
            pytest.fail(f"Alertmanager still has openai_health active: {entries}")
        # the firing and the resolved post (at least)
        await agent.wait_for(lambda s: s["agent"]["notifications_sent_total"].get("am", 0) >= 2,
                             "two posts to Alertmanager")


async def _query(url: str, promql: str) -> list[dict]:
    async with httpx.AsyncClient(timeout=2.0) as client:
        response = await client.get(f"{url}/api/v1/query", params={"query": promql})
    response.raise_for_status()
    return response.json()["data"]["result"]


async def test_prometheus_scrapes_what_the_snapshot_says(tmp_path, sim, start_agent):
    config = write_config(tmp_path / "alice-ops.yaml", sim.urls, data_path=tmp_path / "state.db",
                          components=("openai", "backend"))
    agent = await start_agent(config)
    sim.set_scenario("openai-outage")
    await agent.wait_for(firing("openai_health"), "openai_health firing")
    hostport = agent.url.removeprefix("http://")
    with running_prometheus(tmp_path / "prom", {"alice_agent": hostport}, interval_s=1.0) as prom:
        deadline = time.monotonic() + 30
        seen: dict = {}
        while time.monotonic() < deadline:
            snap = await agent.snapshot()
            status = {c["name"]: RANK[c["status"]] for c in snap["components"]}
            firing_now = sum(1 for a in snap["alerts"] if a["state"] == "firing")
            scraped_status = {r["metric"]["component"]: float(r["value"][1]) for r in
                              await _query(prom, 'alice_ops_component_status{job="alice_agent"}')}
            scraped_firing = await _query(prom, 'sum(alice_ops_alerts{state="firing"})')
            up = await _query(prom, 'up{job="alice_agent"}')
            seen = {"snapshot": (status, firing_now),
                    "prometheus": (scraped_status, scraped_firing, up)}
            if (up and up[0]["value"][1] == "1" and scraped_firing
                    and scraped_status == {k: float(v) for k, v in status.items()}
                    and float(scraped_firing[0]["value"][1]) == firing_now):
                break
            await asyncio.sleep(0.3)
        else:
            pytest.fail(f"Prometheus and the snapshot never agreed: {seen}")
        assert status["openai"] == RANK["critical"]
        assert firing_now >= 1
        runs = await _query(prom, 'alice_ops_probe_runs_total{component="openai"}')
        assert runs and float(runs[0]["value"][1]) >= 1
        overall = await _query(prom, "alice_ops_status")
        assert float(overall[0]["value"][1]) == RANK["critical"]
