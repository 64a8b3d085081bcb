"""The fake voice gateway: health, connection status and the voice WebSocket."""

from __future__ import annotations

import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus


def ws_url(sim, session: str) -> str:
    return sim.urls["gateway"].replace("http://", "ws://") + f"/ws/voice/{session}"


async def test_websocket_ready_and_echo(sim, http):
    async with connect(ws_url(sim, "test-1"), open_timeout=2) as ws:
        ready = json.loads(await ws.recv())
        assert ready == {"type": "ready", "session": "test-1"}
        status = (await http.get(sim.urls["gateway"] + "/api/connections/status")).json()
        assert status["active"] == 1 and status["max"] == 100 and status["sessions"] == ["test-1"]
        await ws.send(json.dumps({"type": "ping", "n": 1}))
        assert json.loads(await ws.recv()) == {"type": "ack", "echo": {"type": "ping", "n": 1}}
        await ws.send("plain text")
        assert json.loads(await ws.recv()) == {"type": "ack", "echo": "plain text"}
    health = (await http.get(sim.urls["gateway"] + "/health")).json()
    assert health["status"] == "ok"


async def test_gateway_down(sim, http):
    sim.set_scenario("gateway-down")
    health = await http.get(sim.urls["gateway"] + "/health")
    assert health.status_code == 503 and health.json() == {"status": "down"}
    status = await http.get(sim.urls["gateway"] + "/api/connections/status")
    assert status.status_code == 503
    with pytest.raises(InvalidStatus) as caught:
        async with connect(ws_url(sim, "x"), open_timeout=2):
            pass
    assert caught.value.response.status_code == 503


async def test_stop_closes_open_websockets():
    from simulator.server import Simulator

    async with Simulator() as sim:
        ws = await connect(ws_url(sim, "held"), open_timeout=2)
        await ws.recv()
    await ws.wait_closed()
    assert ws.close_code == 1001
