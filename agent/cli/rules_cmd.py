"""`alice-ops rules show`: the threshold table in force (defaults plus config overrides)."""

from __future__ import annotations

import argparse
from dataclasses import asdict


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rules", help="show the threshold table in force")
    rsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = rsub.add_parser("show", help="list every row: source, target, alert threshold")
    show.add_argument("--defaults", action="store_true", help="ignore the config file")
    show.set_defaults(func=show_rules)


def show_rules(args: argparse.Namespace) -> int:
    from agent.check import threshold_rows
    from agent.cli.main import load
    from agent.cli.output import console, print_json
    from agent.config import Config
    from rich.table import Table

    config = Config() if args.defaults else load(args)
    rows = threshold_rows(config)
    if args.json:
        print_json({"rows": [asdict(r) for r in rows]})
        return 0
    table = Table(title="Threshold table", title_justify="left")
    for col in ("component", "metric", "target", "alert", "source"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r.component, r.metric, r.target_text, r.alert_text,
                      f"probe: {r.probe}" if r.probe else r.promql)
    console().print(table)
    return 0
