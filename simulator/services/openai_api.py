"""The fake OpenAI API under `/v1`: models, chat completions (plain and SSE streaming), the
Realtime WebSocket and the organization costs API, with OpenAI's auth errors, outages, quota
and rate-limit 429s, and `x-ratelimit-*` headers on completions only (as the real API sends
them). Reasoning models reject `max_tokens` and unsupported `reasoning_effort` values.
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
          "gpt-4o-mini-realtime-preview", "gpt-realtime", "o4-mini", "gpt-5-mini",
          "text-embedding-3-small")
MODEL_PREFIXES = ("gpt-", "o1", "o3", "o4", "chatgpt-")
REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")
O_SERIES_EFFORTS = ("low", "medium", "high")
GPT5_EFFORTS = ("minimal", "low", "medium", "high")
CREATED = 1_715_367_049
LIMIT_REQUESTS, LIMIT_TOKENS = 10_000, 2_000_000
REPLY = "Hej! Det här är Alice snabba väg, besvarad av simulatorn.".split(" ")
SLOW_S = 0.7
OPENAI_STATE = web.AppKey("openai_state", dict)


def redact_key(key: str) -> str:
    """A key the way OpenAI echoes it: a short prefix and the last four characters only."""
    return f"{key[:3]}...{key[-4:]}" if len(key) >= 12 else "****"


QUOTA_MESSAGE = ("You exceeded your current quota, please check your plan and billing "
                 "details. For more information on this error, read the docs: "
                 "https://platform.openai.com/docs/guides/error-codes/api-errors.")


def _error(status: int, message: str, type_: str, code: str | None = None,
           param: str | None = None, headers: dict[str, str] | None = None) -> web.Response:
    return json_response({"error": {"message": message, "type": type_, "param": param,
                                    "code": code}}, status,
                         headers=headers or {"x-request-id": f"req_{uuid.uuid4().hex}"})


def _refuse_parameters(model: str, body: dict[str, Any]) -> web.Response | None:
    """The real API's 400s for token and effort parameters a model does not take."""
    reasoning = model.startswith(REASONING_PREFIXES)
    effort = body.get("reasoning_effort")
    if reasoning and body.get("max_tokens") is not None:
        return _error(400, "Unsupported parameter: 'max_tokens' is not supported with this "
                      "model. Use 'max_completion_tokens' instead.", "invalid_request_error",
                      "unsupported_parameter", "max_tokens")
    if effort is None:
        return None
    if not reasoning:
        return _error(400, "Unsupported parameter: 'reasoning_effort' is not supported with "
                      "this model.", "invalid_request_error", "unsupported_parameter",
                      "reasoning_effort")
    allowed = GPT5_EFFORTS if model.startswith("gpt-5") else O_SERIES_EFFORTS
    if effort not in allowed:
        listed = ", ".join(f"'{e}'" for e in allowed[:-1]) + f", and '{allowed[-1]}'"
        return _error(400, f"Unsupported value: 'reasoning_effort' does not support "
                      f"'{effort}' with this model. Supported values are: {listed}.",
                      "invalid_request_error", "unsupported_value", "reasoning_effort")
    return None


def _scenario_429(request: web.Request, model: str) -> web.Response | None:
    """`openai-quota`: billing exhausted; `openai-rate-limited`: the request window is spent."""
    scenario = request.app[CTX].state.scenario
    if scenario == "openai-quota":
        return _error(429, QUOTA_MESSAGE, "insufficient_quota", "insufficient_quota")
    if scenario != "openai-rate-limited":
        return None
    headers = {**_headers(request), "x-ratelimit-remaining-requests": "0",
               "x-ratelimit-reset-requests": "20s", "retry-after": "20"}
    return _error(429, f"Rate limit reached for {model} in organization org-alicesim on "
                  f"requests per min (RPM): Limit {LIMIT_REQUESTS}, Used {LIMIT_REQUESTS}, "
                  "Requested 1. Please try again in 20s. Visit "
                  "https://platform.openai.com/account/rate-limits to learn more.",
                  "requests", "rate_limit_exceeded", headers=headers)


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


def _plain_headers() -> dict[str, str]:
    """What every answer carries; `/v1/models` gets these and no rate-limit figures."""
    return {"x-request-id": f"req_{uuid.uuid4().hex}", "openai-version": "2020-10-01",
            "openai-processing-ms": "42"}


def _headers(request: web.Request, tokens: int = 0) -> dict[str, str]:
    """A completion's headers: the plain ones and the request and token windows it used."""
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
            **_plain_headers()}


def _model_object(model: str) -> dict[str, Any]:
    return {"id": model, "object": "model", "created": CREATED,
            "owned_by": "openai" if model.startswith("text-") else "system"}


def _known(model: str) -> bool:
    return model in MODELS or model.startswith(MODEL_PREFIXES)


async def list_models(request: web.Request) -> web.Response:
    if (denied := await _guard(request)) is not None:
        return denied
    return json_response({"object": "list", "data": [_model_object(m) for m in MODELS]},
                         headers=_plain_headers())


async def get_model(request: web.Request) -> web.Response:
    if (denied := await _guard(request)) is not None:
        return denied
    model = request.match_info["model"]
    if not _known(model):
        return _error(404, f"The model '{model}' does not exist", "invalid_request_error",
                      "model_not_found", "model")
    return json_response(_model_object(model), headers=_plain_headers())


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
    if (refused := _refuse_parameters(model, body) or _scenario_429(request, model)) is not None:
        return refused
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    tokens = REPLY[:limit] if isinstance(limit, int) and limit >= 0 else REPLY
    finish = "length" if len(tokens) < len(REPLY) else "stop"
    usage: dict[str, Any] = {"prompt_tokens": _prompt_tokens(messages),
                             "completion_tokens": len(tokens)}
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    if model.startswith(REASONING_PREFIXES):  # reasoning spends part of the budget unseen
        hidden = len(tokens) // 2
        usage["completion_tokens_details"] = {"reasoning_tokens": hidden}
        tokens = tokens[:len(tokens) - hidden]
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


def _session(model: str, beta: bool) -> dict[str, Any]:
    """The `session` of `session.created`: the GA shape, or the beta one under OpenAI-Beta."""
    sid = f"sess_{uuid.uuid4().hex[:20]}"
    expires = int(time.time()) + 3600
    if beta:
        return {"id": sid, "object": "realtime.session", "model": model,
                "modalities": ["text", "audio"], "voice": "alloy",
                "input_audio_format": "pcm16", "output_audio_format": "pcm16",
                "turn_detection": {"type": "server_vad", "threshold": 0.5,
                                   "prefix_padding_ms": 300, "silence_duration_ms": 200},
                "tools": [], "tool_choice": "auto", "temperature": 0.8,
                "max_response_output_tokens": "inf", "expires_at": expires}
    return {"type": "realtime", "object": "realtime.session", "id": sid, "model": model,
            "output_modalities": ["audio"], "instructions": "", "tools": [],
            "tool_choice": "auto", "max_output_tokens": "inf", "tracing": None,
            "prompt": None, "expires_at": expires,
            "audio": {"input": {"format": {"type": "audio/pcm", "rate": 24000},
                                "turn_detection": {"type": "server_vad", "threshold": 0.5}},
                      "output": {"format": {"type": "audio/pcm", "rate": 24000},
                                 "voice": "alloy", "speed": 1.0}}}


async def realtime(request: web.Request) -> web.StreamResponse:
    """`wss://.../v1/realtime?model=...`: auth is checked before the upgrade, as OpenAI does;
    the first event is `session.created` (or an `error` event for an unknown model)."""
    if (denied := await _guard(request)) is not None:
        return denied
    model = request.query.get("model", "")
    state = request.app[OPENAI_STATE]
    ws = web.WebSocketResponse(max_msg_size=1 << 20)
    await ws.prepare(request)
    state["realtime_sessions"] += 1
    if "realtime" not in model or not _known(model):
        await ws.send_json({"type": "error", "event_id": f"event_{uuid.uuid4().hex[:20]}",
                            "error": {"type": "invalid_request_error",
                                      "code": "model_not_found", "param": None,
                                      "message": f"The model '{model}' does not exist or you "
                                                 "do not have access to it.",
                                      "event_id": None}})
        await ws.close()
        return ws
    beta = request.headers.get("OpenAI-Beta", "") == "realtime=v1"
    await ws.send_json({"type": "session.created", "event_id": f"event_{uuid.uuid4().hex[:20]}",
                        "session": _session(model, beta)})
    async for _message in ws:  # whatever a client sends is counted, so tests can see silence
        state["realtime_received"] += 1
    return ws


async def sim_counters(request: web.Request) -> web.Response:
    """Realtime sessions opened and client messages received (tests check a probe's silence)."""
    state = request.app[OPENAI_STATE]
    return json_response({k: state[k] for k in ("realtime_sessions", "realtime_received")})


def create_app(ctx: SimContext) -> web.Application:
    app = make_app("openai", ctx)
    app[OPENAI_STATE] = {"minute": 0, "requests": 0, "tokens": 0, "realtime_sessions": 0,
                         "realtime_received": 0}
    app.router.add_get("/v1/realtime", realtime)
    app.router.add_get("/_sim/openai", sim_counters)
    app.router.add_get("/v1/models", list_models)
    app.router.add_get("/v1/models/{model}", get_model)
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_get("/v1/organization/costs", organization_costs)
    return app
