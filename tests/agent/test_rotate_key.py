"""`alice-ops rotate-key` against the simulator's OpenAI API, with a fake `docker` first
on PATH that records its argv and environment (and can kill the rotation mid-way)."""

from __future__ import annotations

import io
import json
import os
import random
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from agent.cli.main import main
from agent.remediation.envfile import parse_env
from agent.security.rotate import fingerprint
from agent.store import Store
from simulator.server import SimPorts, run_in_thread

ROOT = Path(__file__).resolve().parents[2]
NEW_KEY = "sk-proj-rotated-key-NEW-0123456789abcdef"  # the simulator accepts only this
OLD_KEY = "sk-proj-previous-key-OLD-9876543210fedcba"
ENV_TEXT = f"""# Alice environment
ALICE_MODE=hybrid
OPENAI_API_KEY={OLD_KEY}
export OLLAMA_URL=http://localhost:11434
"""

FAKE_DOCKER = """#!{python}
import json, os, signal, sys
with open(os.environ["FAKE_DOCKER_LOG"], "a") as fh:
    fh.write(json.dumps({{"argv": sys.argv[1:], "env": dict(os.environ)}}) + "\\n")
kill = os.environ.get("FAKE_DOCKER_KILL")
if kill and kill in sys.argv:
    os.kill(os.getppid(), signal.SIGKILL)
sys.exit(int(os.environ.get("FAKE_DOCKER_EXIT", "0")))
"""


@pytest.fixture(scope="module")
def sim():
    with run_in_thread(ports=SimPorts(0, 0, 0, 0, 0), api_key=NEW_KEY, seed=3) as threaded:
        yield threaded


@pytest.fixture
def setup(tmp_path, monkeypatch, sim):
    """Config at the simulator, Alice's .env with the old key, fake docker on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER.format(python=sys.executable))
    docker.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_DOCKER_LOG", str(tmp_path / "docker.log"))
    monkeypatch.setenv("ALICE_TEST_OLD_KEY", OLD_KEY)
    alice = tmp_path / "alice"
    alice.mkdir()
    env = alice / ".env"
    env.write_text(ENV_TEXT)
    env.chmod(0o600)
    doc = {"targets": {"openai": {"base_url": sim.urls["openai"],
                                  "api_key": "${ALICE_TEST_OLD_KEY}", "timeout_ms": 2000},
                       "gateway": {"url": sim.urls["gateway"]},
                       "backend": {"url": sim.urls["backend"]}, "host": {"gpu": "off"}},
           "agent": {"data_path": str(tmp_path / "state.db")},
           "remediation": {"compose_dir": str(alice)}}
    config = tmp_path / "alice-ops.yaml"
    config.write_text(yaml.safe_dump(doc))
    return {"config": config, "env": env, "tmp": tmp_path, "log": tmp_path / "docker.log"}


def docker_calls(setup) -> list[dict]:
    log = setup["log"]
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


def rotate(setup, capsys, monkeypatch, key: str, *extra: str):
    monkeypatch.setattr(sys, "stdin", io.StringIO(key + "\n"))
    code = main(["rotate-key", "--config", str(setup["config"]), "--env-file",
                 str(setup["env"]), "--json", *extra])
    out = capsys.readouterr()
    for secret in (NEW_KEY, OLD_KEY, key):
        assert secret not in out.out + out.err
    return code, json.loads(out.out) if out.out else None, out.err


def backups(setup) -> list[Path]:
    return sorted(setup["env"].parent.glob(".env.bak-*"))


def test_a_bad_key_is_rejected_before_env_changes(setup, capsys, monkeypatch):
    code, doc, _ = rotate(setup, capsys, monkeypatch, "sk-proj-not-the-right-key-000000000",
                          "--execute")
    assert code == 2 and doc["outcome"] == "rejected"
    assert "rejected the new key (HTTP 401" in doc["reason"]
    assert setup["env"].read_text() == ENV_TEXT
    assert backups(setup) == [] and docker_calls(setup) == []


def test_a_validation_reason_that_echoes_the_key_is_redacted(setup, capsys, monkeypatch):
    async def echoing(config, key):  # e.g. an error text quoting the request
        return "unreachable", f"cannot validate the new key: bad header {key!r}"

    monkeypatch.setattr("agent.security.rotate.validate_key", echoing)
    code, doc, _ = rotate(setup, capsys, monkeypatch, NEW_KEY, "--execute")  # asserts no key
    assert code == 2 and doc["outcome"] == "failed"
    assert "bad header" in doc["reason"]
    with Store.open(setup["tmp"] / "state.db") as store:
        assert NEW_KEY not in json.dumps([r.detail for r in store.audit_log()])


def test_dry_run_validates_and_shows_the_plan_only(setup, capsys, monkeypatch):
    code, doc, _ = rotate(setup, capsys, monkeypatch, NEW_KEY)
    assert code == 0 and doc["outcome"] == "planned" and doc["dry_run"] is True
    assert [s["step"] for s in doc["plan"]] == ["validate", "write_env", "restart_gateway",
                                                "restart_backend", "verify"]
    assert doc["plan"][2]["argv"] == ["docker", "compose", "restart", "voice-gateway"]
    assert doc["fingerprint"] == {"new": fingerprint(NEW_KEY), "old": fingerprint(OLD_KEY)}
    assert setup["env"].read_text() == ENV_TEXT and docker_calls(setup) == []


def test_a_good_key_rotates(setup, capsys, monkeypatch):
    key_file = setup["tmp"] / "new.key"
    key_file.write_text(NEW_KEY + "\n")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code = main(["rotate-key", "--config", str(setup["config"]), "--env-file",
                 str(setup["env"]), "--key-file", str(key_file), "--execute", "--json"])
    out = capsys.readouterr()
    assert NEW_KEY not in out.out + out.err and OLD_KEY not in out.out + out.err
    doc = json.loads(out.out)
    assert code == 0 and doc["outcome"] == "rotated", doc
    env = parse_env(setup["env"].read_text())
    assert env == {"ALICE_MODE": "hybrid", "OPENAI_API_KEY": NEW_KEY,
                   "OLLAMA_URL": "http://localhost:11434"}
    assert stat.S_IMODE(setup["env"].stat().st_mode) == 0o600
    [backup] = backups(setup)
    assert backup.read_text() == ENV_TEXT and stat.S_IMODE(backup.stat().st_mode) == 0o600
    calls = docker_calls(setup)
    assert [c["argv"] for c in calls] == [["compose", "restart", "voice-gateway"],
                                          ["compose", "restart", "alice-backend"]]
    for call in calls:  # never in a child's argv or environment
        assert NEW_KEY not in json.dumps(call)
    with Store.open(setup["tmp"] / "state.db") as store:
        [record] = store.audit_log(action="rotate_key")
    assert record.outcome == "rotated" and record.detail["new_fingerprint"] == fingerprint(NEW_KEY)
    assert NEW_KEY not in json.dumps(record.detail) and OLD_KEY not in json.dumps(record.detail)


def test_a_failed_verification_rolls_back(setup, capsys, monkeypatch, sim):
    sim.set_scenario("gateway-down")
    code, doc, _ = rotate(setup, capsys, monkeypatch, NEW_KEY, "--execute",
                          "--verify-timeout", "1")
    assert code == 1 and doc["outcome"] == "rolled_back", doc
    assert "gateway critical" in doc["reason"] and "old key is back" in doc["reason"]
    assert parse_env(setup["env"].read_text())["OPENAI_API_KEY"] == OLD_KEY
    assert [s["step"] for s in doc["steps"]] == [
        "validate", "write_env", "restart_gateway", "restart_backend", "verify",
        "rollback_env", "rollback_restart_gateway", "rollback_restart_backend"]
    assert [c["argv"][-1] for c in docker_calls(setup)] == [
        "voice-gateway", "alice-backend", "voice-gateway", "alice-backend"]
    assert backups(setup)  # the new-key file was kept too, before the old one came back


def test_a_failed_restart_rolls_back(setup, capsys, monkeypatch):
    monkeypatch.setenv("FAKE_DOCKER_EXIT", "1")
    code, doc, _ = rotate(setup, capsys, monkeypatch, NEW_KEY, "--execute")
    assert doc["outcome"] == "failed" and "ROLLBACK INCOMPLETE" in doc["reason"]
    assert code == 2
    # the old key was still written back before the (failing) restart
    assert parse_env(setup["env"].read_text())["OPENAI_API_KEY"] == OLD_KEY


def test_bad_input_is_one_line(setup, capsys, monkeypatch):
    code, doc, err = rotate(setup, capsys, monkeypatch, "  ")
    assert err == "alice-ops: rotate-key: no key given (an empty stdin or key file)\n"
    # with --json the same line is the error document on stdout
    assert code == 2 and doc == {"error": err.strip().removeprefix("alice-ops: ")}
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code = main(["rotate-key", "--config", str(setup["config"]), "--key-file",
                 str(setup["tmp"] / "missing.key")])
    assert code == 2
    assert capsys.readouterr().err.startswith("alice-ops: rotate-key --key-file: ")


def test_a_running_remediation_or_read_only_mode_refuses_before_any_write(
        setup, capsys, monkeypatch):
    from agent.config import load_config
    from agent.remediation.lock import RemediationLock, lock_path

    with RemediationLock(lock_path(load_config(setup["config"]))):  # a playbook is running
        code, doc, err = rotate(setup, capsys, monkeypatch, NEW_KEY, "--execute")
    assert code == 2 and doc == {"error": err.strip().removeprefix("alice-ops: ")}
    assert err.startswith("alice-ops: rotate-key: another remediation is running (pid ")
    assert err.rstrip().endswith("nothing written")
    setup["config"].write_text(setup["config"].read_text() + "read_only: true\n")
    code, doc, err = rotate(setup, capsys, monkeypatch, NEW_KEY, "--execute")
    assert code == 2 and "read-only mode" in err
    assert setup["env"].read_text() == ENV_TEXT
    assert backups(setup) == [] and docker_calls(setup) == []


def _spawn(setup, *extra: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.cli.main", "rotate-key", "--config",
         str(setup["config"]), "--env-file", str(setup["env"]), "--execute", "--json", *extra],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    proc.stdin.write(NEW_KEY.encode() + b"\n")
    proc.stdin.close()
    proc.stdin = None  # given and closed: communicate() must not flush it
    return proc


def _env_is_whole(setup) -> str:
    """The .env parses and holds one of the two keys, whole; returns which."""
    env = parse_env(setup["env"].read_text())
    assert env["ALICE_MODE"] == "hybrid" and env["OLLAMA_URL"] == "http://localhost:11434"
    assert env["OPENAI_API_KEY"] in (OLD_KEY, NEW_KEY)
    return "new" if env["OPENAI_API_KEY"] == NEW_KEY else "old"


@pytest.mark.parametrize("kill_at", ["voice-gateway", "alice-backend"])
def test_a_crash_between_steps_leaves_a_whole_env_and_a_backup(setup, monkeypatch, kill_at):
    monkeypatch.setenv("FAKE_DOCKER_KILL", kill_at)  # the restart kills the rotation
    proc = _spawn(setup)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, err.decode()
    assert _env_is_whole(setup) == "new"
    [backup] = backups(setup)
    assert parse_env(backup.read_text())["OPENAI_API_KEY"] == OLD_KEY
    assert NEW_KEY.encode() not in out + err


def test_killed_at_any_moment_the_env_is_old_or_new_never_half(setup):
    rng = random.Random(11)
    for _ in range(5):
        setup["env"].write_text(ENV_TEXT)
        for b in backups(setup):
            b.unlink()
        proc = _spawn(setup)
        time.sleep(rng.uniform(0.05, 1.0))  # from start-up to after the restarts
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        if _env_is_whole(setup) == "new":  # written: the old file is always kept beside it
            assert any(parse_env(b.read_text())["OPENAI_API_KEY"] == OLD_KEY
                       for b in backups(setup))


def test_the_pure_plan_and_verdict():
    from vocab.model import Status
    from agent.security.rotate import judge_verification, plan_steps
    from rules.evaluate import ComponentStatus, Report

    steps = plan_steps(".env", "OPENAI_API_KEY", {"gateway": "gw", "backend": "be"},
                       lambda s: ["docker", "compose", "restart", s], "http://x/v1", "sha256:ab")
    assert [s.argv[-1] for s in steps if s.argv] == ["gw", "be"]
    report = Report(Status.CRITICAL, 0.0, (
        ComponentStatus("openai", Status.OK, "fine", 1.0, ()),
        ComponentStatus("gateway", Status.CRITICAL, "connection refused", 1.0, ())))
    assert judge_verification(report, ("openai", "gateway")) == \
        (False, "gateway critical: connection refused")
    assert judge_verification(report, ("openai",)) == (True, "openai ok")
    assert judge_verification(report, ("backend",)) == (False, "backend: not checked")

