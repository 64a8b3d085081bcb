"""Soak (not in CI): kill -9 restarts with storage faults mixed in, against a flapping
OpenAI and a webhook receiver that fails a share of its requests; then a report of
duplicates and losses. Run with `scripts/soak-storage [--minutes N] [--seed S]`.

Each round picks one action: flip the simulator between outage and normal (alert
episodes), switch a storage fault on or off (`full`: commits fail as on a full disk;
`corrupt`: every statement fails as on damaged pages; through `faulty_agent.py`), or
kill -9 the agent and start it again. At the end the faults clear, the outage ends,
and the agent gets time to deliver everything before a clean stop.

Judged from the receiver's successful (HTTP 200) requests against the audit trail:
* loss: an `alert.firing` episode of openai_health in the audit trail with no notice
  at all at the receiver, or a notified episode whose resolution never arrived;
* duplicate: one dedupe key (episode start, status, reminder) delivered twice;
plus the agent_storage episodes told directly, kills, faults and integrity_check.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from aiohttp import web

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FAULTY = HERE / "faulty_agent.py"
KEY = "soak-openai-key-5e1d"


class FlakyReceiver:
    """A webhook that answers 500 to `fail_share` of requests; keeps the 200 ones."""

    def __init__(self, fail_share: float, rng: random.Random) -> None:
        self.fail_share, self.rng = fail_share, rng
        self.delivered: list[dict] = []
        self.failed = 0
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self.rng.random() < self.fail_share:
            self.failed += 1
            return web.Response(status=500)
        self.delivered.extend(body.get("alerts", []))
        return web.json_response({})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/hook"


def _spawn(config: Path, flag: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "ALICE_TEST_STORE_FAULT": str(flag), "SOAK_KEY": KEY}
    with open(log, "ab") as err:
        return subprocess.Popen([sys.executable, str(FAULTY), "--config", str(config),
                                 "--log-format", "json"], stdout=subprocess.DEVNULL,
                                stderr=err, stdin=subprocess.DEVNULL, cwd=ROOT, env=env)


def _rows(db: Path, sql: str) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(db, timeout=10)) as conn:
        return conn.execute(sql).fetchall()


async def soak(minutes: float, seed: int, fail_share: float) -> dict:
    from simulator.server import run_in_thread

    rng = random.Random(seed)
    work = Path(tempfile.mkdtemp(prefix="alice-soak-"))
    db, flag, log = work / "state.db", work / "fault", work / "agent.log"
    sim = run_in_thread(api_key=KEY)
    hook = FlakyReceiver(fail_share, rng)
    await hook.start()
    config = work / "alice-ops.yaml"
    config.write_text(yaml.safe_dump({
        "targets": {"openai": {"base_url": sim.urls["openai"], "api_key": "${SOAK_KEY}"},
                    "host": {"gpu": "off"}},
        "agent": {"listen": "127.0.0.1:0", "data_path": str(db),
                  "intervals": {"fast_s": 0.5, "deep_s": 2}},
        "alerts": {"success_threshold": 1, "flap_window_s": 0,
                   "repeat_interval_s": 86400},  # no reminders: a repeat is a duplicate
        "notifiers": {"webhooks": [{"name": "hook", "url": hook.url}]}}))
    counts: collections.Counter[str] = collections.Counter()
    proc = _spawn(config, flag, log)
    end = time.monotonic() + minutes * 60
    try:
        while time.monotonic() < end:
            await asyncio.sleep(rng.uniform(0.5, 3.0))  # the soak's own pacing
            if proc.poll() is not None and not flag.exists():  # it refused to start (65)
                counts[f"agent had exited {proc.returncode}, started again"] += 1
                proc = _spawn(config, flag, log)
            action = rng.choice(["flip", "flip", "fault", "kill"])
            if action == "flip":
                scenario = rng.choice(["openai-outage", "normal"])
                sim.set_scenario(scenario)
                counts[f"scenario {scenario}"] += 1
            elif action == "fault":
                if flag.exists():
                    flag.unlink()
                    counts["fault cleared"] += 1
                else:
                    kind = rng.choice(["full", "corrupt"])
                    flag.write_text(kind)
                    counts[f"fault {kind}"] += 1
            elif proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=10)
                counts["kill -9 during a fault" if flag.exists() else "kill -9"] += 1
                proc = _spawn(config, flag, log)
        with contextlib.suppress(FileNotFoundError):
            flag.unlink()
        sim.set_scenario("normal")
        if proc.poll() is not None:
            proc = _spawn(config, flag, log)
        settle = time.monotonic() + 60
        while time.monotonic() < settle:  # until every queued notice is delivered
            await asyncio.sleep(1.0)
            pending = _rows(db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL "
                                "AND receiver = 'hook'")[0][0]
            if pending == 0 and time.monotonic() > settle - 50:
                break
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        sim.stop()
        if hook.runner is not None:
            await hook.runner.cleanup()
    return _judge(db, hook, counts, log, work)


def _judge(db: Path, hook: FlakyReceiver, counts, log: Path, work: Path) -> dict:
    audited = {json.loads(detail)["started_at"] for (detail,) in _rows(
        db, "SELECT detail FROM audit WHERE target = 'openai_health' "
            "AND action = 'alert.firing'")}
    told: dict[str, set[str]] = collections.defaultdict(set)
    keys: collections.Counter[tuple] = collections.Counter()
    for a in hook.delivered:
        if a["labels"].get("alertname") != "openai_health":
            continue
        told[a["startsAt"]].add(a["status"])
        keys[(a["startsAt"], a["status"], a.get("annotations", {}).get("summary", ""),
              a.get("endsAt"))] += 1
    from alerts.notifiers.payload import rfc3339

    audited_iso = {rfc3339(float(s)) for s in audited}
    lost = sorted(s for s in audited_iso if s not in told)
    unresolved = sorted(s for s, statuses in told.items() if "resolved" not in statuses)
    duplicates = sum(n - 1 for n in keys.values() if n > 1)
    storage = [a for a in hook.delivered if a["labels"].get("alertname") == "agent_storage"]
    return {"work_dir": str(work), "actions": dict(counts),
            "episodes_audited": len(audited_iso), "episodes_notified": len(told),
            "lost_episodes": lost, "unresolved_episodes": unresolved,
            "duplicate_deliveries": duplicates,
            "receiver_failures": hook.failed, "receiver_deliveries": len(hook.delivered),
            "agent_storage_notices": collections.Counter(a["status"] for a in storage),
            "commit_failures_logged": log.read_text(errors="replace").count(
                "state commit failed"),
            "integrity_check": _rows(db, "PRAGMA integrity_check")[0][0]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=5.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--fail-share", type=float, default=0.24,
                   help="share of receiver requests answered 500")
    args = p.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    report = asyncio.run(soak(args.minutes, args.seed, args.fail_share))
    print(json.dumps(report, indent=2, default=dict))
    bad = report["lost_episodes"] or report["unresolved_episodes"] or \
        report["integrity_check"] != "ok"
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
