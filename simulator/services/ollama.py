"""The fake Ollama server: the subset of its API the official `ollama` client uses
(version, tags, ps, show, generate, chat), with durations in nanoseconds like the real one.

Like the real scheduler (ollama `server/sched.go` needsReload), a request whose `num_ctx`
differs from the loaded runner's reloads the model; `/api/ps` reports the runner's
`context_length`. Scenarios: `ollama-reload` (every request reloads), `ollama-queue-full`
(503 "server busy", OLLAMA_MAX_QUEUE exceeded), `ollama-stuck-unloading` (an `expires_at`
long past, the CLI's "Stopping...").
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from aiohttp import web

from simulator.context import SimContext
from simulator.services.base import CTX, json_response, make_app, read_json_object

VERSION = "0.6.0"
EMBED_MODEL = "nomic-embed-text:latest"
REPLY = ("Hej! Jag är Alice, din lokala assistent. Allt fungerar som det ska och jag "
         "svarar gärna på fler frågor om du vill.").split(" ")
NS = 1_000_000_000
DEFAULT_CTX = 8192
COLD_LOAD_NS, RELOAD_NS, WARM_NS = int(3.1 * NS), int(2.4 * NS), 18_000_000
BUSY = "server busy, please try again.  maximum pending requests exceeded"
OLLAMA_STATE = web.AppKey("ollama_state", dict)
KNOWN_DETAILS = {
    "gpt-oss:20b": (13_780_173_839, "gptoss", "20.9B", "MXFP4"),
    EMBED_MODEL: (274_302_450, "nomic-bert", "137M", "F16"),
}


def _full_name(name: str) -> str:
    return name if ":" in name else f"{name}:latest"


def _iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _model_entry(name: str) -> dict[str, Any]:
    digest = hashlib.sha256(name.encode()).hexdigest()
    size, family, params, quant = KNOWN_DETAILS.get(name, (
        4_000_000_000 + int(digest[:6], 16) * 1000, name.split(":")[0].split("/")[-1],
        (re.search(r":(\d+(?:\.\d+)?[bm])", name) or [None, "7b"])[1].upper(), "Q4_K_M"))
    return {"name": name, "model": name, "modified_at": "2025-08-06T09:14:02.512345Z",
            "size": size, "digest": digest,
            "details": {"parent_model": "", "format": "gguf", "family": family,
                        "families": [family], "parameter_size": params,
                        "quantization_level": quant}}


def _available(ctx: SimContext) -> list[str]:
    models = [] if ctx.state.scenario == "model-missing" else [_full_name(ctx.model)]
    return models + ([EMBED_MODEL] if _full_name(ctx.model) != EMBED_MODEL else [])


def _not_found(model: str) -> web.Response:
    return json_response({"error": f"model '{model}' not found"}, 404)


async def root(request: web.Request) -> web.Response:
    return web.Response(text="Ollama is running")


async def version(request: web.Request) -> web.Response:
    return json_response({"version": VERSION})


async def tags(request: web.Request) -> web.Response:
    return json_response({"models": [_model_entry(m) for m in _available(request.app[CTX])]})


async def ps(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    loaded = [m for m in _available(ctx) if m == _full_name(ctx.model) and ctx.state.model_loaded]
    share = 0.6 if ctx.state.scenario == "local-ai-degraded" else 1.0
    stuck = ctx.state.scenario == "ollama-stuck-unloading"
    expires = _iso(datetime.now(timezone.utc) + timedelta(minutes=-10 if stuck else 5))
    models = []
    for name in loaded:
        entry = _model_entry(name)
        del entry["modified_at"]
        entry.update(expires_at=expires, size_vram=int(entry["size"] * share),
                     context_length=request.app[OLLAMA_STATE]["num_ctx"])
        models.append(entry)
    return json_response({"models": models})


async def show(request: web.Request) -> web.Response:
    body = await read_json_object(request) or {}
    name = str(body.get("model") or body.get("name") or "")
    if _full_name(name) not in _available(request.app[CTX]):
        return _not_found(name)
    entry = _model_entry(_full_name(name))
    return json_response({"modified_at": entry["modified_at"], "details": entry["details"],
                          "model_info": {"general.parameter_count": 20_914_757_184},
                          "parameters": "temperature 1", "template": "{{ .Prompt }}",
                          "capabilities": ["completion"]})


async def _generation(request: web.Request, chat: bool) -> web.StreamResponse:
    ctx = request.app[CTX]
    body = await read_json_object(request)
    if body is None:
        return json_response({"error": "invalid request body"}, 400)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return json_response({"error": "model is required"}, 400)
    if ctx.state.scenario == "model-missing":
        ctx.state.model_loaded = False
    if _full_name(model) not in _available(ctx):
        return _not_found(model)
    if ctx.state.scenario == "ollama-queue-full":
        return json_response({"error": BUSY}, 503)
    degraded = ctx.state.scenario == "local-ai-degraded"
    if chat:
        messages = body.get("messages") or []
        prompt = " ".join(str(m.get("content") or "") for m in messages if isinstance(m, dict))
    else:
        prompt = str(body.get("prompt") or "")
    options = body.get("options") if isinstance(body.get("options"), dict) else {}
    limit = options.get("num_predict")
    load_only = not prompt and not chat
    tokens = [] if load_only else REPLY
    if isinstance(limit, int) and limit >= 0:
        tokens = tokens[:limit]
    reason = "load" if load_only else ("length" if len(tokens) < len(REPLY) else "stop")
    prompt_count = 0 if load_only else len(prompt.split()) * 4 // 3 + 12
    rate = (1.5, 30.0) if degraded else (40.0, 400.0)  # tokens/s: generation, prompt
    load_ns = _load_ns(request, options)
    eval_ns = int(len(tokens) / rate[0] * NS)
    prompt_ns = int(prompt_count / rate[1] * NS)
    await ctx.state.pause(0.3 if degraded else 0.02)
    stats = {"done": True, "done_reason": reason,
             "total_duration": load_ns + prompt_ns + eval_ns + 4_000_000,
             "load_duration": load_ns, "prompt_eval_count": prompt_count,
             "prompt_eval_duration": prompt_ns, "eval_count": len(tokens),
             "eval_duration": eval_ns}
    text = " ".join(tokens)
    head = {"model": model, "created_at": _iso(datetime.now(timezone.utc))}
    content = ({"message": {"role": "assistant", "content": text}} if chat
               else {"response": text})
    if body.get("stream", True) is False:
        return json_response({**head, **content, **stats})
    response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
    await response.prepare(request)
    empty = {"message": {"role": "assistant", "content": ""}} if chat else {"response": ""}
    if text:
        await response.write(json.dumps({**head, **content, "done": False}).encode() + b"\n")
    await response.write(json.dumps({**head, **empty, **stats}).encode() + b"\n")
    await response.write_eof()
    return response


def _load_ns(request: web.Request, options: dict[str, Any]) -> int:
    """The load a request causes: cold, a reload for a different num_ctx (or under
    `ollama-reload`), else the warm runner's few milliseconds."""
    ctx, runner = request.app[CTX], request.app[OLLAMA_STATE]
    wanted = options.get("num_ctx")
    wanted = wanted if isinstance(wanted, int) and wanted > 0 else DEFAULT_CTX
    if not ctx.state.model_loaded:
        load_ns = COLD_LOAD_NS
    elif wanted != runner["num_ctx"] or ctx.state.scenario in ("ollama-reload",
                                                                "ollama-stuck-unloading"):
        load_ns = RELOAD_NS
    else:
        return WARM_NS
    ctx.state.model_loaded = True
    runner["num_ctx"] = wanted
    runner["loads"] += 1
    return load_ns


async def generate(request: web.Request) -> web.StreamResponse:
    return await _generation(request, chat=False)


async def chat(request: web.Request) -> web.StreamResponse:
    return await _generation(request, chat=True)


def create_app(ctx: SimContext) -> web.Application:
    app = make_app("ollama", ctx)
    app[OLLAMA_STATE] = {"num_ctx": DEFAULT_CTX, "loads": 0}
    ctx.state.model_loaded = True  # a running Alice keeps its model warm
    app.router.add_get("/", root)
    app.router.add_get("/api/version", version)
    app.router.add_get("/api/tags", tags)
    app.router.add_get("/api/ps", ps)
    app.router.add_post("/api/show", show)
    app.router.add_post("/api/generate", generate)
    app.router.add_post("/api/chat", chat)
    return app

