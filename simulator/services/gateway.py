"""The fake voice gateway: `/health`, the connection pool status, and the voice
WebSocket `/ws/voice/{session}` that greets with `ready` and acknowledges every message.
"""

from __future__ import annotations

import json

from aiohttp import WSCloseCode, WSMsgType, web

from simulator.context import SimContext
from simulator.services.base import CTX, json_response, make_app

MAX_CONNECTIONS = 100
SOCKETS = web.AppKey("sockets", dict)  # WebSocketResponse -> session id


def _down(request: web.Request) -> bool:
    return request.app[CTX].state.scenario == "gateway-down"


async def health(request: web.Request) -> web.Response:
    if _down(request):
        return json_response({"status": "down"}, 503)
    return json_response({"status": "ok", "connections": len(request.app[SOCKETS])})


async def connections_status(request: web.Request) -> web.Response:
    if _down(request):
        return json_response({"status": "down", "error": "voice gateway unavailable"}, 503)
    sockets = request.app[SOCKETS]
    return json_response({"active": len(sockets), "max": MAX_CONNECTIONS,
                          "sessions": sorted(set(sockets.values()))})


async def voice_socket(request: web.Request) -> web.StreamResponse:
    sockets = request.app[SOCKETS]
    if _down(request):
        return json_response({"status": "down", "error": "voice gateway unavailable"}, 503)
    if len(sockets) >= MAX_CONNECTIONS:
        return json_response({"status": "full", "error": "connection pool exhausted"}, 503)
    session = request.match_info["session"]
    ws = web.WebSocketResponse(heartbeat=None)
    await ws.prepare(request)
    sockets[ws] = session
    try:
        await ws.send_json({"type": "ready", "session": session})
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                try:
                    echo = json.loads(msg.data)
                except ValueError:
                    echo = msg.data
                await ws.send_json({"type": "ack", "echo": echo})
            elif msg.type == WSMsgType.BINARY:
                await ws.send_json({"type": "ack", "bytes": len(msg.data)})
    finally:
        sockets.pop(ws, None)
    return ws


async def _close_sockets(app: web.Application) -> None:
    for ws in list(app[SOCKETS]):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"simulator stopping")


def create_app(ctx: SimContext) -> web.Application:
    app = make_app("gateway", ctx)
    app[SOCKETS] = {}
    app.router.add_get("/health", health)
    app.router.add_get("/api/connections/status", connections_status)
    app.router.add_get("/ws/voice/{session}", voice_socket)
    app.on_shutdown.append(_close_sockets)
    return app
