"""`alice-ops check`: probe everything once, judge it, print a table or JSON, exit Nagios-style."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from agent.cli.output import console, print_json, status_text

if TYPE_CHECKING:
    from rules.evaluate import Report


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="probe every component once; exit 0/1/2/3 by the worst status")
    p.add_argument("--demo", action="store_true",
                   help="start the simulator on loopback and check it")
    p.add_argument("--scenario", default="normal", help="simulator scenario for --demo")
    p.add_argument("--profile", default="guide", choices=("guide", "alice-main"),
                   help="simulator profile for --demo: guide (default) or alice-main (a "
                        "replay of the real Alice main backend)")
    p.add_argument("--verbose", "-v", action="store_true", help="show every metric row")
    p.add_argument("--agent", metavar="URL",
                   help="ask a running alice-agent instead of probing: alive and fresh "
                        "(snapshot younger than 3 probe intervals) exits by its status; "
                        "unreachable or stale is CRITICAL")
    p.add_argument("--token-file", metavar="FILE",
                   help="bearer token for --agent (default: $ALICE_OPS_TOKEN)")
    p.set_defaults(func=run)


def render(report: Report, verbose: bool) -> None:
    """Components first (one line each, summary wrapping), then the metric rows that
    are not OK (all of them with --verbose). Fits 80 columns."""
    from rich import box
    from rich.table import Table

    from rules.thresholds import format_value

    out = console()
    stamp = report.to_json()["checked_at"]
    comps = Table(title=f"Alice health check  {stamp}", title_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    comps.add_column("component", no_wrap=True)
    comps.add_column("status", no_wrap=True)
    comps.add_column("latency", justify="right", no_wrap=True)
    comps.add_column("summary", overflow="fold")
    for comp in report.components:
        latency = format_value(comp.latency_ms, "ms") if comp.latency_ms is not None else "-"
        comps.add_row(comp.name, status_text(comp.status), latency, comp.summary)
    out.print(comps)
    rows = [m for m in report.metrics if verbose or m.status.value > 0]
    if rows:
        metrics = Table(box=box.SIMPLE_HEAD, pad_edge=False)
        metrics.add_column("metric", overflow="fold")
        metrics.add_column("status", no_wrap=True)
        metrics.add_column("value", justify="right", no_wrap=True)
        metrics.add_column("target", no_wrap=True)
        metrics.add_column("alert", no_wrap=True)
        for m in rows:
            value = format_value(m.value, m.unit) if m.value is not None else "no data"
            metrics.add_row(f"{m.component}: {m.title}", _metric_status(m), value,
                            m.target, m.alert)
        out.print(metrics)
        reasons = dict.fromkeys(m.reason for m in rows
                                if m.value is None and m.reason and not m.absent)
        for reason in reasons:  # one line per distinct reason: a dead Prometheus says it once
            out.print(f"  no data: {reason}", style="dim")
    render_blind_spots(report, verbose)
    out.print("overall: ", status_text(report.status), sep="")


def _metric_status(m):
    from rich.text import Text

    return Text("absent", style="dim") if m.absent else status_text(m.status)


def render_blind_spots(report: Report, verbose: bool) -> None:
    """Blind spots once per component, after the tables: not failures, but said."""
    spots = report.blind_spots
    if not spots:
        return
    from rich.padding import Padding
    from rich.text import Text

    out = console()

    def indented(text: str, indent: int, style: str = "") -> None:
        out.print(Padding(Text(text, style=style), (0, 0, 0, indent)))  # wraps in the indent

    count = sum(len(b.metrics) for b in spots)
    out.print(f"blind spots (not exported, not counted in any status): "
              f"{count} metric{'' if count == 1 else 's'}")
    for spot in spots:
        indented(f"{spot.component}: {', '.join(spot.metrics)}", 2)
        indented(f"missing: {', '.join(spot.missing)}", 4, "dim")
        if verbose:
            for hint in spot.fix:
                indented(hint, 6, "dim")
    if not verbose:
        out.print("  (check --verbose shows how to export each one)",
                  style="dim")


def run(args: argparse.Namespace) -> int:

    if args.agent or args.token_file:
        from agent.cli.check_agent import run as run_agent
        from agent.cli.main import UsageError

        if not args.agent:
            raise UsageError("check --token-file: only used with --agent URL")
        if args.demo:
            raise UsageError("check --agent: not with --demo")
        return run_agent(args)

    import asyncio

    from agent.cli.slim import without_httpx_cli

    without_httpx_cli()  # ~80 ms, a sixth of a check
    # the probes' TLS context loads its CA bundle without the GIL: on the second core,
    # while this thread imports the config and the probes (~20 ms off a check)
    from agent.probes.http import tls_context
    from agent.probes.lazy import warm

    warm(tls_context)
    from agent.check import check

    if args.demo:
        from agent.cli.main import UsageError
        from simulator.profiles import scenarios_for

        scenarios = scenarios_for(args.profile)
        if args.scenario not in scenarios:
            raise UsageError(f"check --scenario: unknown scenario {args.scenario!r} "
                             f"(one of: {', '.join(scenarios)})")

    async def main() -> Report:
        if args.demo:
            from agent.demo import demo_stack

            async with demo_stack(args.scenario, warmup_s=1.2,
                                  profile=args.profile) as (_sim, config):
                return await check(config)
        from agent.cli.main import load

        return await check(load(args))

    report = asyncio.run(main())
    if args.json:
        print_json(report.to_json())
    else:
        render(report, args.verbose)
    return report.status.exit_code
