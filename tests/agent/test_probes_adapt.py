"""Probes that adapt to a deployment: configurable health paths, status words and nested
sub-statuses; a configurable WebSocket exchange; endpoint bodies judged by JSON path;
one total deadline per request. Real loopback servers (aiohttp) wherever the wire matters.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import WSMsgType, web

from agent.config import (
    BackendTarget,
    ConfigError,
    EndpointTarget,
    GatewayTarget,
    HealthCheck,
    parse_config,
)
from vocab.model import Status
from agent.probes import backend, endpoint, gateway
from agent.probes.health import judge
from agent.probes.http import make_client

# The real Alice main backend's /api/health answer (server/app.py at 8a7c9b9), database down
ALICE_HEALTH = {
    "status": "ok", "timestamp": "2026-12-04T18:00:00Z", "version": "2.0.0",
    "database": {"status": "error", "ping": False},
    "features": {"harmony": False, "tools": True, "voice": True},
    "services": {"ollama": "unknown", "tts": "ok", "stt": "ok"},
    "authentication": {"status": "disabled", "reason": "dependencies_not_installed"},
}
ALICE_CHECK = HealthCheck(sub_statuses=("database.status", "services.*", "authentication"))


def _healthy() -> dict:
    return {**ALICE_HEALTH, "database": {"status": "ok", "ping": True}}


# --- the pure judgement ---------------------------------------------------------------

def test_nested_error_is_critical_and_named():
    verdict = judge(200, ALICE_HEALTH, ALICE_CHECK, "backend")
    assert verdict.status is Status.CRITICAL
    assert verdict.summary == "backend reports 'ok'; database.status: \"error\""
    kinds = {s.name: s.kind for s in verdict.subs}
    assert kinds == {"database.status": "bad", "services.ollama": "ignored",
                     "services.tts": "ok", "services.stt": "ok",
                     "authentication": "ignored"}


def test_ignore_words_do_not_count_and_healthy_is_ok():
    verdict = judge(200, _healthy(), ALICE_CHECK, "backend")
    assert verdict.status is Status.OK
    assert verdict.summary == "backend reports 'ok'"
    shown = {s["path"]: s for s in verdict.details("/api/health")["sub_statuses"]}
    assert shown["services.ollama"] == {"path": "services.ollama", "value": "unknown",
                                        "kind": "ignored", "counted": False}


def test_sub_status_bad_warning_and_degraded_words():
    check = ALICE_CHECK.model_copy(update={"sub_status_bad": "warning"})
    assert judge(200, ALICE_HEALTH, check, "backend").status is Status.WARNING
    body = {**_healthy(), "services": {"ollama": "Degraded", "tts": "ok"}}
    verdict = judge(200, body, ALICE_CHECK, "backend")
    assert verdict.status is Status.WARNING
    assert 'services.ollama: "Degraded"' in verdict.summary


def test_status_path_vocabulary_and_flags():
    check = HealthCheck(path="/healthz", status_path="app.state", ok=("green",),
                        degraded=("yellow",), ignore=())
    assert judge(200, {"app": {"state": "GREEN"}}, check, "x").status is Status.OK
    assert judge(200, {"app": {"state": "yellow"}}, check, "x").status is Status.WARNING
    red = judge(200, {"app": {"state": "red"}}, check, "x")
    assert red.status is Status.CRITICAL and red.summary == "x reports 'red'"
    missing = judge(200, {"status": "ok"}, check, "x")
    assert missing.status is Status.CRITICAL
    assert missing.summary == "/healthz has no status field at 'app.state'"
    flag = HealthCheck(status_path="healthy")
    assert judge(200, {"healthy": True}, flag, "x").status is Status.OK
    assert judge(200, {"healthy": False}, flag, "x").status is Status.CRITICAL
    code_only = HealthCheck(path="/health", status_path="")
    assert judge(200, None, code_only, "x").status is Status.OK
    assert judge(503, {"status": "down"}, code_only, "x").summary == "/health answered HTTP 503"
    assert judge(503, {"status": "down"}, HealthCheck(), "x").summary == \
        "/api/health answered HTTP 503, status 'down'"


def test_wildcard_over_mappings_and_absent_paths():
    check = HealthCheck(sub_statuses=("checks.*", "nowhere.status"))
    body = {"status": "healthy", "checks": {"db": {"state": "ok"}, "queue": "failing",
                                            "latency": 12}}
    verdict = judge(200, body, check, "backend")
    kinds = {s.name: s.kind for s in verdict.subs}
    assert kinds == {"checks.db": "ok", "checks.queue": "bad", "checks.latency": "not a status",
                     "nowhere.status": "absent"}
    assert verdict.status is Status.CRITICAL and 'checks.queue: "failing"' in verdict.summary


def test_config_keys_and_legacy_ws_path():
    config = parse_config("""
targets:
  backend:
    url: http://127.0.0.1:8000
    health: {path: /api/health, sub_statuses: [database.status, "services.*"],
             sub_status_bad: warning}
  gateway: {url: http://127.0.0.1:8000, ws_path: "/ws/legacy/{session}"}
  endpoints:
    - {name: cal, url: "http://127.0.0.1:9/x", expect_json: {path: status, equals: ok}}
""", "<t>", {})
    t = config.targets
    assert t.backend.health.sub_statuses == ("database.status", "services.*")
    assert t.gateway.websocket.path == "/ws/legacy/{session}" == t.gateway.ws_path
    assert t.gateway.health.path == "/health" and t.gateway.health.status_path == ""
    assert t.endpoints[0].expect_json.equals == "ok"
    defaults = GatewayTarget()
    assert defaults.websocket.path == "/ws/voice/{session}"
    with pytest.raises(ConfigError, match=r"<t>:2: targets.gateway: health and websocket"):
        parse_config("targets:\n  gateway: {health: null, websocket: null}\n", "<t>", {})
    with pytest.raises(ConfigError, match="is in both ok and ignore"):
        parse_config("targets:\n  backend: {health: {ok: [fine], ignore: [FINE]}}\n", "<t>", {})
    with pytest.raises(ConfigError, match=r"targets.backend.health.path: expected a URL path"):
        parse_config("targets:\n  backend: {health: {path: 'api/health?k=1'}}\n", "<t>", {})


# --- real loopback servers ------------------------------------------------------------

@contextlib.asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def alice_like(health: dict) -> web.Application:
    """A backend serving the WebSocket itself as the real Alice does: /ws/alice greets with
    hello and answers a ping with pong; /ws/voice/{id} refuses the upgrade (403); /slow
    drips a byte every 100 ms for 3 s."""

    async def api_health(request: web.Request) -> web.Response:
        return web.json_response(health)

    async def ws_alice(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "hello"})
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                data = json.loads(msg.data)
                kind = "pong" if data.get("type") == "ping" else "echo"
                await ws.send_json({"type": kind})
        return ws

    async def refused(request: web.Request) -> web.Response:
        return web.Response(status=403, text="forbidden")

    async def slow(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        await resp.prepare(request)
        for _ in range(30):
            await resp.write(b" ")
            await asyncio.sleep(0.1)
        await resp.write(b'{"status": "ok"}')
        return resp

    async def status(request: web.Request) -> web.Response:
        return web.json_response({"status": request.query.get("s", "ok"), "n": 1})

    async def text(request: web.Request) -> web.Response:
        return web.Response(text="<html>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/api/health", api_health)
    app.router.add_get("/ws/alice", ws_alice)
    app.router.add_get("/ws/voice/{session}", refused)
    app.router.add_get("/slow", slow)
    app.router.add_get("/status", status)
    app.router.add_get("/text", text)
    return app


async def test_backend_probe_reads_the_nested_database_error():
    async with serve(alice_like(ALICE_HEALTH)) as url:
        result = await backend.probe(BackendTarget(url=url, health=ALICE_CHECK))
    assert result.status is Status.CRITICAL
    assert result.summary == "backend reports 'ok'; database.status: \"error\""
    assert result.details["health"]["status"] == "ok"
    async with serve(alice_like(_healthy())) as url:
        result = await backend.probe(BackendTarget(url=url, health=ALICE_CHECK))
    assert result.status is Status.OK and result.readings["health_latency_ms"].known


async def test_backend_probe_keeps_a_total_deadline():
    """/slow answers a byte every 100 ms: no single read waits 500 ms, the whole does."""
    async with serve(alice_like(ALICE_HEALTH)) as url:
        started = time.perf_counter()
        result = await backend.probe(BackendTarget(url=url, timeout_ms=500,
                                                   health=HealthCheck(path="/slow")))
        elapsed = time.perf_counter() - started
    assert result.status is Status.CRITICAL
    assert result.summary == "/slow: no answer within 500 ms"
    assert elapsed < 1.0


async def test_gateway_on_the_backend_url_with_ping_pong():
    ws = {"path": "/ws/alice", "send": '{"type": "ping"}',
          "expect": {"json_path": "type", "equals": "pong"}}
    async with serve(alice_like(_healthy())) as url:
        target = GatewayTarget(url=url, health=None, websocket=ws)
        ok = await gateway.probe(target)
        wrong = await gateway.probe(GatewayTarget(
            url=url, health=None, timeout_ms=400,
            websocket={**ws, "expect": {"json_path": "type", "equals": "nope"}}))
        connect_only = await gateway.probe(GatewayTarget(
            url=url, health=None, websocket={"path": "/ws/alice", "send": None,
                                             "expect": None}))
        contains = await gateway.probe(GatewayTarget(
            url=url, health=None, websocket={**ws, "expect": {"contains": "pong"}}))
    assert ok.status is Status.OK and ok.summary == "WebSocket exchange ok"
    assert ok.readings["ws_exchange_ms"].known and "health_latency_ms" not in ok.readings
    assert wrong.status is Status.CRITICAL
    assert wrong.summary.startswith("WebSocket /ws/alice: no frame matched type == \"nope\" "
                                    "within 400 ms (2 received, last '{\"type\": \"pong\"}')")
    assert connect_only.status is Status.OK and contains.status is Status.OK


async def test_gateway_names_the_refused_upgrade_and_judges_health_words():
    async with serve(alice_like(ALICE_HEALTH)) as url:
        target = GatewayTarget(url=url, health=ALICE_CHECK.model_copy(
            update={"sub_status_bad": "warning"}))
        result = await gateway.probe(target)
        words_only = await gateway.probe(GatewayTarget(
            url=url, health=ALICE_CHECK.model_copy(update={"sub_status_bad": "warning"}),
            websocket={"path": "/ws/alice"}))
    assert result.status is Status.CRITICAL
    assert result.summary == ("health reports 'ok'; database.status: \"error\"; "
                              "WebSocket /ws/voice/{session}: upgrade refused with HTTP 403")
    assert words_only.status is Status.WARNING
    assert words_only.summary == "health reports 'ok'; database.status: \"error\""


@pytest.mark.parametrize("pool", ["httpx", "aiohttp"])
async def test_endpoint_expect_json(pool: str):
    async with serve(alice_like(ALICE_HEALTH)) as url:
        async with (make_client(10_000) if pool == "httpx"
                    else endpoint.EndpointClient()) as client:
            async def run(path: str, equals, timeout_ms: int = 2000):
                target = EndpointTarget(name="cal", url=url + path, timeout_ms=timeout_ms,
                                        expect_json={"path": "status", "equals": equals})
                return await endpoint.probe(target, client)

            ok = await run("/status?s=ok", "ok")
            down = await run("/status?s=down&key=secret", "ok")
            typed = await run("/status?s=ok", True)
            text = await run("/text", "ok")
            none = await run("/api/health", "ok")
            started = time.perf_counter()
            slow = await run("/slow", "ok", timeout_ms=500)
            slow_s = time.perf_counter() - started
    assert ok.status is Status.OK and ok.summary.startswith('HTTP 200, status == "ok" in ')
    assert down.status is Status.CRITICAL
    assert down.summary == '/status: HTTP 200 but status is "down", expected "ok"'
    assert "secret" not in down.summary
    assert typed.status is Status.CRITICAL and "expected true" in typed.summary
    assert text.summary == "/text: HTTP 200 but the body is not JSON"
    assert none.status is Status.OK
    assert slow.status is Status.CRITICAL and slow.summary == "/slow: no answer within 500 ms"
    assert slow_s < 1.0


async def test_endpoint_without_expect_json_never_reads_the_body():
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=b"<html>"))
    async with make_client(10_000, transport) as client:
        result = await endpoint.probe(EndpointTarget(name="x", url="http://x.test/a"), client)
    assert result.status is Status.OK
