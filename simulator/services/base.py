"""The base of every simulated service app: `/_sim/*` control routes, the middleware that
applies injected latency and the `hang` / `garbage` scenarios, and compact JSON replies.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from simulator.context import SimContext

CTX = web.AppKey("ctx", SimContext)
SERVICE = web.AppKey("service", str)
GARBAGE_BODY = "<html>oops"


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None
                  ) -> web.Response:
    """JSON without spaces, as FastAPI and Go servers write it (`"status":"healthy"`)."""
    return web.Response(text=json.dumps(data, separators=(",", ":")), status=status,
                        content_type="application/json", headers=headers)


async def read_json_object(request: web.Request) -> dict[str, Any] | None:
    """The request body as a JSON object, or None if it is missing or not one."""
    try:
        data = await request.json(loads=json.loads)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


@web.middleware
async def sim_middleware(request: web.Request, handler) -> web.StreamResponse:
    if request.path.startswith("/_sim/"):
        return await handler(request)
    state = request.app[CTX].state
    await state.pause(state.latency_for(request.app[SERVICE], request.path))
    if state.scenario == "hang":
        await state.wait_while("hang")
        if state.stopped:
            return web.Response(status=503, text="simulator stopped")
    if state.scenario == "garbage":
        return web.Response(text=GARBAGE_BODY, content_type="text/html")
    return await handler(request)


async def _get_scenario(request: web.Request) -> web.Response:
    state = request.app[CTX].state
    return json_response({"scenario": state.scenario, "scenarios": list(state.scenarios)})


async def _post_scenario(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    if body is None or not isinstance(body.get("scenario"), str):
        return json_response({"error": 'body must be JSON {"scenario": name}'}, 400)
    try:
        request.app[CTX].state.set_scenario(body["scenario"])
    except ValueError as exc:
        return json_response({"error": str(exc)}, 400)
    return await _get_scenario(request)


async def _post_flap(request: web.Request) -> web.Response:
    """{"scenario": NAME, "period_s": S}: alternate NAME and normal every S seconds."""
    body = await read_json_object(request)
    if body is None or not isinstance(body.get("scenario"), str):
        return json_response({"error": 'body must be JSON {"scenario": name, "period_s": s}'},
                             400)
    try:
        request.app[CTX].state.flap(body["scenario"], body.get("period_s", 5.0))
    except ValueError as exc:
        return json_response({"error": str(exc)}, 400)
    return await _get_scenario(request)


async def _get_latency(request: web.Request) -> web.Response:
    return json_response({"latency_ms": request.app[CTX].state.latency()})


async def _post_latency(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    if body is None or "ms" not in body:
        return json_response({"error": 'body must be JSON {"ms": number, "endpoint": ...}'}, 400)
    try:
        request.app[CTX].state.set_latency(body["ms"], body.get("endpoint"))
    except ValueError as exc:
        return json_response({"error": str(exc)}, 400)
    return await _get_latency(request)


async def _get_state(request: web.Request) -> web.Response:
    return json_response(request.app[CTX].state.admin_snapshot())


def make_app(service: str, ctx: SimContext) -> web.Application:
    """An application for `service` with the control routes and the scenario middleware."""
    app = web.Application(middlewares=[sim_middleware])
    app[CTX] = ctx
    app[SERVICE] = service
    app.router.add_get("/_sim/scenario", _get_scenario)
    app.router.add_post("/_sim/scenario", _post_scenario)
    app.router.add_post("/_sim/flap", _post_flap)
    app.router.add_get("/_sim/latency", _get_latency)
    app.router.add_post("/_sim/latency", _post_latency)
    app.router.add_get("/_sim/state", _get_state)
    return app
