"""The simulator's `alice-main` profile serves what the recordings of the real Alice main
backend say (tests/data/alice_main/), and the default `guide` profile is unchanged."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from agent.config import parse_config
from simulator.context import SimContext
from simulator.history import History
from simulator.metrics import COUNTERS, GAUGES, HISTOGRAMS, MetricStore
from simulator.profiles import replay
from simulator.profiles.alice_main import RecordingMissing, parse_exposition, recording
from simulator.profiles.recording import DYNAMIC_KEYS, load
from simulator.server import SimPorts, Simulator, run_in_thread
from simulator.services.base import make_app
from simulator.state import SimState

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "alice_main"
REC = load(DATA)
COMMIT = "8a7c9b9dcd6f7a85ad550e3d7c371874a3012023"
# the guide's series as Prometheus lists them (histograms by their _bucket/_sum/_count)
GUIDE_NAMES = {*(f"{h}{suffix}" for h in HISTOGRAMS for suffix in ("_bucket", "_sum", "_count")),
               *COUNTERS, *GAUGES}


def strip(value: Any) -> Any:
    """`value` without its dynamic (timestamp) fields, which the replay refreshes."""
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in DYNAMIC_KEYS}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


def frame(text: str) -> Any:
    try:
        return strip(json.loads(text))
    except ValueError:
        return text


@pytest.fixture
async def alice():
    async with Simulator(profile="alice-main", ports=SimPorts(), seed=7) as sim:
        yield sim


@pytest.fixture
async def http():
    async with httpx.AsyncClient(timeout=5.0, follow_redirects=False) as client:
        yield client


def test_recordings_name_the_alice_commit_and_hold_no_secret():
    assert REC.meta["alice_commit"] == COMMIT and REC.meta["alice_branch"] == "main"
    assert COMMIT in (DATA / "README.md").read_text()
    text = "".join(p.read_text() for p in DATA.rglob("*.json"))
    assert not re.search(r"sk-[A-Za-z0-9]{8,}|Bearer [A-Za-z0-9]{8,}", text)
    assert sum(p.stat().st_size for p in DATA.rglob("*") if p.is_file()) < 400_000


async def test_every_recorded_backend_answer_is_served(alice, http):
    backend = alice.urls["backend"]
    assert len(REC.services["backend"]) > 40
    for ex in REC.services["backend"]:
        r = await http.request(ex.method, backend + ex.path,
                               json=ex.request_body if ex.request_body is not None else None)
        assert r.status_code == ex.status, ex.name
        assert r.headers.get("content-type") == ex.headers.get("content-type"), ex.name
        if ex.body_json is not None:
            assert strip(r.json()) == strip(ex.body_json), ex.name
        else:
            assert r.text == ex.body_text, ex.name


async def test_health_is_alices_shape_with_a_fresh_timestamp(alice, http):
    r = await http.get(alice.urls["backend"] + "/api/health")
    body = r.json()
    assert body["status"] == "ok" and body["database"] == {"status": "ok", "ping": True}
    assert set(body["services"]) == {"ollama", "tts", "stt"}
    assert body["timestamp"].endswith("Z")
    recorded = REC.find("backend", "GET", "/api/health").body_json["timestamp"]
    assert body["timestamp"] > recorded  # refreshed, in the recorded ISO-with-Z format
    for path in ("/health", "/healthz", "/status", "/api/v1/health"):
        assert (await http.get(alice.urls["backend"] + path)).status_code == 404


async def test_unknown_path_404_and_wrong_method_405_as_fastapi(alice, http):
    backend = alice.urls["backend"]
    r = await http.get(backend + "/api/never-recorded/x")
    assert (r.status_code, r.json()) == (404, {"detail": "Not Found"})
    assert r.headers["content-type"] == "application/json"
    r = await http.put(backend + "/api/health")
    assert (r.status_code, r.json()) == (405, {"detail": "Method Not Allowed"})
    assert r.headers["allow"] == "GET"
    r = await http.get(backend + "/api/memory/upsert")  # a POST-only route never GET
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    r = await http.post(backend + "/api/tts/synthesize", json={"text": "hej"})
    assert r.status_code == 501 and "not recorded" in r.json()["detail"]
    for path in ("/api/admin/config", "/api/admin/set-mode", "/api/admin/broadcast"):
        assert (await http.post(backend + path, json={})).status_code == 404


async def test_a_request_the_real_server_dropped_is_dropped(tmp_path):
    from aiohttp.test_utils import TestServer

    (tmp_path / "meta.json").write_text(json.dumps({"services": {"backend": "http.json"}}))
    (tmp_path / "http.json").write_text(json.dumps({"exchanges": [], "failed": [
        {"method": "GET", "path": "/boom", "error": "ReadError"}]}))
    ctx = SimContext(SimState(), MetricStore(), History(MetricStore(), time.time()),
                     random.Random(1), "k", "k", "m")
    app = replay.create_app(make_app("backend", ctx), load(tmp_path), "backend")
    async with TestServer(app) as server, httpx.AsyncClient(timeout=5) as client:
        with pytest.raises(httpx.TransportError):
            await client.get(str(server.make_url("/boom")))
        r = await client.get(str(server.make_url("/other")))
        assert (r.status_code, r.json()) == (404, {"detail": "Not Found"})


async def test_websockets_replay_every_recorded_session(alice):
    base = alice.urls["backend"].replace("http://", "ws://", 1)
    for session in REC.websockets:
        url = base + session["path"]
        if not session["accepted"]:
            with pytest.raises(InvalidStatus) as refused:
                async with connect(url, open_timeout=3):
                    pass
            assert refused.value.response.status_code == session["http_status"]
            continue
        got: list[tuple[str, Any]] = []
        async with connect(url, open_timeout=3, ping_interval=None) as ws:
            expected = [(f["dir"], frame(f["text"])) for f in session["frames"]]
            for direction, text in [(f["dir"], f["text"]) for f in session["frames"]]:
                if direction == "out":
                    await ws.send(text)
                    got.append(("out", frame(text)))
                else:
                    got.append(("in", frame(await asyncio.wait_for(ws.recv(), 3))))
            assert got == expected, session["path"]


async def test_ws_alice_ping_pong_and_refused_voice_paths(alice):
    base = alice.urls["backend"].replace("http://", "ws://", 1)
    async with connect(base + "/ws/alice", open_timeout=3) as ws:
        assert json.loads(await ws.recv())["type"] == "hello"
        await ws.send('{"type": "ping"}')  # other spacing than recorded: matched by type
        pong = json.loads(await asyncio.wait_for(ws.recv(), 3))
        assert pong["type"] == "pong" and pong["ts"].endswith("Z")
    for path in ("/ws/voice/s1", "/ws/voice-gateway/s1", "/ws/never"):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(base + path, open_timeout=3):
                pass
        assert refused.value.response.status_code == 403


async def test_prometheus_has_alices_series_not_the_guides(alice, http):
    metrics = REC.find("backend", "GET", "/metrics").body_text
    recorded = {name for name, _, _ in parse_exposition(metrics)}
    assert recorded and all(n.startswith("alice_b3_") for n in recorded)
    prom = alice.urls["prometheus"]
    names = (await http.get(prom + "/api/v1/label/__name__/values")).json()["data"]
    assert set(names) == recorded | {"up"}
    assert not GUIDE_NAMES & set(names)
    for query in ("intent_routing_latency_ms_bucket", "rate(fast_path_requests_total[5m])"):
        r = (await http.get(prom + "/api/v1/query", params={"query": query})).json()
        assert r == {"status": "success", "data": {"resultType": "vector", "result": []}}
    r = (await http.get(prom + "/api/v1/query",
                        params={"query": "alice_b3_healthy"})).json()["data"]["result"]
    assert {s["metric"]["component"]: s["value"][1] for s in r} == {
        labels["component"]: f"{value:g}" for name, labels, value in parse_exposition(metrics)
        if name == "alice_b3_healthy"}
    up = (await http.get(prom + "/api/v1/query", params={"query": "up"})).json()
    jobs = {s["metric"]["job"]: s["value"][1] for s in up["data"]["result"]}
    assert jobs["alice-backend"] == "1" and "alice-voice-gateway" not in jobs


async def test_database_error_scenario_serves_the_recorded_health(alice, http):
    backend = alice.urls["backend"]
    r = await http.post(backend + "/_sim/scenario", json={"scenario": "database-error"})
    assert r.status_code == 200 and r.json()["scenario"] == "database-error"
    body = (await http.get(backend + "/api/health")).json()
    recorded = REC.find("backend", "GET", "/api/health", scenario="database-error")
    assert strip(body) == strip(recorded.body_json)
    assert body["status"] == "ok" and body["database"] == {"status": "error", "ping": False}
    assert (await http.get(backend + "/api/tools/stats")).status_code == 500
    assert (await http.get(backend + "/api/probe/health")).status_code == 200  # unchanged
    await http.post(backend + "/_sim/scenario", json={"scenario": "normal"})
    assert (await http.get(backend + "/api/health")).json()["database"]["status"] == "ok"
    r = await http.post(backend + "/_sim/scenario", json={"scenario": "gateway-down"})
    assert r.status_code == 400 and "database-error" in r.json()["error"]


async def test_nlu_agent_answers_gold_texts_and_unknown_ones(alice, http):
    nlu = alice.urls["nlu"] + "/nlu/classify"
    for ex in REC.services["nlu_agent"]:
        if ex.path == "/nlu/classify" and ex.method == "POST":
            assert (await http.post(nlu, json=ex.request_body)).json() == ex.body_json
    r = await http.post(nlu, json={"text": "a text no recording has"})
    assert r.json() == {"ok": True, "intent": None, "score": 0}
    r = await http.get(alice.urls["nlu"] + "/nlu/classify")  # Express: 404, no 405
    assert r.status_code == 404 and "Cannot GET /nlu/classify" in r.text


async def test_guide_profile_is_unchanged(http):
    async with Simulator(ports=SimPorts(), seed=7) as sim:
        assert sim.profile == "guide" and set(sim.urls) == {
            "backend", "gateway", "ollama", "openai", "prometheus"}
        assert (await http.get(sim.urls["backend"] + "/api/health")).json() == {
            "status": "healthy"}
        names = (await http.get(sim.urls["prometheus"] + "/api/v1/label/__name__/values")
                 ).json()["data"]
        assert GUIDE_NAMES <= set(names) and not any(n.startswith("alice_b3") for n in names)
        r = await http.post(sim.urls["backend"] + "/_sim/scenario",
                            json={"scenario": "database-error"})
        assert r.status_code == 400


def test_bad_profile_and_missing_recording_are_one_line(tmp_path):
    with pytest.raises(ValueError, match="unknown profile 'nope'; valid: guide, alice-main"):
        Simulator(profile="nope")
    with pytest.raises(RecordingMissing, match=str(tmp_path)):
        recording(tmp_path)


def test_recorder_round_trip_against_the_profile(tmp_path):
    with run_in_thread(profile="alice-main") as sim:
        out = tmp_path / "rec"
        code = subprocess.run(
            [sys.executable, "-m", "simulator.record", "--base", sim.urls["backend"],
             "--out", str(out), "--only", "health,errors,admin,metrics",
             "--alice-commit", COMMIT], cwd=REPO, capture_output=True, text=True, timeout=60)
        assert code.returncode == 0, code.stderr
    again = load(out)
    assert again.meta["alice_commit"] == COMMIT
    for ex in again.services["backend"]:
        original = REC.find("backend", ex.method, ex.path)
        assert original is not None and ex.status == original.status, ex.name
        assert strip(ex.body_json) == strip(original.body_json), ex.name


def test_cli_banner_names_the_profile_and_no_gateway():
    args = ["--profile", "alice-main", "--backend-port", "0", "--nlu-port", "0",
            "--ollama-port", "0", "--openai-port", "0", "--prometheus-port", "0"]
    code = f"import sys; from simulator.cli import main; sys.exit(main({args!r}))"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        try:
            lines: list[str] = []
            deadline = time.monotonic() + 15
            while not lines or not lines[-1].startswith("Press Ctrl+C"):
                assert time.monotonic() < deadline and proc.poll() is None, lines
                lines.append(proc.stdout.readline().rstrip("\n"))
            banner = "\n".join(lines)
            assert "profile: alice-main" in banner and COMMIT[:12] in banner
            assert "no separate voice gateway" in banner
            assert not any(line.startswith("  gateway ") for line in lines)
            backend = re.search(r"^  backend +(http://\S+)", banner, re.M).group(1)
            assert httpx.get(backend + "/api/health", timeout=5).json()["status"] == "ok"
            snippet = banner[banner.index("targets:"):banner.index("Press Ctrl+C")]
            config = parse_config(snippet, "<banner>", {"ALICE_SIM_API_KEY": "sk-x-1",
                                                        "ALICE_SIM_ADMIN_KEY": "sk-x-2"})
            assert config.targets.gateway.url == backend
            assert config.targets.gateway.websocket.path == "/ws/alice"
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.mark.parametrize("scenario,backend", [("normal", "ok"), ("database-error", "critical")])
async def test_check_demo_config_fits_the_profile(scenario, backend):
    from agent.check import check
    from agent.demo import demo_stack

    async with demo_stack(scenario, profile="alice-main") as (sim, config):
        assert config.targets.gateway.url == sim.urls["backend"]  # no gateway of its own
        report = (await check(config)).to_json()
    status = {c["name"]: c for c in report["components"]}
    assert status["backend"]["status"] == backend
    assert status["gateway"]["status"] == "ok"  # the ping/pong on /ws/alice
    if backend == "critical":
        assert "database.status" in status["backend"]["summary"]
