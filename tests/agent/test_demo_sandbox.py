"""Every `--demo` is a sandbox: all of its state in one temporary directory that is gone
after exit, nothing new in HOME, the XDG directories or the current directory, and its
compose and command steps recorded ("demo: would run ...") instead of run.

Each command runs as a subprocess with HOME, XDG_*_HOME, TMPDIR and the working directory
pointed at fresh directories, and fake `docker` and `nvidia-smi` first on PATH that leave a
file behind if they are ever called. The trees are listed before and after.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

BIN = Path(sys.executable).parent
FAKE = """#!/bin/sh
echo "$0 $*" >> "{calls}/$(basename "$0")-$$"
exit 0
"""


class Sandbox:
    """Fresh HOME, XDG dirs, TMPDIR, cwd and a PATH whose docker/nvidia-smi record calls."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dirs = {name: root / name for name in
                     ("home", "config", "data", "state", "cache", "runtime", "cwd", "tmp")}
        for d in self.dirs.values():
            d.mkdir()
        self.calls = root / "calls"
        self.calls.mkdir()
        fakebin = root / "fakebin"
        fakebin.mkdir()
        for name in ("docker", "nvidia-smi"):
            exe = fakebin / name
            exe.write_text(FAKE.format(calls=self.calls))
            exe.chmod(0o755)
        self.out = root / "out"  # where a report is asked to go
        self.out.mkdir()
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("XDG_", "ALICE_OPS"))}
        env.update(HOME=str(self.dirs["home"]), XDG_CONFIG_HOME=str(self.dirs["config"]),
                   XDG_DATA_HOME=str(self.dirs["data"]), XDG_STATE_HOME=str(self.dirs["state"]),
                   XDG_CACHE_HOME=str(self.dirs["cache"]),
                   XDG_RUNTIME_DIR=str(self.dirs["runtime"]), TMPDIR=str(self.dirs["tmp"]),
                   PATH=f"{fakebin}{os.pathsep}{env.get('PATH', '')}", COLUMNS="100",
                   PYTHONDONTWRITEBYTECODE="1")
        self.env = env
        self.before = self.tree()

    def tree(self) -> set[str]:
        return {str(p.relative_to(self.root)) for d in self.dirs.values() for p in d.rglob("*")}

    def run(self, argv: list[str], timeout: float = 90) -> subprocess.CompletedProcess:
        return subprocess.run(argv, cwd=self.dirs["cwd"], env=self.env, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                              check=False)

    def assert_untouched(self) -> None:
        assert self.tree() == self.before, f"new files: {sorted(self.tree() - self.before)}"
        assert list(self.calls.iterdir()) == [], "a real command ran"


@pytest.fixture
def box(tmp_path) -> Sandbox:
    return Sandbox(tmp_path)


ONE_SHOT = [
    (["alice-ops", "check", "--demo", "--json"], (0, 1, 2, 3)),
    (["alice-ops", "checklist", "daily", "--demo", "--non-interactive", "--json"], (0, 1, 2, 3)),
    (["alice-ops", "checklist", "weekly", "--demo", "--json"], (0, 1, 2, 3)),  # stdin closed
    (["alice-ops", "cost", "--demo", "--json"], (0, 1, 2, 3)),
    (["alice-ops", "capacity", "--demo", "--json"], (0, 1, 2, 3)),
    (["alice-ops", "nlu-bench", "--demo", "--json"], (0, 1, 2, 3)),
    (["alice-ops", "remediate", "--demo", "list", "--json"], (0,)),
    (["alice-ops", "remediate", "--demo", "plan", "openai-outage", "--json"], (0,)),
    (["alice-ops", "remediate", "--demo", "history", "--json"], (0,)),
]


@pytest.mark.parametrize("argv,codes", ONE_SHOT, ids=lambda a: " ".join(a)
                         if isinstance(a, list) else None)
def test_a_one_shot_demo_leaves_nothing_behind(box, argv, codes):
    done = box.run([str(BIN / argv[0]), *argv[1:]])
    assert done.returncode in codes, done.stderr
    json.loads(done.stdout)
    assert "Traceback" not in done.stderr
    box.assert_untouched()


def test_remediate_demo_run_records_compose_steps_instead_of_running_them(box):
    done = box.run([str(BIN / "alice-ops"), "remediate", "--demo", "run", "openai-outage",
                    "--yes", "--json"])
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    compose = [s for s in doc["steps"] if s["type"] == "compose"]
    assert compose and all(s["ok"] for s in compose)
    for step in compose:
        assert step["stdout"].startswith("demo: would run docker compose ")
        assert " ".join(step["argv"]) in step["stdout"]
    env_step = next(s for s in doc["steps"] if s["type"] == "env")
    sandbox = Path(env_step["file"]).parent.parent
    assert sandbox.parent == box.dirs["tmp"] and sandbox.name.startswith("alice-ops-demo-")
    assert not sandbox.exists()  # removed at exit, with the .env and its backup
    box.assert_untouched()


def test_remediate_demo_run_says_what_would_run(box):
    done = box.run([str(BIN / "alice-ops"), "remediate", "--demo", "run", "full-recovery",
                    "--yes"])
    assert done.returncode == 0, done.stderr
    assert "demo: would run docker compose up -d --no-deps redis-cache" in done.stdout
    box.assert_untouched()


def test_remediate_demo_refuses_a_real_state_file(box):
    done = box.run([str(BIN / "alice-ops"), "remediate", "--demo", "history",
                    "--data", str(box.dirs["data"] / "state.db")])
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "alice-ops: remediate --data: not used with --demo (the demo keeps its state in a "
        "temporary directory)"]
    box.assert_untouched()


@pytest.mark.parametrize("name,fmt", [("week.md", "md"), ("week.html", "html")])
def test_report_from_demo_data_says_so_on_its_first_line(box, name, fmt):
    out = box.out / name
    done = box.run([str(BIN / "alice-ops"), "report", "weekly", "--demo", "--out", str(out),
                    "--json"])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["demo"] is True
    first = out.read_text(encoding="utf-8").splitlines()[0]
    assert "DEMO DATA" in first and "simulated week" in first
    box.assert_untouched()


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout} s")
        time.sleep(0.05)


def test_agent_demo_keeps_state_lock_and_env_in_its_sandbox(box):
    token = "demo-token-0123456789abcdef"
    box.env["ALICE_OPS_TOKEN"] = token
    log = box.root / "agent.log"
    with open(log, "w") as err:
        proc = subprocess.Popen([str(BIN / "alice-agent"), "--demo", "--listen", "127.0.0.1:0"],
                                cwd=box.dirs["cwd"], env=box.env, stdout=subprocess.DEVNULL,
                                stderr=err, stdin=subprocess.DEVNULL)
    try:
        url = _wait_for(lambda: (m := re.search(r"api listening on (\S+)", log.read_text()))
                        and m.group(1), 30, "the agent did not listen")
        sandboxes = list(box.dirs["tmp"].glob("alice-ops-demo-*"))
        assert len(sandboxes) == 1
        sandbox = sandboxes[0]
        assert (sandbox / "state.db").exists() and (sandbox / "compose" / ".env").exists()
        with httpx.Client(base_url=url, timeout=30,
                          headers={"Authorization": f"Bearer {token}"}) as client:
            assert client.get("/healthz").status_code == 200
            resp = client.post("/api/v1/remediation/openai-outage/run",
                               json={"confirm": "openai-outage", "by": "test"})
            assert resp.status_code == 200, resp.text
            run = resp.json()
        compose = [s for s in run["steps"] if s["type"] == "compose"]
        assert compose and all(s["stdout"].startswith("demo: would run docker compose")
                               for s in compose)
        assert (sandbox / "remediation.lock").exists()  # the lock beside the demo's state
        assert "VOICE_ARCHITECTURE=local_only" in (sandbox / "compose" / ".env").read_text()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in log.read_text()
    assert not sandbox.exists()
    box.assert_untouched()


async def test_tui_demo_remediation_from_the_app_records_instead_of_running(
        tmp_path, monkeypatch):
    """`alice-tui --demo` in this process (Textual's run_test), a playbook run through the
    app's source: the fake docker never runs, nothing lands outside the sandbox."""
    import tempfile

    from tui.app import DashboardApp
    from tui.cli import make_source, plan
    from tui.cli import build_parser

    box = Sandbox(tmp_path)
    for key in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME",
                "PATH"):
        monkeypatch.setenv(key, box.env[key])
    monkeypatch.setattr(tempfile, "tempdir", str(box.dirs["tmp"]))
    monkeypatch.chdir(box.dirs["cwd"])
    source = make_source(plan(build_parser().parse_args(["--demo"]), box.env))
    app = DashboardApp(source=source, read_only=False, ascii_only=True, keys={})
    await source.start()
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            sandbox = next(box.dirs["tmp"].glob("alice-*"))
            run = await app.source.remediation_run("openai-outage", "openai-outage", "tui")
            await pilot.pause()
            compose = [s for s in run["steps"] if s["type"] == "compose"]
            assert compose and all(s["stdout"].startswith("demo: would run docker compose")
                                   for s in compose)
            assert (sandbox / "compose" / ".env").exists()
    finally:
        await source.close()
    assert not sandbox.exists()
    box.assert_untouched()
