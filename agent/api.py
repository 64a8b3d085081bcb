"""The agent's HTTP API: /metrics, /healthz, the snapshot, server-sent events, silences, acks,
remediation (GET /api/v1/remediation; POST /api/v1/remediation/{name}/plan|run|resume),
checklists (GET /api/v1/checklists; POST /api/v1/checklists/{kind}/items/{id}).

Bound to 127.0.0.1 by default. A bearer token is required for mutating endpoints
always, and for every endpoint when bound to a non-loopback address; the agent
refuses to start on a non-loopback address without one.

The `Host` header is checked against the address the API listens on (a web page
cannot reach the snapshot by DNS rebinding): on loopback `localhost`, `127.0.0.1`
and `[::1]` with the bound port; elsewhere the listen address, and any IP literal
when bound to all addresses; plus the names in `agent.allowed_hosts`. Any other Host
gets 421 Misdirected Request.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
from typing import Any, Protocol

from aiohttp import web

from agent.snapshot import Snapshot

log = logging.getLogger("alice_ops.api")
SSE_MIN_INTERVAL_S = 0.25
STALE_AFTER_INTERVALS = 3
STALE_MIN_S = 30.0


class ApiError(Exception):
    """Refusal to start (e.g. non-loopback without a token); one clear line."""


class Commands(Protocol):
    """What the API (and the dashboard) may ask of the runtime."""

    @property
    def snapshot(self) -> Snapshot | None: ...

    async def wait_for_change(self, after_seq: int, timeout: float) -> Snapshot | None: ...

    async def add_silence(self, matchers: str, duration_s: float, comment: str,
                          by: str) -> dict[str, Any]: ...

    async def expire_silence(self, silence_id: str) -> bool: ...

    async def add_ack(self, alert: str, comment: str, duration_s: float | None,
                      by: str) -> dict[str, Any]: ...

    async def alert_history(self, limit: int = 100,
                            before: int | None = None) -> dict[str, Any]: ...

    def metrics_text(self) -> bytes: ...

    def remediation_state(self) -> dict[str, Any]: ...

    async def remediation_plan(self, name: str, by: str) -> dict[str, Any]: ...

    async def remediation_run(self, name: str, confirm: str, by: str) -> dict[str, Any]: ...

    async def remediation_resume(self, name: str, by: str) -> dict[str, Any]: ...

    def checklists_state(self) -> dict[str, Any]: ...

    async def checklist_answer(self, kind: str, item_id: str, result: str, note: str,
                               by: str) -> dict[str, Any]: ...


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def split_listen(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)


def _authorized(request: web.Request, token: str | None) -> bool:
    if token is None:
        return False
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                              token.encode())


LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def _split_host(value: str) -> tuple[str, int | None] | None:
    """`name:port`, `[v6]:port`, `name` -> (lowercase host, port or None); None if bad."""
    value = value.strip().lower()
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        if rest and not rest.startswith(":"):
            return None
        port = rest[1:]
    else:
        host, sep, port = value.rpartition(":") if value.count(":") == 1 else (value, "", "")
        if not sep:
            host, port = value, ""
    if not host or (port and not port.isdigit()):
        return None
    return host.rstrip("."), int(port) if port else None


def host_allowed(header: str | None, listen_host: str, port: int,
                 allowed: tuple[str, ...] = ()) -> bool:
    """Whether a request's Host header names this API (see the module docstring)."""
    if not header:
        return False
    parsed = _split_host(header)
    if parsed is None:
        return False
    host, given = parsed
    if given is None:
        given = 80
    names = {n.strip().lower().strip("[]") for n in allowed if n.strip()}
    named = {_split_host(n) for n in allowed if n.strip()}
    if host in names and (given == port or (host, given) in named):
        return True
    if (host, given) in named:
        return True
    if given != port:
        return False
    listen = listen_host.lower()
    if is_loopback(listen):
        return host in LOOPBACK_NAMES or host == listen
    if host == listen:
        return True
    if listen in ("", "0.0.0.0", "::"):
        try:
            ipaddress.ip_address(host)
            return True
        except ValueError:
            return False
    return False


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def make_app(commands: Commands, token: str | None, loopback: bool, *,
             listen_host: str | None = None, allowed_hosts: tuple[str, ...] = ()
             ) -> web.Application:
    @web.middleware
    async def host_check(request: web.Request, handler):
        if listen_host is not None:
            sock = request.transport.get_extra_info("sockname") if request.transport else None
            port = int(sock[1]) if sock else 0
            if not host_allowed(request.headers.get("Host"), listen_host, port, allowed_hosts):
                return _error(421, "this agent does not answer to that Host (see "
                                   "agent.allowed_hosts)")
        return await handler(request)

    @web.middleware
    async def auth(request: web.Request, handler):
        mutating = request.method not in ("GET", "HEAD", "OPTIONS")
        if (mutating or not loopback) and not _authorized(request, token):
            why = "no token is configured; mutating endpoints are disabled" if token is None \
                else "missing or wrong bearer token"
            return _error(401, why)
        return await handler(request)

    async def healthz(_request: web.Request) -> web.Response:
        """ok while snapshots keep coming; 503 "stale" when cycles stopped publishing."""
        import time

        problem = getattr(commands, "storage_problem", lambda: None)()
        snap = commands.snapshot
        if problem is not None:
            return web.json_response({"status": "storage", "reason": problem,
                                      "seq": snap.seq if snap else 0}, status=503)
        if snap is None:
            return web.json_response({"status": "starting", "seq": 0}, status=503)
        age = time.time() - snap.taken_at
        limit = max(STALE_AFTER_INTERVALS * snap.stats.expected_interval_s, STALE_MIN_S)
        stale = age > limit
        return web.json_response({"status": "stale" if stale else "ok", "seq": snap.seq,
                                  "age_s": round(age, 3)}, status=503 if stale else 200)

    async def metrics(_request: web.Request) -> web.Response:
        from prometheus_client import CONTENT_TYPE_LATEST

        return web.Response(body=commands.metrics_text(),
                            headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def snapshot(_request: web.Request) -> web.Response:
        snap = commands.snapshot
        if snap is None:
            return _error(503, "no snapshot yet: the first probes are still running")
        return web.json_response(snap.to_json())

    streams: set[asyncio.Task] = set()

    async def end_streams(_app: web.Application) -> None:
        # An event stream never ends by itself: without this, shutdown waits for each
        # attached client up to aiohttp's shutdown timeout (twice), a minute or more.
        for task in streams:
            task.cancel()

    async def events(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                               "Cache-Control": "no-cache"})
        await response.prepare(request)
        seq = -1
        task = asyncio.current_task()
        if task is not None:
            streams.add(task)
        try:
            while True:
                snap = await commands.wait_for_change(seq, timeout=15.0)
                if snap is None or snap.seq == seq:
                    await response.write(b": keep-alive\n\n")
                    continue
                seq = snap.seq
                data = json.dumps(snap.to_json(), separators=(",", ":"))
                await response.write(f"id: {seq}\nevent: snapshot\ndata: {data}\n\n".encode())
                await asyncio.sleep(SSE_MIN_INTERVAL_S)  # at most a few updates a second
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            streams.discard(task)
        return response

    async def body(request: web.Request) -> dict[str, Any]:
        try:
            data = await request.json()
        except (ValueError, UnicodeDecodeError):
            raise web.HTTPBadRequest(text=json.dumps({"error": "body is not JSON"}),
                                     content_type="application/json") from None
        if not isinstance(data, dict):
            raise web.HTTPBadRequest(text=json.dumps({"error": "body must be a JSON object"}),
                                     content_type="application/json")
        return data

    async def add_silence(request: web.Request) -> web.Response:
        data = await body(request)
        try:
            created = await commands.add_silence(
                str(data.get("matchers", "")), float(data.get("duration_s", 0)),
                str(data.get("comment", "")), str(data.get("created_by", "api")))
        except (TypeError, ValueError) as exc:
            return _error(400, str(exc))
        return web.json_response(created, status=201)

    async def expire_silence(request: web.Request) -> web.Response:
        if await commands.expire_silence(request.match_info["id"]):
            return web.json_response({"expired": request.match_info["id"]})
        return _error(404, f"no active silence {request.match_info['id']}")

    async def add_ack(request: web.Request) -> web.Response:
        data = await body(request)
        duration = data.get("duration_s")
        try:
            created = await commands.add_ack(str(data.get("alert", "")),
                                             str(data.get("comment", "")),
                                             None if duration is None else float(duration),
                                             str(data.get("by", "api")))
        except (TypeError, ValueError) as exc:
            return _error(400, str(exc))
        return web.json_response(created, status=201)

    async def alert_history(request: web.Request) -> web.Response:
        """GET /api/v1/alerts/history?limit=N&before=ID: a page of alert transitions,
        newest first (a read: token-guarded like the snapshot)."""
        values: dict[str, int | None] = {"limit": 100, "before": None}
        for name in values:
            raw = request.query.get(name)
            if raw is None or raw == "":
                continue
            try:
                values[name] = int(raw)
            except ValueError:
                return _error(400, f"{name}: expected a whole number, got {raw[:40]!r}")
        try:
            page = await commands.alert_history(values["limit"] or 0, values["before"])
        except ValueError as exc:
            return _error(400, str(exc))
        return web.json_response(page)

    async def remediation(_request: web.Request) -> web.Response:
        return web.json_response(commands.remediation_state())

    async def remediation_action(request: web.Request) -> web.Response:
        """POST /api/v1/remediation/{name}/plan|run|resume (run: {"confirm": NAME})."""
        name, action = request.match_info["name"], request.match_info["action"]
        data = await body(request) if request.can_read_body else {}
        by = str(data.get("by", "api"))
        try:
            if action == "plan":
                return web.json_response(await commands.remediation_plan(name, by))
            if action == "run":
                return web.json_response(await commands.remediation_run(
                    name, str(data.get("confirm", "")), by))
            if action == "resume":
                return web.json_response(await commands.remediation_resume(name, by))
        except KeyError as exc:
            return _error(404, str(exc.args[0]) if exc.args else str(exc))
        except PermissionError as exc:
            return _error(403, str(exc))
        except ValueError as exc:
            return _error(400, str(exc))
        return _error(404, f"unknown remediation action {action!r} (plan, run, resume)")

    async def checklists(_request: web.Request) -> web.Response:
        return web.json_response(commands.checklists_state())

    async def checklist_answer(request: web.Request) -> web.Response:
        """POST /api/v1/checklists/{kind}/items/{id} {"result": "pass|fail|warn|skipped",
        "note": "...", "by": "..."}: tick or answer one item; returns the run."""
        data = await body(request)
        try:
            run = await commands.checklist_answer(
                request.match_info["kind"], request.match_info["id"],
                str(data.get("result", "")), str(data.get("note", "")),
                str(data.get("by", "api")))
        except KeyError as exc:
            return _error(404, str(exc.args[0]) if exc.args else str(exc))
        except ValueError as exc:
            return _error(400, str(exc))
        return web.json_response(run)

    app = web.Application(middlewares=[host_check, auth], client_max_size=64 * 1024)
    app.on_shutdown.append(end_streams)
    app.add_routes([web.get("/healthz", healthz), web.get("/metrics", metrics),
                    web.get("/api/v1/snapshot", snapshot), web.get("/api/v1/events", events),
                    web.get("/api/v1/alerts/history", alert_history),
                    web.post("/api/v1/silences", add_silence),
                    web.delete("/api/v1/silences/{id}", expire_silence),
                    web.post("/api/v1/acks", add_ack),
                    web.get("/api/v1/remediation", remediation),
                    web.post("/api/v1/remediation/{name}/{action}", remediation_action),
                    web.get("/api/v1/checklists", checklists),
                    web.post("/api/v1/checklists/{kind}/items/{id}", checklist_answer)])
    return app


async def serve(commands: Commands, listen: str, token: str | None,
                allowed_hosts: tuple[str, ...] = ()) -> web.AppRunner:
    """Start the API; raise ApiError for an unsafe or unusable address."""
    host, port = split_listen(listen)
    loopback = is_loopback(host)
    if not loopback and token is None:
        raise ApiError(f"agent.listen {listen} is not a loopback address and no agent.token "
                       "is set: refusing to expose the API without authentication")
    runner = web.AppRunner(make_app(commands, token, loopback, listen_host=host,
                                    allowed_hosts=allowed_hosts),
                           access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise ApiError(f"cannot listen on {listen}: {exc.strerror or exc}") from None
    return runner


def bound_port(runner: web.AppRunner) -> int:
    for site in runner.sites:
        server = getattr(site, "_server", None)
        if server is not None and server.sockets:
            return server.sockets[0].getsockname()[1]
    raise RuntimeError("API is not listening")
