"""`alice-ops checklist daily|weekly|history`: the guide's operations checklists as a
recorded routine. Automatic items are verified first; manual items are then asked
(y/n/skip and a note). Every answer is saved as it is given, so a run interrupted
or left for later resumes the same day (week) with its earlier answers kept."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import time
from datetime import datetime

from agent.cli.output import console, print_json, status_text
from vocab.model import Status

RESULT_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red", "unknown": "magenta",
                "skipped": "dim", None: "dim"}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("checklist", help="daily/weekly operations checklists",
                       description="The guide's Daily Operations Checklist and Weekly "
                                   "Operations Tasks: automatic items verified by the tool, "
                                   "manual items asked, every answer recorded in state.db.")
    actions = p.add_subparsers(dest="checklist_command", metavar="ACTION")
    actions.required = True
    for kind in ("daily", "weekly"):
        run = actions.add_parser(kind, help=f"run (or resume) the {kind} checklist")
        run.add_argument("--non-interactive", action="store_true",
                         help="only run the automatic items and report (for cron); exit "
                              "0/1/2/3 by the worst automatic result, as `check`")
        run.add_argument("--by", default=None, help="who answers (default: your user name)")
        run.add_argument("--demo", action="store_true",
                         help="run against the built-in simulator (state in a temp dir)")
        run.add_argument("--scenario", default="normal", help="simulator scenario for --demo")
        run.set_defaults(func=run_checklist, kind=kind)
    hist = actions.add_parser("history", help="recorded runs, newest first")
    hist.add_argument("--kind", choices=("daily", "weekly"), default=None,
                      help="only daily or only weekly runs (default: both)")
    hist.add_argument("--limit", type=int, default=14, help="how many runs (default 14)")
    hist.set_defaults(func=run_history)


def _open_store(config):

    from agent.cli.main import UsageError
    from agent.store import Store, StoreError, state_path

    path = state_path(config)
    try:
        return Store.open(path)
    except StoreError as exc:
        raise UsageError(f"checklist: {exc}") from None


def _lists(config):
    from agent.checklists.runner import checklists_of
    from agent.cli.main import UsageError
    from rules.checklists import ChecklistError

    try:
        return checklists_of(config)
    except ChecklistError as exc:
        raise UsageError(str(exc)) from None


def _when(ts: float | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def render(doc: dict, out) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"{doc['title']} - {doc['period']}", title_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("item", overflow="fold", max_width=34)
    table.add_column("result", no_wrap=True)
    table.add_column("evidence", overflow="fold")
    table.add_column("by", no_wrap=True)
    section = None
    for item in doc["items"]:
        if item["section"] != section:
            section = item["section"]
            table.add_row(Text(section, style="bold"), "", "", "")
        result = item["result"]
        table.add_row(Text("  " + item["text"]), Text((result or "open").upper(),
                                                      style=RESULT_STYLE[result]),
                      Text(item["evidence"] or (item["prompt"] or "")), Text(item["by"] or ""))
    out.print(table)
    c = doc["counts"]
    out.print(f"{c['pass']} pass, {c['warn']} warn, {c['fail']} fail, {c['unknown']} unknown, "
              f"{c['skipped']} skipped, {c['open']} open; status ", status_text(
                  Status.parse(doc["status"])),
              "; complete" if doc["complete"] else "", sep="")


def _ask(prompt: str, out) -> str | None:
    """One line from the user; None at end of input."""
    out.print(prompt, end="", markup=False)
    try:
        return input()
    except EOFError:
        return None


def interview(config, store, checklist, by: str, out) -> bool:
    """Ask every unanswered manual item; save each answer at once. False when input
    ended before all were answered."""
    from agent.checklists import runner
    from agent.checklists import store as cstore
    from rules.checklists import manual_answer, open_items, period_of

    period = period_of(checklist.kind, time.time(), runner.time_zone(config))
    run = cstore.load_run(store, checklist.kind, period)
    pending = open_items(checklist, run.answers if run else {})
    for n, item in enumerate(pending, 1):
        out.print(f"\n[{n}/{len(pending)}] {item.section}: {item.text}", markup=False)
        while True:
            line = _ask(f"{item.prompt} [y/n/skip] ", out)
            if line is None:
                return False
            result = manual_answer(line)
            if result is not None:
                break
            out.print("please answer y (done, fine), n (not fine) or skip")
        note = _ask("note (optional): ", out)
        if note is None:
            note = ""
        asyncio.run(runner.answer(config, store, checklist, item.id, result, note, by,
                                  time.time()))
    return True


def run_checklist(args: argparse.Namespace) -> int:
    if not args.non_interactive and (sys.stdin is None or sys.stdin.closed):
        from agent.cli.main import UsageError

        raise UsageError(f"checklist {args.kind}: no input to answer the manual items from "
                         "(stdin is closed); use --non-interactive for cron")
    if args.demo:
        return _demo(args)
    from agent.cli.main import load

    config = load(args)
    return _run(args, config)


def _demo(args: argparse.Namespace) -> int:
    from agent.cli.main import UsageError
    from simulator.scenarios import SCENARIOS

    if args.scenario not in SCENARIOS:
        raise UsageError(f"checklist --scenario: unknown scenario {args.scenario!r} "
                         f"(one of: {', '.join(SCENARIOS)})")
    from agent.demo import DEMO_API_KEY, demo_config, sandbox, sandboxed
    from simulator.server import SimPorts, run_in_thread

    with sandbox() as root, run_in_thread(
            scenario=args.scenario, ports=SimPorts(0, 0, 0, 0, 0), api_key=DEMO_API_KEY) as sim:
        return _run(args, sandboxed(demo_config(sim.urls), root))


def _run(args: argparse.Namespace, config) -> int:
    from agent.checklists import runner
    from rules.checklists import status_of

    checklist = _lists(config)[args.kind]
    by = args.by or getpass.getuser()
    out = console(stderr=args.json)
    store = _open_store(config)
    try:
        run = asyncio.run(runner.run_automatic(config, store, checklist, time.time(), by="agent"))
        auto_status = status_of(run.answers, tuple(i for i in checklist.items if i.automatic))
        if not args.non_interactive:
            if not args.json:
                render(runner.view(checklist, run, run.period), out)
            finished = interview(config, store, checklist, by, out)
            if not finished:
                when = "today" if args.kind == "daily" else "this week"
                out.print(f"\ninput ended: answers so far are saved; run again {when} to resume")
        doc = _current_view(config, store, checklist)
    finally:
        store.close()
    if args.json:
        print_json(doc)
    else:
        if not args.non_interactive:
            out.print()
        render(doc, out)
    if args.non_interactive:
        return auto_status.exit_code
    return Status.parse(doc["status"]).exit_code


def _current_view(config, store, checklist) -> dict:
    """This period's run of `checklist` as recorded now (answers given meanwhile included)."""
    from agent.checklists import store as cstore
    from agent.checklists.runner import time_zone, view
    from rules.checklists import period_of

    period = period_of(checklist.kind, time.time(), time_zone(config))
    return view(checklist, cstore.load_run(store, checklist.kind, period), period)


def run_history(args: argparse.Namespace) -> int:
    from agent.checklists import store as cstore
    from agent.checklists.runner import view
    from agent.cli.main import UsageError, load

    if args.limit < 1:
        raise UsageError(f"checklist history --limit: expected 1 or more, got {args.limit}")
    config = load(args)
    lists = _lists(config)
    store = _open_store(config)
    try:
        runs = cstore.history(store, args.kind, args.limit)
    finally:
        store.close()
    docs = [view(lists[r.kind], r, r.period) for r in runs if r.kind in lists]
    if args.json:
        print_json({"runs": docs})
        return 0
    from rich import box
    from rich.table import Table

    out = console()
    table = Table(title="Checklist runs", title_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False)
    for col in ("checklist", "period", "status", "answered", "open", "started", "completed"):
        table.add_column(col, no_wrap=True)
    for d in docs:
        answered = len(d["items"]) - d["counts"]["open"]
        table.add_row(d["kind"], d["period"], status_text(Status.parse(d["status"])),
                      f"{answered}/{len(d['items'])}", str(d["counts"]["open"]),
                      _when(d["started_at"]), _when(d["completed_at"]))
    out.print(table)
    if not docs:
        out.print("no checklist runs recorded yet", style="dim")
    return 0



