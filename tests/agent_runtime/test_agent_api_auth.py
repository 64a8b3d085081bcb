"""The API's bearer token: mutating endpoints always need it, reads on loopback do not,
and a non-loopback bind without a token refuses to start."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import httpx

from agentproc import alert, firing, write_config

TOKEN = "agent-api-token-3b8e61d0c4"


async def test_mutations_need_the_right_token(tmp_path, sim, start_agent):
    config = write_config(tmp_path / "alice-ops.yaml", sim.urls, data_path=tmp_path / "state.db",
                          agent={"token": TOKEN})
    agent = await start_agent(config)
    sim.set_scenario("openai-outage")
    await agent.wait_for(firing("openai_health"), "openai_health firing")
    body = {"matchers": "alertname=openai_health", "duration_s": 3600, "comment": "maintenance"}
    async with httpx.AsyncClient(base_url=agent.url, timeout=5.0) as client:
        missing = await client.post("/api/v1/silences", json=body)
        wrong = await client.post("/api/v1/silences", json=body,
                                  headers={"Authorization": "Bearer not-the-token"})
        scheme = await client.post("/api/v1/silences", json=body,
                                   headers={"Authorization": TOKEN})
        ack = await client.post("/api/v1/acks", json={"alert": "openai_health", "comment": "x"})
        assert [r.status_code for r in (missing, wrong, scheme, ack)] == [401] * 4
        assert "token" in missing.json()["error"]
        snap = await agent.snapshot()
        assert snap["silences"] == [] and alert(snap, "openai_health")["silenced_by"] is None

        made = await client.post("/api/v1/silences", json=body,
                                 headers={"Authorization": f"Bearer {TOKEN}"})
        assert made.status_code == 201, made.text
        sid = made.json()["id"]
        snap = await agent.snapshot()  # the POST publishes before it answers
        assert [s["id"] for s in snap["silences"]] == [sid]
        assert alert(snap, "openai_health")["silenced_by"] == sid

        # Reads need no token on loopback.
        for path in ("/healthz", "/metrics", "/api/v1/snapshot"):
            assert (await client.get(path)).status_code == 200, path
        async with client.stream("GET", "/api/v1/events") as events:
            assert events.status_code == 200
            first = await asyncio.wait_for(_first_event(events), 5)
        assert first["seq"] >= 1

        gone = await client.delete(f"/api/v1/silences/{sid}")
        assert gone.status_code == 401
        gone = await client.delete(f"/api/v1/silences/{sid}",
                                   headers={"Authorization": f"Bearer {TOKEN}"})
        assert gone.status_code == 200
        snap = await agent.snapshot()
        assert snap["silences"] == [] and alert(snap, "openai_health")["silenced_by"] is None


async def _first_event(response: httpx.Response) -> dict:
    async for line in response.aiter_lines():
        if line.startswith("data: "):
            return json.loads(line[len("data: "):])
    raise AssertionError("the event stream ended without an event")


async def test_without_a_token_nothing_mutates(tmp_path, sim, start_agent):
    config = write_config(tmp_path / "alice-ops.yaml", sim.urls, data_path=tmp_path / "state.db")
    agent = await start_agent(config)
    async with httpx.AsyncClient(base_url=agent.url, timeout=5.0) as client:
        refused = await client.post("/api/v1/silences", json={
            "matchers": "component=openai", "duration_s": 60, "comment": "x"},
            headers={"Authorization": "Bearer anything"})
        assert refused.status_code == 401
        assert "no token is configured" in refused.json()["error"]
        assert (await client.get("/api/v1/snapshot")).status_code == 200


async def test_non_loopback_needs_a_token(tmp_path, sim, start_agent):
    config = write_config(tmp_path / "alice-ops.yaml", sim.urls, data_path=tmp_path / "state.db")
    refused = start_agent.make(config, "--listen", "0.0.0.0:0", env={"ALICE_OPS_TOKEN": ""})
    refused.spawn()
    assert await refused.wait_exit() != 0
    lines = refused.log_text().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("alice-agent: ") and "loopback" in lines[0] \
        and "token" in lines[0], lines[0]
    assert "Traceback" not in refused.output_text()

    # With a token it starts, and then even reads need the token.
    secured = await start_agent(config, "--listen", "0.0.0.0:0",
                                env={"ALICE_OPS_TOKEN": TOKEN}, token=TOKEN)
    assert (await secured.get("/api/v1/snapshot", headers={})).status_code == 401
    assert (await secured.get("/metrics", headers={})).status_code == 401
    assert (await secured.get("/metrics")).status_code == 200


async def test_absurd_durations_are_refused_and_cycles_go_on(tmp_path, sim, start_agent):
    db = tmp_path / "state.db"
    config = write_config(tmp_path / "alice-ops.yaml", sim.urls, data_path=db,
                          agent={"token": TOKEN})
    agent = await start_agent(config)
    sim.set_scenario("openai-outage")
    await agent.wait_for(firing("openai_health"), "openai_health firing")
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=agent.url, timeout=5.0) as client:
        for duration in ("1e12", "NaN", "Infinity", "-5"):  # year 33715, NaN, ...
            made = await client.post("/api/v1/silences", headers=auth, content=(
                '{"matchers": "component=openai", "comment": "x", "duration_s": %s}'
                % duration).encode())
            assert made.status_code == 400, (duration, made.text)
            acked = await client.post("/api/v1/acks", headers=auth, content=(
                '{"alert": "openai_health", "comment": "x", "duration_s": %s}'
                % duration).encode())
            assert acked.status_code == 400, (duration, acked.text)
    cli = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("alice-ops")), "alerts", "--data", str(db), "silence",
        "component=openai", "-d", "99999999d", "-m", "forever", stderr=asyncio.subprocess.PIPE)
    _, err = await cli.communicate()
    assert cli.returncode == 2 and err.decode().count("\n") == 1, err.decode()
    assert "duration" in err.decode()

    before = await agent.snapshot()
    snap = await agent.wait_for(lambda s: s["seq"] >= before["seq"] + 4, "snapshots going on")
    assert snap["silences"] == [] and alert(snap, "openai_health")["acked"] is None
    assert not [r for r in agent.records() if r["level"] == "ERROR"], agent.tail()
