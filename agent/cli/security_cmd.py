"""`alice-ops security scan`: secrets in logs, auth failure rate, TLS expiry and file
permissions (the guide's Security Operations); a findings table or JSON, exit 0/1/2/3."""

from __future__ import annotations

import argparse
import asyncio

from agent.cli.output import console, print_json, status_text


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("security", help="security checks (alice-ops security scan)")
    actions = p.add_subparsers(dest="security_command", metavar="ACTION")
    actions.required = True
    scan = actions.add_parser(
        "scan", help="scan once; exit 0/1/2/3 by the worst finding",
        description="Secrets in security.log_globs (WARNING each), auth failures per hour "
                    "from Prometheus (WARNING above security.auth_failures_per_hour_alert, "
                    "CRITICAL above 5x), TLS certificates of security.tls_hosts (< 30 days "
                    "WARNING, < 7 days, expired or untrusted CRITICAL) and permissions of "
                    "the config file and security.files (world-readable WARNING, "
                    "world-writable CRITICAL).")
    scan.set_defaults(func=run)


def render(report) -> None:
    from rich import box
    from rich.table import Table

    out = console()
    table = Table(title="Alice security scan", title_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False)
    table.add_column("check", no_wrap=True)
    table.add_column("target", overflow="fold", max_width=28)
    table.add_column("status", no_wrap=True)
    table.add_column("detail", overflow="fold")
    for f in report.findings:
        table.add_row(f.check, f.target, status_text(f.status), f.detail)
    out.print(table)
    out.print("overall: ", status_text(report.status), sep="")


def run(args: argparse.Namespace) -> int:
    from agent.config import find_config, load_config
    from agent.security.scan import scan

    path = find_config(getattr(args, "config", None))
    config = load_config(path)
    report = asyncio.run(scan(config, path))
    if args.json:
        print_json(report.to_json())
    else:
        render(report)
    return report.status.exit_code
