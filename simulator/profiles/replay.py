"""Serve a recorded service: every HTTP request and WebSocket upgrade answered from a
`Recording`, as the real server answered it when recorded.

HTTP: the recorded status, kept headers and body (timestamps refreshed); a known path with
another method answers 405 like FastAPI (only for services whose recording shows a 405);
an unknown path answers the service's own recorded 404, its method and path put in; a
route that exists but was not recorded with this request answers 501 saying so. A request
the real server dropped is dropped. WebSocket: a refused path answers its recorded status;
an accepted one sends its first frames, then answers each message with what followed the
recorded message of the same text, else of the same JSON `type`, else (for non-JSON text)
what followed the recorded non-JSON text; a server-side close is replayed.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import WSMsgType, web

from simulator.profiles.recording import Exchange, Recording, path_matches, refresh
from simulator.services.base import CTX

NOT_RECORDED = 501
NOT_FOUND_FASTAPI = {"detail": "Not Found"}
WS_REFUSED = 403  # Starlette's answer to an upgrade on a path with no route


def _json_text(data: Any, like: str | None = None) -> str:
    """JSON as the recorded text wrote it: `json.dumps` spacing or FastAPI's compact one."""
    if like is not None and '": ' in like:
        return json.dumps(data, ensure_ascii=False)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _fastapi_json(data: Any, status: int, headers: dict[str, str] | None = None
                  ) -> web.Response:
    """A JSON answer as FastAPI writes one: compact, `content-type: application/json`."""
    return web.Response(body=_json_text(data).encode(), status=status,
                        headers={"Content-Type": "application/json", **(headers or {})})


def _response(exchange: Exchange, status: int | None = None) -> web.Response:
    headers = dict(exchange.headers)
    ctype = headers.pop("content-type", None)
    if exchange.body_json is not None:
        body = _json_text(refresh(exchange.body_json)).encode()
    else:
        body = (exchange.body_text or "").encode()
    if ctype is not None:
        headers["Content-Type"] = ctype
    return web.Response(body=body, status=status or exchange.status, headers=headers)


class Replay:
    """The request handlers of one recorded service."""

    def __init__(self, recording: Recording, service: str) -> None:
        self.rec = recording
        self.service = service
        exchanges = recording.services.get(service, [])
        self.method_aware = any(e.status == 405 for e in exchanges)
        self.not_found = next((e for e in exchanges if e.status == 404), None)

    def _known(self, path: str) -> list[str]:
        return self.rec.methods_for(self.service, path)

    def _not_found(self, method: str, path: str) -> web.Response:
        sample = self.not_found
        if sample is None:
            return _fastapi_json(NOT_FOUND_FASTAPI, 404)
        if sample.body_json is not None:
            return _response(sample)
        text = (sample.body_text or "").replace(f"{sample.method} {sample.path}",
                                                f"{method} {path}")
        headers = {"Content-Type": sample.headers.get("content-type", "text/html")}
        return web.Response(text=text, status=404, headers=headers)

    async def http(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self.websocket(request)
        method, path = request.method, request.path
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
        if self.rec.failed_for(self.service, method, path):
            if request.transport is not None:
                request.transport.abort()  # the real server reset this connection
            return web.Response(status=500)
        scenario = request.app[CTX].state.scenario
        exchange = self.rec.find(self.service, method, path, body, scenario)
        if exchange is not None:
            return _response(exchange)
        methods = self._known(path)
        if not methods:
            return self._not_found(method, path)
        if method not in methods:
            if not self.method_aware:
                return self._not_found(method, path)
            return _fastapi_json({"detail": "Method Not Allowed"}, 405,
                                 {"Allow": ", ".join(methods)})
        return _fastapi_json({"detail": f"not recorded: {method} {path} (simulator profile "
                                        "replays only what was recorded)"}, NOT_RECORDED)

    def _session(self, path: str) -> dict[str, Any] | None:
        for session in self.rec.websockets:
            if path_matches(str(session.get("path_template", "")), path) or \
                    session.get("path") == path:
                return session
        return None

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request.path)
        if session is None or not session.get("accepted"):
            status = int(session.get("http_status") or WS_REFUSED) if session else WS_REFUSED
            return web.Response(status=status, text=str(session.get("refused_body", ""))
                                if session else "")
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        script = Script(session)
        for text in script.greeting:
            await ws.send_str(text)
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            replies, close = script.answer(message.data)
            for text in replies:
                await ws.send_str(text)
            if close:
                if request.transport is not None:
                    request.transport.abort()  # the real server dropped the connection
                break
        return ws


class Script:
    """One recorded WebSocket session as a script: greeting frames and answers per message."""

    def __init__(self, session: dict[str, Any]) -> None:
        frames = [f for f in session.get("frames", []) if isinstance(f, dict)]
        self.greeting: list[str] = []
        self.turns: list[tuple[str, list[str]]] = []
        for frame in frames:
            text = str(frame.get("text", ""))
            if frame.get("dir") == "out":
                self.turns.append((text, []))
            elif self.turns:
                self.turns[-1][1].append(text)
            else:
                self.greeting.append(text)
        close = session.get("close") or {}
        self.closes_after = len(self.turns) - 1 if close.get("by") == "server" else None
        self.greeting = [_refresh_text(t) for t in self.greeting]

    def answer(self, text: str) -> tuple[list[str], bool]:
        """The frames to send back for `text`, and whether the server then drops the line."""
        index = self._match(text)
        if index is None:
            return [], False
        return [_refresh_text(t) for t in self.turns[index][1]], index == self.closes_after

    def _match(self, text: str) -> int | None:
        for i, (sent, _) in enumerate(self.turns):
            if sent == text:
                return i
        kind = _json_type(text)
        for i, (sent, _) in enumerate(self.turns):
            other = _json_type(sent)
            if kind is not None and other == kind:
                return i
            if kind is None and not _is_json(text) and not _is_json(sent):
                return i
        return None


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _json_type(text: str) -> str | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    value = data.get("type") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def _refresh_text(text: str) -> str:
    """A recorded frame with its timestamps set to now, in the recorded spacing."""
    try:
        data = json.loads(text)
    except ValueError:
        return text
    fresh = refresh(data)
    return text if fresh == data else _json_text(fresh, like=text)


def create_app(app: web.Application, recording: Recording, service: str) -> web.Application:
    """Add the replay of `service` to a simulator service app (after its /_sim routes)."""
    replay = Replay(recording, service)
    app.router.add_route("*", "/{tail:.*}", replay.http)
    return app
