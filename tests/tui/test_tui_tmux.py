"""A real terminal: tmux runs `alice-tui --demo` at 80x24; the overview shows every
component with its status word; `q` quits with exit status 0."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

COMPONENTS = ("openai", "ollama", "gateway", "backend", "prometheus", "host")


@pytest.fixture(autouse=True)
def _tmux_present():
    if shutil.which("tmux") is None:  # ./scripts/test installs it: a missing one is a failure
        pytest.fail("tmux is not installed (./scripts/test installs it from Debian)")


def tmux(socket: str, *args: str) -> str:
    return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True,
                          timeout=10).stdout


def poll(predicate, timeout: float, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


@pytest.mark.parametrize("extra", [[], ["--ascii"]], ids=["unicode", "ascii"])
def test_demo_in_tmux_shows_the_overview_and_quits_cleanly(tmp_path, extra):
    socket = f"alice-tui-test-{os.getpid()}-{len(extra)}"
    rc_file = tmp_path / "rc"
    exe = Path(sys.executable).with_name("alice-tui")
    command = f"{shlex.join([str(exe), '--demo', *extra])}; echo $? > {shlex.quote(str(rc_file))}"
    env = dict(os.environ, TERM="xterm-256color")
    env.pop("TMUX", None)
    subprocess.run(["tmux", "-L", socket, "-f", "/dev/null", "new-session", "-d", "-s", "tui",
                    "-x", "80", "-y", "24", "sh", "-c", command], check=True, env=env,
                   timeout=10)
    try:
        def overview() -> str | None:
            pane = tmux(socket, "capture-pane", "-p", "-t", "tui")
            ready = all(name in pane for name in COMPONENTS) and "1 Overview" in pane \
                and ("  OK" in pane or "CRITICAL" in pane or "WARNING" in pane)
            return pane if ready else None

        pane = poll(overview, timeout=15)
        assert pane, tmux(socket, "capture-pane", "-p", "-t", "tui")
        lines = pane.splitlines()
        assert len(lines) <= 24 and all(len(line) <= 80 for line in lines)
        if extra:
            assert all(line.isascii() for line in lines), pane
        tmux(socket, "send-keys", "-t", "tui", "q")
        assert poll(lambda: rc_file.exists() and rc_file.read_text().strip(), timeout=15), \
            "alice-tui did not exit after q"
        assert rc_file.read_text().strip() == "0"
    finally:
        tmux(socket, "kill-server")
