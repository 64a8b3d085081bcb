"""Record what a real Alice deployment serves, for the simulator's `alice-main` profile and
for every test that needs the real surface: health candidates, metrics (Prometheus text and
JSON), every parameter-free GET route of its OpenAPI list, the NLU classifiers with texts
from Alice's own gold sets, the admin endpoints the playbooks use, a 404 and a 405, and an
exchange on each WebSocket path.

    python -m simulator.record --base http://127.0.0.1:8000 --out tests/data/alice_main \\
        [--nlu-agent http://127.0.0.1:7071] [--gold FILE ...] [--alice-commit SHA]
    # a fault, recorded from an instance in that state (only the groups named by --only):
    python -m simulator.record --base ... --out ... --scenario database-error --only health

Secret-looking values are scrubbed before anything is written; bodies are kept whole.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.resources
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import yaml
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from simulator.profiles.recording import KEPT_HEADERS, scrub

HEALTH = ("/api/health", "/health", "/healthz", "/status", "/api/status", "/api/v1/health",
          "/readyz", "/livez", "/ready", "/api/probe/health", "/metrics/health",
          "/api/voice-gateway/status", "/api/llm/status", "/api/v1/llm/status",
          "/api/v1/llm/health", "/api/voice/status")
METRICS = ("/metrics", "/api/metrics", "/metrics/dashboard", "/api/tools/stats")
ERRORS = (("GET", "/api/does-not-exist"), ("POST", "/api/health"), ("DELETE", "/api/metrics"),
          ("GET", "/api/chat"))
# service, path, body template ("{text}" replaced), how many gold texts (0 = all)
NLU = (("backend", "/api/ai/route", {"prompt": "{text}"}, 4),
       ("backend", "/api/voice-gateway/test-intent", {"text": "{text}"}, 2),
       ("backend", "/api/chat", {"prompt": "{text}"}, 3),
       ("nlu_agent", "/nlu/classify", {"text": "{text}"}, 0),
       ("nlu_agent", "/agent/route", {"text": "{text}"}, 6))
EXTRA_TEXTS = ("play some music", "turn the volume up to 50%", "what's the weather like?")
NLU_UNKNOWN = "xyzzy plugh"  # a text in no gold set: the classifier's answer to the unknown
WEBSOCKETS = ("/ws/alice", "/ws/voice/{session}", "/ws/voice-gateway/{session}",
              "/ws/voice-gateway", "/ws/voice/ambient", "/ws/voice-stream", "/ws/realtime-asr",
              "/api/proactive/ws/proactive", "/ws/proactive", "/ws", "/ws/voice")
WS_SENDS = ('{"type":"ping"}', '{"type":"hello"}', "hello alice")
SESSION = "rec-session-1"
REQUEST_S = 10.0
WS_FIRST_S, WS_REPLY_S = 1.2, 0.8
# in this order: metrics right after health, so both are one moment of the same server
# (Alice's b3 health flips websocket_healthy to 0 when two checks are over 60 s apart)
LARGE_BODY = 16_000
GROUPS = ("health", "metrics", "routes", "nlu", "admin", "errors", "websockets")


def _exchange(name: str, group: str, method: str, path: str, body: Any,
              response: httpx.Response) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "group": group, "method": method, "path": path,
                           "request_body": body, "status": response.status_code,
                           "headers": {k: response.headers[k] for k in KEPT_HEADERS
                                       if k in response.headers}}
    ctype = response.headers.get("content-type", "")
    try:
        parsed = response.json() if "json" in ctype else None
    except ValueError:
        parsed = None
    if parsed is not None:
        out["body_json"] = scrub(parsed)
    else:
        out["body_text"] = scrub(response.text)
    return out


class Recorder:
    """One recording run against a backend (and optionally Alice's separate NLU agent)."""

    def __init__(self, base: str, nlu_agent: str | None, texts: list[str],
                 paths: set[str] | None = None) -> None:
        self.paths = paths
        self.bases = {"backend": base.rstrip("/")}
        if nlu_agent:
            self.bases["nlu_agent"] = nlu_agent.rstrip("/")
        self.texts = texts
        self.out: dict[str, list[dict[str, Any]]] = {s: [] for s in self.bases}
        # answers kept beside the replayed ones: 429s (retried) and requests that failed
        self.rate_limited: list[dict[str, Any]] = []
        self.failed: list[dict[str, Any]] = []
        # a fresh connection per request: after an unhandled exception the server drops
        # the kept-alive connection, which would reset the next, unrelated request
        self.client = httpx.AsyncClient(timeout=REQUEST_S, follow_redirects=False,
                                        limits=httpx.Limits(max_keepalive_connections=0))
        self.seen: set[tuple[str, str, str, str]] = set()

    async def call(self, service: str, group: str, method: str, path: str, body: Any = None,
                   name: str | None = None) -> dict[str, Any] | None:
        """One request (REQUEST_S in all, a 429 retried once after its Retry-After)."""
        key = (service, method, path, json.dumps(body, sort_keys=True))
        if key in self.seen or service not in self.bases or \
                (self.paths is not None and path not in self.paths):
            return None
        self.seen.add(key)
        url = self.bases[service] + path
        for _attempt in range(2):
            try:
                response = await asyncio.wait_for(
                    self.client.request(method, url, json=body), REQUEST_S)
            except (httpx.HTTPError, TimeoutError) as exc:
                print(f"record: {method} {url}: {type(exc).__name__}: {exc}", file=sys.stderr)
                self.failed.append({"service": service, "method": method, "path": path,
                                    "request_body": body,
                                    "error": f"{type(exc).__name__}: {exc}"})
                return None
            if response.status_code != 429:
                break
            self.rate_limited.append(_exchange(f"{method} {path} (rate limited)", group,
                                               method, path, body, response))
            wait = min(float(response.headers.get("retry-after", "60") or 60), 65.0)
            print(f"record: {method} {path}: 429, waiting {wait:g} s", file=sys.stderr)
            await asyncio.sleep(wait)  # the server's own Retry-After, not a guess
        entry = _exchange(name or f"{method} {path}", group, method, path, body, response)
        self.out[service].append(entry)
        return entry

    async def health(self) -> None:
        for path in HEALTH:
            await self.call("backend", "health", "GET", path)

    async def metrics(self) -> None:
        for path in METRICS:
            await self.call("backend", "metrics", "GET", path)

    async def routes(self) -> dict[str, list[str]]:
        """GET /openapi.json (recorded too), then every parameter-free GET path it lists;
        returns path -> methods ({} where the server has no OpenAPI document)."""
        entry = await self.call("backend", "routes", "GET", "/openapi.json")
        spec = entry.get("body_json") if entry is not None else None
        paths = spec.get("paths") if isinstance(spec, dict) else None
        if not isinstance(paths, dict):
            return {}
        routes = {p: sorted(m.upper() for m in ops) for p, ops in paths.items()
                  if isinstance(ops, dict)}
        for path, methods in routes.items():
            if "GET" in methods and "{" not in path and path not in METRICS:
                await self.call("backend", "routes", "GET", path)
        return routes

    async def nlu(self) -> None:
        for service, path, template, count in NLU:
            texts = [*self.texts, *EXTRA_TEXTS] if count == 0 else \
                [*self.texts[:count], EXTRA_TEXTS[0]]
            for text in [*texts, NLU_UNKNOWN]:
                body = json.loads(json.dumps(template).replace("{text}", _json_inner(text)))
                entry = await self.call(service, "nlu", "POST", path, body,
                                  name=f"POST {path} {text!r}")
                if entry is not None and text == NLU_UNKNOWN:
                    entry["fallback"] = True  # the replay's answer to texts not recorded

    async def admin(self, playbooks: str) -> None:
        for path in admin_paths(playbooks):
            await self.call("backend", "admin", "GET", path)

    async def errors(self) -> None:
        for method, path in ERRORS:
            await self.call("backend", "errors", method, path)
        if "nlu_agent" in self.bases:
            await self.call("nlu_agent", "errors", "GET", "/health")
            await self.call("nlu_agent", "errors", "GET", "/nlu/classify")

    async def reachable(self) -> str | None:
        """None if every base answers HTTP at all, else one line saying which does not."""
        for service, base in self.bases.items():
            try:
                await asyncio.wait_for(self.client.get(base + "/"), REQUEST_S)
            except (httpx.HTTPError, TimeoutError) as exc:
                return f"cannot reach the {service} at {base}: {type(exc).__name__}"
        return None

    async def run(self, groups: set[str], playbooks: str
                  ) -> tuple[dict[str, list[str]], list[dict[str, Any]]]:
        """Record `groups` in GROUPS order; returns (routes, WebSocket sessions)."""
        routes: dict[str, list[str]] = {}
        sessions: list[dict[str, Any]] = []
        for group in GROUPS:
            if group not in groups:
                continue
            if group == "routes":
                routes = await self.routes()
            elif group == "admin":
                await self.admin(playbooks)
            elif group == "websockets":
                sessions = [await ws_session(self.bases["backend"], t) for t in WEBSOCKETS]
            else:
                await getattr(self, group)()
        return routes, sessions


async def _record(rec: Recorder, groups: set[str], playbooks: str
                  ) -> tuple[str | None, dict[str, list[str]], list[dict[str, Any]]]:
    async with rec.client:
        if problem := await rec.reachable():
            return problem, {}, []
        return None, *await rec.run(groups, playbooks)


def _json_inner(text: str) -> str:
    return json.dumps(text)[1:-1]


def admin_paths(playbooks_yaml: str) -> list[str]:
    """The {backend}/... and {gateway}/... paths the playbooks' HTTP steps call."""
    found = re.findall(r"\{(?:backend|gateway)\}(/[A-Za-z0-9/_.-]*)", playbooks_yaml)
    return sorted(set(found))


async def ws_session(base: str, template: str) -> dict[str, Any]:
    """Connect to one WebSocket path, read its first frames, send each of WS_SENDS and
    collect the replies; the close (by whom, code, reason) or the refused handshake."""
    path = template.replace("{session}", SESSION)
    url = base.replace("http://", "ws://", 1).replace("https://", "wss://", 1) + path
    session: dict[str, Any] = {"path_template": template, "path": path, "accepted": False,
                               "http_status": None, "frames": [], "close": None}
    frames: list[dict[str, Any]] = session["frames"]

    async def drain(ws: Any, seconds: float) -> None:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            try:
                message = await asyncio.wait_for(ws.recv(), left)
            except TimeoutError:
                return
            frames.append({"dir": "in", "text": scrub(message if isinstance(message, str)
                                                      else message.decode("latin-1"))})
    try:
        async with connect(url, open_timeout=5, close_timeout=2, ping_interval=None) as ws:
            session["accepted"] = True
            session["http_status"] = 101
            try:
                await drain(ws, WS_FIRST_S)
                for text in WS_SENDS:
                    await ws.send(text)
                    frames.append({"dir": "out", "text": text})
                    await drain(ws, WS_REPLY_S)
                session["close"] = {"by": "client", "code": 1000, "reason": ""}
            except ConnectionClosed as exc:
                rcvd = exc.rcvd
                session["close"] = {"by": "server", "code": rcvd.code if rcvd else 1006,
                                    "reason": rcvd.reason if rcvd else ""}
    except InvalidStatus as exc:
        session["http_status"] = exc.response.status_code
        session["refused_body"] = exc.response.body.decode("utf-8", "replace")
    except (InvalidHandshake, OSError, TimeoutError) as exc:
        session["error"] = f"{type(exc).__name__}: {exc}"
    return session


def read_texts(paths: list[Path]) -> list[str]:
    """Texts of Alice's gold sets: JSON lines of {"text",...} or {"cases":[{"text"|"prompt"}]}."""
    texts: list[str] = []
    for path in paths:
        raw = path.read_text(encoding="utf-8")
        try:
            doc = json.loads(raw)
            items = doc.get("cases", []) if isinstance(doc, dict) else doc
        except ValueError:
            items = [json.loads(line) for line in raw.splitlines() if line.strip()]
        for item in items:
            text = item.get("text") or item.get("prompt") if isinstance(item, dict) else None
            if isinstance(text, str) and text not in texts:
                texts.append(text)
    return texts


def _split_large(out: Path, service: str, items: list[dict[str, Any]]) -> None:
    """Move JSON bodies over LARGE_BODY characters (an OpenAPI document) into compact
    files under bodies/, named in the exchange's `body_file`."""
    for i, item in enumerate(items):
        if "body_json" not in item:
            continue
        text = json.dumps(item["body_json"], ensure_ascii=False, separators=(",", ":"))
        if len(text) <= LARGE_BODY:
            continue
        slug = re.sub(r"[^A-Za-z0-9]+", "_", item["path"]).strip("_") or "root"
        name = f"bodies/{service}_{slug}_{i}.json"
        (out / "bodies").mkdir(exist_ok=True)
        (out / name).write_text(text + "\n", encoding="utf-8")
        item["body_file"] = name
        del item["body_json"]


def _write(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulator.record",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the backend's URL")
    parser.add_argument("--out", type=Path, required=True, help="the recording directory")
    parser.add_argument("--nlu-agent", default=None, help="Alice's NLU agent URL, if running")
    parser.add_argument("--gold", type=Path, action="append", default=[],
                        help="a gold-set file whose texts go to the NLU endpoints")
    parser.add_argument("--alice-commit", default="unknown")
    parser.add_argument("--alice-branch", default="main")
    parser.add_argument("--note", default="", help="free text for meta.json (how it ran)")
    parser.add_argument("--scenario", default=None,
                        help="record into scenario_<NAME>.json (a fault the instance is in)")
    parser.add_argument("--only", default=",".join(GROUPS),
                        help=f"comma list of groups (default all): {','.join(GROUPS)}")
    parser.add_argument("--paths", default=None,
                        help="comma list: record only these paths (within the groups)")
    args = parser.parse_args(argv)
    paths = {p.strip() for p in args.paths.split(",") if p.strip()} if args.paths else None
    groups = {g.strip() for g in args.only.split(",") if g.strip()}
    if bad := groups - set(GROUPS):
        parser.error(f"--only: unknown group(s) {', '.join(sorted(bad))}")
    try:
        texts = read_texts(args.gold)
    except (OSError, ValueError) as exc:
        parser.error(f"--gold: {exc}")
    playbooks = (importlib.resources.files("rules") / "defaults" / "playbooks.yaml").read_text()
    yaml.safe_load(playbooks)  # a broken playbook file fails here, not half-way
    rec = Recorder(args.base, args.nlu_agent, texts, paths)
    problem, routes, sessions = asyncio.run(_record(rec, groups, playbooks))
    if problem:
        print(f"record: {problem}; nothing written", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    meta_path = args.out / "meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if args.scenario:
        filename = f"scenario_{args.scenario}.json"
        _write(args.out / filename, {"scenario": args.scenario, "recorded_at": now,
                                     "note": args.note, "services": rec.out})
        meta.setdefault("scenarios", {})[args.scenario] = filename
    else:
        files = {"backend": "http.json", "nlu_agent": "nlu_agent.json"}
        for service, items in rec.out.items():
            _split_large(args.out, service, items)
            doc: dict[str, Any] = {"service": service, "exchanges": items}
            mine = [f for f in rec.failed if f["service"] == service]
            if service == "backend":
                doc["rate_limited"] = rec.rate_limited
            doc["failed"] = mine
            _write(args.out / files[service], doc)
        if routes:
            _write(args.out / "routes.json", {"http": routes})
        if sessions:
            _write(args.out / "websockets.json", {"sessions": sessions})
        meta.update({"alice_repo": "DanielWarg/Alice", "alice_branch": args.alice_branch,
                     "alice_commit": args.alice_commit, "recorded_at": now, "note": args.note,
                     "services": {s: files[s] for s in rec.out},
                     "bases": {s: "http://127.0.0.1:<port>" for s in rec.out}})
    _write(meta_path, meta)
    total = sum(len(v) for v in rec.out.values())
    print(f"recorded {total} HTTP exchanges and {len(sessions)} WebSocket sessions "
          f"into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
