"""Record a real OpenAI-compatible server's answers: a LiteLLM proxy with `mock_response` models
on loopback, asked what alice-ops's OpenAI probe asks, saved as JSON for `simulator.replay`.

Run from a venv that has LiteLLM (kept outside the project):

    python -m venv /tmp/litellm && /tmp/litellm/bin/pip install 'litellm[proxy]'
    .venv/bin/python -m simulator.record_litellm --litellm /tmp/litellm/bin/litellm

Nothing leaves the machine: every model answers from `mock_response`, the upstream key is a
dummy, and the proxy listens on 127.0.0.1 only. The master key never reaches the files
(it is written as `<master-key>`).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

MASTER_KEY = "sk-litellm-recorder-master-0000"
WRONG_KEY = "sk-litellm-recorder-wrong-9999"
PLACEHOLDER = "<master-key>"
WRONG_PLACEHOLDER = "<wrong-key>"
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "litellm"
DROPPED_HEADERS = {"date", "server", "content-length", "x-litellm-call-id",
                   "x-litellm-response-duration-ms", "x-litellm-overhead-duration-ms"}

CONFIG = """\
model_list:
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_key: dummy-upstream-key,
                     mock_response: "pong"}
  - model_name: o4-mini
    litellm_params: {model: openai/o4-mini, api_key: dummy-upstream-key, mock_response: "pong"}
  - model_name: rate-limited
    litellm_params: {model: openai/gpt-4o-mini, api_key: dummy-upstream-key,
                     mock_response: "litellm.RateLimitError"}
  - model_name: broken
    litellm_params: {model: openai/gpt-4o-mini, api_key: dummy-upstream-key,
                     mock_response: "litellm.InternalServerError"}
litellm_settings:
  telemetry: false
general_settings:
  master_key: %s
"""

PING = [{"role": "user", "content": "ping"}]
# name -> (method, path, key, JSON body or None)
CASES: dict[str, tuple[str, str, str, dict[str, Any] | None]] = {
    "models": ("GET", "/v1/models", MASTER_KEY, None),
    "models_bad_key": ("GET", "/v1/models", WRONG_KEY, None),
    "chat_ok": ("POST", "/v1/chat/completions", MASTER_KEY,
                {"model": "gpt-4o-mini", "messages": PING, "max_completion_tokens": 16}),
    "chat_reasoning": ("POST", "/v1/chat/completions", MASTER_KEY,
                       {"model": "o4-mini", "messages": PING, "max_completion_tokens": 16,
                        "reasoning_effort": "minimal"}),
    "chat_invalid_model": ("POST", "/v1/chat/completions", MASTER_KEY,
                           {"model": "gpt-4o", "messages": PING, "max_completion_tokens": 16}),
    "chat_bad_key": ("POST", "/v1/chat/completions", WRONG_KEY,
                     {"model": "gpt-4o-mini", "messages": PING, "max_completion_tokens": 16}),
    "chat_rate_limited": ("POST", "/v1/chat/completions", MASTER_KEY,
                          {"model": "rate-limited", "messages": PING,
                           "max_completion_tokens": 16}),
    "chat_server_error": ("POST", "/v1/chat/completions", MASTER_KEY,
                          {"model": "broken", "messages": PING, "max_completion_tokens": 16}),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _scrub(text: str) -> str:
    return text.replace(MASTER_KEY, PLACEHOLDER).replace(WRONG_KEY, WRONG_PLACEHOLDER)


def _version(litellm: str) -> str:
    python = Path(litellm).with_name("python")
    out = subprocess.run([str(python), "-c", "import importlib.metadata as m;"
                          "print(m.version('litellm'))"], capture_output=True, text=True,
                         timeout=60)
    return out.stdout.strip() or "unknown"


def _wait_ready(base: str, proc: subprocess.Popen, deadline_s: float) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"record_litellm: the proxy exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/health/liveliness", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)  # a poll interval while the proxy starts, not a wait for a result
    raise SystemExit(f"record_litellm: the proxy did not answer within {deadline_s:g} s")


def record(base: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    with httpx.Client(timeout=30.0) as client:
        for name, (method, path, key, body) in CASES.items():
            response = client.request(method, base + path, json=body,
                                      headers={"Authorization": f"Bearer {key}"})
            try:
                parsed: Any = json.loads(_scrub(response.text))
            except ValueError:
                parsed = _scrub(response.text)
            headers = {k: _scrub(v) for k, v in response.headers.items()
                       if k.lower() not in DROPPED_HEADERS}
            out[name] = {"request": {"method": method, "path": path,
                                     "key": PLACEHOLDER if key == MASTER_KEY else
                                     WRONG_PLACEHOLDER, "body": body},
                         "status": response.status_code, "headers": headers, "body": parsed}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--litellm", default="litellm", help="the litellm proxy executable")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write")
    parser.add_argument("--startup-s", type=float, default=120.0)
    args = parser.parse_args(argv)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "litellm.yaml"
        config.write_text(CONFIG % MASTER_KEY)
        env = {**os.environ, "LITELLM_LOG": "ERROR", "LITELLM_MODE": "PRODUCTION",
               "OPENAI_API_KEY": "dummy-upstream-key"}
        env.pop("DATABASE_URL", None)
        proc = subprocess.Popen([args.litellm, "--config", str(config), "--host", "127.0.0.1",
                                 "--port", str(port), "--num_workers", "1"], env=env,
                                cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_ready(base, proc, args.startup_s)
            cases = record(base)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    args.out.mkdir(parents=True, exist_ok=True)
    meta = {"server": "litellm proxy", "version": _version(args.litellm),
            "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "config": _scrub(CONFIG % MASTER_KEY)}
    (args.out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    for name, case in cases.items():
        (args.out / f"{name}.json").write_text(json.dumps(case, indent=2, sort_keys=True) + "\n")
    print(f"recorded {len(cases)} answers of LiteLLM {meta['version']} into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
