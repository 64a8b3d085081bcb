"""JSON metrics sources: one GET per source per cycle, readings picked by dotted path.

A source is an endpoint such as Alice's `/api/metrics` answering
`{"application": {"final_latency_ms": {"count": 12, "p50": 80, "p95": 410}}, ...}`;
threshold rows bind to it with `json: "<source>:<dotted.path>"`. A path the answer
does not have is absent (a blind spot, `Reading.missing`), and so is a figure of a
summary that has counted nothing yet (`count: 0`: its `p95: 0.0` is no measurement);
a value that is not a number, or a source that cannot be read, is UNKNOWN with the
reason. Each GET has a total deadline (connect, headers, body) and a capped body.

`attach(...)` folds the sources of one component into that component's own probe, so
their rows are judged and alerted with it (no new component appears).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Awaitable, Callable, Iterable, Mapping, Sequence

import httpx

from agent.config import JsonMetricsSource
from vocab.model import ProbeResult, Reading, Status
from agent.probes.http import describe_error, make_client
from rules.evaluate import NO_SAMPLES, json_key

_MISSING = object()


def _walk(doc: Any, path: str) -> tuple[Any, Any]:
    """(parent, value) at a dotted path (`a.b.0.c`: list items by index); value may be
    `_MISSING`."""
    parent: Any = None
    node = doc
    for part in path.split("."):
        if isinstance(node, Mapping) and part in node:
            parent, node = node, node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            parent, node = node, node[int(part)]
        else:
            return parent, _MISSING
    return parent, node


def lookup(doc: Any, path: str) -> Any:
    """The value at a dotted path, or `_MISSING`."""
    return _walk(doc, path)[1]


def _uncounted(parent: Any, path: str) -> bool:
    """A figure of a summary that has counted nothing: `{"count": 0, "p95": 0.0}`."""
    count = parent.get("count") if isinstance(parent, Mapping) else None
    return (isinstance(count, (int, float)) and not isinstance(count, bool) and count == 0
            and path.rsplit(".", 1)[-1] != "count")


def reading_at(doc: Any, source: str, path: str) -> Reading:
    """One reading from a parsed answer (pure)."""
    parent, value = _walk(doc, path)
    if value is _MISSING:
        return Reading(None, reason=f"{source} has no {path}", missing=(path,))
    if _uncounted(parent, path):
        return Reading(None, reason=f"{source}: {path}: {NO_SAMPLES}", missing=(path,))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if isinstance(value, Mapping):
            keys = ", ".join(list(map(str, value))[:6])
            what = f"an object ({keys}); bind a key, e.g. {path}.{next(iter(value), 'x')}"
        elif value is None:
            what = "null"
        else:
            what = f"a {type(value).__name__} ({str(value)[:40]!r}), not a number"
        return Reading(None, reason=f"{source}: {path} is {what}")
    number = float(value)
    if number != number or number in (float("inf"), float("-inf")):
        return Reading(None, reason=f"{source}: {path} is {number}")
    return Reading(number)


async def fetch(source: JsonMetricsSource, client: httpx.AsyncClient) -> tuple[Any, float]:
    """GET the source under its total deadline; return (parsed JSON, elapsed ms)."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(source.timeout_ms / 1000):
            response = await client.get(source.url)
    except TimeoutError:
        raise SourceFailure(f"no answer within {source.timeout_ms} ms") from None
    except httpx.HTTPError as exc:
        raise SourceFailure(describe_error(exc, source.timeout_ms)) from None
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SourceFailure(f"HTTP {response.status_code}")
    try:
        return json.loads(response.content), elapsed
    except (ValueError, UnicodeDecodeError):
        ctype = response.headers.get("content-type", "no content-type").split(";")[0]
        raise SourceFailure(f"HTTP 200 with a non-JSON body ({ctype})") from None


class SourceFailure(Exception):
    """A JSON metrics source could not be read; the message is the reason."""


async def read_sources(sources: Sequence[JsonMetricsSource], paths: Mapping[str, Iterable[str]],
                       transport: httpx.AsyncBaseTransport | None = None
                       ) -> tuple[dict[str, Reading], dict[str, str]]:
    """Readings keyed `json:<source>:<path>` for every bound path, and per source
    "ok" or the reason it failed."""
    readings: dict[str, Reading] = {}
    outcome: dict[str, str] = {}
    longest = max((s.timeout_ms for s in sources), default=1000)
    async with make_client(longest, transport) as client:
        answers = await asyncio.gather(*(fetch(s, client) for s in sources),
                                       return_exceptions=True)
    for source, answer in zip(sources, answers):
        wanted = list(dict.fromkeys(paths.get(source.name, ())))
        if isinstance(answer, BaseException):
            if not isinstance(answer, SourceFailure):
                raise answer
            outcome[source.name] = str(answer)
            for path in wanted:
                readings[json_key(f"{source.name}:{path}")] = Reading(
                    None, reason=f"{source.name} not read: {answer}")
            continue
        doc, elapsed = answer
        outcome[source.name] = "ok"
        readings[f"json_latency_ms:{source.name}"] = Reading(elapsed, "ms")
        for path in wanted:
            readings[json_key(f"{source.name}:{path}")] = reading_at(doc, source.name, path)
    return readings, outcome


def _alone(component: str, readings: dict[str, Reading], outcome: dict[str, str],
           latency_ms: float) -> ProbeResult:
    failed = {name: why for name, why in outcome.items() if why != "ok"}
    if not failed:
        status, summary = Status.OK, f"{len(outcome)} JSON metrics source(s) read"
    else:
        name, why = next(iter(failed.items()))
        status = Status.CRITICAL if len(failed) == len(outcome) else Status.UNKNOWN
        summary = f"JSON metrics {name}: {why}"
    return ProbeResult(component, status, summary, latency_ms=latency_ms, readings=readings,
                       details={"json_metrics": outcome})


def attach(component: str, own: Callable[[], Awaitable[ProbeResult]] | None,
           sources: Sequence[JsonMetricsSource], paths: Mapping[str, Iterable[str]],
           transport: httpx.AsyncBaseTransport | None = None
           ) -> Callable[[], Awaitable[ProbeResult]]:
    """A probe factory: the component's own probe (if any) and its JSON sources, run
    together, with the JSON readings merged into the component's result."""

    async def run() -> ProbeResult:
        started = time.perf_counter()
        json_part = read_sources(sources, paths, transport)
        if own is None:
            readings, outcome = await json_part
            return _alone(component, readings, outcome, (time.perf_counter() - started) * 1000)
        result, (readings, outcome) = await asyncio.gather(own(), json_part)
        details = {**result.details, "json_metrics": outcome}
        return ProbeResult(result.component, result.status, result.summary,
                           latency_ms=result.latency_ms,
                           readings={**result.readings, **readings}, details=details)

    return run
