"""`alice-ops grafana export [-o DIR]`: the guide's two dashboards (Alice Hybrid Performance,
Alice Cost Analysis) as importable Grafana JSON, one file each, thresholds from the table in
force (the config's overrides and `export_as` rows included)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.config import Config


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("grafana", help="the guide's Grafana dashboards (alice-ops grafana export)")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    export = actions.add_parser(
        "export", help="write the dashboards as importable Grafana JSON",
        description="Writes alice-ops-hybrid-performance.json and alice-ops-cost-analysis.json "
                    "into DIR: each panel reads Alice's own series (the guide's names) and the "
                    "alice-ops agent's /metrics, with the threshold table's steps. Import them "
                    "in Grafana (Dashboards > New > Import) or provision the directory; the "
                    "`datasource` variable picks the Prometheus.")
    export.add_argument("--out", "-o", metavar="DIR", default=".",
                        help="directory to write into, made if missing (default: .)")
    export.add_argument("--defaults", action="store_true",
                        help="ignore the config file (the shipped thresholds and budgets)")
    export.set_defaults(func=run_export)


def _config(args: argparse.Namespace) -> Config:
    """The config in force: --config / $ALICE_OPS_CONFIG must load; without either, the
    default file when it exists, else the defaults."""
    import os

    from agent.config import CONFIG_ENV, Config, default_config_path, load_config
    from agent.cli.main import load

    if args.defaults:
        return Config()
    if getattr(args, "config", None) or os.environ.get(CONFIG_ENV):
        return load(args)
    path = default_config_path(dict(os.environ))
    return load_config(path) if path.exists() else Config()


def run_export(args: argparse.Namespace) -> int:
    from agent.cli.main import UsageError
    from agent.cli.output import print_json
    from agent.grafana.export import export

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"grafana export: --out {out}: not a directory")
    written = export(_config(args), out)
    if args.json:
        print_json({"dashboards": written})
        return 0
    for entry in written:
        print(f"wrote {entry['path']}: {entry['title']} (uid {entry['uid']}, "
                  f"{entry['panels']} panels, {entry['queries']} queries)")
    return 0
