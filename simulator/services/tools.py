"""Fake tool integrations (Calendar, Spotify, Gmail...) for `targets.endpoints`: any name
answers `GET /tools/{name}/health` with 200 `{"status":"ok"}` at once, so hundreds of
extra endpoints can be probed (the agent's scale benchmark). Mounted on the backend, so
injected latency and the `hang` / `garbage` scenarios apply to it too.
"""

from __future__ import annotations

from aiohttp import web

from simulator.services.base import json_response

OK = {"status": "ok"}


async def health(_request: web.Request) -> web.Response:
    return json_response(OK)


def mount(app: web.Application) -> web.Application:
    """Add the tool routes to a service app (the backend) and return it."""
    app.router.add_get("/tools/{name}/health", health)
    return app
