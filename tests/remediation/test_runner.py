"""Executing playbooks: order, timeouts, revert on failure, crash records, secrets, the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from remediation_helpers import SIM_KEY

from agent.config import parse_config
from agent.remediation import ledger as ops
from agent.remediation.render import playbooks_for
from agent.remediation.runner import Runner
from agent.store import Store

ADMIN = "adm-SECRET-5a4b3c2d1e0f"
PLAYBOOKS = """
playbooks:
  - name: hang
    title: a step that hangs
    target: gateway
    steps:
      - {type: compose, action: restart, service: "{service.gateway}", timeout_s: 0.5}
  - name: fails
    title: second step fails, revert runs
    target: backend
    steps:
      - {type: http, url: "{backend}/api/admin/set-mode", body: {mode: offline, message: x}}
      - {type: http, url: "{backend}/api/admin/nope",
         headers: {Authorization: "Bearer {secret.ADMIN}"}}
      - {type: compose, action: restart, service: never}
    revert:
      - {type: http, url: "{backend}/api/admin/set-mode", body: {mode: normal, message: ""}}
  - name: secretive
    title: secrets in URL, header and env
    target: backend
    steps:
      - type: http
        url: "{backend}/api/admin/set-mode?token={secret.ADMIN}"
        headers: {Authorization: "Bearer {secret.ADMIN}", X-Api-Key: "{secret.ADMIN}"}
        body: {mode: offline, message: m}
      - {type: env, set: {ADMIN_TOKEN: "{secret.ADMIN}", NOTE: "{secret.ADMIN}", MODE: local}}
  - name: sleepy
    title: sleeps (crash test)
    target: host
    steps:
      - {type: command, command: sleep, timeout_s: 60}
"""


def config_text(sim, tmp_path, models: bool = True) -> str:
    """Config YAML for the simulator (with `models`: its OpenAI and Ollama too); writes
    playbooks.yaml beside it."""
    (tmp_path / "playbooks.yaml").write_text(PLAYBOOKS)
    model_targets = f"""
  openai: {{base_url: "{sim.urls['openai']}", api_key: "{SIM_KEY}"}}
  ollama: {{url: "{sim.urls['ollama']}"}}""" if models else ""
    return f"""
targets:{model_targets}
  backend: {{url: "{sim.urls['backend']}"}}
  gateway: {{url: "{sim.urls['gateway']}"}}
agent: {{data_path: "{tmp_path / 'state.db'}"}}
remediation:
  compose_dir: "{tmp_path}"
  playbooks_file: "{tmp_path / 'playbooks.yaml'}"
  secrets: {{ADMIN: "{ADMIN}"}}
  commands: {{sleep: ["{sys.executable}", "-c", "import time; time.sleep(60)"]}}
"""


def make_config(sim, tmp_path):
    return parse_config(config_text(sim, tmp_path), "<test>")


def pb(config, name):
    return next(p for p in playbooks_for(config) if p.name == name)


async def test_full_recovery_compose_order_waits_for_health(simulator, tmp_path, fake_docker):
    config = make_config(simulator, tmp_path)
    with Store.open(tmp_path / "state.db") as store:
        out = await Runner(config, store).run(pb(config, "full-recovery"), actor="alice")
    assert out.outcome == "ok", out.to_json()
    assert fake_docker.calls() == [["compose", "up", "-d", "--no-deps", s] for s in
                                   ("redis-cache", "local-ai", "alice-backend", "voice-gateway",
                                    "alice-frontend")]
    kinds = [(s["type"], s.get("component")) for s in out.steps]
    assert kinds == [("compose", None), ("compose", None), ("wait_healthy", "ollama"),
                     ("compose", None), ("wait_healthy", "backend"), ("compose", None),
                     ("wait_healthy", "gateway"), ("compose", None), ("wait_healthy", "all")]


async def test_hanging_step_times_out(simulator, tmp_path, fake_docker, monkeypatch):
    monkeypatch.setenv("FAKE_DOCKER_HANG", "1")
    config = make_config(simulator, tmp_path)
    started = time.monotonic()
    with Store.open(tmp_path / "state.db") as store:
        out = await Runner(config, store).run(pb(config, "hang"), actor="alice")
        runs = ops.runs(store)
    assert time.monotonic() - started < 5
    assert out.outcome == "failed" and "timed out after 0.5 s" in out.error
    assert runs[0].outcome == "failed"


async def test_failing_step_stops_and_reverts(simulator, tmp_path, fake_docker):
    config = make_config(simulator, tmp_path)
    with Store.open(tmp_path / "state.db") as store:
        out = await Runner(config, store).run(pb(config, "fails"), actor="alice")
        trail = ops.audit_trail(store)
    assert out.outcome == "reverted" and "HTTP 404" in out.error
    assert [s["ok"] for s in out.steps] == [True, False] and fake_docker.calls() == []
    assert [s["ok"] for s in out.revert_steps] == [True]
    async with httpx.AsyncClient() as client:
        mode = (await client.get(f"{simulator.urls['backend']}/api/admin/mode")).json()
    assert mode["mode"] == "normal"
    assert [a.action for a in reversed(trail)] == [
        "remediation.start", "remediation.step", "remediation.step",
        "remediation.revert_step", "remediation.outcome"]
    assert ADMIN not in json.dumps([a.detail for a in trail])


async def test_secrets_never_in_plan_or_audit(simulator, tmp_path, fake_docker):
    config = make_config(simulator, tmp_path)
    (tmp_path / ".env").write_text(f"ADMIN_TOKEN=old-{ADMIN}\nOPENAI_API_KEY={SIM_KEY}\n")
    with Store.open(tmp_path / "state.db") as store:
        runner = Runner(config, store)
        shown = await runner.record_plan(pb(config, "secretive"), "alice")
        out = await runner.run(pb(config, "secretive"), actor="alice")
        trail = ops.audit_trail(store)
        runs = ops.runs(store)
    assert out.outcome == "ok", out.to_json()
    assert f"ADMIN_TOKEN={ADMIN}" in (tmp_path / ".env").read_text()  # the real value was used
    everything = json.dumps([shown, out.to_json(), [a.detail for a in trail],
                             [r.to_json() for r in runs]])
    assert ADMIN not in everything and SIM_KEY not in everything
    http = shown["steps"][0]
    assert http["headers"] == {"Authorization": "<redacted>", "X-Api-Key": "<redacted>"}
    assert http["url"].endswith("?token=<redacted>")
    assert {c["key"]: c["after"] for c in shown["steps"][1]["diff"]} == {
        "ADMIN_TOKEN": "<redacted>", "NOTE": "<secret>", "MODE": "local"}


def _cli(config_path, *args, env=None, **kw):
    return subprocess.run([str(Path(sys.executable).with_name("alice-ops")), "-c", str(config_path),
                           "remediate", *args], check=False, capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2], env=env, **kw)


def _write_config(sim, tmp_path) -> Path:
    path = tmp_path / "alice-ops.yaml"
    path.write_text(config_text(sim, tmp_path, models=False))
    return path


def test_crash_mid_playbook_is_recorded_interrupted(threaded_simulator, tmp_path):
    path = _write_config(threaded_simulator, tmp_path)
    proc = subprocess.Popen([str(Path(sys.executable).with_name("alice-ops")), "-c", str(path),
                             "remediate", "run", "sleepy", "--yes"],
                            cwd=Path(__file__).resolve().parents[2],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if (tmp_path / "state.db").exists():
                with Store.open(tmp_path / "state.db") as store:
                    if [r for r in ops.runs(store) if r.outcome == "started"]:
                        break
            time.sleep(0.1)
        else:
            raise AssertionError("the run never started")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its sleeping child
        proc.wait(10)
    hist = _cli(path, "history", "--json")
    assert hist.returncode == 0, hist.stderr
    doc = json.loads(hist.stdout)
    assert doc["runs"][0]["playbook"] == "sleepy" and doc["runs"][0]["outcome"] == "interrupted"
    assert any(a["action"] == "remediation.interrupted" for a in doc["audit"])


def test_cli_plan_run_confirmation_and_read_only(threaded_simulator, tmp_path, fake_docker):
    path = _write_config(threaded_simulator, tmp_path)
    env = dict(os.environ)
    plan = _cli(path, "plan", "secretive", env=env)
    assert plan.returncode == 0, plan.stderr
    assert "<redacted>" in plan.stdout and ADMIN not in plan.stdout + plan.stderr
    no_tty = _cli(path, "run", "websocket-issues", env=env, stdin=subprocess.DEVNULL)
    assert no_tty.returncode == 2 and "--yes" in no_tty.stderr
    assert len(no_tty.stderr.strip().splitlines()) == 1
    ro = _cli(path, "--read-only", "run", "websocket-issues", "--yes", "--json", env=env)
    assert ro.returncode == 1 and json.loads(ro.stdout)["outcome"] == "refused"
    assert fake_docker.calls() == []
    run = _cli(path, "run", "websocket-issues", "--yes", "--json", env=env)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["outcome"] == "ok"
    assert fake_docker.calls() == [["compose", "restart", "voice-gateway"]]
    listing = json.loads(_cli(path, "list", "--json", env=env).stdout)
    assert {p["name"] for p in listing["playbooks"]} >= {"openai-outage", "cost-critical",
                                                        "sleepy"}
    hist = json.loads(_cli(path, "history", "--json", env=env).stdout)
    actors = {a["actor"] for a in hist["audit"]}
    assert len(actors) == 1 and "agent" not in actors
    assert {"remediation.plan", "remediation.confirm", "remediation.refused",
            "remediation.step", "remediation.outcome"} <= {a["action"] for a in hist["audit"]}
    resumed = _cli(path, "resume", "websocket-issues", "--json", env=env)
    assert json.loads(resumed.stdout)["resumed"] is True
    bad = _cli(path, "plan", "nope", env=env)
    assert bad.returncode == 2 and bad.stderr.startswith("alice-ops: remediate: no playbook")


def test_cli_demo_plan_and_run(tmp_path):
    alice = str(Path(sys.executable).with_name("alice-ops"))
    plan = subprocess.run([alice, "remediate", "--demo", "plan", "openai-outage", "--json"],
                          check=False, capture_output=True, text=True)
    assert plan.returncode == 0, plan.stderr
    doc = json.loads(plan.stdout)
    assert doc["steps"][3]["url"].startswith("http://127.0.0.1:")
    assert doc["steps"][1]["argv"][:2] == ["docker", "compose"]
    run = subprocess.run([alice, "remediate", "--demo", "run", "intent-accuracy-drop", "--yes",
                          "--json"], check=False, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["steps"][0]["status"] == 200


def test_cli_run_is_refused_while_another_process_holds_the_lock(threaded_simulator, tmp_path,
                                                                  fake_docker):
    from agent.config import load_config
    from agent.remediation.lock import RemediationLock, lock_path

    path = _write_config(threaded_simulator, tmp_path)
    with RemediationLock(lock_path(load_config(path))):
        busy = _cli(path, "run", "websocket-issues", "--yes", "--json")
    assert busy.returncode == 1
    doc = json.loads(busy.stdout)
    assert doc["outcome"] == "refused" and "another remediation is running" in doc["error"]
    assert fake_docker.calls() == []


async def test_a_notify_message_never_carries_a_secret(tmp_path, caplog):
    (tmp_path / "playbooks.yaml").write_text("""
playbooks:
  - name: tell
    title: a notice that names a secret
    target: host
    steps:
      - {type: notify, message: "rotated to {secret.ADMIN}"}
""")
    config = parse_config(f"""
agent: {{data_path: "{tmp_path / 'state.db'}"}}
remediation:
  playbooks_file: "{tmp_path / 'playbooks.yaml'}"
  secrets: {{ADMIN: "{ADMIN}"}}
""", "<test>")
    told = []
    with Store.open(tmp_path / "state.db") as store:
        out = await Runner(config, store, notify=lambda *a: told.append(a)).run(
            pb(config, "tell"), actor="alice")
    assert out.ok and told == [("warning", "rotated to <secret>", "tell")]
    assert ADMIN not in caplog.text


def test_cli_end_of_input_at_the_confirmation_prompt_declines(tmp_path, monkeypatch, capsys):
    from agent.cli.main import main

    class Tty:
        def isatty(self) -> bool:
            return True

    def end_of_input(prompt: str = "") -> str:
        raise EOFError

    path = tmp_path / "alice-ops.yaml"
    path.write_text(f'agent: {{data_path: "{tmp_path / "state.db"}"}}\n')
    monkeypatch.setattr(sys, "stdin", Tty())
    monkeypatch.setattr("builtins.input", end_of_input)
    assert main(["-c", str(path), "remediate", "run", "websocket-issues"]) == 2
    err = capsys.readouterr().err
    assert "confirmation did not match; nothing was done" in err and "EOFError" not in err
    with Store.open(tmp_path / "state.db") as store:
        assert [a.outcome for a in ops.audit_trail(store)] == ["declined"]
