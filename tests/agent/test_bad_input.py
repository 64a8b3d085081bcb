"""Every bad input to alice-ops, alice-agent and alice-tui is one line on stderr
(`<prog>: <what>: <why>`), the documented exit code, never a traceback; with `--json` a
fatal error is also `{"error": ...}` on stdout.

The table is built from the argparse parsers themselves, so a new subcommand or option
is walked without editing this file: every leaf command gets an unknown flag, its
required arguments left out, a bad value for every typed or choice option, and a set of
bad config files; explicit rows add unreadable files, closed stdin and bad values that
only the command can judge.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from agent.cli.main import NAGIOS_COMMANDS, build_parser

BIN = Path(sys.executable).parent
# arguments a leaf needs to get past argparse, by dest (None: leave it out)
FILL = {"matchers": "component=openai", "id": "s-1", "alert": "openai_health", "name": "x",
        "path": None, "duration": "1h", "comment": "why", "out": "{tmp}/out.md",
        "backend": "http://127.0.0.1:9"}
# commands that read no config file (a new one fails the bad-config rows until added here)
CONFIG_FREE = {("config", "init"), ("config", "path"), ("config", "schema"), ("discover",)}
BAD_CONFIGS = {  # file name -> (content, text the one line must contain)
    "missing.yaml": (None, "config file not found"),
    "adir.yaml": ("<dir>", "is a directory"),
    "binary.yaml": (b"\xff\xfe\x00bad", "cannot read config file"),
    "syntax.yaml": ("targets: [\n", "YAML syntax error"),
    "duplicate.yaml": ("targets: {}\ncheck: {}\ntargets: {}\n",
                       "3: targets: duplicate key (first at line 1)"),
    "unknown-key.yaml": ("targetz: {}\n", "targetz: unknown key"),
    "no-row.yaml": ("thresholds: [{component: openai, metric: nope, target: 1}]\n",
                    "no default row openai/nope"),
    "no-alert.yaml": ("alerts: {rules: [{alert: openai_helth}]}\n",
                      "no alert named 'openai_helth'"),
    "receivers.yaml": ('notifiers: {alertmanagers: [{url: "http://a:1"}, '
                       '{url: "http://a:1/x"}]}\n', "is also the name of alertmanagers[0]"),
    "gpu-on.yaml": ("targets: {host: {gpu: on}}\n", "targets.host.gpu"),
}
GOOD_CONFIG = ('targets: {backend: {url: "http://127.0.0.1:9", timeout_ms: 200}}\n'
               "agent: {data_path: '{tmp}/state.db'}\n")


@dataclass(frozen=True)
class Row:
    prog: str
    argv: tuple[str, ...]
    code: int
    says: str  # the one line contains this ({tmp} is the test's directory)
    stdin_closed: bool = False
    json_code: int | None = None  # with --json when it differs (config validate: 1)
    prefix: str = ""  # the line's start, when not `<prog>: ` (`alice-ops sim: `)


def leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
    for action in subs:
        for name, sub in action.choices.items():
            yield from leaves(sub, path + (name,))


def fill(parser: argparse.ArgumentParser, skip: str = "") -> list[str]:
    out: list[str] = []
    for a in parser._actions:
        if a.dest == skip or FILL.get(a.dest, "") is None:
            continue
        if not a.option_strings and a.dest in FILL and a.nargs != "?":
            out.append(FILL[a.dest])
        elif a.option_strings and a.required:
            out += [a.option_strings[0], FILL.get(a.dest, "x")]
    return out


def ops_rows() -> list[Row]:
    rows = []
    for path, parser in leaves(build_parser()):
        if path[0] == "sim":  # its own parser (simulator.cli), tested there
            continue
        code = 3 if path[0] in NAGIOS_COMMANDS else 2
        base = (*path, *fill(parser))
        rows.append(Row("alice-ops", (*base, "--no-such-flag"), code,
                        "unrecognized arguments: --no-such-flag"))
        required = [a for a in parser._actions if a.required or
                    (not a.option_strings and a.nargs not in ("?", "*"))]
        if required:
            rows.append(Row("alice-ops", path, code, "required"))
        for a in parser._actions:
            if a.option_strings and (a.type is not None or a.choices):
                flag = a.option_strings[0]
                rows.append(Row("alice-ops", (*path, *fill(parser, skip=a.dest), flag,
                                              "bogus"), code, flag))
        if path in CONFIG_FREE:
            continue
        for name, (_content, says) in BAD_CONFIGS.items():
            rows.append(Row("alice-ops", (*base, "--config", f"{{tmp}}/{name}"), code, says,
                            json_code=1 if path == ("config", "validate") else None))
    return rows


EXPLICIT = [
    Row("alice-ops", ("checklist", "daily", "--config", "{tmp}/good.yaml"), 3,
        "checklist daily: no input to answer the manual items from (stdin is closed); use "
        "--non-interactive for cron", stdin_closed=True),
    Row("alice-ops", ("checklist", "history", "--limit", "0"), 3, "--limit"),
    Row("alice-ops", ("remediate", "history", "--limit", "-5"), 2,
        "remediate history --limit: expected 1 or more, got -5"),
    Row("alice-ops", ("check", "--demo", "--scenario", "no-such"), 3, "unknown scenario"),
    Row("alice-ops", ("check", "--agent", "ftp://agent:9321"), 3, "expected an http(s) URL"),
    Row("alice-ops", ("check", "--agent", "http://127.0.0.1:9321", "--token-file",
                      "{tmp}/no-such-token"), 3, "--token-file"),
    Row("alice-ops", ("check", "--token-file", "{tmp}/good.yaml"), 3, "only used with --agent"),
    Row("alice-ops", ("nlu-bench", "--gold-set", "{tmp}/missing.jsonl"), 3, "missing.jsonl"),
    Row("alice-ops", ("nlu-bench", "--gold-set", "{tmp}/adir.yaml"), 3, "adir.yaml"),
    Row("alice-ops", ("nlu-bench", "--gold-set", "{tmp}/binary.yaml"), 3, "binary.yaml"),
    Row("alice-ops", ("report", "weekly", "--out", "{tmp}/no/such/dir/r.md"), 2,
        "does not exist"),
    Row("alice-ops", ("config", "validate", "{tmp}/adir.yaml"), 2, "is a directory",
        json_code=1),
    Row("alice-ops", ("config", "init", "{tmp}/binary.yaml"), 2, "already exists"),
    Row("alice-ops", ("config", "init", "{tmp}/binary.yaml/sub.yaml", "--force"), 2,
        "cannot write"),
    Row("alice-ops", ("alerts", "--data", "{tmp}/adir.yaml", "list"), 2, "adir.yaml"),
    Row("alice-ops", ("remediate", "history", "--data", "{tmp}/adir.yaml"), 2, "adir.yaml"),
    Row("alice-ops", ("remediate", "--demo", "history", "--data", "{tmp}/s.db"), 2,
        "not used with --demo"),
    Row("alice-agent", ("--demo", "--scenario", "no-such"), 2,
        "--scenario: unknown scenario 'no-such'"),
    Row("alice-agent", ("--listen", "bogus"), 2, "argument --listen: expected host:port"),
    Row("alice-agent", ("--listen", "127.0.0.1:99999"), 2,
        "argument --listen: expected host:port, got '127.0.0.1:99999'"),
    Row("alice-agent", ("--scenario", "openai-outage"), 2, "--scenario: only used with --demo"),
    Row("alice-agent", ("--demo", "--data", "{tmp}/s.db"), 2, "--data: not used with --demo"),
    Row("alice-agent", ("--config", "{tmp}/good.yaml", "--data", "{tmp}/adir.yaml"), 2,
        "adir.yaml"),
    Row("alice-tui", ("--attach", "bogus"), 2, "--attach bogus"),
    Row("alice-tui", ("--attach", "http://127.0.0.1:99999"), 2, "bad port"),
    Row("alice-tui", ("--attach", "http://127.0.0.1:9", "--token-file", "{tmp}/missing"), 2,
        "--token-file"),
    Row("alice-tui", ("--demo", "--scenario", "no-such"), 2, "unknown scenario"),
    Row("alice-tui", ("--scenario", "openai-outage"), 2, "--scenario: only used with --demo"),
    Row("alice-tui", ("--demo", "--log-file", "{tmp}/no/such/dir/log"), 2, "--log-file"),
]


def other_rows(prog: str, parser: argparse.ArgumentParser) -> list[Row]:
    """An unknown flag, a bad value for every typed or choice option, and every bad config,
    for a program with one parser (alice-agent, alice-tui)."""
    rows = [Row(prog, ("--no-such-flag",), 2, "unrecognized arguments: --no-such-flag")]
    for a in parser._actions:
        if a.option_strings and (a.type is not None or a.choices):
            rows.append(Row(prog, (a.option_strings[0], "bogus"), 2, a.option_strings[0]))
    rows += [Row(prog, ("--config", f"{{tmp}}/{name}"), 2, says)
             for name, (_c, says) in BAD_CONFIGS.items()]
    return rows


def sim_rows() -> list[Row]:
    """`alice-ops sim` has a parser of its own (simulator.cli) and no --config."""
    from simulator.cli import build_parser as sim_parser

    rows = [replace(row, argv=("sim", *row.argv), prefix="alice-ops sim: ")
            for row in other_rows("alice-ops", sim_parser()) if row.argv[0] != "--config"]
    return [*rows, Row("alice-ops", ("sim", "--scenario", "no-such"), 2, "unknown scenario",
                       prefix="alice-ops sim: "),
            Row("alice-ops", ("sim", "--backend-port", "99999"), 2, "ports must be between",
                prefix="alice-ops sim: ")]


def all_rows() -> list[Row]:
    from agent.cli.agent_main import build_parser as agent_parser
    from tui.cli import build_parser as tui_parser

    return [*ops_rows(), *EXPLICIT, *sim_rows(), *other_rows("alice-agent", agent_parser()),
            *other_rows("alice-tui", tui_parser())]


ROWS = all_rows()


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("bad-input")
    for name, (content, _says) in BAD_CONFIGS.items():
        if content == "<dir>":
            (tmp / name).mkdir()
        elif isinstance(content, bytes):
            (tmp / name).write_bytes(content)
        elif content is not None:
            (tmp / name).write_text(content)
    (tmp / "good.yaml").write_text(GOOD_CONFIG.replace("{tmp}", str(tmp)))
    return tmp


def run_in_process(prog: str, argv: list[str], stdin_closed: bool, monkeypatch
                   ) -> tuple[int, str, str]:
    if prog == "alice-ops":
        from agent.cli.main import main
    else:
        from tui.cli import main
    out, err = io.StringIO(), io.StringIO()
    if stdin_closed:
        monkeypatch.setattr(sys, "stdin", None)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's own exit would be a bug here
            code = exc.code if isinstance(exc.code, int) else -1
    return code, out.getvalue(), err.getvalue()


def run_subprocess(prog: str, argv: list[str], tmp: Path) -> tuple[int, str, str]:
    done = subprocess.run([str(BIN / prog), *argv], capture_output=True, text=True,
                          timeout=60, cwd=tmp, stdin=subprocess.DEVNULL, check=False)
    return done.returncode, done.stdout, done.stderr


# every row as given, and every alice-ops row with --json (sim, alice-agent, alice-tui: none)
CASES = [(row, False) for row in ROWS] + [(row, True) for row in ROWS
                                         if row.prog == "alice-ops" and row.argv[0] != "sim"]


@pytest.mark.parametrize("row,as_json", CASES, ids=[
    f"{r.prog} {' '.join(r.argv)}{' --json' if j else ''}" for r, j in CASES])
def test_bad_input_is_one_line(row, as_json, files, monkeypatch):
    argv = [a.replace("{tmp}", str(files)) for a in row.argv] + (["--json"] if as_json else [])
    monkeypatch.chdir(files)
    if row.prog == "alice-agent":  # it serves on success: a process of its own
        code, out, err = run_subprocess(row.prog, argv, files)
    else:
        code, out, err = run_in_process(row.prog, argv, row.stdin_closed, monkeypatch)
    says = row.says.replace("{tmp}", str(files))
    lines = err.splitlines()
    assert "Traceback" not in err
    if as_json and row.json_code is not None:  # config validate --json: the verdict is data
        assert code == row.json_code and lines == []
        doc = json.loads(out)
        assert doc["valid"] is False and any(says in p for p in doc["problems"])
        return
    assert code == row.code, err
    assert len(lines) == 1, err
    assert lines[0].startswith(row.prefix or f"{row.prog}: ") and says in lines[0], lines[0]
    if as_json:
        doc = json.loads(out.strip().splitlines()[-1])
        assert doc == {"error": lines[0].removeprefix(f"{row.prog}: ")}


def test_the_table_walks_every_subcommand():
    """A new subcommand lands in the table without editing it."""
    argvs = [r.argv for r in ROWS if r.prog == "alice-ops"]
    unwalked = {path for path, _p in leaves(build_parser())
                if not any(argv[:len(path)] == path for argv in argvs)}
    assert unwalked == set()
