"""`alice-ops`: one command, subcommands for humans, cron and CI; `--json` everywhere.

Errors are one line on stderr (`alice-ops: <what>: <why>`); tracebacks only with --debug.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

# pydantic scans every installed distribution for plugins when the first model is built
# (~15 ms of a one-shot command); alice-ops uses none. Set the variable to override.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

if TYPE_CHECKING:
    from agent.config import Config

# agent.config (pydantic, yaml: ~0.17 s) is imported by the commands that read a config, not
# here: `check --agent URL` and --help never need it.

PROG = "alice-ops"


class UsageError(Exception):
    """Bad input the user can fix; printed as one line."""


class ArgumentError(Exception):
    """argparse found bad arguments (`parser` names the (sub)command)."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser


class Parser(argparse.ArgumentParser):
    """argparse, with a bad argument raised as ArgumentError (one line, not the usage
    block); `main` prints it."""

    def error(self, message: str):  # type: ignore[override]
        raise ArgumentError(self, message)


# Nagios: a check that cannot run is UNKNOWN
NAGIOS_COMMANDS = ("check", "nlu-bench", "security", "checklist", "cost", "capacity")


def fail(lines: list[str], code: int, as_json: bool) -> int:
    """Print a fatal error: each line as `alice-ops: <line>` on stderr and, with --json,
    `{"error": ...}` on stdout too; return `code`."""
    from vocab.redact import redact

    lines = [" ".join(redact(line).split()) for line in lines] or ["failed"]
    for line in lines:
        print(f"{PROG}: {line}", file=sys.stderr)
    if as_json:
        import json

        try:
            print(json.dumps({"error": "; ".join(lines)}, ensure_ascii=False))
        except OSError:
            pass  # stdout itself failed (said on stderr above)
    return code


def load(args: argparse.Namespace) -> Config:
    from agent.config import find_config, load_config

    return load_config(find_config(getattr(args, "config", None)))


def _config_error(exc: BaseException) -> list[str] | None:
    """The problems of an agent.config ConfigError, else None (it can only have been raised
    if agent.config was imported, so this never imports it)."""
    config = sys.modules.get("agent.config")
    if config is not None and isinstance(exc, config.ConfigError):
        return list(exc.problems)  # type: ignore[attr-defined]
    return None


# command -> the module under agent.cli that adds it (in --help order; a module may add two)
COMMAND_MODULES = {"check": "check_cmd", "alerts": "alerts_cmd", "config": "config_cmd",
                   "rules": "rules_cmd", "sim": "sim_cmd", "nlu-bench": "nlu_cmd",
                   "security": "security_cmd", "checklist": "checklist_cmd",
                   "remediate": "remediate_cmd", "rotate-key": "rotate_cmd",
                   "discover": "discover_cmd", "cost": "cost_cmd", "capacity": "cost_cmd",
                   "report": "report_cmd", "grafana": "grafana_cmd"}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or with `command` (a key of COMMAND_MODULES) only the
    subparser of that command's module: importing every command module costs ~0.2 s (some
    import the config stack at their top), and a one-shot command needs only its own."""
    import importlib

    parser = Parser(prog=PROG, parents=[_common(top=True)],
                    description="Operations tool for the Alice voice assistant.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND",
                                parser_class=_sub_parser(_common(top=False)))
    sub.required = True
    modules = dict.fromkeys(COMMAND_MODULES.values()) if command is None \
        else [COMMAND_MODULES[command]]
    for name in modules:
        importlib.import_module(f"agent.cli.{name}").add_parser(sub)
    return parser


# the top-level options that take a value (the others are flags)
_VALUED = ("--config", "-c")


def command_of(argv: list[str]) -> str | None:
    """The subcommand `argv` names, if it is one of COMMAND_MODULES: the first word that
    is not an option or a top-level option's value. None for --help before it, or no or an
    unknown command (the whole parser then says what is wrong)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("-h", "--help", "--"):
            return None
        elif arg in _VALUED:
            skip = True
        elif not arg.startswith("-"):
            return arg if arg in COMMAND_MODULES else None
    return None


def _common(top: bool) -> argparse.ArgumentParser:
    """Options accepted before or after the subcommand (only the top level sets defaults,
    so `alice-ops --json check` and `alice-ops check --json` mean the same)."""
    kw = {} if top else {"default": argparse.SUPPRESS}
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", "-c", metavar="FILE", **kw,
                        help="config file (default: $ALICE_OPS_CONFIG, then "
                             "$XDG_CONFIG_HOME/alice-ops/alice-ops.yaml)")
    common.add_argument("--json", action="store_true", help="print one JSON document on stdout",
                        **kw)
    common.add_argument("--debug", action="store_true", help="show tracebacks", **kw)
    return common


def _sub_parser(common: argparse.ArgumentParser):
    class Sub(Parser):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("parents", [common])
            super().__init__(*args, **kwargs)
    return Sub


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    return {name for action in parser._actions
            if isinstance(action, argparse._SubParsersAction) for name in action.choices}


# read-only one-shot commands: as a program, they end with os._exit once their output is
# flushed (the interpreter's teardown, freeing every module, is ~50 ms of a 0.4 s check)
FAST_EXIT = ("check",)


def main(argv: list[str] | None = None) -> int:
    """Run one command and return its exit status. Without `argv` (the program itself:
    the console script, `python -m agent.cli.main`), a FAST_EXIT command exits the process
    itself once stdout and stderr are flushed; a reader of stdout that went away
    (`| head -1`) never changes the exit status."""
    if argv is not None:
        return _main(argv)
    from agent.cli.output import flush_stdout

    code = _main(sys.argv[1:])
    failed = flush_stdout()
    if failed:
        print(f"{PROG}: stdout: {failed}", file=sys.stderr)
        command = command_of(sys.argv[1:])
        code = code or (3 if command in NAGIOS_COMMANDS else 2)
    if command_of(sys.argv[1:]) in FAST_EXIT:
        try:
            sys.stderr.flush()
        except OSError:
            pass
        os._exit(code)
    return code


def _main(argv: list[str]) -> int:
    if argv[:1] == ["sim"]:  # the simulator has its own parser (alice-ops sim --help)
        from simulator.cli import main as sim_main

        return sim_main(argv[1:])
    as_json = "--json" in argv
    command = command_of(argv)
    parser = build_parser(command)
    try:
        try:
            args = parser.parse_args(argv)
        except ArgumentError:
            if command is None:
                raise
            parser = build_parser()  # the whole parser judges and names what is wrong
            args = parser.parse_args(argv)
    except ArgumentError as exc:
        where = exc.parser.prog.removeprefix(PROG).strip()
        if not where:  # unrecognized arguments are found at the top: name the command
            where = next((a for a in argv if a in _commands(parser)), "")
        command = where.split()[0] if where else ""
        return fail([f"{where + ': ' if where else ''}{exc} (see --help)"],
                    3 if command in NAGIOS_COMMANDS else 2, as_json)
    as_json = bool(getattr(args, "json", False))
    failure_code = 3 if args.command in NAGIOS_COMMANDS else 2
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        return fail([str(exc)], failure_code, as_json)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader of stdout went away: nothing to tell it
        from agent.cli.output import stdout_gone

        stdout_gone()
        return failure_code
    except OSError as exc:  # a file or device the command was pointed at
        if args.debug:
            raise
        what = f"{exc.filename}: " if exc.filename else ""
        return fail([f"{args.command}: {what}{exc.strerror or exc.__class__.__name__}"],
                    failure_code, as_json)
    except Exception as exc:
        problems = _config_error(exc)
        if problems is not None:
            return fail(problems, failure_code, as_json)
        if args.debug:
            raise
        return fail([f"{args.command}: unexpected error: {exc.__class__.__name__}: {exc} "
                     "(rerun with --debug)"], failure_code, as_json)

if __name__ == "__main__":
    sys.exit(main())
