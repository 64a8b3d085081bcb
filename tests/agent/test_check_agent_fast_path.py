"""`alice-ops check --agent URL` is the one-GET fast path: it imports neither pydantic, yaml,
httpx nor the config stack (a fresh process is timed by `scripts/bench`), and it still
sends the token, keeps a path prefix, judges the answer and never prints the token.
The per-command parser `alice-ops` builds for one command reads exactly as the whole one."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from httpstub import QuietHandler, reply, serving  # tests/ is on sys.path

from agent.cli.main import COMMAND_MODULES, build_parser, command_of

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "tok-fast-path-secret-0001"


def snapshot(age_s: float = 1.0, status: str = "warning") -> dict:
    return {"taken_at_unix": time.time() - age_s, "status": status,
            "agent": {"expected_interval_s": 5},
            "components": [{"name": "openai", "status": status, "summary": "p95 high"}],
            "alerts": [{"name": "openai_latency", "state": "firing", "severity": "warning"}]}


class Agent(QuietHandler):
    """An agent at /prefix that wants TOKEN; records what it was asked."""

    seen: list[tuple[str, str | None]] = []

    def do_GET(self) -> None:
        Agent.seen.append((self.path, self.headers.get("Authorization")))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            reply(self, 401, b'{"error": "token"}', "application/json")
        elif self.path != "/prefix/api/v1/snapshot":
            reply(self, 404, b"no", "text/plain")
        else:
            reply(self, 200, json.dumps(snapshot()).encode(), "application/json")


CHILD = """
import json, sys
from agent.cli.main import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "heavy": sorted(m for m in sys.modules
                  if m.split(".")[0] in {"pydantic", "yaml", "httpx", "httpcore", "asyncio",
                                         "rich"} or m == "agent.config")}))
"""


def run_child(*argv: str, env: dict[str, str] | None = None) -> tuple[dict, dict]:
    proc = subprocess.run([sys.executable, "-c", CHILD, *argv], capture_output=True,
                          text=True, timeout=60, cwd=ROOT, env=env, check=False)
    lines = proc.stdout.strip().splitlines()
    assert lines, proc.stderr[-2000:]
    tail = json.loads(lines[-1])
    verdict = json.loads("\n".join(lines[:-1])) if "--json" in argv else {}
    return tail, verdict


def test_check_agent_json_imports_no_config_stack_and_judges_the_answer(tmp_path):
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    Agent.seen = []
    with serving(Agent) as port:
        tail, verdict = run_child("check", "--agent", f"http://127.0.0.1:{port}/prefix/",
                                  "--token-file", str(token), "--json")
    assert tail["heavy"] == [], f"check --agent imported {tail['heavy']}"
    assert tail["code"] == 1  # the agent's own overall status: WARNING
    assert (verdict["alive"], verdict["fresh"], verdict["status"]) == (True, True, "warning")
    assert [a["name"] for a in verdict["alerts"]] == ["openai_latency"]
    assert Agent.seen == [("/prefix/api/v1/snapshot", f"Bearer {TOKEN}")]


def test_check_agent_text_mode_imports_no_config_stack_either(tmp_path):
    with serving(Agent) as port:
        tail, _ = run_child("check", "--agent", f"http://127.0.0.1:{port}/prefix",
                            env={"ALICE_OPS_TOKEN": TOKEN, "PATH": ""})
    assert tail["code"] == 1
    assert [m for m in tail["heavy"] if not m.startswith("rich")] == []  # rich paints it


def test_a_refused_token_is_unknown_and_never_printed(cli, monkeypatch):
    monkeypatch.setenv("ALICE_OPS_TOKEN", "wrong-token-never-shown-99")
    with serving(Agent) as port:
        code, out, err = cli("check", "--agent", f"http://127.0.0.1:{port}/prefix", "--json")
    assert code == 3
    assert json.loads(out)["reason"].endswith("HTTP 401")
    assert "wrong-token-never-shown-99" not in out + err


class Garbage(QuietHandler):
    def do_GET(self) -> None:
        self.wfile.write(b"this is not HTTP\r\n\r\n")


@pytest.mark.parametrize("handler, reason", [
    (Garbage, "no answer: BadStatusLine: this is not HTTP"),
])
def test_a_broken_answer_is_critical_in_one_line(cli, handler, reason):
    with serving(handler) as port:
        code, out, _ = cli("check", "--agent", f"http://127.0.0.1:{port}", "--json")
    doc = json.loads(out)
    assert (code, doc["alive"]) == (2, False)
    assert doc["reason"] == reason


def test_nothing_listening_is_critical(cli):
    import socket

    with socket.socket() as sock:  # a port that was free a moment ago: refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, out, _ = cli("check", "--agent", f"http://127.0.0.1:{port}", "--json")
    doc = json.loads(out)
    assert (code, doc["alive"]) == (2, False)
    assert doc["reason"].startswith("no answer: ConnectionRefusedError")


def _helps(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> dict:
    found = {path: parser.format_help()}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.update(_helps(sub, (*path, name)))
    return found


def test_each_one_command_parser_reads_as_the_whole_one():
    whole = _helps(build_parser())
    assert {path[0] for path in whole if path} == set(COMMAND_MODULES)
    for command in COMMAND_MODULES:
        one = _helps(build_parser(command))
        assert (command,) in one
        assert all(text == whole[path] for path, text in one.items() if path), command


@pytest.mark.parametrize("argv, command", [
    (["check", "--agent", "http://a"], "check"),
    (["--json", "-c", "check", "alerts", "list"], "alerts"),  # -c takes a value
    (["--config", "x.yaml", "cost"], "cost"),
    (["--help", "check"], None),
    (["bogus"], None),
    ([], None),
])
def test_command_of(argv, command):
    assert command_of(argv) == command


def test_a_bad_argument_is_named_as_the_whole_parser_names_it(cli):
    code, _, err = cli("check", "--agent")
    assert code == 3
    assert err.strip() == ("alice-ops: check: argument --agent: expected one argument "
                           "(see --help)")
    code, _, err = cli("check", "stray")
    assert code == 3
    assert err.strip() == "alice-ops: check: unrecognized arguments: stray (see --help)"
