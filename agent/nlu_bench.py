"""The I/O edge of `alice-ops nlu-bench`: read a gold set, send every item to the
backend's classify endpoint concurrently (bounded), return one Outcome per item.

Request failures become data (predicted None + reason), never exceptions; scoring
is `rules.nlu.summarize`.
"""

from __future__ import annotations

import asyncio
import time
from importlib import resources
from pathlib import Path
from typing import Sequence

import httpx

from agent.config import BackendTarget
from agent.redact import redact
from rules.nlu import GoldItem, GoldSetError, Outcome, parse_gold_set

SAMPLE_NAME = "defaults/nlu_sample.jsonl"
SAMPLE_LABEL = "rules/defaults/nlu_sample.jsonl"
MAX_ANSWER_BYTES = 64 * 1024


def load_gold_set(path: str | Path | None) -> tuple[GoldItem, ...]:
    """The gold set at `path`, or the sample shipped with the package for None."""
    if path is None:
        text = resources.files("rules").joinpath(SAMPLE_NAME).read_text("utf-8")
        return parse_gold_set(text.splitlines(), SAMPLE_LABEL)
    try:
        with open(path, encoding="utf-8") as handle:
            return parse_gold_set(handle, str(path))
    except FileNotFoundError:
        raise GoldSetError(f"{path}: gold set not found") from None
    except IsADirectoryError:
        raise GoldSetError(f"{path}: is a directory, not a gold set") from None
    except PermissionError:
        raise GoldSetError(f"{path}: cannot read the gold set: permission denied") from None
    except UnicodeDecodeError:
        raise GoldSetError(f"{path}: the gold set is not UTF-8 text") from None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused or host unreachable"
    return redact(f"{exc.__class__.__name__}: {exc}")[:200]


async def _classify_one(client: httpx.AsyncClient, url: str, item: GoldItem) -> Outcome:
    started = time.perf_counter()
    try:
        response = await client.post(url, json={"text": item.text})
        latency = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            return Outcome(item, None, latency, error=f"HTTP {response.status_code}")
        if len(response.content) > MAX_ANSWER_BYTES:
            return Outcome(item, None, latency, error="answer too large")
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        return Outcome(item, None, error=_reason(exc))
    intent = body.get("intent") if isinstance(body, dict) else None
    if not isinstance(intent, str) or not intent:
        return Outcome(item, None, latency, error="answer has no 'intent' string")
    server = body.get("latency_ms")
    server_ms = float(server) if isinstance(server, (int, float)) else None
    return Outcome(item, intent.strip().upper(), latency, server_ms)


async def run_bench(items: Sequence[GoldItem], target: BackendTarget, concurrency: int = 8,
                    transport: httpx.AsyncBaseTransport | None = None) -> tuple[Outcome, ...]:
    """Classify every item, at most `concurrency` requests in flight, each under the
    backend target's timeout. Outcomes come back in gold-set order."""
    url = target.url + "/" + target.nlu_classify_path.lstrip("/")
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=target.timeout_ms / 1000, limits=limits,
                                 transport=transport, follow_redirects=False) as client:
        async def bounded(item: GoldItem) -> Outcome:
            async with gate:
                return await _classify_one(client, url, item)

        return tuple(await asyncio.gather(*(bounded(item) for item in items)))
