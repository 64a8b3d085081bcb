"""nlu-bench's request side: the body template, GET query parameters, the per-request
deadline and what a failed answer looks like (httpx's MockTransport as the server)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from agent.config import parse_config
from agent.nlu_bench import NluTargetError, classifier_of, fill, run_bench
from rules.nlu import NO_INTENT, GoldItem


def config(nlu: str, backend: str = '{url: "http://alice.test:8000"}'):
    return parse_config(f"targets:\n  backend: {backend}\n  nlu: {nlu}\n", "t.yaml")


def items(*texts):
    return tuple(GoldItem(t, "PLAY", i + 1) for i, t in enumerate(texts))


def test_fill_replaces_text_everywhere_in_the_template():
    template = {"prompt": "Classify: {text}", "meta": [{"q": "{text}"}, 3, None], "n": 1}
    assert fill(template, "spela") == {"prompt": "Classify: spela", "meta": [{"q": "spela"},
                                                                            3, None], "n": 1}


def test_defaults_come_from_the_backend_and_the_legacy_path():
    legacy = parse_config('targets:\n  backend: {url: "http://b:1", timeout_ms: 1500, '
                          'nlu_classify_path: /classify}\n', "t.yaml")
    target = classifier_of(legacy)
    assert (target.url, target.method, target.timeout_s) == ("http://b:1/classify", "POST", 1.5)
    assert target.body == {"text": "{text}"}
    with pytest.raises(NluTargetError, match="targets.nlu.url or targets.backend"):
        classifier_of(parse_config("targets: {}\n", "t.yaml"))


def test_template_without_text_is_refused_naming_the_key():
    with pytest.raises(Exception, match=r"t.yaml:3: targets.nlu: body: the template must "
                                        r"contain \"\{text\}\""):
        config("{body: {prompt: hello}}")


def test_post_body_and_get_query():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path, dict(request.url.params),
                     json.loads(request.content) if request.content else None))
        text = request.url.params.get("q") or json.loads(request.content)["prompt"]
        return httpx.Response(200, json={"result": {"label": None if "x" in text else "play",
                                                    "p": 0.9}})

    post = classifier_of(config('{path: /api/ai/route, body: {prompt: "{text}", provider: '
                                'local}, intent_path: result.label, confidence_path: result.p}'))
    out = asyncio.run(run_bench(items("spela", "xyz"), post,
                                transport=httpx.MockTransport(handler)))
    assert [(o.predicted, o.confidence, o.error) for o in out] == [("PLAY", 0.9, ""),
                                                                  (NO_INTENT, 0.9, "")]
    assert seen[0] == ("POST", "/api/ai/route", {}, {"prompt": "spela", "provider": "local"})
    get = classifier_of(config('{method: GET, path: /nlu, body: {q: "{text}", lang: sv}, '
                               'intent_path: result.label}'))
    seen.clear()
    asyncio.run(run_bench(items("spela"), get, transport=httpx.MockTransport(handler)))
    assert seen == [("GET", "/nlu", {"q": "spela", "lang": "sv"}, None)]


def test_failures_are_data():
    async def handler(request: httpx.Request) -> httpx.Response:
        text = json.loads(request.content)["text"]
        if text == "slow":
            await asyncio.sleep(5)
        if text == "boom":
            return httpx.Response(503, json={"detail": "down"})
        if text == "html":
            return httpx.Response(200, text="<html>")
        return httpx.Response(200, json={"label": "PLAY"})

    target = classifier_of(config("{timeout_ms: 200}"))
    out = asyncio.run(run_bench(items("slow", "boom", "html", "shape"), target,
                                transport=httpx.MockTransport(handler)))
    assert [(o.predicted, o.error) for o in out] == [
        (None, "timed out"), (None, "HTTP 503"), (None, "answer is not JSON"),
        (None, "answer has no 'intent'")]
