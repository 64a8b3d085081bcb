"""What `check` imports, and when: a plain check never loads the `openai` or `ollama` SDKs
(their liveness calls go through httpx), and every module a probe would load on first use is
loaded before the probe phase starts, so nothing is imported while latencies are timed."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from agent.check import sdks_needed
from agent.config import Config

# A child process (sys.modules of this test process holds whatever other tests imported):
# run the probe phase against the simulator, then report what was imported and when.
CHILD = textwrap.dedent("""
    import asyncio, json, sys
    from agent.check import probe_jobs, run_probes, threshold_rows
    from agent.config import Config
    from simulator.server import run_in_thread

    deep = sys.argv[1] == "deep"
    with run_in_thread(api_key="sk-imports-test-0000") as sim:
        config = Config.model_validate({"targets": {
            "openai": {"base_url": sim.urls["openai"], "api_key": "sk-imports-test-0000",
                       "deep_probe": deep},
            "ollama": {"url": sim.urls["ollama"], "deep_probe": deep, "gpu_check": "off"},
            "gateway": {"url": sim.urls["gateway"]},
            "backend": {"url": sim.urls["backend"]},
            "prometheus": {"url": sim.urls["prometheus"]}}})
        rows = threshold_rows(config)
        probe_jobs(config, rows)  # what run_probes does first: builds the jobs, imports
        before = set(sys.modules)
        results = asyncio.run(run_probes(config, rows))
        during = sorted(set(sys.modules) - before)
    print(json.dumps({"openai": "openai" in sys.modules, "ollama": "ollama" in sys.modules,
                      "during": during,
                      "status": {k: r.status.name for k, r in results.items()},
                      "summary": {k: r.summary for k, r in results.items()}}))
""")


def run_child(mode: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_plain_check_never_imports_the_sdks():
    seen = run_child("plain")
    for name in ("openai", "ollama", "gateway", "backend", "prometheus"):
        assert seen["status"][name] == "OK", seen["summary"][name]
    assert seen["summary"]["openai"].startswith("API reachable, ")
    assert "loaded (fully in VRAM" in seen["summary"]["ollama"]
    assert seen["openai"] is False and seen["ollama"] is False


def test_deep_probes_import_their_sdks_before_the_phase():
    seen = run_child("deep")
    assert "completion ok" in seen["summary"]["openai"], seen["summary"]["openai"]
    assert "generate ok" in seen["summary"]["ollama"], seen["summary"]["ollama"]
    assert seen["openai"] is True and seen["ollama"] is True
    heavy = [m for m in seen["during"]
             if m.split(".")[0] in {"openai", "ollama", "httpcore", "anyio", "h11", "psutil",
                                    "pynvml", "websockets"}]
    assert heavy == [], f"imported while probes were timed: {heavy[:10]}"


@pytest.mark.parametrize(("targets", "needed"), [
    ({"openai": {"api_key": "k"}, "ollama": {}}, []),
    ({"openai": {"api_key": "k", "deep_probe": True}}, ["openai"]),
    ({"openai": {"api_key": "k", "realtime": {"enabled": True}}}, ["openai"]),
    ({"ollama": {"deep_probe": True}}, ["ollama"]),
])
def test_sdks_needed_only_for_deep_probes_and_realtime(targets, needed):
    assert sdks_needed(Config.model_validate({"targets": targets})) == needed
