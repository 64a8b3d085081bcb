"""`alice-ops sim`: run the built-in Alice simulator alone (see simulator/cli.py)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sim", help="run the Alice simulator on loopback", add_help=False)
    p.add_argument("sim_args", nargs=argparse.REMAINDER,
                   help="simulator options (alice-ops sim --help)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Reached only for `alice-ops [options] sim ...`; main() hands `alice-ops sim` over
    directly."""
    from simulator.cli import main

    return main(args.sim_args)
