"""`report` (scripts/bench): ONE table of issue 15's figures, each line our figure, the peer's
measured in the same run, their ratio, and the load average when the line was taken.

Lines (medians; n in the line):
- check, whole process, at 0 ms and at 200 ms per request: `alice-ops check --json` against
  the guide's `health_check.sh` (simulator/bench/health_check.sh), both against the same
  independent double (simulator/bench/double.py), runs interleaved (ours, theirs, ours...).
- check's reported latencies, cold against warm: the first probe phase of a fresh process
  against the next one in it (max |difference| over the components, double at 200 ms).
- `check --agent URL` (answered by a running agent), when this build has the flag.
- agent CPU and peak RSS at the 5 s interval beside Glances (headless, 5 s refresh) and
  prometheus-node-exporter (scraped every 5 s), all three sampled in the same window.
  A peer that is not installed is said ("peer not installed"), never a failure.
- time to detect an OpenAI outage (simulator/bench/detect.py), median of n, and the max.
- alice-tui's start-up to the full overview (tui/bench.py startup), --demo as the user waits
  (simulator included) and --attach, cold and warm; no peer.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from simulator.bench.common import SIM_KEY, machine
from simulator.bench.procs import Child

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
DOUBLE_KEY = "sk-double-bench-key-0000"


def _peer(env: str, *names: str) -> Path | None:
    """A peer's executable: $env, else the first of `names` on PATH; None: not installed."""
    given = os.environ.get(env)
    if given:
        return Path(given) if Path(given).exists() else None
    found = next((shutil.which(n) for n in names if shutil.which(n)), None)
    return Path(found) if found else None


GLANCES = _peer("BENCH_GLANCES", "glances")
NODE_EXPORTER = _peer("BENCH_NODE_EXPORTER", "prometheus-node-exporter", "node_exporter")


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


@dataclass
class Line:
    what: str
    ours: str
    peer: str
    ratio: str
    load: str
    target: str = ""

    def text(self) -> str:
        tail = f"  [{self.target}]" if self.target else ""
        return (f"| {self.what} | {self.ours} | {self.peer} | {self.ratio} | {self.load} |"
                f"{tail}")


def _median(xs: list[float]) -> float:
    return statistics.median(xs)


def _ratio(ours: float, peer: float) -> str:
    return f"{ours / peer:.2f}x" if peer > 0 else "n/a"


# -- the double and the two check peers ----------------------------------------------------

def start_double() -> tuple[Child, str]:
    child = Child("double", [sys.executable, "-m", "simulator.bench.double", "--key",
                             DOUBLE_KEY], {**os.environ, "PYTHONUNBUFFERED": "1"},
                  ready=r"double listening on (http://[0-9.]+:\d+)")
    assert child.match is not None
    return child, child.match.group(1)


def set_latency(url: str, ms: float) -> None:
    import httpx

    httpx.post(f"{url}/_double/latency", json={"ms": ms}, timeout=5, trust_env=False) \
        .raise_for_status()


def check_config(url: str) -> str:
    return (f"targets:\n"
            f"  openai: {{base_url: \"{url}/v1\", api_key: \"${{BENCH_OPENAI_KEY}}\"}}\n"
            f"  ollama: {{url: \"{url}\", gpu_check: \"off\"}}\n"
            f"  gateway: {{url: \"{url}\"}}\n"
            f"  backend: {{url: \"{url}\"}}\n"
            f"  prometheus: {{url: \"{url}\"}}\n")


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False,
                          timeout=60)
    return time.perf_counter() - started, proc


def interleaved(ours: Callable[[], float], peer: Callable[[], float], n: int
                ) -> tuple[list[float], list[float]]:
    a: list[float] = []
    b: list[float] = []
    for i in range(n):
        first, second = (ours, peer) if i % 2 == 0 else (peer, ours)
        x, y = first(), second()
        a.append(x if first is ours else y)
        b.append(y if first is ours else x)
    return a, b


def bench_check_lines(n: int) -> list[Line]:
    lines: list[Line] = []
    double, url = start_double()
    tmp = Path(tempfile.mkdtemp(prefix="alice-bench-check-"))
    try:
        config = tmp / "alice-ops.yaml"
        config.write_text(check_config(url))
        env = {**os.environ, "BENCH_OPENAI_KEY": DOUBLE_KEY, "OPENAI_API_KEY": DOUBLE_KEY,
               "OPENAI_BASE_URL": f"{url}/v1", "OLLAMA_URL": url, "GATEWAY_URL": url,
               "BACKEND_URL": url, "PROMETHEUS_URL": url}
        ours_argv = [str(BIN / "alice-ops"), "check", "--json", "-c", str(config)]
        peer_argv = ["bash", str(HERE / "health_check.sh")]
        peer_ok = shutil.which("curl") is not None and shutil.which("jq") is not None

        def ours() -> float:
            took, proc = _timed(ours_argv, env)
            if proc.returncode not in (0, 1, 2) or not proc.stdout.startswith("{"):
                raise SystemExit(f"bench: check failed ({proc.returncode}): "
                                 f"{proc.stderr.strip()[-500:]}")
            return took

        def peer() -> float:
            took, proc = _timed(peer_argv, env)
            if "Connected" not in proc.stdout:
                raise SystemExit(f"bench: health_check.sh did not reach the double:\n"
                                 f"{proc.stdout[-800:]}{proc.stderr[-400:]}")
            return took

        ours()  # the bytecode cache, as after any first run
        for ms, target in ((0, "ours <= 0.5 s"), (200, "ratio <= 0.4")):
            set_latency(url, ms)
            load = loadavg()
            if peer_ok:
                a, b = interleaved(ours, peer, n)
                lines.append(Line(f"check --json, whole process, {ms} ms per request",
                                  f"{_median(a):.3f} s (n={n})",
                                  f"health_check.sh {_median(b):.3f} s (n={n})",
                                  _ratio(_median(a), _median(b)), load, target))
            else:
                a = [ours() for _ in range(n)]
                lines.append(Line(f"check --json, whole process, {ms} ms per request",
                                  f"{_median(a):.3f} s (n={n})",
                                  "peer not installed (curl, jq)", "n/a", load, target))
        lines.append(_cold_warm_line(config, env, url, n))
        lines.append(_agent_answer_line(config, env, tmp, n))
    finally:
        double.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return lines


COLD_WARM = """
import asyncio, json, sys
from pathlib import Path
from agent.check import run_probes, threshold_rows
from agent.config import load_config
config = load_config(Path(sys.argv[1]))
rows = threshold_rows(config)
phases = []
for _ in range(2):
    results = asyncio.run(run_probes(config, rows))
    phases.append({k: r.latency_ms for k, r in results.items() if r.latency_ms is not None})
print(json.dumps(phases))
"""


def _cold_warm_line(config: Path, env: dict[str, str], url: str, n: int) -> Line:
    """The first probe phase of a fresh process against the second, at 200 ms per request:
    what `check` reports the first time against what it reports once all is loaded."""
    set_latency(url, 200)
    load = loadavg()
    diffs: dict[str, list[float]] = {}
    for _ in range(n):
        out = subprocess.run([sys.executable, "-c", COLD_WARM, str(config)], env=env,
                             capture_output=True, text=True, check=True, timeout=60)
        cold, warm = json.loads(out.stdout.strip().splitlines()[-1])
        for k in cold.keys() & warm.keys():
            diffs.setdefault(k, []).append(cold[k] - warm[k])
    set_latency(url, 0)
    medians = {k: _median(v) for k, v in diffs.items()}
    worst = max(medians, key=lambda k: abs(medians[k]))
    spread = max(abs(d) for v in diffs.values() for d in v)
    return Line("check reported latency, cold - warm (200 ms; per component median of n, "
                "the largest)", f"{medians[worst]:+.1f} ms ({worst}; n={n}, largest single "
                f"{spread:.1f})", "no peer", "n/a", load, "within +-5 ms")


def _agent_answer_line(config: Path, env: dict[str, str], tmp: Path, n: int) -> Line:
    """`alice-ops check --agent URL`: the verdict of a running agent (no probing)."""
    helptext = subprocess.run([str(BIN / "alice-ops"), "check", "--help"], env=env,
                              capture_output=True, text=True, check=False).stdout
    if "--agent" not in helptext:
        return Line("check --agent URL, whole process", "not in this build", "no peer", "n/a",
                    loadavg(), "<= 0.15 s")
    from simulator.bench.procs import start_agent, wait_for_first_snapshot

    agent, api = start_agent(config, tmp / "state.db", {**env, "PYTHONUNBUFFERED": "1"})
    try:
        class _S:  # what wait_for_first_snapshot reads
            def __init__(self) -> None:
                import httpx

                self.http = httpx.Client(timeout=10.0, trust_env=False)

            def snapshot(self) -> dict:
                r = self.http.get(f"{api}/api/v1/snapshot")
                r.raise_for_status()
                return r.json()

        wait_for_first_snapshot(_S())  # type: ignore[arg-type]
        argv = [str(BIN / "alice-ops"), "check", "--json", "--agent", api]
        _timed(argv, env)
        load = loadavg()
        took = []
        for _ in range(n):
            t, proc = _timed(argv, env)
            if not proc.stdout.startswith("{"):
                raise SystemExit(f"bench: check --agent failed: {proc.stderr.strip()[-400:]}")
            took.append(t)
    finally:
        agent.stop()
    return Line("check --agent URL, whole process", f"{_median(took):.3f} s (n={n})",
                "no peer", "n/a", load, "<= 0.15 s")


# -- the agent beside Glances and node_exporter --------------------------------------------

def bench_agent_lines(duration_s: float, warmup_s: float) -> list[Line]:
    import httpx
    import psutil

    from simulator.bench.procs import agent_config, stack, wait_for_first_snapshot
    from simulator.bench.sampling import Sampler

    peers: dict[str, subprocess.Popen | None] = {"glances": None, "node_exporter": None}
    notes: dict[str, str] = {}
    with stack(lambda urls: agent_config(urls)) as s:
        wait_for_first_snapshot(s)
        node_url = None
        try:
            if GLANCES is not None:
                peers["glances"] = _spawn([str(GLANCES), "--quiet", "-t", "5"])
            else:
                notes["glances"] = "peer not installed (glances; set BENCH_GLANCES)"
            if NODE_EXPORTER is not None:
                port = _free_port()
                peers["node_exporter"] = _spawn(
                    [str(NODE_EXPORTER), f"--web.listen-address=127.0.0.1:{port}"])
                node_url = f"http://127.0.0.1:{port}/metrics"
            else:
                notes["node_exporter"] = "peer not installed (prometheus-node-exporter)"
            time.sleep(warmup_s)
            load = loadavg()
            samplers = {"agent": Sampler(s.agent.ps)}
            samplers.update({k: Sampler(psutil.Process(c.pid)) for k, c in peers.items()
                             if c is not None and c.poll() is None})
            for name, child in peers.items():
                if child is not None and name not in samplers:
                    notes[name] = f"peer exited at start ({child.returncode})"
            for sampler in samplers.values():
                sampler.__enter__()
            end = time.monotonic() + duration_s
            with httpx.Client(timeout=5, trust_env=False) as http:
                while time.monotonic() < end:  # Prometheus's part: scrape both every 5 s
                    started = time.monotonic()
                    http.get(f"{s.api}/metrics")
                    if node_url and "node_exporter" in samplers:
                        http.get(node_url)
                    time.sleep(max(0.0, 5.0 - (time.monotonic() - started)))
            for sampler in samplers.values():
                sampler.__exit__(None, None, None)
            load = f"{load} .. {loadavg()}"
        finally:
            for child in peers.values():
                if child is not None and child.poll() is None:
                    child.terminate()
                    try:
                        child.wait(10)
                    except subprocess.TimeoutExpired:
                        child.kill()
    ours = samplers["agent"]
    lines = []
    for name, title in (("glances", "Glances --quiet -t 5"),
                        ("node_exporter", "prometheus-node-exporter, scraped every 5 s")):
        peer = samplers.get(name)
        what = f"agent at 5 s interval beside {name}, {duration_s:g} s"
        if peer is None or not peer.rss:
            lines.append(Line(what + ": CPU", f"{ours.cpu_percent:.2f} % of a core",
                              notes[name], "n/a", load))
            continue
        lines.append(Line(what + ": mean CPU", f"{ours.cpu_percent:.2f} % of a core",
                          f"{title} {peer.cpu_percent:.2f} %",
                          _ratio(ours.cpu_percent, peer.cpu_percent), load,
                          "<= 1.0x Glances" if name == "glances" else ""))
        lines.append(Line(what + ": peak RSS", f"{ours.peak_mb:.1f} MB",
                          f"{title} {peer.peak_mb:.1f} MB",
                          _ratio(ours.peak_mb, peer.peak_mb), load,
                          "<= 45 MB and <= 1.3x Glances" if name == "glances" else ""))
    return lines


def _spawn(argv: list[str]) -> subprocess.Popen:
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- time to detect ------------------------------------------------------------------------

def bench_detect_line(trials: int) -> Line:
    from simulator.bench.detect import run_detect

    load = loadavg()
    detected, failures = run_detect(trials, "openai-outage", "openai_health", 30.0, 1,
                                    verbose=False)
    if not detected:
        return Line("time to detect an OpenAI outage (interval 5 s)", "never detected",
                    "no peer", "n/a", load, "<= 5.5 s")
    return Line("time to detect an OpenAI outage (interval 5 s)",
                f"median {_median(detected):.2f} s, max {max(detected):.2f} s "
                f"(n={len(detected)}, {failures} missed)", "no peer", "n/a",
                f"{load} .. {loadavg()}", "<= interval + 0.5 s = 5.5 s")


# -- the dashboard's start-up (tui.bench measures; this reads its medians) -----------------

_TUI_LINE = re.compile(r"^\s+(demo|attach)\s+(cold|warm): median ([0-9.]+) s")
TUI_TARGETS = {("demo", "cold"): 1.0, ("demo", "warm"): 1.0, ("attach", "cold"): 0.6,
               ("attach", "warm"): 0.3}


def bench_tui_lines(n: int) -> list[Line]:
    """`python -m tui.bench startup`: spawn to the first full overview paint, as the user
    waits (--demo with its simulator), page cache left alone; no peer measures this."""
    load = loadavg()
    proc = subprocess.run([sys.executable, "-m", "tui.bench", "startup", "--runs", str(n)],
                          capture_output=True, text=True, check=False, timeout=1200)
    found = {(m.group(1), m.group(2)): float(m.group(3))
             for m in map(_TUI_LINE.match, proc.stdout.splitlines()) if m}
    if proc.returncode != 0 or len(found) != len(TUI_TARGETS):
        raise SystemExit(f"bench: tui.bench startup gave no medians ({proc.returncode}):\n"
                         f"{(proc.stdout + proc.stderr)[-1500:]}")
    load = f"{load} .. {loadavg()}"
    return [Line(f"alice-tui --{mode} to the full overview, {kind}"
                 + (" (simulator included)" if mode == "demo" else ""),
                 f"{found[(mode, kind)]:.3f} s (n={n})", "no peer", "n/a", load,
                 f"<= {TUI_TARGETS[(mode, kind)]:g} s")
            for mode, kind in TUI_TARGETS]


def bench_report(n: int, agent_s: float, detect_trials: int, parts: list[str]) -> None:
    lines: list[Line] = []
    print("| what | ours | peer (same run) | ratio | load avg (1/5/15 min) |")
    print("|---|---|---|---|---|")

    def emit(new: list[Line]) -> None:
        for line in new:
            print(line.text(), flush=True)
        lines.extend(new)

    if "check" in parts:
        emit(bench_check_lines(n))
    if "agent" in parts:
        emit(bench_agent_lines(agent_s, 10.0))
    if "detect" in parts:
        emit([bench_detect_line(detect_trials)])
    if "tui" in parts:
        emit(bench_tui_lines(n))
    print(machine() + f"; simulator key {SIM_KEY[:6]}..., double key {DOUBLE_KEY[:6]}...")
