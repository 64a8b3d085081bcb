"""`alice-ops remediate list|plan|verify|run|history|resume`: the guide's runbooks as
playbooks.

`plan` is a dry-run (nothing done, audited); `verify` checks every step against this
deployment, changing nothing (`agent.remediation.verify`; exit 0 all applicable, 1 some
not applicable, 2 bad input, 3 could not verify), and `list` and `plan` show its verdict;
`run` asks for the playbook's name typed as confirmation unless `--yes`; they share the
agent's state file, its cross-process lock and its audit trail.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
import time
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("remediate", help="remediation playbooks: list, plan, verify, run, "
                                         "history, resume")
    _options(p, top=True)
    acts = p.add_subparsers(dest="action", metavar="ACTION", required=True,
                            parser_class=_with_options(type(p)))
    acts.add_parser("list", help="playbooks, their trigger, mode and state").set_defaults(
        func=_demo(cmd_list))
    plan = acts.add_parser("plan", help="dry-run: every step exactly as it would run")
    plan.add_argument("name", help="playbook name (alice-ops remediate list)")
    plan.set_defaults(func=_demo(cmd_plan))
    ver = acts.add_parser("verify", help="check every step against this deployment (URLs "
                                         "served, compose files and services, commands on "
                                         "PATH); exit 0 applicable, 1 not, 3 unknown")
    ver.add_argument("name", nargs="?", default=None, help="one playbook (default: all)")
    ver.set_defaults(func=_demo(cmd_verify))
    run = acts.add_parser("run", help="execute a playbook (asks for its name as confirmation)")
    run.add_argument("name", help="playbook name (alice-ops remediate list)")
    run.add_argument("--yes", "-y", action="store_true", help="no confirmation (scripts)")
    run.set_defaults(func=_demo(cmd_run))
    hist = acts.add_parser("history", help="runs, dry-runs and the audit trail")
    hist.add_argument("--limit", type=int, default=20, help="how many runs (default 20)")
    hist.add_argument("--playbook", default=None, help="only this playbook's runs")
    hist.set_defaults(func=_demo(cmd_history))
    res = acts.add_parser("resume", help="end a playbook's suspension and reset its counters")
    res.add_argument("name", help="playbook name (alice-ops remediate list)")
    res.set_defaults(func=_demo(cmd_resume))


def _options(p: argparse.ArgumentParser, top: bool) -> None:
    """Options accepted before or after the action (`remediate --demo plan X` and
    `remediate plan X --demo`); only the `remediate` level sets their defaults."""
    kw = {} if top else {"default": argparse.SUPPRESS}
    p.add_argument("--data", metavar="FILE", **kw,
                   help="state file (default: agent.data_path, XDG)")
    p.add_argument("--read-only", action="store_true", **kw,
                   help="refuse every mutating action (as config read_only: true)")
    p.add_argument("--demo", action="store_true", **kw,
                   help="against the built-in simulator, all state in a temporary directory "
                        "(compose and command steps are recorded, not run)")


def _with_options(base: type[argparse.ArgumentParser]) -> type[argparse.ArgumentParser]:
    class Action(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            _options(self, top=False)
    return Action


def _demo(fn):
    """Run `fn(args)` against the simulator when --demo is given."""
    def wrapped(args: argparse.Namespace) -> int:
        if not getattr(args, "demo", False):
            return fn(args)
        from agent.cli.main import UsageError
        from agent.demo import DEMO_API_KEY, demo_config, sandbox, sandboxed
        from simulator.server import run_in_thread

        if getattr(args, "data", None):
            raise UsageError("remediate --data: not used with --demo (the demo keeps its "
                             "state in a temporary directory)")
        with sandbox() as root, run_in_thread(api_key=DEMO_API_KEY) as sim:
            args.demo_config = sandboxed(demo_config(sim.urls), root)
            return fn(args)
    return wrapped


def _context(args: argparse.Namespace, need_store: bool = True):
    from agent.cli.main import UsageError
    from agent.config import Config, ConfigError, find_config, load_config
    from agent.remediation.render import playbooks_for, unknown_settings
    from agent.store import Store, StoreError, state_path
    from rules.playbooks import PlaybookError

    config = getattr(args, "demo_config", None)
    try:
        config = config or load_config(find_config(args.config))
    except ConfigError:
        if args.config:
            raise
        config = Config()
    try:
        playbooks = playbooks_for(config)
    except PlaybookError as exc:
        raise UsageError(f"remediate: {exc}") from None
    problems = unknown_settings(config, playbooks)
    if problems:
        raise UsageError(f"remediate: {problems[0]}")
    path = Path(args.data).expanduser() if args.data else state_path(config)
    if args.data:  # the remediation lock lives beside the state file in use
        config = config.model_copy(update={"agent": config.agent.model_copy(
            update={"data_path": str(path)})})
    store = None
    if need_store:
        try:
            store = Store.open(path)
        except StoreError as exc:
            raise UsageError(f"remediate: {exc}") from None
    return config, playbooks, store


def _find(playbooks, name: str):
    from agent.cli.main import UsageError

    for pb in playbooks:
        if pb.name == name:
            return pb
    raise UsageError(f"remediate: no playbook named {name!r} (alice-ops remediate list)")


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"


def _runner(config, store, args):
    from agent.remediation.runner import Runner

    return Runner(config, store, read_only=args.read_only)


def cmd_list(args: argparse.Namespace) -> int:
    from agent.cli.output import console, print_json
    from agent.remediation import ledger as ops
    from agent.remediation.render import spec_of
    from rules.remediation import Ledger

    config, playbooks, store = _context(args)
    with store:
        ledgers = ops.load_ledgers(store)
    now = time.time()
    verified = _verify(config, playbooks)
    rows = []
    for pb in playbooks:
        spec, led = spec_of(pb, config), ledgers.get(pb.name, Ledger())
        rows.append({"applicable": verified[pb.name].verdict,
                     "not_applicable_reason": verified[pb.name].reason,
                     "name": pb.name, "title": pb.title, "target": pb.target,
                     "trigger": list(pb.trigger.alerts), "severity": list(pb.trigger.severity),
                     "mode": spec.mode, "steps": len(pb.steps), "revert_steps": len(pb.revert),
                     "revert_on_resolve": pb.revert_on_resolve, "limit": spec.policy.limit,
                     "cooldown_s": spec.policy.cooldown_s,
                     "suspended": led.suspended,
                     "cooldown_left_s": round(led.cooldown_left_s(now), 1),
                     "runs_in_window": led.runs_in_window(now, spec.policy.window_s)})
    if args.json:
        print_json({"playbooks": rows, "read_only": config.read_only or args.read_only})
        return 0
    from rich import box
    from rich.table import Table

    table = Table(title="Remediation playbooks", title_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False, caption="steps 5+2r: 5 steps, 2 revert steps",
                  caption_justify="left")
    table.add_column("playbook", no_wrap=True)
    table.add_column("mode", no_wrap=True)
    table.add_column("trigger (alerts)", overflow="fold", min_width=20)
    table.add_column("steps", no_wrap=True)
    table.add_column("state", overflow="fold")
    for r in rows:
        state = "SUSPENDED" if r["suspended"] else (
            f"cooldown {r['cooldown_left_s']:.0f} s" if r["cooldown_left_s"] else "ready")
        if r["applicable"] != "applicable":
            state += "\n" + r["not_applicable_reason"]
        table.add_row(r["name"], r["mode"], "\n".join(r["trigger"]) or "(by hand)",
                      f"{r['steps']}+{r['revert_steps']}r", state)
    console().print(table)
    return 0


def _verify(config, playbooks) -> dict:
    from agent.remediation.verify import verify_playbooks

    return asyncio.run(verify_playbooks(playbooks, config, now=time.time()))


CHECK_WORDS = {"ok": "ok", "not_applicable": "NOT APPLICABLE", "unknown": "UNKNOWN"}


def _print_steps(out, steps, heading: str, checks=()) -> None:
    import json

    out.print(f"[bold]{heading}[/bold]")
    for i, s in enumerate(steps, 1):
        flags = " (optional)" if s.get("optional") else ""
        out.print(f" {i}. [{s['type']}] {s['title']}{flags}  timeout {s['timeout_s']:g} s",
                  markup=False)
        if s["type"] == "http":
            out.print(f"      {s['method']} {s['url']}  expect {s['expect_status']}", markup=False)
            for k, v in s["headers"].items():
                out.print(f"      {k}: {v}", markup=False)
            if s["body"] is not None:
                out.print(f"      body: {json.dumps(s['body'])}", markup=False)
        elif s["type"] in ("compose", "command"):
            # shell-quoted for reading only: it is run as this argv, never through a shell
            out.print(f"      argv: {shlex.join(s['argv'])}", markup=False, soft_wrap=True)
        elif s["type"] == "env":
            out.print(f"      file: {s['file']}", markup=False)
            for c in s.get("diff", [{"key": k, "before": "?", "after": v}
                                    for k, v in s["set"].items()]):
                before = "(unset)" if c["before"] is None else c["before"]
                out.print(f"      {c['key']}: {before} -> {c['after']}", markup=False)
            if "diff" in s and not s["diff"] and "diff_error" not in s:
                out.print("      (no change)", markup=False)
        elif s["type"] == "wait_healthy":
            out.print(f"      poll {s['component']} every {s['interval_s']:g} s", markup=False)
        elif s["type"] == "notify":
            out.print(f"      {s['severity']}: {s['message']}", markup=False)
        check = next((c for c in checks if c.index == i - 1), None)
        if check is not None:
            out.print(f"      verify: {CHECK_WORDS[check.status]}: {check.detail}",
                      markup=False, style=None if check.status == "ok" else "yellow")


def cmd_plan(args: argparse.Namespace) -> int:
    from agent.cli.main import UsageError
    from agent.cli.output import console, print_json
    from agent.remediation.render import RenderError

    config, playbooks, store = _context(args)
    pb = _find(playbooks, args.name)
    with store:
        try:
            shown = asyncio.run(_runner(config, store, args).record_plan(pb, _user()))
        except RenderError as exc:
            raise UsageError(f"remediate plan: {exc}") from None
    verified = _verify(config, [pb])[pb.name]
    if args.json:
        print_json({**shown, "verify": verified.to_json()})
        return 0
    out = console()
    out.print(f"[bold]{pb.name}[/bold]: {pb.title}  (dry-run: nothing was done)")
    if pb.guide:
        out.print(f"from the guide: {pb.guide}", markup=False)
    out.print(f"verify: {verified.reason or 'applicable: every step fits this deployment'}",
              markup=False, style=None if verified.verdict == "applicable" else "bold yellow")
    by_phase = {phase: [c for c in verified.checks if c.phase == phase]
                for phase in ("steps", "revert")}
    _print_steps(out, shown["steps"], "steps", by_phase["steps"])
    if shown["revert"]:
        _print_steps(out, shown["revert"], "revert steps (on failure"
                     + (", and when the trigger resolves)" if pb.revert_on_resolve else ")"),
                     by_phase["revert"])
    return 0


VERIFY_EXIT = {"applicable": 0, "not_applicable": 1, "unknown": 3}


def cmd_verify(args: argparse.Namespace) -> int:
    from agent.cli.output import console, print_json

    config, playbooks, _store = _context(args, need_store=False)
    chosen = [_find(playbooks, args.name)] if args.name else list(playbooks)
    verified = _verify(config, chosen)
    verdicts = {v.verdict for v in verified.values()}
    overall = ("not_applicable" if "not_applicable" in verdicts else
               "unknown" if "unknown" in verdicts else "applicable")
    if args.json:
        print_json({"status": overall,
                    "playbooks": [verified[pb.name].to_json() for pb in chosen]})
        return VERIFY_EXIT[overall]
    out = console()
    width = max(len(pb.name) for pb in chosen)
    for pb in chosen:
        v = verified[pb.name]
        word = {"applicable": "applicable", "not_applicable": "NOT APPLICABLE",
                "unknown": "UNKNOWN"}[v.verdict]
        out.print(f"{pb.name:<{width}}  {word}", markup=False,
                  style=None if v.verdict == "applicable" else "bold yellow")
        if v.reason:
            out.print(f"  {v.reason}", markup=False, soft_wrap=True)
        for c in v.checks if args.name else ():
            flag = " (optional)" if c.optional else ""
            out.print(f"  {CHECK_WORDS[c.status]:<14} {c.where}{flag} {c.title}: {c.detail}",
                      markup=False, soft_wrap=True)
    return VERIFY_EXIT[overall]


def cmd_run(args: argparse.Namespace) -> int:
    from agent.cli.main import UsageError
    from agent.cli.output import console, print_json
    from agent.remediation import ledger as ops
    from agent.store import AuditRecord

    config, playbooks, store = _context(args)
    pb = _find(playbooks, args.name)
    user = _user()
    with store:
        runner = _runner(config, store, args)
        if runner.read_only:
            outcome = asyncio.run(runner.refuse(pb.name, user, "read-only mode: no mutating "
                                                               "action"))
        else:
            if not args.yes and not sys.stdin.isatty():  # refused before any network call
                raise UsageError(f"remediate run {pb.name}: needs confirmation: stdin is "
                                 "not a terminal, pass --yes to run without one")
            verified = _verify(config, [pb])[pb.name]
            if verified.verdict == "not_applicable":  # by hand it is the operator's call
                print(f"alice-ops: remediate run {pb.name}: warning: {verified.reason}",
                      file=sys.stderr)
            if not args.yes:
                if not args.json:
                    console().print(f"About to run [bold]{pb.name}[/bold]: {pb.title} "
                                    f"({len(pb.steps)} steps; `remediate plan {pb.name}` shows "
                                    "them).")
                try:
                    typed = input(f"Type the playbook's name ({pb.name}) to run it: ").strip()
                except EOFError:  # Ctrl-D: no answer confirms nothing
                    typed = ""
                if typed != pb.name:
                    ops.add_audit(store, [AuditRecord(time.time(), user, "remediation.confirm",
                                                      pb.name, "declined", {"typed": typed[:64]})])
                    raise UsageError(f"remediate run {pb.name}: confirmation did not match; "
                                     "nothing was done")
            ops.add_audit(store, [AuditRecord(time.time(), user, "remediation.confirm", pb.name,
                                              "confirmed", {"by": "--yes" if args.yes
                                                            else "typed name"})])
            asyncio.run(runner.recover())
            outcome = asyncio.run(runner.run(pb, actor=user, reason="by hand"))
    if args.json:
        print_json(outcome.to_json())
    else:
        out = console()
        for s in outcome.steps + outcome.revert_steps:
            mark = "ok" if s["ok"] else "FAILED"
            out.print(f" {mark:6} {s['title']}  ({s['duration_s']:.1f} s)"
                      + (f": {s['error']}" if s.get("error") else ""), markup=False)
            if str(s.get("stdout") or "").startswith("demo: "):  # the demo's recorder
                out.print(f"        {s['stdout'].strip()}", markup=False, style="dim")
        out.print(f"{pb.name}: {outcome.outcome}"
                  + (f" ({outcome.error})" if outcome.error else ""), markup=False)
    return 0 if outcome.ok else 1


def cmd_history(args: argparse.Namespace) -> int:
    from agent.cli.output import console, print_json
    from agent.remediation import ledger as ops
    from agent.remediation.runner import Runner
    from agent.cli.main import UsageError
    from agent.snapshot import iso

    if args.limit < 1:
        raise UsageError(f"remediate history --limit: expected 1 or more, got {args.limit}")
    config, _playbooks, store = _context(args)
    with store:
        asyncio.run(Runner(config, store).recover())
        runs = ops.runs(store, args.limit, args.playbook)
        trail = [a for a in ops.audit_trail(store, args.limit * 20)
                 if args.playbook in (None, a.target)]
    if args.json:
        print_json({"runs": [r.to_json() for r in runs],
                    "audit": [{"id": a.id, "ts": iso(a.ts), "actor": a.actor,
                               "action": a.action, "playbook": a.target,
                               "outcome": a.outcome, "detail": a.detail} for a in trail]})
        return 0
    from rich import box
    from rich.table import Table

    table = Table(title="Remediation history", title_justify="left", box=box.SIMPLE_HEAD)
    for col in ("started", "playbook", "kind", "actor", "outcome", "reason"):
        table.add_column(col, overflow="fold")
    for r in runs:
        table.add_row(iso(r.started_at) or "", r.playbook, r.kind, r.actor, r.outcome,
                      r.reason)
    console().print(table)
    return 0


def cmd_resume(args: argparse.Namespace) -> int:
    from agent.cli.main import UsageError
    from agent.cli.output import console, print_json
    from agent.remediation import ledger as ops
    from agent.store import AuditRecord
    from rules.remediation import Ledger, resume

    config, playbooks, store = _context(args)
    pb = _find(playbooks, args.name)
    user = _user()
    now = time.time()
    with store:
        if config.read_only or args.read_only:
            ops.add_audit(store, [AuditRecord(now, user, "remediation.refused", pb.name,
                                              "refused", {"why": "read-only mode", "action":
                                                          "resume"})])
            raise UsageError(f"remediate resume {pb.name}: refused: read-only mode")
        led = ops.load_ledgers(store).get(pb.name, Ledger())
        was = led.suspended
        ops.save_ledgers(store, {pb.name: resume(led)}, now,
                         [AuditRecord(now, user, "remediation.resume", pb.name, "ok",
                                      {"was_suspended": was})])
    if args.json:
        print_json({"playbook": pb.name, "resumed": True, "was_suspended": was})
    else:
        console().print(f"{pb.name}: resumed" + ("" if was else " (it was not suspended)"),
                        markup=False)
    return 0
