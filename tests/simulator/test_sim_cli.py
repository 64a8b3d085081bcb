"""`alice-ops sim` (simulator.cli.main): banner, clean SIGTERM exit, busy ports."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from simulator.cli import main

REPO = Path(__file__).resolve().parents[2]
FREE_PORTS = ["--backend-port", "0", "--gateway-port", "0", "--ollama-port", "0",
              "--openai-port", "0", "--prometheus-port", "0"]
SECRET = "sk-sim-secret-from-env-1234"
URL_LINE = re.compile(r"^  (backend|gateway|ollama|openai|prometheus) +(http://\S+)")


def test_runs_prints_urls_and_exits_cleanly_on_sigterm():
    code = f"import sys; from simulator.cli import main; sys.exit(main({FREE_PORTS!r}))"
    env = {**os.environ, "ALICE_SIM_API_KEY": SECRET, "PYTHONPATH": str(REPO)}
    with subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        try:
            lines = []
            deadline = time.monotonic() + 15
            while not lines or not lines[-1].startswith("Press Ctrl+C"):
                assert time.monotonic() < deadline and proc.poll() is None, lines
                lines.append(proc.stdout.readline().rstrip("\n"))
            banner = "\n".join(lines)
            urls = dict(m.groups() for m in map(URL_LINE.match, lines) if m)
            assert set(urls) == {"backend", "gateway", "ollama", "openai", "prometheus"}
            assert urls["openai"].endswith("/v1")
            assert "targets:" in banner and 'api_key: "${ALICE_SIM_API_KEY}"' in banner
            assert SECRET not in banner
            health = httpx.get(urls["backend"] + "/api/health", timeout=5)
            assert health.json() == {"status": "healthy"}
            models = httpx.get(urls["openai"] + "/models", timeout=5,
                               headers={"Authorization": f"Bearer {SECRET}"})
            assert models.status_code == 200
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
            assert proc.stderr.read() == ""
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_busy_port_is_one_line_and_exit_2(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        args = FREE_PORTS[2:] + ["--backend-port", str(port)]
        assert main(args) == 2
    err = capsys.readouterr().err
    assert err == f"alice-ops sim: cannot bind backend port {port}: address in use\n"


def test_busy_later_port_frees_the_earlier_ones(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        args = FREE_PORTS[:8] + ["--prometheus-port", str(port)]
        assert main(args) == 2
    assert f"cannot bind prometheus port {port}" in capsys.readouterr().err


async def test_the_banner_says_how_to_reach_it():
    """Ports, the keys it accepts (the built-in demo keys printed, given ones never), and
    the admin endpoints the playbooks change."""
    from simulator.cli import DEMO_ADMIN_KEY, DEMO_API_KEY, describe
    from simulator.server import SimPorts, Simulator

    sim = Simulator(ports=SimPorts(), api_key=SECRET)
    await sim.start()
    try:
        demo, given = describe(sim, "demo"), describe(sim, "given")
        backend = sim.urls["backend"]
    finally:
        await sim.stop()
    assert f"ALICE_SIM_API_KEY={DEMO_API_KEY}" in demo and DEMO_ADMIN_KEY in demo
    assert f"{backend}/api/admin/mode" in demo and "/api/admin/set-mode" in demo
    assert SECRET not in given and DEMO_API_KEY not in given and "not shown" in given
