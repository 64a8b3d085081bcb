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
    export = rsub.add_parser("export", help="the PromQL rows as Prometheus alerting rules "
                                            "(promtool check rules accepts them)")
    export.add_argument("--defaults", action="store_true", help="ignore the config file")
    export.add_argument("--out", "-o", metavar="FILE", help="write here instead of stdout")
    export.set_defaults(func=export_rules)


def show_rules(args: argparse.Namespace) -> int:
    from agent.check import threshold_rows
    from agent.cli.main import load
    from agent.cli.output import console, print_json
    from agent.config import Config
    from rich.table import Table

    from agent.cost.component import cost_rows

    config = Config() if args.defaults else load(args)
    rows = threshold_rows(config) + cost_rows(config)  # the agent's budget rows with `cost:`
    if args.json:
        print_json({"rows": [asdict(r) for r in rows]})
        return 0
    table = Table(title="Threshold table", title_justify="left")
    for col in ("component", "metric", "target", "alert", "source"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r.component, r.metric, r.target_text, r.alert_text,
                      f"probe: {r.probe}" if r.probe else
                      f"json: {r.json}" if r.json else r.promql)
    console().print(table)
    return 0


def export_rules(args: argparse.Namespace) -> int:
    from agent.check import threshold_rows
    from agent.cli.main import load
    from agent.cli.output import print_json
    from agent.config import Config
    from rules.export import prometheus_rules, to_yaml

    config = Config() if args.defaults else load(args)
    doc = prometheus_rules(threshold_rows(config), config.alerts.for_s,
                           config.alerts.keep_firing_for_s)
    if args.json:
        print_json(doc)
        return 0
    text = to_yaml(doc)
    if args.out:
        from pathlib import Path

        Path(args.out).write_text(text, encoding="utf-8")
    else:
        print(text, end="")
    return 0
