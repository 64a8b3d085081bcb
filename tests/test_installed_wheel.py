"""The tool as users install it: a wheel built from a copy of the checkout, installed
non-editable into a fresh venv outside the checkout, run from another directory with
HOME and XDG_* in temporary directories (issue 11: an editable venv hid a missing .tcss)."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from waiting import wait_for

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("agent", "rules", "alerts", "tui", "simulator")
COMPONENTS = ("openai", "ollama", "gateway", "backend", "prometheus", "host")
INSTALL_TIMEOUT_S = 540

pytestmark = pytest.mark.timeout(INSTALL_TIMEOUT_S + 60)


def _source_files() -> list[Path]:
    """What a fresh clone holds: tracked files plus untracked ones git does not ignore."""
    if (ROOT / ".git").exists() and shutil.which("git"):
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], cwd=ROOT, capture_output=True,
                             check=True, timeout=60).stdout
        return [Path(name) for name in out.decode().split("\0")
                if name and (ROOT / name).is_file()]
    skip = {".venv", ".git", "build", "dist", "__pycache__", ".hypothesis", ".mypy_cache",
            ".ruff_cache", ".pytest_cache"}
    return [p.relative_to(ROOT) for p in ROOT.rglob("*")
            if p.is_file() and not skip.intersection(p.relative_to(ROOT).parts)
            and not any(part.endswith(".egg-info") for part in p.relative_to(ROOT).parts)]


def _run(argv: list[str], **kw) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, capture_output=True, text=True, **kw)
    assert proc.returncode == 0, f"{shlex.join(argv)} -> {proc.returncode}\n" \
        f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


class Installed:
    """A fresh venv with the wheel installed, and a clean environment to run it in."""

    def __init__(self, base: Path) -> None:
        src, wheels, self.venv = base / "src", base / "wheels", base / "venv"
        self.files = _source_files()
        for rel in self.files:
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            try:
                shutil.copy2(ROOT / rel, src / rel)
            except FileNotFoundError:  # an editor's temporary file, gone since the listing
                continue
        pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
        _run([*pip, "wheel", "--no-deps", "-q", "-w", str(wheels), str(src)],
             timeout=INSTALL_TIMEOUT_S, cwd=base)
        (self.wheel,) = wheels.glob("alice_ops-*.whl")
        _run([sys.executable, "-m", "venv", "--without-pip", str(self.venv)], timeout=120)
        # the dependencies pinned to the set this suite already resolved (and the pip cache
        # holds), so the install is quick and tests the packaging, not the index of the day
        frozen = _run([*pip, "freeze", "--exclude-editable"], timeout=120).stdout
        constraints = base / "constraints.txt"
        constraints.write_text("".join(line + "\n" for line in frozen.splitlines()
                                       if "==" in line and not line.startswith("alice-ops")))
        _run([*pip, "--python", str(self.venv / "bin" / "python"), "install", "-q",
              "-c", str(constraints), str(self.wheel)], timeout=INSTALL_TIMEOUT_S, cwd=base)
        self.cwd = base / "cwd"
        home = base / "home"
        for d in (self.cwd, home):
            d.mkdir()
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("XDG_", "ALICE_OPS_", "PYTHON", "VIRTUAL_ENV", "TMUX"))}
        self.env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
                        XDG_DATA_HOME=str(home / ".local/share"),
                        XDG_STATE_HOME=str(home / ".local/state"),
                        XDG_CACHE_HOME=str(home / ".cache"), TERM="xterm-256color",
                        PATH=f"{self.venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    return Installed(tmp_path_factory.mktemp("installed-wheel"))


def test_the_wheel_ships_every_data_file_of_the_packages(installed):
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    data = [str(p) for p in installed.files
            if p.parts[0] in PACKAGES and p.suffix != ".py" and len(p.parts) > 1
            and not p.name.startswith(".")]  # editors' hidden temporary files
    assert data, "no data files found in the packages: the listing is broken"
    assert [name for name in data if name not in names] == []


def test_the_installed_code_is_the_wheel_not_the_checkout(installed):
    code = "import agent, rules, alerts, tui, simulator; " \
           "print('\\n'.join(m.__file__ for m in (agent, rules, alerts, tui, simulator)))"
    out = _run([installed.bin("python"), "-c", code], cwd=installed.cwd, env=installed.env,
               timeout=60).stdout
    site = installed.venv.resolve()
    assert all(Path(line).resolve().is_relative_to(site) for line in out.splitlines()), out


def test_check_demo_json(installed):
    proc = subprocess.run([installed.bin("alice-ops"), "check", "--demo", "--json"],
                          cwd=installed.cwd, env=installed.env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode in (0, 1, 2, 3), proc.stderr[-3000:]
    doc = json.loads(proc.stdout)
    assert isinstance(doc, dict) and doc, proc.stdout[:500]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthz(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return json.loads(resp.read())
    except (OSError, urllib.error.URLError, ValueError):
        return None


def test_agent_demo_answers_healthz_and_stops_on_sigterm(installed):
    port = _free_port()
    proc = subprocess.Popen([installed.bin("alice-agent"), "--demo", "--listen",
                             f"127.0.0.1:{port}"], cwd=installed.cwd, env=installed.env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        health = wait_for(lambda: proc.poll() is not None
                          or (_healthz(f"http://127.0.0.1:{port}/healthz") or {})
                          .get("status") == "ok", timeout=60)
        assert health and proc.poll() is None, f"alice-agent --demo: rc {proc.poll()}"
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, out[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def _tmux(sock: str, *args: str) -> str:
    return subprocess.run(["tmux", "-L", sock, *args], capture_output=True, text=True,
                          timeout=10).stdout


def test_tui_demo_paints_the_overview_in_tmux_and_quits_on_q(installed):
    if shutil.which("tmux") is None:  # ./scripts/test installs it: a missing one is a failure
        pytest.fail("tmux is not installed (./scripts/test installs it from Debian)")
    sock = f"alice-wheel-{os.getpid()}"
    rc_file = installed.cwd.parent / "tui.rc"
    command = f"{shlex.quote(installed.bin('alice-tui'))} --demo; " \
              f"echo $? > {shlex.quote(str(rc_file))}"
    conf = installed.cwd.parent / "tmux.conf"  # a crash stays on the pane, for the message
    conf.write_text("set -g remain-on-exit on\n")
    subprocess.run(["tmux", "-L", sock, "-f", str(conf), "new-session", "-d", "-s", "tui",
                    "-x", "80", "-y", "24", "-c", str(installed.cwd), "sh", "-c", command],
                   check=True, env=installed.env, timeout=10)
    try:
        def painted() -> bool:
            pane = _tmux(sock, "capture-pane", "-p", "-t", "tui")
            return "1 Overview" in pane and all(name in pane for name in COMPONENTS) \
                and ("  OK" in pane or "CRITICAL" in pane or "WARNING" in pane)

        def dead() -> bool:
            return _tmux(sock, "display-message", "-p", "-t", "tui", "#{pane_dead}").strip() == "1"

        wait_for(lambda: painted() or dead(), timeout=60)
        assert painted(), _tmux(sock, "capture-pane", "-p", "-t", "tui")
        _tmux(sock, "send-keys", "-t", "tui", "q")
        assert wait_for(lambda: rc_file.exists() and rc_file.read_text().strip(), timeout=30), \
            "alice-tui did not exit after q"
        assert rc_file.read_text().strip() == "0"
    finally:
        _tmux(sock, "kill-server")


def test_the_demos_left_nothing_in_the_working_directory(installed):
    assert sorted(p.name for p in installed.cwd.iterdir()) == []
