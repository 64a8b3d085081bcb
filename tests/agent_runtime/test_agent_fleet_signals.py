"""Real alice-agents with `agent.external_labels` against a real Alertmanager.

One agent with a heartbeat URL: the Watchdog fires in Alertmanager (never in the agent's
own alerts or check), the heartbeat is pinged while the agent is healthy, /metrics carries
the site label, and `alice-ops check --agent` says alive and fresh, then CRITICAL once the
agent is gone. Two agents at two sites: one heals, no false resolved for the other."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from agent.cli.main import main
from simulator.server import run_in_thread
from agentproc import SIM_KEY, component, firing, write_config
from alertmanager import WITH_HOOK, running_alertmanager
from waiting import wait_for_async

pytestmark = pytest.mark.integration
EXIT = {"ok": 0, "warning": 1, "critical": 2, "unknown": 3}


async def _watchdogs(am_url: str) -> list[dict]:
    async with httpx.AsyncClient(timeout=2.0) as client:
        response = await client.get(f"{am_url}/api/v2/alerts",
                                    params={"filter": 'alertname="Watchdog"'})
    response.raise_for_status()
    return response.json()


async def _check_agent(url: str, capsys) -> tuple[int, dict]:
    capsys.readouterr()
    code = await asyncio.to_thread(main, ["check", "--agent", url, "--json"])
    return code, json.loads(capsys.readouterr().out)


async def test_watchdog_heartbeat_site_label_and_check_agent(tmp_path, sim, start_agent,
                                                             webhook_receiver, capsys):
    beat = await webhook_receiver()
    with running_alertmanager(tmp_path / "am") as am_url:
        config = write_config(
            tmp_path / "alice-ops.yaml", sim.urls, data_path=tmp_path / "state.db",
            agent={"external_labels": {"site": "lab"},
                   "heartbeat": {"url": beat.url, "interval_s": 1, "method": "POST"}},
            notifiers={"alertmanagers": [{"name": "am", "url": am_url,
                                          "resend_interval_s": 1}]})
        agent = await start_agent(config)
        await agent.wait_for(lambda s: (component(s, "openai") or {}).get("status") == "ok",
                             "openai ok")

        watchdog = await wait_for_async(lambda: _watchdogs(am_url), 15)
        assert watchdog, "no Watchdog reached Alertmanager"
        assert watchdog[0]["labels"] == {"alertname": "Watchdog", "site": "lab"}
        assert watchdog[0]["annotations"]["severity"] == "none"

        snap = await agent.snapshot()
        assert all(a["name"] != "Watchdog" for a in snap["alerts"])  # not a problem here
        code, verdict = await _check_agent(agent.url, capsys)
        assert (verdict["alive"], verdict["fresh"]) == (True, True), verdict
        # exits by the agent's own overall status (a busy test host may warn on CPU)
        assert code == EXIT[verdict["status"]]
        assert all(a["name"] != "Watchdog" for a in verdict["alerts"])

        metrics = (await agent.get("/metrics")).text
        series = [line for line in metrics.splitlines()
                  if line.startswith("alice_ops_component_status{")]
        assert series and all('site="lab"' in line for line in series)

        async def pinged():
            return len(beat.requests) >= 2
        assert await wait_for_async(pinged, 15), "heartbeat not pinged"
        assert {r.path for r in beat.requests} == {"/hook"}  # healthy: never /fail

        agent.close()
        code, verdict = await _check_agent(agent.url, capsys)
        assert code == 2 and verdict["alive"] is False
        assert verdict["reason"].startswith("no answer")




def _told(hook, status: str, site: str) -> list[dict]:
    """What Alertmanager itself notified about openai_health at `site` with `status`."""
    return [a for r in hook.requests if isinstance(r.body, dict)
            for a in r.body.get("alerts", []) if a.get("status") == status
            and a["labels"].get("alertname") == "openai_health"
            and a["labels"].get("site") == site]


async def test_two_agents_two_sites_one_heals_no_false_resolved(tmp_path, sim, start_agent,
                                                                webhook_receiver):
    """Two real agents, each watching its own (simulated) site, one Alertmanager: both
    sites fail, site a heals, and Alertmanager reports a resolved for a and never for b."""
    hook = await webhook_receiver()
    other = run_in_thread(api_key=SIM_KEY)
    try:
        with running_alertmanager(tmp_path / "am", config=WITH_HOOK.format(url=hook.url)) \
                as am_url:
            agents = {}
            for site, s in (("a", sim), ("b", other)):
                config = write_config(
                    tmp_path / f"{site}.yaml", s.urls, data_path=tmp_path / f"{site}.db",
                    agent={"external_labels": {"site": site}},
                    notifiers={"alertmanagers": [{"name": "am", "url": am_url,
                                                  "watchdog": False}]})
                agents[site] = await start_agent(config)
            for s in (sim, other):
                s.set_scenario("openai-outage")
            for agent in agents.values():
                await agent.wait_for(firing("openai_health"), "openai_health firing")

            async def both_told():
                return _told(hook, "firing", "a") and _told(hook, "firing", "b")
            assert await wait_for_async(both_told, 20), "Alertmanager never notified both"

            sim.set_scenario("normal")  # site a heals
            await agents["a"].wait_for(
                lambda s: all(a["name"] != "openai_health" or a["state"] != "firing"
                              for a in s["alerts"]), "openai_health resolved at a")

            async def a_resolved():
                return _told(hook, "resolved", "a")
            assert await wait_for_async(a_resolved, 20), "no resolved for site a"
            assert _told(hook, "resolved", "b") == []  # the false resolved of the report
            snap_b = await agents["b"].snapshot()
            assert any(a["name"] == "openai_health" and a["state"] == "firing"
                       for a in snap_b["alerts"])
    finally:
        other.stop()
