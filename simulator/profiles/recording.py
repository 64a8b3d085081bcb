"""The on-disk format of a recorded deployment (what `python -m simulator.record` writes and
the `alice-main` profile replays): HTTP exchanges, WebSocket sessions, routes and meta.

One exchange: `{"name", "group", "method", "path", "request_body", "status", "headers",
"body_json" | "body_text"}`; headers keep only the few that matter to a client. Pure
helpers only (scrubbing, matching, refreshing timestamps); no I/O beyond reading files.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

KEPT_HEADERS = ("content-type", "location", "allow", "retry-after", "www-authenticate")
SECRET_KEY = re.compile(r"(api[_-]?key|token|secret|password|authorization|cookie)", re.I)
SECRET_VALUE = re.compile(r"\b(sk-[A-Za-z0-9_-]{8,}|Bearer\s+[A-Za-z0-9._-]{8,})")
SCRUBBED = "<scrubbed>"
# keys whose value is "now" when served: refreshed on replay, kept in their recorded format
DYNAMIC_KEYS = frozenset({"timestamp", "ts", "time", "last_health_check", "now"})
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$")


def scrub(value: Any) -> Any:
    """`value` with secret-looking strings replaced: by key name (api_key, token, ...) for
    non-empty strings, and by shape (sk-..., Bearer ...) anywhere in text."""
    if isinstance(value, dict):
        return {k: (SCRUBBED if SECRET_KEY.search(str(k)) and isinstance(v, str) and v
                    else scrub(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return SECRET_VALUE.sub(SCRUBBED, value)
    return value


def refresh(value: Any, now: float | None = None) -> Any:
    """`value` with every dynamic timestamp (by key name) set to `now`, in the format it was
    recorded in: ISO text (with or without `Z`) or epoch seconds (int or float)."""
    now = time.time() if now is None else now
    if isinstance(value, list):
        return [refresh(v, now) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key in DYNAMIC_KEYS and not isinstance(item, bool):
            out[key] = _now_like(item, now)
        else:
            out[key] = refresh(item, now)
    return out


def _now_like(item: Any, now: float) -> Any:
    if isinstance(item, (int, float)) and item == 0:
        return item  # 0 means "never" (e.g. last_health_check before the first check)
    if isinstance(item, float):
        return now
    if isinstance(item, int):
        return int(now)
    if isinstance(item, str) and ISO.match(item):
        moment = datetime.fromtimestamp(now, timezone.utc).replace(tzinfo=None)
        text = moment.isoformat(timespec="microseconds" if "." in item else "seconds")
        return text + ("Z" if item.endswith("Z") else "")
    return item


def body_key(body: Any) -> str:
    """A canonical text of a request body, for matching a request to its recording."""
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Exchange:
    """One recorded HTTP request and its answer."""

    name: str
    group: str
    method: str
    path: str
    request_body: Any
    status: int
    headers: dict[str, str]
    body_json: Any = None
    body_text: str | None = None
    fallback: bool = False  # the answer for a body not recorded (e.g. an unknown text)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Exchange":
        return cls(name=str(data.get("name", "")), group=str(data.get("group", "")),
                   method=str(data["method"]).upper(), path=str(data["path"]),
                   request_body=data.get("request_body"), status=int(data["status"]),
                   headers={str(k).lower(): str(v) for k, v in
                            (data.get("headers") or {}).items()},
                   body_json=data.get("body_json"), body_text=data.get("body_text"),
                   fallback=bool(data.get("fallback", False)))


@dataclass
class Recording:
    """A recorded deployment: exchanges per service, WebSocket sessions, routes, scenarios."""

    root: Path
    meta: dict[str, Any]
    services: dict[str, list[Exchange]]
    websockets: list[dict[str, Any]]
    routes: dict[str, list[str]]
    scenarios: dict[str, dict[str, list[Exchange]]] = field(default_factory=dict)
    failed: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def find(self, service: str, method: str, path: str, body: Any = None,
             scenario: str = "normal") -> Exchange | None:
        """The recording for this request: the scenario's own first, then the normal one;
        among several for one method and path, the one with the same body, else the one
        marked `fallback`, else the first recorded."""
        pools = [self.scenarios.get(scenario, {}).get(service, [])] if scenario != "normal" \
            else []
        pools.append(self.services.get(service, []))
        for pool in pools:
            same = [e for e in pool if e.method == method and e.path == path]
            if not same:
                continue
            wanted = body_key(body)
            for exchange in same:
                if body_key(exchange.request_body) == wanted:
                    return exchange
            return next((e for e in same if e.fallback), same[0])
        return None

    def failed_for(self, service: str, method: str, path: str) -> bool:
        """Whether the real server dropped the connection on this request when recorded."""
        return any(f.get("method") == method and f.get("path") == path
                   for f in self.failed.get(service, []))

    def methods_for(self, service: str, path: str) -> list[str]:
        """The methods a path answers (from the route list, templates like `/x/{id}`
        included, and from the exchanges)."""
        methods: set[str] = set()
        if service == "backend":
            for template, listed in self.routes.items():
                if template == path or path_matches(template, path):
                    methods |= set(listed)
        methods |= {e.method for e in self.services.get(service, [])
                    if e.path == path and e.status not in (404, 405)}
        return sorted(methods)


def path_matches(template: str, path: str) -> bool:
    """Whether `path` fits a route template whose `{name}` parts are one path segment."""
    if "{" not in template:
        return template == path
    pattern = re.sub(r"\\\{[^/]*?\\\}", "[^/]+", re.escape(template))
    return re.fullmatch(pattern, path) is not None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise ValueError(f"{path}: not JSON ({exc})") from None


def _exchanges(root: Path, items: Any) -> list[Exchange]:
    out = []
    for item in items or []:
        if isinstance(item, dict) and isinstance(item.get("body_file"), str):
            item = {**item, "body_json": _read_json(root / item["body_file"])}
        out.append(Exchange.from_dict(item))
    return out


def load(root: Path) -> Recording:
    """Read a recording directory; ValueError naming the file when one is broken."""
    meta = _read_json(root / "meta.json")
    if not isinstance(meta, dict):
        raise ValueError(f"{root / 'meta.json'}: missing or not a JSON object")
    services: dict[str, list[Exchange]] = {}
    for service, filename in (meta.get("services") or {"backend": "http.json"}).items():
        data = _read_json(root / filename) or {}
        try:
            services[service] = _exchanges(root, data.get("exchanges"))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{root / filename}: bad exchange ({exc})") from None
    scenarios: dict[str, dict[str, list[Exchange]]] = {}
    for name, filename in (meta.get("scenarios") or {}).items():
        data = _read_json(root / filename) or {}
        scenarios[name] = {svc: _exchanges(root, items)
                           for svc, items in (data.get("services") or {}).items()}
    failed = {svc: [f for f in (_read_json(root / filename) or {}).get("failed", [])
                    if isinstance(f, dict)]
              for svc, filename in (meta.get("services") or {"backend": "http.json"}).items()}
    ws = (_read_json(root / "websockets.json") or {}).get("sessions", [])
    routes = (_read_json(root / "routes.json") or {}).get("http", {})
    return Recording(root, meta, services, ws, routes, scenarios, failed)
