"""Notifications per fault, before and after inhibition (issue 14's figures).

For each simulator scenario: a real `alice-agent` watching every component of the
simulator, a webhook receiver counting what it is told; the scenario is switched on
for `--fault-s`, then back to normal until every alert has resolved. "before" runs
the agent with `alerts.inhibit: false`, "after" with the shipped dependencies. Printed
per scenario: firing notices (distinct alert episodes told) before and after, and the
time from the switch to the first notification (after).

    python -m simulator.bench.notify [--scenarios hang,openai-outage] [--fault-s 20]
        [--group-wait-s 5]
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


def _config(path: Path, urls: dict[str, str], hook: Hook, inhibit: bool,
            group_wait_s: float = 0.0) -> None:
    doc = {"targets": {"openai": {"base_url": urls["openai"], "api_key": "${BENCH_KEY}"},
                       "ollama": {"url": urls["ollama"]}, "gateway": {"url": urls["gateway"]},
                       "backend": {"url": urls["backend"]},
                       "prometheus": {"url": urls["prometheus"]}, "host": {"gpu": "off"}},
           "agent": {"listen": "127.0.0.1:0", "data_path": str(path.parent / "state.db"),
                     "intervals": {"fast_s": 1, "deep_s": 2}},
           "alerts": {"inhibit": inhibit, "repeat_interval_s": 86400,
                      "group_wait_s": group_wait_s},
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
        """Wait until nothing fires or is pending; False when it did not get there."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            snap = await self.snapshot()
            if snap is not None and not any(a["state"] in ("firing", "pending")
                                            for a in snap["alerts"]):
                return True
            await asyncio.sleep(0.25)
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
    """One fault: switch on, count for fault_s, switch off and wait for quiet."""
    await agent.quiet(settle_s)
    start = time.monotonic()
    mark = len(hook.posts)
    sim.set_scenario(scenario)
    await asyncio.sleep(fault_s)  # the fault's duration is what is being measured
    sim.set_scenario("normal")
    posts = hook.posts[mark:]
    during = [(t, a) for t, entries in posts if t <= start + fault_s for a in entries]
    told = {(a["labels"]["alertname"], a["startsAt"]) for _, a in during
            if a.get("status") == "firing"}
    first = min((t for t, a in during if a.get("status") == "firing"), default=None)
    quiet = await agent.quiet(settle_s)
    return {"notices": len(told), "posts": sum(1 for t, _ in posts if t <= start + fault_s),
            "first_s": None if first is None else round(first - start, 2),
            "alerts": sorted({name for name, _ in told}), "recovered": quiet}


async def _run(scenarios: list[str], fault_s: float, settle_s: float, inhibit: bool,
               workdir: Path, group_wait_s: float = 0.0) -> dict[str, dict[str, Any]]:
    from simulator.server import run_in_thread

    sim = run_in_thread(api_key=KEY)
    hook = Hook()
    await hook.start()
    (workdir / ("on" if inhibit else "off")).mkdir()
    config = workdir / ("on" if inhibit else "off") / "alice-ops.yaml"
    _config(config, sim.urls, hook, inhibit, group_wait_s if inhibit else 0.0)
    agent = Agent(config)
    try:
        await agent.ready()
        await agent.quiet(settle_s)
        out = {}
        for scenario in scenarios:
            out[scenario] = await _measure(sim, agent, hook, scenario, fault_s, settle_s)
            print(f"  {'after ' if inhibit else 'before'} {scenario:24} "
                  f"{out[scenario]['notices']:3d} notices", file=sys.stderr, flush=True)
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
                        help="longest wait for every alert to resolve after a fault")
    parser.add_argument("--group-wait-s", type=float, default=0.0,
                        help="alerts.group_wait_s of the 'after' agent (grouping on)")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    args = parser.parse_args(argv)
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    bad = [s for s in scenarios if s not in SCENARIOS]
    if bad:
        parser.exit(2, f"bench-notify: --scenarios: unknown scenario {bad[0]!r} "
                       f"(known: {', '.join(SCENARIOS)})\n")
    with tempfile.TemporaryDirectory(prefix="bench-notify-") as tmp:
        before = asyncio.run(_run(scenarios, args.fault_s, args.settle_s, False, Path(tmp)))
        after = asyncio.run(_run(scenarios, args.fault_s, args.settle_s, True, Path(tmp),
                                 args.group_wait_s))
    if args.json:
        print(json.dumps({"fault_s": args.fault_s, "group_wait_s": args.group_wait_s,
                          "before": before, "after": after}, indent=1))
        return 0
    print(f"notifications per fault ({args.fault_s:g} s each; firing alert episodes told; "
          f"after: group_wait {args.group_wait_s:g} s)")
    print(f"{'scenario':24} {'before':>6} {'after':>6} {'first notice (after)':>22}  told after")
    for s in scenarios:
        b, a = before[s], after[s]
        first = "-" if a["first_s"] is None else f"{a['first_s']:.1f} s"
        note = "" if b["recovered"] and a["recovered"] else "  (did not recover in time)"
        print(f"{s:24} {b['notices']:6d} {a['notices']:6d} {first:>22}  "
              f"{', '.join(a['alerts']) or '-'}{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
