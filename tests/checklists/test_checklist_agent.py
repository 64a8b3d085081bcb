"""The checklists in a real `alice-agent` process: the morning automatic run (caught up
when the agent starts after `daily_at`), answers through the token-guarded API, the
`checklists` snapshot section, and `checklist_overdue` reaching a webhook when the
deadline passed, resolved once every item is answered."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime

import httpx
import yaml
from agent_runtime.agentproc import SIM_KEY, SIM_KEY_ENV, AgentProcess, alert, notices
from agent_runtime.agentproc import write_config as agent_config
from webhooks import Receivers

TOKEN = "checklist-test-token-5e2a"


def midday_zone() -> str:
    """An Etc/GMT zone where it is now around noon, so "today", the run time (00:00)
    and the deadline (00:01) are all unambiguous while the test runs."""
    hour = datetime.now(UTC).hour
    offset = 12 - hour  # local = UTC + offset
    offset = max(-12, min(14, offset))
    return "Etc/GMT" + (f"-{offset}" if offset > 0 else f"+{-offset}" if offset < 0 else "")


async def post(agent: AgentProcess, path: str, body: dict, token: str | None = TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(timeout=10.0) as client:
        return await client.post(agent.url + path, json=body, headers=headers)


async def test_agent_runs_the_checklist_and_raises_overdue(tmp_path, monkeypatch):
    from simulator.server import run_in_thread

    monkeypatch.setenv(SIM_KEY_ENV, SIM_KEY)
    monkeypatch.setenv("ALICE_TEST_TOKEN", TOKEN)
    receivers = Receivers()
    hook = await receivers()
    agent = None
    with run_in_thread(api_key=SIM_KEY) as sim:
        path = agent_config(tmp_path / "alice-ops.yaml", sim.urls, data_path=tmp_path / "s.db",
                            components=("openai", "gateway", "backend", "prometheus"),
                            agent={"token": "${ALICE_TEST_TOKEN}"},
                            notifiers={"webhooks": [{"name": "hook", "url": hook.url}]})
        doc = yaml.safe_load(path.read_text())
        doc["thresholds"] = [{"component": "host", "metric": m, "target": 101, "alert": 101}
                             for m in ("cpu_percent", "memory_percent", "disk_percent")]
        doc["checklists"] = {"daily_at": "00:00", "deadline": "00:01",
                             "timezone": midday_zone()}
        path.write_text(yaml.safe_dump(doc))
        try:
            agent = await AgentProcess(path, tmp_path, token=TOKEN).start()
            snap = await agent.wait_for(lambda s: "daily" in s["checklists"],
                                        "the checklists section")
            assert snap["checklists"]["schedule"]["daily_at"] == "00:00"

            # reads are open on loopback; answering needs the token
            denied = await post(agent, "/api/v1/checklists/daily/items/hud_display",
                                {"result": "pass"}, token=None)
            assert denied.status_code == 401
            bad = await post(agent, "/api/v1/checklists/daily/items/nope", {"result": "pass"})
            assert bad.status_code == 404 and "no item 'nope'" in bad.json()["error"]
            bad = await post(agent, "/api/v1/checklists/daily/items/hud_display",
                             {"result": "maybe"})
            assert bad.status_code == 400

            # every probe has reported by now: an answer's tick catches up the morning run
            await agent.wait_for(lambda s: {"openai", "gateway", "backend", "prometheus"} <=
                                 {c["name"] for c in s["components"]}, "every probe")
            answered = await post(agent, "/api/v1/checklists/daily/items/hud_display",
                                  {"result": "pass", "note": "HUD fine", "by": "maria"})
            assert answered.status_code == 200
            run = {i["id"]: i for i in answered.json()["items"]}
            assert (run["hud_display"]["result"], run["hud_display"]["by"]) == ("pass", "maria")
            assert run["services_green"]["by"] == "agent"
            assert run["services_green"]["result"] == "pass"
            assert run["intent_accuracy"]["result"] == "pass"

            # past the deadline with manual items open: the alert fires and is notified
            snap = await agent.wait_for(
                lambda s: (alert(s, "checklist_overdue") or {}).get("state") == "firing",
                "checklist_overdue firing")
            assert alert(snap, "checklist_overdue")["severity"] == "warning"
            assert snap["checklists"]["schedule"]["overdue"] is True
            deadline = time.monotonic() + 10
            while not notices(hook.requests, "checklist_overdue", "firing"):
                assert time.monotonic() < deadline, "checklist_overdue never reached the hook"
                await asyncio.sleep(0.1)

            state = (await agent.get("/api/v1/checklists")).json()
            for item_id in state["daily"]["open"]:
                r = await post(agent, f"/api/v1/checklists/daily/items/{item_id}",
                               {"result": "skip", "by": "maria"})
                assert r.status_code == 200, r.text
            snap = await agent.wait_for(
                lambda s: (alert(s, "checklist_overdue") or {}).get("state") == "resolved",
                "checklist_overdue resolved")
            assert snap["checklists"]["daily"]["complete"] is True
            deadline = time.monotonic() + 10
            while not notices(hook.requests, "checklist_overdue", "resolved"):
                assert time.monotonic() < deadline, "no resolved notice"
                await asyncio.sleep(0.1)
            fired = notices(hook.requests, "checklist_overdue", "firing")[0]["annotations"]
            assert "not completed by 00:01" in json.dumps(fired)
            resolved = notices(hook.requests, "checklist_overdue", "resolved")[0]
            assert "daily checklist completed" in json.dumps(resolved["annotations"])
            assert SIM_KEY not in agent.output_text() and TOKEN not in agent.output_text()
        finally:
            if agent is not None:
                agent.close()
            await receivers.close()


async def test_without_a_checklists_section_the_agent_stays_out_of_it(tmp_path, monkeypatch):
    """No `checklists:` section: no schedule, no overdue alert, an empty section."""
    from simulator.server import run_in_thread

    monkeypatch.setenv(SIM_KEY_ENV, SIM_KEY)
    monkeypatch.setenv("ALICE_TEST_TOKEN", TOKEN)
    agent = None
    with run_in_thread(api_key=SIM_KEY) as sim:
        path = agent_config(tmp_path / "alice-ops.yaml", sim.urls, data_path=tmp_path / "s.db",
                            components=("openai",), agent={"token": "${ALICE_TEST_TOKEN}"})
        try:
            agent = await AgentProcess(path, tmp_path, token=TOKEN).start()
            snap = await agent.wait_for(lambda s: s["components"], "a probe result")
            assert snap["checklists"] == {} and alert(snap, "checklist_overdue") is None
            assert (await agent.get("/api/v1/checklists")).json() == {}
            r = await post(agent, "/api/v1/checklists/daily/items/hud_display",
                           {"result": "pass"})
            assert r.status_code == 404 and "not configured" in r.json()["error"]
        finally:
            if agent is not None:
                agent.close()


async def test_overdue_survives_a_restart_without_a_second_announcement(tmp_path, monkeypatch):
    """Like every other alert: firing is restored with its start, not announced again,
    and closed with a resolved notice after the restart."""
    import signal

    from simulator.server import run_in_thread

    monkeypatch.setenv(SIM_KEY_ENV, SIM_KEY)
    monkeypatch.setenv("ALICE_TEST_TOKEN", TOKEN)
    receivers = Receivers()
    hook = await receivers()
    agents: list[AgentProcess] = []
    with run_in_thread(api_key=SIM_KEY) as sim:
        path = agent_config(tmp_path / "alice-ops.yaml", sim.urls, data_path=tmp_path / "s.db",
                            components=("openai",), agent={"token": "${ALICE_TEST_TOKEN}"},
                            notifiers={"webhooks": [{"name": "hook", "url": hook.url}]})
        doc = yaml.safe_load(path.read_text())
        doc["checklists"] = {"daily_at": "00:00", "deadline": "00:01",
                             "timezone": midday_zone()}
        path.write_text(yaml.safe_dump(doc))
        try:
            agents.append(await AgentProcess(path, tmp_path, token=TOKEN).start())
            first = await agents[0].wait_for(
                lambda s: (alert(s, "checklist_overdue") or {}).get("state") == "firing",
                "checklist_overdue firing")
            deadline = time.monotonic() + 10
            while not notices(hook.requests, "checklist_overdue", "firing"):
                assert time.monotonic() < deadline, "never announced"
                await asyncio.sleep(0.1)
            # an answer runs a tick: the notification record is saved with the state
            r = await post(agents[0], "/api/v1/checklists/daily/items/hud_display",
                           {"result": "pass"})
            assert r.status_code == 200
            agents[0].signal(signal.SIGTERM)
            assert await agents[0].wait_exit() == 0

            agents.append(await AgentProcess(path, tmp_path, token=TOKEN, run=1).start())
            again = await agents[1].wait_for(
                lambda s: (alert(s, "checklist_overdue") or {}).get("state") == "firing",
                "checklist_overdue restored")
            was, now = alert(first, "checklist_overdue"), alert(again, "checklist_overdue")
            assert now["fired_at"] == was["fired_at"]
            await agents[1].wait_for(lambda s: s["agent"]["cycles_total"].get("openai", 0) >= 3,
                                     "a few cycles after the restart")
            assert len(notices(hook.requests, "checklist_overdue", "firing")) == 1

            state = (await agents[1].get("/api/v1/checklists")).json()
            for item_id in state["daily"]["open"]:
                r = await post(agents[1], f"/api/v1/checklists/daily/items/{item_id}",
                               {"result": "skip"})
                assert r.status_code == 200, r.text
            deadline = time.monotonic() + 10
            while not notices(hook.requests, "checklist_overdue", "resolved"):
                assert time.monotonic() < deadline, "the restored alert was never closed"
                await asyncio.sleep(0.1)
        finally:
            for agent in agents:
                agent.close()
            await receivers.close()
