"""Attach mode against a real `alice-agent --demo` subprocess: snapshots over SSE, a
silence over the token-guarded API, and the agent SIGKILLed and restarted on the same
port (the header shows STALE, then clears)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from tui_helpers import make_app, screen_text, wait_for

from tui.screens.silence_form import SilenceForm
from tui.source import AttachSource, CommandError, backoff_delays
from tui.widgets.alert_table import AlertTable

TOKEN = "test-token-0123456789"
SIM_KEY = "sk-sim-attach-test-key-0000"
ROOT = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"api listening on http://127\.0\.0\.1:(\d+)")


def start_agent(tmp_path: Path, name: str, port: int = 0,
                config: Path | None = None) -> tuple[subprocess.Popen, int]:
    """`alice-agent --demo` (a sandbox: fresh state each start), or `--config` when the
    test needs state that outlives the process."""
    log = tmp_path / f"{name}.log"
    # the demo keeps its state in a temporary directory of its own: under tmp_path, so a
    # killed agent's is cleaned up with the test's
    env = dict(os.environ, ALICE_OPS_TOKEN=TOKEN, TMPDIR=str(tmp_path))
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "agent.cli.agent_main",
             *(["--demo"] if config is None else ["--config", str(config)]),
             "--listen", f"127.0.0.1:{port}"],
            stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = LISTENING.search(log.read_text(errors="replace"))
        if found:
            return proc, int(found.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"agent did not start:\n{log.read_text(errors='replace')[-2000:]}")


@pytest.fixture
def agents(tmp_path):
    procs: list[subprocess.Popen] = []

    def start(name: str, port: int = 0, config: Path | None = None
              ) -> tuple[subprocess.Popen, int]:
        proc, bound = start_agent(tmp_path, name, port, config)
        procs.append(proc)
        return proc, bound

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_backoff_doubles_to_a_cap():
    delays = backoff_delays()
    assert [next(delays) for _ in range(8)] == [0.5, 1, 2, 4, 8, 10, 10, 10]


@pytest.fixture
def sim_config(tmp_path, monkeypatch):
    """A simulator in this process and an agent config at it with a state file in
    tmp_path (the demo's sandbox would start each agent from nothing)."""
    from simulator.server import run_in_thread

    monkeypatch.setenv("ALICE_TEST_ATTACH_KEY", SIM_KEY)
    sim = run_in_thread(api_key=SIM_KEY)
    u = sim.urls
    config = tmp_path / "alice-ops.yaml"
    config.write_text(
        "targets:\n"
        f"  openai: {{base_url: '{u['openai']}', api_key: '${{ALICE_TEST_ATTACH_KEY}}'}}\n"
        f"  gateway: {{url: '{u['gateway']}'}}\n"
        f"  backend: {{url: '{u['backend']}'}}\n"
        "  host: {gpu: 'off'}\n"
        f"agent: {{data_path: '{tmp_path / 'state.db'}', token: '${{ALICE_OPS_TOKEN}}'}}\n")
    try:
        yield config
    finally:
        sim.stop()


async def test_attach_stale_on_kill_and_fresh_after_restart(agents, sim_config):
    first, port = agents("agent1", config=sim_config)
    url = f"http://127.0.0.1:{port}"
    source = AttachSource(url, TOKEN, backoff_max_s=2.0)
    await source.check()
    await source.start()
    app = make_app(source, refresh_min_s=0.1, tick_s=0.2)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: "openai  OK" in screen_text(app), timeout=20)
            assert source.connected and "STALE" not in screen_text(app)
            # the source in the header (its URL is cut at 80 columns once alerts fire, as
            # the demo's checklist_overdue does after 10:00)
            assert "attach" in screen_text(app).splitlines()[0]

            # a silence through the token-guarded API
            await pilot.press("2")
            table = await wait_for(pilot, lambda: app.current_mode == "alerts"
                                   and app.screen.query_one(AlertTable))
            await pilot.press("s")
            form = await wait_for(pilot, lambda: isinstance(app.screen, SilenceForm)
                                  and app.screen)
            form.query_one("#matchers").value = 'component="gateway"'
            form.query_one("#reason").focus()
            await pilot.press(*"maintenance window", "enter")
            await wait_for(pilot, lambda: "Silences (1 active)" in screen_text(app),
                           timeout=10)
            assert table is not None

            first.send_signal(signal.SIGKILL)
            first.wait(10)
            await wait_for(pilot, lambda: "STALE" in screen_text(app), timeout=10)
            assert not source.connected
            assert "STALE" in screen_text(app).splitlines()[0]

            agents("agent2", port, config=sim_config)  # same port, same state file
            await wait_for(pilot, lambda: "STALE" not in screen_text(app), timeout=20)
            assert source.connected and source.reconnects >= 1
            # the silence was stored by the first agent and survives the restart
            await wait_for(pilot, lambda: "Silences (1 active)" in screen_text(app),
                           timeout=10)
    finally:
        await source.close()


async def test_attach_commands_need_the_right_token(agents):
    _proc, port = agents("agent")
    url = f"http://127.0.0.1:{port}"
    wrong = AttachSource(url, "not-the-token")
    await wrong.check()  # reading works on loopback without a token
    with pytest.raises(CommandError, match="missing or wrong bearer token"):
        await wrong.add_silence('component="host"', 60, "why", "me")
    none = AttachSource(url)
    assert not none.can_mutate
    with pytest.raises(CommandError, match="read-only"):
        await none.add_ack("openai_health", "why", None, "me")
    right = AttachSource(url, TOKEN)
    made = await right.add_silence('component="host"', 60, "why", "me")
    assert await right.expire_silence(made["id"]) is True
    assert await right.expire_silence("no-such-id") is False
    with pytest.raises(CommandError, match="no alert named"):
        await right.add_ack("no_such_alert", "why", None, "me")
    async with httpx.AsyncClient() as client:
        snap = (await client.get(f"{url}/api/v1/snapshot")).json()
    assert snap["silences"] == []


async def test_attach_reads_history_and_drives_remediation_and_checklists(agents):
    """The alert history, a playbook's dry-run and a checklist answer over the agent's
    HTTP API, as the Remediation/Checklists/History screens send them in attach mode."""
    _proc, port = agents("agent")
    url = f"http://127.0.0.1:{port}"
    none, right = AttachSource(url), AttachSource(url, TOKEN)
    page = await none.alert_history(5)  # a read: no token on loopback
    assert set(page) == {"records", "total", "next_before"}
    with pytest.raises(CommandError, match="read-only"):
        await none.remediation_plan("intent-accuracy-drop", "me")
    plan = await right.remediation_plan("intent-accuracy-drop", "me")
    assert plan["playbook"] == "intent-accuracy-drop"
    assert any(s.get("url", "").endswith("/api/admin/config") for s in plan["steps"])
    with pytest.raises(CommandError, match="no playbook named 'nope'"):
        await right.remediation_plan("nope", "me")
    with pytest.raises(CommandError, match="confirmation must be the playbook's name"):
        await right.remediation_run("intent-accuracy-drop", "wrong", "me")
    # `alice-agent --demo` runs the checklists: an answer sent as the Checklists screen
    # sends it is recorded by the agent, with who gave it
    with pytest.raises(CommandError, match="read-only"):
        await none.checklist_answer("daily", "hud_display", "pass", "", "me")
    await right.checklist_answer("daily", "hud_display", "pass", "looked fine", "me")
    async with httpx.AsyncClient() as client:
        lists = (await client.get(f"{url}/api/v1/checklists")).json()
    items = {i["id"]: i for i in lists["daily"]["items"]}
    assert items["hud_display"]["result"] == "pass"
    assert items["hud_display"]["by"] == "me"
    async with httpx.AsyncClient() as client:
        state = (await client.get(f"{url}/api/v1/remediation")).json()
    kinds = [r["kind"] for r in state["history"]]
    assert "plan" in kinds  # the dry-run is in the audit history
