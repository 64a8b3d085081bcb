"""`alice-ops rotate-key`: rotate the OpenAI key in Alice's .env (dry run by default).

The new key is read from `--key-file FILE` or stdin (without echo on a terminal),
never from the command line. Exit 0 rotated (or planned), 1 verification failed and
the old key was restored, 2 rejected key, bad input or an incomplete rollback.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import time
from pathlib import Path

from agent.cli.output import console, print_json


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "rotate-key", help="rotate the OpenAI API key in .env (dry run unless --execute)",
        description="Validate a new OpenAI key (models.list), write it to the .env file "
                    "atomically keeping a backup, restart the gateway then the backend "
                    "(docker compose), verify with check, and restore the old key if "
                    "verification fails. The key is read from --key-file or stdin, never "
                    "from the command line, and is never shown (only a sha256 fingerprint).")
    p.add_argument("--env-file", metavar="FILE", default=None,
                   help="Alice's .env (default: remediation.env_file in "
                        "remediation.compose_dir)")
    p.add_argument("--key-file", metavar="FILE", default=None,
                   help="read the new key from this file (default: stdin)")
    p.add_argument("--variable", default="OPENAI_API_KEY",
                   help="the variable holding the key (default OPENAI_API_KEY)")
    p.add_argument("--compose-file", metavar="FILE", default=None,
                   help="compose file for the restarts (default: docker compose's own)")
    p.add_argument("--verify-timeout", type=float, default=60.0, metavar="S",
                   help="how long the restarted services may take to be healthy (default 60)")
    p.add_argument("--execute", "--yes", dest="execute", action="store_true",
                   help="do it (default: validate the key and show the plan only)")
    p.set_defaults(func=run)


def read_key(key_file: str | None) -> str:
    from agent.cli.main import UsageError
    from agent.security.rotate import RotationError, check_key_text

    try:
        if key_file:
            try:
                text = Path(key_file).read_text(encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"rotate-key --key-file: {key_file}: "
                                 f"{exc.strerror or exc.__class__.__name__}") from None
        elif sys.stdin.isatty():
            text = getpass.getpass("new OpenAI key (not echoed): ")
        else:
            text = sys.stdin.read(4096)
        return check_key_text(text)
    except RotationError as exc:
        raise UsageError(f"rotate-key: {exc}") from None


def env_path(args: argparse.Namespace, config) -> Path:
    if args.env_file:
        return Path(args.env_file).expanduser()
    rem = config.remediation
    path = Path(rem.env_file).expanduser()
    return path if path.is_absolute() else Path(rem.compose_dir).expanduser() / path


def audit(config, outcome, by: str) -> str | None:
    """Record the rotation in state.db; the reason it could not be, or None."""
    from agent.store import Store, StoreError, state_path

    path = state_path(config)
    try:
        with Store.open(path) as store:
            store.add_audit(time.time(), by, "rotate_key", outcome.env_file, outcome.outcome,
                            {"variable": outcome.variable,
                             "new_fingerprint": outcome.new_fingerprint,
                             "old_fingerprint": outcome.old_fingerprint,
                             "backup": outcome.backup, "reason": outcome.reason,
                             "steps": [{k: v for k, v in s.items() if k != "detail"}
                                       for s in outcome.done]})
    except StoreError as exc:
        return str(exc)
    return None


def render(outcome, audit_problem: str | None) -> None:
    out = console()
    out.print(f"rotate {outcome.variable} in {outcome.env_file}: new key "
              f"{outcome.new_fingerprint}, old "
              f"{outcome.old_fingerprint or 'none'}", markup=False)
    if outcome.dry_run:
        out.print("plan:", markup=False)
        for n, step in enumerate(outcome.plan, 1):
            argv = f"  [{' '.join(step.argv)}]" if step.argv else ""
            out.print(f"  {n}. {step.name}: {step.detail}{argv}", markup=False)
    for step in outcome.done:
        mark = "ok  " if step["ok"] else "FAIL"
        out.print(f"  {mark} {step['step']}: {step.get('detail', '')}", markup=False)
    style = {"planned": "cyan", "rotated": "green", "rolled_back": "yellow"}.get(
        outcome.outcome, "bold red")
    out.print(f"{outcome.outcome.upper().replace('_', ' ')}: {outcome.reason}", style=style,
              markup=False)
    if audit_problem:
        out.print(f"warning: not recorded in the audit trail: {audit_problem}", style="yellow",
                  markup=False)


def run(args: argparse.Namespace) -> int:
    from agent.cli.main import UsageError, load
    from vocab.redact import redact
    from agent.security.rotate import RotationError, rotate

    if not args.verify_timeout > 0:
        raise UsageError("rotate-key --verify-timeout: expected seconds > 0")
    config = load(args)
    key = read_key(args.key_file)
    path = env_path(args, config)
    try:
        outcome = asyncio.run(rotate(config, path, args.variable, key, execute=args.execute,
                                     compose_file=args.compose_file,
                                     verify_timeout_s=args.verify_timeout))
    except RotationError as exc:
        raise UsageError(f"rotate-key: {redact(str(exc), [key])}") from None
    problem = audit(config, outcome, getpass.getuser())
    if args.json:
        doc = outcome.to_json()
        doc["audit_error"] = problem
        print_json(doc)
    else:
        render(outcome, problem)
    return outcome.exit_code
