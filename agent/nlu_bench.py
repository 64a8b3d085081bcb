"""The I/O edge of `alice-ops nlu-bench`: read a gold set, send every item to the
classifier (`targets.nlu`, by default the backend's classify path) concurrently
(bounded), return one Outcome per item.

Request failures become data (predicted None + reason), never exceptions; reading an
answer is `rules.nlu.read_answer`, scoring is `rules.nlu.summarize`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

import httpx

from agent.config import Config, NluTarget
from vocab.redact import redact
from rules.nlu import (AnswerError, AnswerShape, GoldItem, GoldSetError, Outcome,
                       parse_gold_text, read_answer)

SAMPLE_NAME = "defaults/nlu_sample.jsonl"
SAMPLE_LABEL = "rules/defaults/nlu_sample.jsonl"
MAX_ANSWER_BYTES = 64 * 1024
DEFAULT_PATH = "/api/nlu/classify"
DEFAULT_TIMEOUT_MS = 3000


class NluTargetError(ValueError):
    """No classifier to send to (no targets.nlu.url and no targets.backend)."""


@dataclass(frozen=True)
class Classifier:
    """Where and how nlu-bench asks, resolved from the config."""

    url: str
    method: str
    body: Any
    shape: AnswerShape
    timeout_s: float


def classifier_of(config: Config) -> Classifier:
    """targets.nlu with its defaults filled from targets.backend (the legacy
    `nlu_classify_path` is the default path)."""
    backend = config.targets.backend
    nlu = config.targets.nlu or NluTarget()
    base = nlu.url or (backend.url if backend else None)
    if base is None:
        raise NluTargetError("no classifier configured: set targets.nlu.url or "
                             "targets.backend")
    path = nlu.path or (backend.nlu_classify_path if backend else DEFAULT_PATH)
    timeout_ms = nlu.timeout_ms or (backend.timeout_ms if backend else DEFAULT_TIMEOUT_MS)
    shape = AnswerShape(intent_path=nlu.intent_path, confidence_path=nlu.confidence_path,
                        latency_path=nlu.latency_path, none_label=nlu.none_label,
                        aliases=dict(nlu.aliases), absent_intent=nlu.absent_intent)
    return Classifier(base + "/" + path.lstrip("/"), nlu.method, nlu.body, shape,
                      timeout_ms / 1000)


def fill(template: Any, text: str) -> Any:
    """The request body: `{text}` in every string of the template replaced by `text`."""
    if isinstance(template, str):
        return template.replace("{text}", text)
    if isinstance(template, dict):
        return {k: fill(v, text) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, text) for v in template]
    return template


def load_gold_set(path: str | Path | None) -> tuple[GoldItem, ...]:
    """The gold set at `path` (JSONL, or one JSON document holding the items), or the
    sample shipped with the package for None."""
    if path is None:
        text = resources.files("rules").joinpath(SAMPLE_NAME).read_text("utf-8")
        return parse_gold_text(text, SAMPLE_LABEL)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GoldSetError(f"{path}: gold set not found") from None
    except IsADirectoryError:
        raise GoldSetError(f"{path}: is a directory, not a gold set") from None
    except PermissionError:
        raise GoldSetError(f"{path}: cannot read the gold set: permission denied") from None
    except UnicodeDecodeError:
        raise GoldSetError(f"{path}: the gold set is not UTF-8 text") from None
    return parse_gold_text(text, str(path))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, (httpx.TimeoutException, TimeoutError)):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused or host unreachable"
    return redact(f"{exc.__class__.__name__}: {exc}")[:200]


async def _request(client: httpx.AsyncClient, target: Classifier, text: str) -> httpx.Response:
    body = fill(target.body, text)
    if target.method == "GET":
        return await client.get(target.url, params=body)
    return await client.request(target.method, target.url, json=body)


async def _classify_one(client: httpx.AsyncClient, target: Classifier,
                        item: GoldItem) -> Outcome:
    started = time.perf_counter()
    try:
        response = await asyncio.wait_for(_request(client, target, item.text),
                                          target.timeout_s)
        latency = (time.perf_counter() - started) * 1000
        if not 200 <= response.status_code < 300:
            return Outcome(item, None, latency, error=f"HTTP {response.status_code}")
        if len(response.content) > MAX_ANSWER_BYTES:
            return Outcome(item, None, latency, error="answer too large")
    except (httpx.HTTPError, TimeoutError) as exc:
        return Outcome(item, None, error=_reason(exc))
    try:
        body = response.json()
    except ValueError:
        return Outcome(item, None, latency, error="answer is not JSON")
    try:
        answer = read_answer(body, target.shape)
    except AnswerError as exc:
        return Outcome(item, None, latency, error=str(exc))
    return Outcome(item, answer.intent, latency, answer.server_latency_ms,
                   confidence=answer.confidence)


async def run_bench(items: Sequence[GoldItem], target: Classifier, concurrency: int = 8,
                    transport: httpx.AsyncBaseTransport | None = None) -> tuple[Outcome, ...]:
    """Classify every item, at most `concurrency` requests in flight, each under the
    target's timeout (the whole request). Outcomes come back in gold-set order."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=target.timeout_s, limits=limits,
                                 transport=transport, follow_redirects=False) as client:
        async def bounded(item: GoldItem) -> Outcome:
            async with gate:
                return await _classify_one(client, target, item)

        return tuple(await asyncio.gather(*(bounded(item) for item in items)))
