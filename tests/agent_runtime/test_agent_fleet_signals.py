"""A real alice-agent with `agent.external_labels`, an Alertmanager and a heartbeat URL:
the Watchdog fires in Alertmanager (never in the agent's own alerts or check), the
heartbeat is pinged while the agent is healthy, /metrics carries the site label, and
`alice-ops check --agent` says alive and fresh, then CRITICAL once the agent is gone."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from agent.cli.main import main
from agentproc import component, write_config
from alertmanager import running_alertmanager
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
