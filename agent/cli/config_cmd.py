"""`alice-ops config init|validate|path`: write a commented default, check a file."""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path

from agent.cli.output import print_json
from agent.config import ConfigError, find_config, load_config


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="write, validate or locate the config file")
    csub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    init = csub.add_parser("init", help="write a commented default config")
    init.add_argument("path", nargs="?", help="where to write (default: --config or the XDG path)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.set_defaults(func=init_config)
    val = csub.add_parser("validate", help="check a config file; every problem, one line each")
    val.add_argument("path", nargs="?", help="file to check (default: --config or discovery)")
    val.set_defaults(func=validate)
    where = csub.add_parser("path", help="print the config file that would be used")
    where.set_defaults(func=show_path)
    schema = csub.add_parser("schema", help="JSON Schema of the config file, for editors")
    schema.set_defaults(func=show_schema)


def default_text() -> str:
    return resources.files("agent").joinpath("alice-ops.default.yaml").read_text("utf-8")


def init_config(args: argparse.Namespace) -> int:
    from agent.cli.main import UsageError

    path = Path(args.path) if args.path else find_config(args.config)
    if path.exists() and not args.force:
        raise UsageError(f"config init: {path} already exists (use --force to overwrite)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(default_text(), encoding="utf-8")
        path.chmod(0o600)
    except OSError as exc:
        raise UsageError(f"config init: cannot write {path}: {exc.strerror}") from None
    if args.json:
        print_json({"written": str(path)})
    else:
        print(f"wrote {path}; set OPENAI_API_KEY, then `alice-ops config validate`")
    return 0


def validate(args: argparse.Namespace) -> int:
    path = Path(args.path) if args.path else find_config(args.config)
    try:
        load_config(path)
    except ConfigError as exc:
        if args.json:
            print_json({"file": str(path), "valid": False, "problems": exc.problems})
            return 1
        raise
    if args.json:
        print_json({"file": str(path), "valid": True, "problems": []})
    else:
        print(f"{path}: valid")
    return 0


def show_path(args: argparse.Namespace) -> int:
    path = find_config(args.config)
    if args.json:
        print_json({"file": str(path), "exists": path.exists()})
    else:
        print(path)
    return 0


def show_schema(args: argparse.Namespace) -> int:
    from agent.config import Config

    print_json(Config.model_json_schema())
    return 0
