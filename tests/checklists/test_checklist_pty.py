"""The interactive checklist driven through a pseudo-terminal, as a person would use it:
automatic items pre-filled, manual items asked y/n/skip with a note, every answer
recorded at once, and a second session the same day resumes where the first stopped."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

from checklist_env import SIM_KEY, agent_has_run, write_config

from agent.checklists import store as cstore
from agent.store import Store

ROOT = Path(__file__).resolve().parents[2]
ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")


class Terminal:
    """`alice-ops` on a pty; `expect` reads until a pattern shows, with a deadline."""

    def __init__(self, *argv: str) -> None:
        self.master, slave = pty.openpty()
        env = {**os.environ, "COLUMNS": "160", "LINES": "50", "TERM": "xterm"}
        self.proc = subprocess.Popen([sys.executable, "-m", "agent.cli.main", *argv],
                                     stdin=slave, stdout=slave, stderr=slave, cwd=ROOT,
                                     env=env, close_fds=True)
        os.close(slave)
        self.seen = b""

    def expect(self, pattern: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern.encode(), re.DOTALL)
        while True:
            text = ANSI.sub(b"", self.seen)
            if regex.search(text):
                self.seen = b""
                return text.decode(errors="replace")
            left = deadline - time.monotonic()
            assert left > 0, f"no {pattern!r} on the terminal; saw: {text[-2000:]!r}"
            ready, _, _ = select.select([self.master], [], [], min(left, 0.5))
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # the child closed the terminal
                    chunk = b""
                if not chunk and self.proc.poll() is not None:
                    raise AssertionError(f"exited before {pattern!r}; saw: {text[-2000:]!r}")
                self.seen += chunk

    def send(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\r")

    def eof(self) -> None:
        os.write(self.master, b"\x04")

    def wait(self, timeout: float = 30.0) -> int:
        try:
            while self.proc.poll() is None:  # keep draining so the child never blocks
                ready, _, _ = select.select([self.master], [], [], 0.2)
                if ready:
                    try:
                        self.seen += os.read(self.master, 65536)
                    except OSError:
                        break
                timeout -= 0.2
                assert timeout > 0, "the checklist did not exit"
            return self.proc.wait(timeout=5)
        finally:
            os.close(self.master)


def test_manual_answers_through_the_prompt_are_recorded_and_resumed(sim, tmp_path):
    path = write_config(tmp_path, sim.urls)
    agent_has_run(tmp_path)
    term = Terminal("checklist", "daily", "--config", str(path), "--by", "maria")
    first = term.expect(r"Is the cost per user session flat.*\[y/n/skip\]")
    assert "Run the health check" in first and "all 6 components ok" in first
    assert "[1/5] Cost Management: Analyze cost per user session trends" in first
    term.send("maybe")
    term.expect(r"please answer y .*\[y/n/skip\]")
    term.send("y")
    term.expect("note \\(optional\\): ")
    term.send("flat at 0.4 SEK/session")
    term.expect(r"\[2/5\].*\[y/n/skip\]")
    term.send("skip")
    term.expect("note \\(optional\\): ")
    term.send("")
    term.expect(r"\[3/5\] User Experience: Test voice interaction end-to-end in Swedish")
    term.eof()  # the operator leaves: the answers so far are kept
    assert term.wait() in (0, 1, 2, 3)
    assert SIM_KEY.encode() not in term.seen

    with Store.open(tmp_path / "state.db") as store:
        run = cstore.history(store, "daily")[0]
    cost = run.answers["session_cost_trends"]
    assert (cost.result, cost.note, cost.by, cost.source) == \
        ("pass", "flat at 0.4 SEK/session", "maria", "manual")
    assert run.answers["adjust_routing"].result == "skipped"
    assert "voice_e2e_swedish" not in run.answers
    assert run.answers["services_green"].by == "agent"
    assert run.completed_at is None

    # the same day: only the three open questions are asked, earlier answers kept
    term = Terminal("checklist", "daily", "--config", str(path), "--by", "maria")
    resumed = term.expect(r"\[1/3\] User Experience: Test voice interaction.*\[y/n/skip\]")
    assert "flat at 0.4 SEK/session" in resumed
    for answer in ("y", "n", "y"):
        term.send(answer)
        term.expect("note \\(optional\\): ")
        term.send("checked" if answer == "y" else "HUD shows yesterday")
    term.expect("complete")
    code = term.wait()
    with Store.open(tmp_path / "state.db") as store:
        run = cstore.history(store, "daily")[0]
    assert run.answers["session_cost_trends"].note == "flat at 0.4 SEK/session"
    assert run.answers["hud_display"].result == "fail"
    assert run.completed_at is not None
    assert code == 2  # a failed item makes the run CRITICAL, as `check` would say
