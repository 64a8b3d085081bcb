"""`alice-agent --demo --profile alice-main`: an agent watching the replayed real Alice main
backend (no separate gateway, none of the guide's metrics) for two minutes raises no alert
about Alice's components; the blind spots stay blind spots."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import pytest
from agentproc import ROOT, AgentProcess

ALICE = {"backend", "gateway", "nlu", "openai", "ollama", "prometheus"}
WATCH_S = 120.0
TOKEN = "alice-main-agent-test-token-0000"


class DemoAgent(AgentProcess):
    """An `alice-agent --demo` run (the demo refuses --config)."""

    def spawn(self) -> None:
        cmd = [sys.executable, *self.launcher, "--demo", "--log-format", "json", *self.args]
        with open(self.out_path, "wb") as out, open(self.log_path, "wb") as err:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                         cwd=ROOT, env=self.env)


@pytest.mark.timeout(WATCH_S + 90)
async def test_two_minutes_on_the_real_alice_main_surface_raise_no_alert(tmp_path):
    agent = DemoAgent(tmp_path / "unused.yaml", tmp_path,
                      args=("--profile", "alice-main", "--listen", "127.0.0.1:0"),
                      env={"TMPDIR": str(tmp_path), "ALICE_OPS_TOKEN": TOKEN}, token=TOKEN)
    try:
        await agent.start(timeout_s=30)
        # the first snapshot may come from the first job to finish: wait for both probes
        first = await agent.wait_for(
            lambda s: {c["name"] for c in s["components"]} >= {"backend", "gateway"},
            "the backend and gateway probed", 30)
        seen: dict[str, str] = {}
        deadline = time.monotonic() + WATCH_S
        last = first
        while time.monotonic() < deadline:
            last = await agent.snapshot() or last
            for a in last["alerts"]:
                if a["labels"].get("component") in ALICE and a["state"] in ("pending", "firing"):
                    seen.setdefault(a["name"], f"{a['state']}: {a['cause']}")
            await asyncio.sleep(1.0)
        assert seen == {}, seen
        statuses = {c["name"]: c["status"] for c in last["components"]}
        assert statuses["backend"] == "ok" and statuses["gateway"] == "ok", statuses
        # the guide's metrics are blind spots there, never outages
        absent = [m for m in last["metrics"] if m["status"] == "absent"]
        assert absent, "the guide's metrics should read as blind spots on alice-main"
    finally:
        agent.close()
