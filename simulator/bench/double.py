"""An independent double of an Alice stack for the `check` benchmark: one aiohttp app on one
port serving the paths both the guide's `health_check.sh` and `alice-ops check` call, with an
injectable delay on every request.

Independent of `simulator/`: no scenarios, no traffic, no shared state with the code under
test, so neither peer is favoured by what the simulator happens to compute. The paths do not
collide (`/v1/models`, `/api/tags|ps|version`, `/health`, `/api/health`, `/api/v1/...`,
`/ws/voice/{session}`), so every target points at the same base URL.

    python -m simulator.bench.double [--port 0] [--key KEY]   prints `double listening on URL`
    POST /_double/latency {"ms": 200}                          every later request waits 200 ms
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from aiohttp import WSMsgType, web

MODEL = "gpt-oss:20b"
SIZE = 13_780_173_839
LATENCY = web.AppKey("latency_s", list)
KEY = web.AppKey("key", str)
_NAMES = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def _json(body: Any, status: int = 200) -> web.Response:
    # compact like FastAPI: the guide greps for '"status":"healthy"'
    return web.Response(text=json.dumps(body, separators=(",", ":")), status=status,
                        content_type="application/json")


@web.middleware
async def _delay(request: web.Request, handler: Any) -> web.StreamResponse:
    if not request.path.startswith("/_double/"):
        delay = request.app[LATENCY][0]
        if delay > 0:
            await asyncio.sleep(delay)
    return await handler(request)


async def _set_latency(request: web.Request) -> web.Response:
    try:
        ms = float((await request.json())["ms"])
    except (ValueError, KeyError, TypeError):
        return _json({"error": 'body must be {"ms": <number >= 0>}'}, 400)
    if not ms >= 0:
        return _json({"error": "ms must be >= 0"}, 400)
    request.app[LATENCY][0] = ms / 1000
    return _json({"latency_ms": ms})


async def _models(request: web.Request) -> web.Response:
    if request.headers.get("Authorization") != f"Bearer {request.app[KEY]}":
        return _json({"error": {"message": "Incorrect API key provided.", "type":
                                "invalid_request_error", "code": "invalid_api_key"}}, 401)
    ids = ["gpt-4o-mini", "gpt-4o", "gpt-realtime", "o4-mini"]
    return _json({"object": "list", "data": [{"id": i, "object": "model", "created": 0,
                                              "owned_by": "system"} for i in ids]})


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def _tags(request: web.Request) -> web.Response:
    return _json({"models": [{"name": MODEL, "model": MODEL, "size": SIZE, "digest": "0" * 64,
                              "modified_at": "2025-08-05T12:00:00Z"}]})


async def _ps(request: web.Request) -> web.Response:
    expires = datetime.now(timezone.utc) + timedelta(minutes=5)
    return _json({"models": [{"name": MODEL, "model": MODEL, "size": SIZE, "size_vram": SIZE,
                              "digest": "0" * 64, "expires_at": _iso(expires),
                              "context_length": 8192}]})


async def _version(request: web.Request) -> web.Response:
    return _json({"version": "0.11.4"})


async def _gateway_health(request: web.Request) -> web.Response:
    return _json({"status": "ok"})


async def _backend_health(request: web.Request) -> web.Response:
    return _json({"status": "healthy"})


async def _query(request: web.Request) -> web.Response:
    if not request.query.get("query"):
        return _json({"status": "error", "errorType": "bad_data", "error": "no query"}, 400)
    return _json({"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {}, "value": [time.time(), "42"]}]}})


async def _label_values(request: web.Request) -> web.Response:
    """Every name a `match[]` selector mentions exists (the probe asks for its own names)."""
    names = sorted({n for m in request.query.getall("match[]", [])
                    for n in _NAMES.findall(m) if n != "__name__"})
    return _json({"status": "success", "data": names})


async def _buildinfo(request: web.Request) -> web.Response:
    return _json({"status": "success", "data": {"version": "2.53.0"}})


async def _voice(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    await ws.send_str(json.dumps({"type": "ready"}))
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            await ws.send_str(json.dumps({"type": "pong"}))
    return ws


def make_app(key: str) -> web.Application:
    app = web.Application(middlewares=[_delay])
    app[LATENCY], app[KEY] = [0.0], key
    app.router.add_post("/_double/latency", _set_latency)
    app.router.add_get("/v1/models", _models)
    app.router.add_get("/api/tags", _tags)
    app.router.add_get("/api/ps", _ps)
    app.router.add_get("/api/version", _version)
    app.router.add_get("/health", _gateway_health)
    app.router.add_get("/api/health", _backend_health)
    app.router.add_get("/api/v1/query", _query)
    app.router.add_get("/api/v1/label/{label}/values", _label_values)
    app.router.add_get("/api/v1/status/buildinfo", _buildinfo)
    app.router.add_get("/ws/voice/{session}", _voice)
    return app


async def serve(port: int, key: str) -> None:
    runner = web.AppRunner(make_app(key), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    bound = runner.addresses[0][1]
    print(f"double listening on http://127.0.0.1:{bound}", flush=True)
    await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulator.bench.double",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0: any free port (default)")
    parser.add_argument("--key", default="sk-double-bench-key-0000",
                        help="the API key GET /v1/models accepts")
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args.port, args.key))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
