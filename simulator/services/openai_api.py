"""The fake OpenAI API under `/v1`: models, chat completions (plain and SSE streaming) and
the organization costs API, with OpenAI's auth errors, rate-limit headers and outages.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from aiohttp import web

from simulator.context import SimContext
from simulator.services.base import CTX, json_response, make_app, read_json_object
from simulator.state import DAY_S

MODELS = ("gpt-4o", "gpt-4o-mini", "gpt-4.1-mini", "gpt-4o-realtime-preview-2024-10-01",
          "gpt-4o-mini-realtime-preview", "o4-mini", "text-embedding-3-small")
MODEL_PREFIXES = ("gpt-", "o1", "o3", "o4", "chatgpt-")
CREATED = 1_715_367_049
LIMIT_REQUESTS, LIMIT_TOKENS = 10_000, 2_000_000
REPLY = "Hej! Det här är Alice snabba väg, besvarad av simulatorn.".split(" ")
SLOW_S = 0.7
OPENAI_STATE = web.AppKey("openai_state", dict)


def redact_key(key: str) -> str:
    """A key the way OpenAI echoes it: a short prefix and the last four characters only."""
    return f"{key[:3]}...{key[-4:]}" if len(key) >= 12 else "****"


def _error(status: int, message: str, type_: str, code: str | None = None,
           param: str | None = None) -> web.Response:
    return json_response({"error": {"message": message, "type": type_, "param": param,
                                    "code": code}}, status,
                         headers={"x-request-id": f"req_{uuid.uuid4().hex}"})


def _auth_error(header: str) -> web.Response:
    if not header.startswith("Bearer ") or not header[7:].strip():
        return _error(401, "You didn't provide an API key. You need to provide your API key in "
                      "an Authorization header using Bearer auth (i.e. Authorization: Bearer "
                      "YOUR_KEY).", "invalid_request_error")
    return _error(401, f"Incorrect API key provided: {redact_key(header[7:].strip())}. You can "
                  "find your API key at https://platform.openai.com/account/api-keys.",
                  "invalid_request_error", "invalid_api_key")


async def _guard(request: web.Request, admin: bool = False) -> web.Response | None:
    """The scenario's and the key's verdict on a /v1 call; None lets it through."""
    ctx = request.app[CTX]
    scenario = ctx.state.scenario
    if scenario == "openai-slow":
        await ctx.state.pause(SLOW_S)
    if scenario == "openai-outage":
        return _error(503, "The server is overloaded or not ready yet.", "server_error")
    header = request.headers.get("Authorization", "")
    wanted = ctx.admin_key if admin else ctx.api_key
    if scenario == "openai-auth-failure" or header != f"Bearer {wanted}":
        return _auth_error(header)
    return None


def _headers(request: web.Request, tokens: int = 0) -> dict[str, str]:
    usage = request.app[OPENAI_STATE]
    minute = int(time.time() // 60)
    if usage["minute"] != minute:
        usage.update(minute=minute, requests=0, tokens=0)
    usage["requests"] += 1
    usage["tokens"] += tokens
    return {"x-ratelimit-limit-requests": str(LIMIT_REQUESTS),
            "x-ratelimit-remaining-requests": str(max(0, LIMIT_REQUESTS - usage["requests"])),
            "x-ratelimit-limit-tokens": str(LIMIT_TOKENS),
            "x-ratelimit-remaining-tokens": str(max(0, LIMIT_TOKENS - usage["tokens"])),
            "x-ratelimit-reset-requests": f"{60_000 // LIMIT_REQUESTS}ms",
            "x-ratelimit-reset-tokens": f"{usage['tokens'] * 60_000 // LIMIT_TOKENS}ms",
            "x-request-id": f"req_{uuid.uuid4().hex}", "openai-version": "2020-10-01",
            "openai-processing-ms": "42"}


def _model_object(model: str) -> dict[str, Any]:
    return {"id": model, "object": "model", "created": CREATED,
            "owned_by": "openai" if model.startswith("text-") else "system"}


def _known(model: str) -> bool:
    return model in MODELS or model.startswith(MODEL_PREFIXES)


async def list_models(request: web.Request) -> web.Response:
    if (denied := await _guard(request)) is not None:
        return denied
    return json_response({"object": "list", "data": [_model_object(m) for m in MODELS]},
                         headers=_headers(request))


async def get_model(request: web.Request) -> web.Response:
    if (denied := await _guard(request)) is not None:
        return denied
    model = request.match_info["model"]
    if not _known(model):
        return _error(404, f"The model '{model}' does not exist", "invalid_request_error",
                      "model_not_found", "model")
    return json_response(_model_object(model), headers=_headers(request))


def _prompt_tokens(messages: list) -> int:
    words = sum(len(str(m.get("content") or "").split()) for m in messages if isinstance(m, dict))
    return words * 4 // 3 + 4 * len(messages) + 3


async def chat_completions(request: web.Request) -> web.StreamResponse:
    if (denied := await _guard(request)) is not None:
        return denied
    body = await read_json_object(request)
    if body is None:
        return _error(400, "We could not parse the JSON body of your request.",
                      "invalid_request_error")
    model, messages = body.get("model"), body.get("messages")
    if not isinstance(model, str) or not model:
        return _error(400, "you must provide a model parameter", "invalid_request_error")
    if not isinstance(messages, list) or not messages:
        return _error(400, "Missing required parameter: 'messages'.", "invalid_request_error",
                      "missing_required_parameter", "messages")
    if not _known(model):
        return _error(404, f"The model `{model}` does not exist or you do not have access to it.",
                      "invalid_request_error", "model_not_found")
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    tokens = REPLY[:limit] if isinstance(limit, int) and limit >= 0 else REPLY
    finish = "length" if len(tokens) < len(REPLY) else "stop"
    usage = {"prompt_tokens": _prompt_tokens(messages), "completion_tokens": len(tokens)}
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    head = {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "created": int(time.time()),
            "model": model, "system_fingerprint": "fp_alice_sim", "service_tier": "default"}
    headers = _headers(request, usage["total_tokens"])
    if not body.get("stream"):
        message = {"role": "assistant", "content": " ".join(tokens), "refusal": None,
                   "annotations": []}
        return json_response({**head, "object": "chat.completion", "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
            "usage": usage}, headers=headers)
    response = web.StreamResponse(headers={**headers, "Content-Type": "text/event-stream"})
    await response.prepare(request)
    chunk = {**head, "object": "chat.completion.chunk"}
    deltas = [({"role": "assistant", "content": ""}, None)]
    deltas += [({"content": (" " if i else "") + t}, None) for i, t in enumerate(tokens)]
    deltas.append(({}, finish))
    for delta, reason in deltas:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason}
        await response.write(f"data: {json.dumps({**chunk, 'choices': [choice]})}\n\n".encode())
    if (body.get("stream_options") or {}).get("include_usage"):
        await response.write(
            f"data: {json.dumps({**chunk, 'choices': [], 'usage': usage})}\n\n".encode())
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response


async def organization_costs(request: web.Request) -> web.Response:
    if (denied := await _guard(request, admin=True)) is not None:
        return denied
    query = request.query
    try:
        start = int(query["start_time"])
        end = int(query.get("end_time", time.time() + 1))
        limit = int(query.get("limit", 7))
        page = int(query["page"].removeprefix("page_")) if "page" in query else None
    except KeyError:
        return _error(400, "Missing query parameter 'start_time'.", "invalid_request_error",
                      param="start_time")
    except ValueError:
        return _error(400, "Invalid query parameter: expected integers.", "invalid_request_error")
    if query.get("bucket_width", "1d") != "1d" or not 1 <= limit <= 180:
        return _error(400, "Invalid bucket_width or limit: bucket_width must be 1d, limit "
                      "1..180.", "invalid_request_error")
    state = request.app[CTX].state
    day = page if page is not None else start // DAY_S * DAY_S
    buckets = []
    while day < end and len(buckets) < limit:
        amount = state.cost_between(day, day + DAY_S)
        results = [{"object": "organization.costs.result",
                    "amount": {"value": round(amount, 6), "currency": "usd"},
                    "line_item": None, "project_id": None}] if amount > 0 else []
        buckets.append({"object": "bucket", "start_time": day, "end_time": day + DAY_S,
                        "results": results})
        day += DAY_S
    more = day < end
    return json_response({"object": "page", "data": buckets, "has_more": more,
                          "next_page": f"page_{day}" if more else None},
                         headers={"x-request-id": f"req_{uuid.uuid4().hex}"})


def create_app(ctx: SimContext) -> web.Application:
    app = make_app("openai", ctx)
    app[OPENAI_STATE] = {"minute": 0, "requests": 0, "tokens": 0}
    app.router.add_get("/v1/models", list_models)
    app.router.add_get("/v1/models/{model}", get_model)
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_get("/v1/organization/costs", organization_costs)
    return app
