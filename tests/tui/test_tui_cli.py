"""`alice-tui` arguments, config and errors: one line `alice-tui: <what>: <why>`, exit 2,
never a traceback; `--help` does not import Textual; the `tui:` section of the config."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from agent.config import ConfigError, TuiSettings
from tui import cli, settings
from tui.settings import SettingsError, tui_only

ROOT = Path(__file__).resolve().parents[2]

CONFIG = """\
targets:
  gateway: {url: "http://127.0.0.1:1"}
tui:
  keys:
    quit: ctrl+q
    silence: "S"
  ascii: true
agent:
  listen: "127.0.0.1:0"
"""


def test_help_does_not_import_textual():
    code = ("import sys, json\nfrom tui.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit as e:\n    code = e.code\n"
            "print(json.dumps([code, sorted(sys.modules)]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    code, modules = json.loads(out.stdout.splitlines()[-1])
    assert code == 0
    assert "--attach URL" in out.stdout and "--read-only" in out.stdout
    for heavy in ("textual", "httpx", "openai", "ollama", "aiohttp"):
        assert heavy not in modules, heavy


def run_main(argv, capsys) -> tuple[int, list[str]]:
    code = cli.main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    return code, err


@pytest.mark.parametrize("argv, expected", [
    (["--bogus"], "alice-tui: arguments: unrecognized arguments: --bogus (see --help)"),
    (["--demo", "--attach", "http://127.0.0.1:9321"],
     "alice-tui: arguments: argument --attach: not allowed with argument --demo (see --help)"),
    (["--attach", "ftp://host"],
     "alice-tui: --attach ftp://host: expected an http(s) URL like http://127.0.0.1:9321"),
    (["--attach", "http://host:port"], "alice-tui: --attach http://host:port: bad port"),
    (["--attach", "http://ops:hunter2@127.0.0.1:9321"],
     "alice-tui: --attach: no user or password in the URL"),
    (["--attach", "http://127.0.0.1:9", "--token-file", "/nonexistent/token"],
     "alice-tui: --token-file /nonexistent/token: no such file"),
    (["--token-file", "/x"], "alice-tui: --token-file: only used with --attach"),
    (["--scenario", "openai-outage"], "alice-tui: --scenario: only used with --demo"),
    (["--demo", "--scenario", "nope"], "alice-tui: --scenario: unknown scenario 'nope'"),
    (["--config", "/nonexistent/alice-ops.yaml"],
     "alice-tui: /nonexistent/alice-ops.yaml: config file not found"),
    ([], "alice-tui: "),  # no config anywhere: the XDG path is named
])
def test_bad_input_is_one_line_and_exit_2(argv, expected, capsys):
    code, err = run_main(argv, capsys)
    assert code == 2
    assert len(err) == 1, err
    assert err[0].startswith(expected), err[0]
    assert "Traceback" not in err[0]


def test_unreachable_agent_is_one_line(capsys):
    code, err = run_main(["--attach", "http://127.0.0.1:9"], capsys)  # discard port: refused
    assert code == 2 and len(err) == 1
    assert err[0].startswith("alice-tui: --attach http://127.0.0.1:9: cannot connect")


def test_empty_token_file(tmp_path, capsys):
    token = tmp_path / "token"
    token.write_text("\n")
    code, err = run_main(["--attach", "http://127.0.0.1:9", "--token-file", str(token)], capsys)
    assert (code, err) == (2, [f"alice-tui: --token-file {token}: the file is empty"])


@pytest.mark.parametrize("tui, expected", [
    ("tui:\n  keys: {nope: x}\n", ":2: tui.keys.nope: unknown action"),
    ("tui:\n  keys: {quit: question_mark}\n", "tui.keys.quit: '?' is already the key of help"),
    # the agent's schema (Config.tui) and its wording
    ("tui:\n  ascii: maybe\n", ":3: tui.ascii: Input should be a valid boolean"),
    ("tui:\n  colours: {}\n", ":3: tui.colours: unknown key"),
    ("tui: [1]\n", ":2: tui: Input should be a valid dictionary"),
])
def test_bad_tui_section(tmp_path, capsys, tui, expected):
    path = tmp_path / "alice-ops.yaml"
    path.write_text("targets: {}\n" + tui)
    code, err = run_main(["--config", str(path)], capsys)
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith(f"alice-tui: {path}:") and expected in err[0], err[0]


def test_agent_config_errors_keep_their_line_numbers(tmp_path, capsys):
    path = tmp_path / "alice-ops.yaml"
    path.write_text(CONFIG + "bogus: 1\n")
    code, err = run_main(["--config", str(path)], capsys)
    assert (code, err) == (2, [f"alice-tui: {path}:10: bogus: unknown key"])


def test_plan_reads_the_tui_section_and_the_rest_validates(tmp_path):
    path = tmp_path / "alice-ops.yaml"
    path.write_text(CONFIG)
    plan = cli.plan(cli.build_parser().parse_args(["--config", str(path)]), env={})
    assert plan.kind == "config"
    assert plan.keys == {"quit": "ctrl+q", "silence": "S"} and plan.ascii_only
    assert plan.config.targets.gateway.url == "http://127.0.0.1:1"
    assert plan.config.agent.listen == "127.0.0.1:0"


def test_plan_attach_token_from_file_or_env(tmp_path):
    token = tmp_path / "token"
    token.write_text("  s3cret \n")
    args = cli.build_parser().parse_args(["--attach", "http://h:9321/", "--token-file",
                                          str(token), "--read-only"])
    plan = cli.plan(args, env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert (plan.kind, plan.url, plan.token, plan.read_only) == \
        ("attach", "http://h:9321", "s3cret", True)
    args = cli.build_parser().parse_args(["--attach", "http://h:9321"])
    plan = cli.plan(args, env={"XDG_CONFIG_HOME": str(tmp_path), "ALICE_OPS_TOKEN": "t"})
    assert plan.token == "t" and not plan.keys


def test_demo_reads_keys_from_the_discovered_config(tmp_path):
    (tmp_path / "alice-ops").mkdir()
    (tmp_path / "alice-ops" / "alice-ops.yaml").write_text("tui: {keys: {quit: ctrl+x}}\n")
    plan = cli.plan(cli.build_parser().parse_args(["--demo", "--ascii"]),
                    env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert plan.kind == "demo" and plan.keys == {"quit": "ctrl+x"} and plan.ascii_only


@pytest.mark.parametrize("text, kept", [
    ("targets: {}\n", None),
    ("a: 1\ntui:\n  ascii: true\nb: 2\n", ("\ntui:\n  ascii: true\n\n", 2)),
    ("a: 1\ntui: {keys: {quit: Q}}\nb: 2\n", ("\ntui: {keys: {quit: Q}}\n\n", 2)),
    ("tui:\n  ascii: true\nb: 1\n", ("tui:\n  ascii: true\n\n", 1)),
    ("{a: 1, tui: {ascii: true}}\n", ("tui:\n  ascii: true\n", 1)),
    ("a: [unclosed\n", None),  # the agent's parser reports it (config mode)
])
def test_tui_only_keeps_the_section_and_its_lines(text, kept):
    assert tui_only(text) == kept


@pytest.mark.parametrize("whole", [True, False])
def test_one_schema_for_agent_and_dashboard(tmp_path, whole):
    """Config.tui (pydantic) is what the dashboard uses, in config mode (whole file) and
    with --attach/--demo (the tui: section only: unset ${ENV} elsewhere is no problem)."""
    path = tmp_path / "alice-ops.yaml"
    path.write_text("targets:\n  openai: {api_key: '${NOT_SET_HERE}'}\n"
                    "tui:\n  keys: {quit: '?', help: f1}\n  ascii: true\n")
    if whole:
        with pytest.raises(ConfigError, match="NOT_SET_HERE"):
            settings.load(path, {}, whole=True)
        return
    config, got = settings.load(path, {}, whole=False)
    assert config is None
    assert got == settings.Settings(keys={"quit": "question_mark", "help": "f1"}, ascii=True)
    assert TuiSettings.model_fields.keys() == {f.name for f in fields(settings.Settings)}


def test_key_problems_name_the_line_of_the_section(tmp_path):
    path = tmp_path / "alice-ops.yaml"
    path.write_text("a: 1\n\ntui:\n  keys: {bad: x}\n")
    with pytest.raises(SettingsError) as info:
        settings.load(path, {}, whole=False)
    assert info.value.problems[0].startswith(f"{path}:3: tui.keys.bad: unknown action")


def test_key_problems_of_a_whole_config_name_the_line_too(tmp_path):
    path = tmp_path / "alice-ops.yaml"
    path.write_text("\n\ntui:\n  keys: {bad: x}\n")
    with pytest.raises(SettingsError) as info:
        settings.load(path, {}, whole=True)
    assert info.value.problems[0].startswith(f"{path}:3: tui.keys.bad: unknown action")
