"""The fake Alice backend: health, the admin mode/broadcast API from the emergency
procedures, the NLU intent classifier, and `/metrics` with every Alice metric.
"""

from __future__ import annotations

from aiohttp import web
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from simulator.context import SimContext
from simulator.nlu import classify
from simulator.services.base import CTX, json_response, make_app, read_json_object

DEGRADED_CHECKS = {"database": "ok", "intent_router": "slow", "tools": "failing",
                   "ollama": "ok", "openai": "ok"}


async def health(request: web.Request) -> web.Response:
    if request.app[CTX].state.scenario == "backend-degraded":
        return json_response({"status": "degraded", "checks": DEGRADED_CHECKS})
    return json_response({"status": "healthy"})


async def set_mode(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    mode = body.get("mode") if body else None
    message = body.get("message", "") if body else ""
    if not isinstance(mode, str) or not mode.strip() or not isinstance(message, str):
        return json_response({"ok": False, "error": 'expected JSON {"mode": str, "message": str}'},
                             400)
    admin = request.app[CTX].state.admin
    admin["mode"], admin["mode_message"] = mode, message
    return json_response({"ok": True, "mode": mode, "message": message})


async def broadcast(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    if body is None or not isinstance(body.get("message"), str):
        return json_response({"ok": False, "error": 'expected JSON {"type": str, "message": str}'},
                             400)
    broadcasts = request.app[CTX].state.admin["broadcasts"]
    broadcasts.append(body)
    return json_response({"ok": True, "count": len(broadcasts)})


async def get_mode(request: web.Request) -> web.Response:
    admin = request.app[CTX].state.admin
    return json_response({"mode": admin["mode"], "message": admin["mode_message"]})


async def set_config(request: web.Request) -> web.Response:
    """Routing and timeout settings the remediation playbooks change (merged; the whole
    config is returned). Values must be JSON scalars."""
    body = await read_json_object(request)
    if not body or not all(isinstance(v, (str, int, float, bool)) for v in body.values()):
        return json_response({"ok": False, "error": "expected a JSON object of scalar "
                                                    "settings"}, 400)
    config = request.app[CTX].state.admin.setdefault("config", {})
    config.update(body)
    return json_response({"ok": True, "config": config})


async def get_config(request: web.Request) -> web.Response:
    return json_response({"config": request.app[CTX].state.admin.get("config", {})})


async def nlu_classify(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    if body is None or not isinstance(body.get("text"), str):
        return json_response({"error": 'expected JSON {"text": str}'}, 400)
    scenario = request.app[CTX].state.scenario
    result = classify(body["text"], degraded_accuracy=scenario == "accuracy-drop",
                      slow=scenario == "backend-degraded")
    return json_response(result.as_dict())


async def metrics(request: web.Request) -> web.Response:
    return web.Response(body=request.app[CTX].store.exposition(),
                        headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})


def create_app(ctx: SimContext) -> web.Application:
    app = make_app("backend", ctx)
    app.router.add_get("/api/health", health)
    app.router.add_post("/api/admin/set-mode", set_mode)
    app.router.add_post("/api/admin/broadcast", broadcast)
    app.router.add_get("/api/admin/mode", get_mode)
    app.router.add_get("/api/admin/config", get_config)
    app.router.add_post("/api/admin/config", set_config)
    app.router.add_post("/api/nlu/classify", nlu_classify)
    app.router.add_get("/metrics", metrics)
    return app
