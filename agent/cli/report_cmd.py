"""`alice-ops report weekly --out FILE [--format html|md]`: the guide's weekly performance
report from the agent's stored history (latency percentiles, routing split, spend vs
budget, alert counts); HTML is one self-contained file with inline SVG charts."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from agent.cli.output import print_json


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="reports from the agent's history (alice-ops report weekly)")
    kinds = p.add_subparsers(dest="report_kind", metavar="KIND")
    kinds.required = True
    weekly = kinds.add_parser(
        "weekly", help="the last seven days: latency, routing split, spend, alerts",
        description="Seven local days ending today (cost.timezone, else the system's), read "
                    "from state.db: latency percentiles against the threshold table, fast-path "
                    "share against its band, spend per day against the daily and weekly "
                    "budgets, alerts fired per day and per alert.")
    weekly.add_argument("--out", "-o", required=True, metavar="FILE", help="file to write")
    weekly.add_argument("--format", choices=("html", "md"), default=None,
                        help="default: from the file name (.md is Markdown), else html")
    weekly.add_argument("--data", metavar="FILE", help="state file (default: agent.data_path, "
                                                       "XDG)")
    weekly.add_argument("--demo", action="store_true",
                        help="a simulated week (one slow afternoon, one budget-burn day) "
                             "instead of the agent's history")
    weekly.set_defaults(func=run)


def _config_and_store(args: argparse.Namespace):
    from agent.cli.main import UsageError
    from agent.config import Config, ConfigError, find_config, load_config
    from agent.store import Store, StoreError, state_path

    try:
        config = load_config(find_config(args.config))
    except ConfigError:
        if args.config:
            raise
        config = Config()  # no config file: defaults, history from --data or XDG
    path = Path(args.data) if args.data else state_path(config)
    if not path.exists():
        raise UsageError(f"report: no agent state at {path} (has alice-agent run? pass --data)")
    try:
        return config, Store.open(path)
    except StoreError as exc:
        raise UsageError(f"report: {exc}") from None


def run(args: argparse.Namespace) -> int:
    from agent.cli.main import UsageError
    from agent.report import weekly_report, write_report

    out = Path(args.out)
    fmt = args.format or ("md" if out.suffix.lower() in (".md", ".markdown") else "html")
    if not out.parent.is_dir():
        raise UsageError(f"report weekly --out: directory {out.parent} does not exist")
    now = time.time()
    if args.demo:
        import tempfile

        from agent.config import parse_config
        from agent.store import Store
        from simulator.week import TZ, fill_week

        tmp = tempfile.TemporaryDirectory(prefix="alice-ops-demo-")
        config = parse_config(f"cost: {{timezone: {TZ.key}}}", "<demo>", {})
        store = Store.open(Path(tmp.name) / "state.db")
    else:
        tmp = None
        config, store = _config_and_store(args)
    try:
        if args.demo:
            fill_week(store, now)  # the simulated week ends when the report does
        report = weekly_report(config, store, now)
        if args.demo:
            import dataclasses

            report = dataclasses.replace(report, demo=True)
    finally:
        store.close()
        if tmp is not None:
            tmp.cleanup()
    try:
        write_report(report, out, fmt)
    except OSError as exc:
        raise UsageError(f"report weekly --out: cannot write {out}: {exc.strerror}") from None
    from agent.snapshot import iso

    summary = {"written": str(out), "format": fmt, "demo": report.demo,
               "from": iso(report.start),
               "to": iso(report.end),
               "week_spend_usd": report.week_spend, "weekly_budget_usd": report.weekly_budget,
               "fast_share_percent": report.fast_share,
               "alerts_fired": sum(w + c for _, w, c in report.alert_counts)}
    if args.json:
        print_json(summary)
    else:
        demo = ", DEMO DATA: a simulated week" if report.demo else ""
        print(f"wrote {out} ({fmt}{demo})")
    return 0
