"""`alice-ops check | head -1`: a reader of stdout that goes away never changes the exit status
(the Nagios one, not rich's or Python's 1 or 120), and nothing is printed about it: stdout
is pointed at /dev/null as CPython's docs advise. A stdout that cannot be written for
another reason (a full disk) is said in one line and is UNKNOWN."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def refused_url() -> str:
    with socket.socket() as sock:  # free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def config(tmp_path) -> Path:
    path = tmp_path / "alice-ops.yaml"
    path.write_text(f"targets:\n  backend: {{url: \"{refused_url()}\", timeout_ms: 2000}}\n")
    return path


def spawn(*args: str, stdout) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "agent.cli.main", *args], cwd=ROOT,
                            stdout=stdout, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("mode", [[], ["--json"], ["--verbose"]])
def test_a_reader_that_goes_away_keeps_the_checks_exit_status(config, mode):
    with spawn("check", "-c", str(config), *mode, stdout=subprocess.PIPE) as full:
        out, _ = full.communicate(timeout=60)
    assert full.returncode == 2, out  # the backend refuses: CRITICAL
    assert len(out.splitlines()) > 1

    with spawn("check", "-c", str(config), *mode, stdout=subprocess.PIPE) as gone:
        gone.stdout.close()  # the reader is gone before the check writes its first line
        err = gone.stderr.read()
        assert gone.wait(timeout=60) == 2
    assert err == "", err  # no traceback, no "Exception ignored", no broken-pipe line


def test_check_agent_keeps_its_status_too():
    with spawn("check", "--agent", refused_url(), stdout=subprocess.PIPE) as gone:
        gone.stdout.close()
        err = gone.stderr.read()
        assert gone.wait(timeout=60) == 2  # no agent answers: CRITICAL
    assert err == "", err


@pytest.mark.parametrize("mode", [[], ["--json"]])
def test_a_stdout_that_cannot_be_written_is_one_line_and_unknown(config, mode):
    with open("/dev/full", "w") as full:
        with spawn("check", "-c", str(config), *mode, stdout=full) as proc:
            err = proc.stderr.read()
            assert proc.wait(timeout=60) == 3
    assert err.splitlines() == ["alice-ops: check: No space left on device"], err
