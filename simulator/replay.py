"""Replay recorded answers of a real server (`tests/data/litellm/`, made by
`simulator.record_litellm`) as an httpx transport, so a probe meets that server's own bytes.

A request is answered by the recording whose method, path, key and JSON body (`model`) match;
the recorded master key is whatever key the replay is told is the valid one. A request no
recording covers is a 501 naming it, so a test can never pass on an answer nobody recorded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

MASTER, WRONG = "<master-key>", "<wrong-key>"


def load_recordings(directory: Path) -> dict[str, dict[str, Any]]:
    """name -> recording, every `*.json` of `directory` except `meta.json`."""
    found = {p.stem: json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))
             if p.name != "meta.json"}
    if not found:
        raise FileNotFoundError(f"{directory}: no recordings")
    return found


class ReplayTransport(httpx.AsyncBaseTransport):
    """Answers from recordings; `valid_key` plays the recorded master key."""

    def __init__(self, recordings: dict[str, dict[str, Any]], valid_key: str,
                 base_path: str = "/v1") -> None:
        self._recordings = recordings
        self._valid_key = valid_key
        self._base_path = base_path.rstrip("/")
        self.served: list[str] = []

    def _match(self, request: httpx.Request) -> tuple[str, dict[str, Any]] | None:
        path = request.url.path
        if self._base_path and path.startswith(self._base_path):
            path = "/v1" + path[len(self._base_path):]
        auth = request.headers.get("authorization", "")
        key = MASTER if auth == f"Bearer {self._valid_key}" else WRONG
        try:
            body = json.loads(request.content) if request.content else None
        except ValueError:
            body = None
        model = body.get("model") if isinstance(body, dict) else None
        for name, rec in self._recordings.items():
            want = rec["request"]
            want_model = (want.get("body") or {}).get("model")
            if (want["method"] == request.method and want["path"] == path
                    and want["key"] == key and want_model == model):
                return name, rec
        return None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        found = self._match(request)
        if found is None:
            return httpx.Response(501, json={"error": {
                "message": f"no recording for {request.method} {request.url.path}",
                "type": "replay_missing"}})
        name, rec = found
        self.served.append(name)
        body = rec["body"]
        content = json.dumps(body).encode() if not isinstance(body, str) else body.encode()
        return httpx.Response(rec["status"], headers=rec["headers"], content=content)
