"""One lock, one owner: a second agent on a state file is refused (one line, the holder's
pid); `remediate --data FILE` takes the remediation lock beside FILE, so it is refused
while the agent runs a playbook on that file (and writes no false "interrupted"
record); read-only commands read beside a running agent and from a read-only copy;
the lock folder is created 0700."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from agentproc import ROOT, SIM_KEY, write_config

from agent.config import parse_config
from agent.remediation import ledger as ops
from agent.remediation.lock import LockBusy, RemediationLock
from agent.service import AgentService
from agent.store import Store, StoreError

HANGING_DOCKER = f"""#!{sys.executable}
import sys, time
if "restart" in sys.argv:
    time.sleep(60)
"""


def _alice_ops(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "agent.cli.main", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


async def test_a_second_agent_on_the_same_state_file_is_refused(tmp_path, sim, start_agent):
    db = tmp_path / "data" / "state.db"
    config = write_config(tmp_path / "alice-ops.yaml", sim.urls, data_path=db)
    first = await start_agent(config)
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
    second = start_agent.make(config)
    second.spawn()
    assert await second.wait_exit(20) == 2
    lines = second.log_text().strip().splitlines()
    assert len(lines) == 1, lines
    assert f"pid {first.proc.pid}" in lines[0] and str(db) in lines[0], lines
    # the first one is unharmed and still owns the file
    await first.wait_for(lambda s: s["agent"]["cycles_total"].get("openai", 0) >= 2, "cycles")
    assert (db.parent / "state.db.agent.lock").read_text().strip() == str(first.proc.pid)

    # read-only commands work beside it
    listed = _alice_ops("alerts", "--data", str(db), "--json", "list")
    assert listed.returncode == 0, listed.stderr
    first.signal(15)
    assert await first.wait_exit() == 0
    third = await start_agent(config)  # the lock went with its holder
    third.signal(9)
    assert await third.wait_exit() == -9
    fourth = await start_agent(config)  # ...also after kill -9
    fourth.signal(15)
    assert await fourth.wait_exit() == 0


async def test_read_only_commands_on_a_read_only_copy(tmp_path, sim, start_agent):
    db = tmp_path / "state.db"
    config = write_config(tmp_path / "alice-ops.yaml", sim.urls, data_path=db)
    agent = await start_agent(config)
    await agent.wait_for(lambda s: s["agent"]["cycles_total"].get("openai", 0) >= 2, "cycles")
    agent.signal(15)
    assert await agent.wait_exit() == 0
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(db, copy / "state.db")
    (copy / "state.db").chmod(0o444)
    copy.chmod(0o555)
    try:
        with Store.open(copy / "state.db") as store:  # read-only by itself
            assert store.last_seen() is not None
            with pytest.raises(StoreError):
                store.add_audit(time.time(), "t", "x", "y", "ok", {})
        listed = _alice_ops("alerts", "--data", str(copy / "state.db"), "--json", "list")
        assert listed.returncode == 0, listed.stderr
        json.loads(listed.stdout)
        assert sorted(p.name for p in copy.iterdir()) == ["state.db"]
    finally:
        copy.chmod(0o755)


def _lock_config(sim, tmp_path: Path, data: Path) -> str:
    return f"""
targets:
  openai: {{base_url: "{sim.urls['openai']}", api_key: "{SIM_KEY}"}}
  gateway: {{url: "{sim.urls['gateway']}"}}
agent:
  listen: "127.0.0.1:0"
  data_path: "{data}"
  intervals: {{fast_s: 1}}
remediation:
  compose_dir: "{tmp_path}"
  playbooks: {{websocket-issues: {{mode: execute}}}}
"""


async def test_remediate_data_is_refused_during_the_agents_run(tmp_path, sim, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "docker").write_text(HANGING_DOCKER)
    (bindir / "docker").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    data = tmp_path / "agent" / "state.db"
    service = await AgentService.start(parse_config(_lock_config(sim, tmp_path, data),
                                                    "<test>"))
    try:
        run = asyncio.create_task(service.runtime.remediation_run(
            "websocket-issues", "websocket-issues", "tester"))
        beside = data.with_name("remediation.lock")
        deadline = time.monotonic() + 15
        while True:  # the agent's run holds the lock beside its state file
            try:
                with RemediationLock(beside):
                    pass
            except LockBusy:
                break
            assert time.monotonic() < deadline, "the agent's run never took the lock"
            await asyncio.sleep(0.05)
        # the CLI's own config points elsewhere: --data alone decides which lock it takes
        other = tmp_path / "other.yaml"
        other.write_text(_lock_config(sim, tmp_path, tmp_path / "elsewhere" / "state.db"))
        done = await asyncio.to_thread(_alice_ops, "--config", str(other), "remediate",
                                       "--data", str(data), "run", "websocket-issues",
                                       "--yes", "--json")
        assert done.returncode != 0 or json.loads(done.stdout)["outcome"] == "refused", \
            done.stdout + done.stderr
        assert f"pid {os.getpid()}" in done.stdout + done.stderr, done.stdout + done.stderr
        trail = await service.runtime.db(ops.audit_trail, service.store, 100)
        assert not [a for a in trail if a.action == "remediation.interrupted"]
        runs = await service.runtime.db(ops.runs, service.store, 10)
        assert [r.outcome for r in runs if r.actor == "tester"] == ["started"]
        run.cancel()
        await asyncio.gather(run, return_exceptions=True)
    finally:
        await service.stop()
    assert stat.S_IMODE(data.parent.stat().st_mode) == 0o700


async def test_in_process_agent_takes_the_lock_too(tmp_path, sim):
    data = tmp_path / "state.db"
    config = parse_config(_lock_config(sim, tmp_path, data), "<test>")
    service = await AgentService.start(config, serve_api=False)
    try:
        with pytest.raises(StoreError, match=f"pid {os.getpid()}"):
            await AgentService.start(config, serve_api=False)
        await service.runtime.run_job("host")  # the first one still runs and commits
        assert service.runtime.storage_problem() is None and service.runtime.cycles["host"]
    finally:
        await service.stop()
    again = await AgentService.start(config, serve_api=False)
    await again.stop()
