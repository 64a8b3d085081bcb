"""SIGHUP reloads through the same validation as `config validate`: a file that validate
refuses (duplicate key, an override that matches nothing, clashing receivers) is refused
by the running agent, line for line, and the agent keeps running on its old config."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.config import ConfigError, load_config

BIN = Path(sys.executable).parent
GOOD = """targets:
  host: {gpu: off}
agent:
  listen: "127.0.0.1:0"
  data_path: "{data}"
  intervals: {fast_s: 1}
"""
BAD = {
    "duplicate": GOOD + "agent: {}\n",
    "no-row": GOOD + "thresholds: [{component: host, metric: nope, target: 1}]\n",
    "no-alert": GOOD + "alerts: {rules: [{alert: host_helth}]}\n",
    "receivers": GOOD + ('notifiers: {alertmanagers: [{url: "http://a:1"}, '
                         '{url: "http://a:1/x"}]}\n'),
}


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout} s")
        time.sleep(0.05)
    return value


@pytest.mark.parametrize("kind", sorted(BAD))
def test_sighup_refuses_what_validate_refuses(tmp_path, kind):
    path = tmp_path / "alice-ops.yaml"
    path.write_text(GOOD.replace("{data}", str(tmp_path / "state.db")))
    log = tmp_path / "agent.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen([str(BIN / "alice-agent"), "--config", str(path)],
                                stdout=subprocess.DEVNULL, stderr=err,
                                stdin=subprocess.DEVNULL, cwd=tmp_path)
    try:
        _wait(lambda: "api listening on" in log.read_text(), 30, "the agent did not start")
        path.write_text(BAD[kind].replace("{data}", str(tmp_path / "state.db")))
        with pytest.raises(ConfigError) as validate:
            load_config(path)
        proc.send_signal(signal.SIGHUP)
        refused = _wait(lambda: re.findall(r"config reload refused, keeping the running "
                                           r"config: (.*)", log.read_text()),
                        30, "the reload was not refused")
        assert refused == validate.value.problems
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in log.read_text()
