"""Notifications per fault, by how alerts are told (issue 14's figures).

For each simulator scenario: a real `alice-agent` watching every component of the
simulator, a webhook receiver counting what it is told; the scenario is switched on
for `--fault-s`, then back to normal until every alert has resolved and the outbox is
empty. Each mode is one agent (`--modes`, run one after the other):

* `before`: `alerts.inhibit: false`, no grouping (`group_by: ["..."]`): every alert
  is told on its own;
* `off`: the shipped dependencies (inhibition), no grouping;
* `on`: inhibition and the shipped grouping (per component; `--group-wait-s`,
  `--group-interval-s`).

Printed per scenario and mode: notifications (webhook POSTs, from the fault until
everything is told resolved), the alert episodes told firing, and the time from the
switch to the first notification.

    python -m simulator.bench.notify [--scenarios hang,openai-outage] [--fault-s 20]
        [--modes off,on] [--group-wait-s 0] [--group-interval-s 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml
from aiohttp import web

from simulator.scenarios import SCENARIOS

KEY = "bench-openai-key-5b1d"
LISTENING = re.compile(r"api listening on http://([^\s:]+):(\d+)")
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Hook:
    """A webhook receiver: (arrival time, alert entries) of every POST."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.posts: list[tuple[float, list[dict[str, Any]]]] = []
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        self.posts.append((time.monotonic(), list(body.get("alerts", []))))
        return web.json_response({"ok": True})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def mode_alerts(mode: str, group_wait_s: float = 0.0,
                group_interval_s: float | None = None) -> dict[str, Any]:
    """The `alerts:` settings of a mode (see the module docstring)."""
    if mode == "before":
        return {"inhibit": False, "group_by": ["..."], "group_interval_s": 0}
    if mode == "off":
        return {"inhibit": True, "group_by": ["..."], "group_interval_s": 0}
    if mode == "on":
        return {"inhibit": True, "group_wait_s": group_wait_s,
                **({} if group_interval_s is None else {"group_interval_s": group_interval_s})}
    raise ValueError(f"unknown mode {mode!r} (known: before, off, on)")


def _config(path: Path, urls: dict[str, str], hook: Hook, alerts: dict[str, Any]) -> None:
    doc = {"targets": {"openai": {"base_url": urls["openai"], "api_key": "${BENCH_KEY}"},
                       "ollama": {"url": urls["ollama"]}, "gateway": {"url": urls["gateway"]},
                       "backend": {"url": urls["backend"]},
                       "prometheus": {"url": urls["prometheus"]}, "host": {"gpu": "off"}},
           "agent": {"listen": "127.0.0.1:0", "data_path": str(path.parent / "state.db"),
                     "intervals": {"fast_s": 1, "deep_s": 2}},
           "alerts": {"repeat_interval_s": 86400, **alerts},
           "notifiers": {"webhooks": [{"name": "bench", "url":
                                       f"http://127.0.0.1:{hook.port}/hook"}]}}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


class Agent:
    def __init__(self, config: Path) -> None:
        self.log = config.parent / "agent.stderr"
        env = {**os.environ, "BENCH_KEY": KEY}
        with open(self.log, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "agent.cli.agent_main", "--config", str(config),
                 "--log-format", "json"], stdout=subprocess.DEVNULL, stderr=err,
                stdin=subprocess.DEVNULL, cwd=ROOT, env=env)
        self.url = ""

    async def ready(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"bench-notify: alice-agent exited: "
                                 f"{self.log.read_text()[-2000:]}")
            found = LISTENING.search(self.log.read_text(errors="replace"))
            if found:
                self.url = f"http://{found.group(1)}:{found.group(2)}"
                if await self.snapshot() is not None:
                    return
            await asyncio.sleep(0.1)
        raise SystemExit("bench-notify: alice-agent did not answer within "
                         f"{timeout_s:g} s")

    async def snapshot(self) -> dict[str, Any] | None:
        try:
            async with httpx.AsyncClient(timeout=5.0) as client:
                r = await client.get(self.url + "/api/v1/snapshot")
        except httpx.HTTPError:
            return None
        return r.json() if r.status_code == 200 else None

    async def quiet(self, timeout_s: float) -> bool:
        """Wait until nothing fires or is pending and the outbox is empty (twice in a row:
        the pending count is re-read once a second); False when it did not get there."""
        deadline = time.monotonic() + timeout_s
        calm = 0
        while time.monotonic() < deadline:
            snap = await self.snapshot()
            if snap is not None and not any(a["state"] in ("firing", "pending")
                                            for a in snap["alerts"]) \
                    and snap["agent"]["outbox_pending"] == 0:
                calm += 1
                if calm >= 2:
                    return True
            else:
                calm = 0
            await asyncio.sleep(0.6)
        return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


async def _measure(sim: Any, agent: Agent, hook: Hook, scenario: str, fault_s: float,
                   settle_s: float) -> dict[str, Any]:
    """One fault: switch on for fault_s, switch off, wait until everything is told."""
    await agent.quiet(settle_s)
    start = time.monotonic()
    mark = len(hook.posts)
    sim.set_scenario(scenario)
    await asyncio.sleep(fault_s)  # the fault's duration is what is being measured
    sim.set_scenario("normal")
    quiet = await agent.quiet(settle_s)
    posts = [(t, entries) for t, entries in hook.posts[mark:] if entries]
    entries = [(t, a) for t, batch in posts for a in batch]
    told = {(a["labels"]["alertname"], a["startsAt"]) for _, a in entries
            if a.get("status") == "firing"}
    first = min((t for t, _ in posts), default=None)
    return {"notifications": len(posts), "notices": len(told),
            "first_s": None if first is None else round(first - start, 2),
            "alerts": sorted({name for name, _ in told}), "recovered": quiet}


async def _run(scenarios: list[str], fault_s: float, settle_s: float, mode: str,
               workdir: Path, alerts: dict[str, Any]) -> dict[str, dict[str, Any]]:
    from simulator.server import run_in_thread

    sim = run_in_thread(api_key=KEY)
    hook = Hook()
    await hook.start()
    (workdir / mode).mkdir()
    config = workdir / mode / "alice-ops.yaml"
    _config(config, sim.urls, hook, alerts)
    agent = Agent(config)
    try:
        await agent.ready()
        await agent.quiet(settle_s)
        out = {}
        for scenario in scenarios:
            out[scenario] = await _measure(sim, agent, hook, scenario, fault_s, settle_s)
            print(f"  {mode:6} {scenario:24} {out[scenario]['notifications']:3d} notifications "
                  f"({out[scenario]['notices']} alerts told)", file=sys.stderr, flush=True)
        return out
    finally:
        agent.stop()
        await hook.stop()
        sim.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench-notify", description=__doc__.split("\n")[0])
    parser.add_argument("--scenarios", default=",".join(s for s in SCENARIOS if s != "normal"),
                        help="comma-separated simulator scenarios (default: every fault)")
    parser.add_argument("--fault-s", type=float, default=20.0,
                        help="how long each fault lasts (default 20 s)")
    parser.add_argument("--settle-s", type=float, default=60.0,
                        help="longest wait for every alert to resolve and be told after a fault")
    parser.add_argument("--modes", default="off,on",
                        help="before (no inhibition, no grouping), off (inhibition, no "
                             "grouping), on (inhibition and grouping); default off,on")
    parser.add_argument("--group-wait-s", type=float, default=0.0,
                        help="alerts.group_wait_s of the 'on' agent")
    parser.add_argument("--group-interval-s", type=float, default=None,
                        help="alerts.group_interval_s of the 'on' agent (default: the shipped)")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    args = parser.parse_args(argv)
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    bad = [s for s in scenarios if s not in SCENARIOS]
    if bad:
        parser.exit(2, f"bench-notify: --scenarios: unknown scenario {bad[0]!r} "
                       f"(known: {', '.join(SCENARIOS)})\n")
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    bad = [m for m in modes if m not in ("before", "off", "on")]
    if bad or not modes:
        parser.exit(2, f"bench-notify: --modes: unknown mode {(bad or [''])[0]!r} "
                       "(known: before, off, on)\n")
    results: dict[str, dict[str, dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-notify-") as tmp:
        for mode in modes:
            alerts = mode_alerts(mode, args.group_wait_s, args.group_interval_s)
            results[mode] = asyncio.run(_run(scenarios, args.fault_s, args.settle_s, mode,
                                             Path(tmp), alerts))
    if args.json:
        print(json.dumps({"fault_s": args.fault_s, "group_wait_s": args.group_wait_s,
                          "group_interval_s": args.group_interval_s, **results}, indent=1))
        return 0
    print(f"notifications per fault ({args.fault_s:g} s each; webhook POSTs until every alert "
          f"is told resolved; alerts told firing in brackets)")
    print(f"{'scenario':24} " + " ".join(f"{m:>10}" for m in modes)
          + f" {'first notice':>13}  told ({modes[-1]})")
    for s in scenarios:
        cells = " ".join(f"{results[m][s]['notifications']:>5d} ({results[m][s]['notices']:>2d})"
                         for m in modes)
        last = results[modes[-1]][s]
        first = "-" if last["first_s"] is None else f"{last['first_s']:.1f} s"
        note = "" if all(results[m][s]["recovered"] for m in modes) else \
            "  (did not recover in time)"
        print(f"{s:24} {cells} {first:>13}  {', '.join(last['alerts']) or '-'}{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
