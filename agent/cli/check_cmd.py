"""`alice-ops check`: probe everything once, judge it, print a table or JSON, exit Nagios-style."""

from __future__ import annotations

import argparse
import asyncio

from agent.cli.output import console, print_json, status_text
from rules.evaluate import Report
from rules.thresholds import format_value


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="probe every component once; exit 0/1/2/3 by the worst status")
    p.add_argument("--demo", action="store_true", help="start the simulator on loopback and check it")
    p.add_argument("--scenario", default="normal", help="simulator scenario for --demo")
    p.add_argument("--verbose", "-v", action="store_true", help="show every metric row")
    p.set_defaults(func=run)


def render(report: Report, verbose: bool) -> None:
    from rich.table import Table

    out = console()
    stamp = report.to_json()["checked_at"]
    table = Table(title=f"Alice health check — {stamp}", title_justify="left", expand=False)
    for col in ("component", "status", "value", "target", "alert", "summary"):
        table.add_column(col, overflow="fold", no_wrap=col not in ("summary",))
    for comp in report.components:
        latency = format_value(comp.latency_ms, "ms") if comp.latency_ms is not None else "-"
        table.add_row(comp.name, status_text(comp.status), latency, "", "", comp.summary)
        for m in comp.metrics:
            if verbose or m.status.value > 0:
                why = m.reason if m.value is None else ""
                table.add_row(f"  {m.name}", status_text(m.status), format_value(m.value, m.unit),
                              m.target, m.alert, why or m.title)
    out.print(table)
    out.print("overall: ", status_text(report.status), sep="")


def run(args: argparse.Namespace) -> int:
    from agent.check import check

    async def main() -> Report:
        if args.demo:
            from agent.demo import demo_stack

            async with demo_stack(args.scenario, warmup_s=1.2) as (_sim, config):
                return await check(config)
        from agent.cli.main import load

        return await check(load(args))

    report = asyncio.run(main())
    if args.json:
        print_json(report.to_json())
    else:
        render(report, args.verbose)
    return report.status.exit_code
