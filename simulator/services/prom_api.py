"""The fake Prometheus HTTP API: instant and range queries answered from the simulator's
own metric history in Prometheus's exact JSON, plus buildinfo and the health endpoints.

The PromQL rows of `rules/defaults/thresholds.yaml` are parsed once up front; other
queries are parsed on demand. PromQL outside the simulated subset answers no data.
"""

from __future__ import annotations

import importlib.resources
import math
import re
import time
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import yaml
from aiohttp import web

from simulator import promql
from simulator.context import SimContext
from simulator.services.base import json_response, make_app
from simulator.state import SERVICES

MAX_POINTS = 11_000
JOBS = {"backend": "alice-backend", "gateway": "alice-voice-gateway", "ollama": "ollama",
        "openai": "openai", "prometheus": "prometheus"}
DOWN_IN = {"gateway-down": {"gateway"}, "openai-outage": {"openai"},
           "hang": set(SERVICES) - {"prometheus"}, "garbage": set(SERVICES) - {"prometheus"}}
BUILDINFO = {"version": "2.42.0-sim", "revision": "alice-ops-simulator", "branch": "HEAD",
             "buildUser": "alice-ops", "buildDate": "20230314-00:00:00", "goVersion": "go1.20.2"}
PARSED = web.AppKey("parsed", dict)


def normalize(query: str) -> str:
    return " ".join(query.split())


def threshold_queries() -> list[tuple[str, str]]:
    """(metric, promql) of every PromQL row in the shipped threshold table."""
    try:
        text = (importlib.resources.files("rules") / "defaults" / "thresholds.yaml").read_text()
    except (ModuleNotFoundError, FileNotFoundError):
        return []
    rows = (yaml.safe_load(text) or {}).get("rows") or []
    return [(str(r.get("metric")), normalize(r["promql"]))
            for r in rows if isinstance(r, dict) and isinstance(r.get("promql"), str)]


class SimSource:
    """The query engine's view of the simulator: its metric history plus `up`."""

    def __init__(self, ctx: SimContext, services: tuple[str, ...] = SERVICES,
                 jobs: dict[str, str] | None = None) -> None:
        self.ctx = ctx
        self.services = services
        self.jobs = {**JOBS, **(jobs or {})}

    def up(self) -> promql.Vector:
        scenario = self.ctx.state.scenario
        down = set(self.services) - {"prometheus"} if scenario in ("hang", "garbage") \
            else DOWN_IN.get(scenario, set())
        return [({"job": self.jobs.get(s, s),
                  "instance": urlsplit(self.ctx.urls.get(s, "")).netloc},
                 0.0 if s in down else 1.0) for s in self.services]

    def instant(self, name: str, t: float) -> promql.Vector:
        if name == "up":
            return self.up()
        return self.ctx.history.instant(name, t)

    def delta(self, name: str, t: float, range_s: float, follow_scenario: bool):
        return self.ctx.history.delta(name, t, range_s, follow_scenario)

    def names(self) -> list[str]:
        """Every metric name the server has (`/api/v1/label/__name__/values`)."""
        return sorted(set(self.ctx.history.names()) | {"up"})


SOURCE = web.AppKey("source", SimSource)


def _bad(message: str, status: int = 400, kind: str = "bad_data") -> web.Response:
    return json_response({"status": "error", "errorType": kind, "error": message}, status)


def _parse_time(text: str, name: str) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise ValueError(f'invalid parameter "{name}": cannot parse "{text}" to a valid '
                         "timestamp") from None


def _parse_step(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return promql.parse_duration(text)
    except ValueError:
        raise ValueError(f'invalid parameter "step": cannot parse "{text}" to a valid '
                         "duration") from None


async def _params(request: web.Request) -> dict[str, str]:
    params = dict(request.query)
    if request.method == "POST":
        params.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
    return params


def _precompile(queries: list[tuple[str, str]]) -> dict[str, promql.Node | None]:
    parsed: dict[str, promql.Node | None] = {}
    for _, query in queries:
        try:
            parsed[query] = promql.parse(query)
        except ValueError:
            parsed[query] = None
    return parsed


def _compile(request: web.Request, query: str) -> promql.Node | None:
    """The parsed query; None for PromQL outside the subset; ParseError if broken."""
    cache = request.app[PARSED]
    key = normalize(query)
    if key not in cache:
        try:
            node = promql.parse(query)
        except promql.Unsupported:
            node = None
        if len(cache) < 512:
            cache[key] = node
        return node
    return cache[key]


def _evaluate(request: web.Request, node: promql.Node | None, t: float
              ) -> float | promql.Vector:
    if node is None:
        return []
    try:
        return promql.evaluate(node, request.app[SOURCE], t)
    except promql.Unsupported:
        return []


def _stamp(t: float) -> float:
    return round(t, 3)


async def query(request: web.Request) -> web.Response:
    params = await _params(request)
    now = time.time()
    try:
        t = min(_parse_time(params["time"], "time"), now) if "time" in params else now
        node = _compile(request, params.get("query", ""))
    except (ValueError, re.error) as exc:
        message = str(exc)
        if not params.get("query", "").strip():
            message = 'invalid parameter "query": 1:1: parse error: no expression found in input'
        return _bad(message)
    value = _evaluate(request, node, t)
    if isinstance(value, float):
        data: dict[str, Any] = {"resultType": "scalar",
                                "result": [_stamp(t), promql.format_value(value)]}
    else:
        data = {"resultType": "vector", "result": [
            {"metric": labels, "value": [_stamp(t), promql.format_value(v)]}
            for labels, v in value]}
    return json_response({"status": "success", "data": data})


async def query_range(request: web.Request) -> web.Response:
    params = await _params(request)
    try:
        start = _parse_time(params.get("start", ""), "start")
        end = _parse_time(params.get("end", ""), "end")
        step = _parse_step(params.get("step", ""))
        node = _compile(request, params.get("query", ""))
    except (ValueError, re.error) as exc:
        return _bad(str(exc))
    if end < start:
        return _bad('invalid parameter "end": end timestamp must not be before start time')
    if step <= 0 or not math.isfinite(step):
        return _bad("zero or negative query resolution step widths are not accepted. "
                    "Try a positive integer")
    if (end - start) / step > MAX_POINTS:
        return _bad("exceeded maximum resolution of 11,000 points per timeseries. Try "
                    "decreasing the query resolution (?step=XX)")
    now = time.time()
    series: dict[tuple, list] = {}
    for i in range(int((end - start) / step + 1e-9) + 1):
        t = start + i * step
        if t > now:
            break
        value = _evaluate(request, node, t)
        rows = [({}, value)] if isinstance(value, float) else value
        for labels, v in rows:
            key = tuple(sorted(labels.items()))
            series.setdefault(key, []).append([_stamp(t), promql.format_value(v)])
    return json_response({"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": dict(key), "values": values} for key, values in series.items()]}})


async def label_values(request: web.Request) -> web.Response:
    if request.match_info["name"] != "__name__":
        return json_response({"status": "success", "data": []})
    return json_response({"status": "success", "data": request.app[SOURCE].names()})


async def buildinfo(request: web.Request) -> web.Response:
    return json_response({"status": "success", "data": BUILDINFO})


async def healthy(request: web.Request) -> web.Response:
    return web.Response(text="Prometheus Server is Healthy.\n")


async def ready(request: web.Request) -> web.Response:
    return web.Response(text="Prometheus Server is Ready.\n")


async def root(request: web.Request) -> web.Response:
    return web.Response(text="<html><title>Prometheus (Alice simulator)</title></html>",
                        content_type="text/html")


def create_app(ctx: SimContext, source: SimSource | None = None) -> web.Application:
    """The Prometheus API over `source` (default: the simulator's own metric history)."""
    app = make_app("prometheus", ctx)
    app[SOURCE] = source if source is not None else SimSource(ctx)
    app[PARSED] = _precompile(threshold_queries())
    for path, handler in (("/api/v1/query", query), ("/api/v1/query_range", query_range)):
        app.router.add_get(path, handler)
        app.router.add_post(path, handler)
    app.router.add_get("/api/v1/label/{name}/values", label_values)
    app.router.add_get("/api/v1/status/buildinfo", buildinfo)
    app.router.add_get("/-/healthy", healthy)
    app.router.add_get("/-/ready", ready)
    app.router.add_get("/", root)
    return app
