"""`python -m simulator.bench WHAT`: the command line of the benchmarks."""

from __future__ import annotations

import argparse
from pathlib import Path

from simulator.bench.check import bench_check
from simulator.bench.detect import bench_detect
from simulator.bench.overhead import bench_overhead
from simulator.bench.scale import ScaleRun, bench_scale

# -- command line --------------------------------------------------------------------------

def _scale_args(p: argparse.ArgumentParser, prefix: str = "") -> None:
    p.add_argument(f"--{prefix}endpoints", type=int, default=500)
    p.add_argument(f"--{prefix}interval", type=float, default=10.0,
                   help="probe interval of each endpoint, s (default 10)")
    p.add_argument(f"--{prefix}duration", type=float, default=600.0,
                   help="measured seconds (default 600 = 10 minutes)")
    p.add_argument(f"--{prefix}warmup", type=float, default=15.0,
                   help="seconds before measuring (default 15)")
    p.add_argument(f"--{prefix}jitter", type=float, default=0.0,
                   help="agent.jitter_s (default 0: every endpoint due at the same instant, "
                        "the worst case, and rounds are well defined)")
    p.add_argument(f"--{prefix}scrape-every", type=float, default=15.0,
                   help="GET /metrics every N s like Prometheus (default 15; 0: never)")
    p.add_argument(f"--{prefix}incident", action="store_true",
                   help="the tools backend hangs for the whole window (every endpoint "
                        "probe times out, every endpoint alert fires)")
    p.add_argument(f"--{prefix}cycle-target", type=float, default=2.0)


def _scale_run(args: argparse.Namespace, prefix: str = "") -> ScaleRun:
    def get(name: str):
        return getattr(args, prefix.replace("-", "_") + name)

    return ScaleRun(endpoints=get("endpoints"), interval_s=get("interval"),
                    duration_s=get("duration"), warmup_s=get("warmup"), jitter_s=get("jitter"),
                    scrape_every_s=get("scrape_every"), incident=get("incident"),
                    cycle_target_s=get("cycle_target"), keep=getattr(args, "keep", False),
                    patch=args.patch, py_spy=getattr(args, "py_spy", None))


def main(argv: list[str] | None = None) -> int:
    import simulator.bench as package

    parser = argparse.ArgumentParser(prog="bench", description=package.__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    check = sub.add_parser("check", help="check --json wall time and probe-phase concurrency")
    check.add_argument("--runs", type=int, default=10)
    report = sub.add_parser("report", help="issue 15's table: each figure beside its peer's "
                                           "in the same run, the ratio, the load average")
    report.add_argument("--runs", type=int, default=5, help="runs per check figure (default 5)")
    report.add_argument("--agent-duration", type=float, default=60.0,
                        help="seconds the agent and its peers are sampled (default 60)")
    report.add_argument("--detect-trials", type=int, default=10)
    report.add_argument("--only", action="append",
                        choices=("check", "agent", "detect", "tui"),
                        help="only these parts (repeatable; default all)")
    detect = sub.add_parser("detect", help="agent: time from a fault to a firing alert")
    over = sub.add_parser("overhead", help="agent: CPU and RSS at default intervals")
    scale = sub.add_parser("scale", help="agent: many extra endpoints")
    every = sub.add_parser("agent", help="detect, overhead and scale one after the other")
    for p in (detect, every):
        p.add_argument("--trials", type=int, default=10)
        p.add_argument("--scenario", default="openai-outage")
        p.add_argument("--alert", default="openai_health")
        p.add_argument("--timeout", type=float, default=30.0,
                       help="give up on a trial after this many seconds")
        p.add_argument("--seed", type=int, default=1, help="seed of the random phases")
    detect.add_argument("--endpoints", type=int, default=0,
                        help="also probe N extra endpoints every 10 s (load)")
    for p, prefix in ((over, ""), (every, "overhead-")):
        p.add_argument(f"--{prefix}duration", type=float, default=60.0,
                       help="measured seconds (default 60)")
        p.add_argument(f"--{prefix}warmup", type=float, default=10.0,
                       help="seconds before measuring (default 10)")
        p.add_argument(f"--{prefix}scrape-every", type=float, default=0.0,
                       help="GET /metrics every N s during the window like Prometheus "
                            "(default 0: never)")
    _scale_args(scale)
    _scale_args(every, "scale-")
    scale.add_argument("--keep", action="store_true", help="keep the temp dir (config, db)")
    scale.add_argument("--py-spy", type=Path, metavar="OUT",
                       help="investigation: record the agent with py-spy (--gil, raw "
                            "collapsed stacks) during the window into OUT")
    for p in (detect, over, scale, every):
        p.add_argument("--patch", type=Path, metavar="FILE",
                       help="experiments only: exec FILE (monkeypatches) in the agent process "
                            "before it starts; the figures are then not the shipped agent's")
    args = parser.parse_args(argv)
    if getattr(args, "patch", None) is not None:
        print(f"NOTE: agent run with the experimental patch {args.patch}, not as shipped")
    if args.what == "check":
        bench_check(args.runs)
    if args.what == "report":
        from simulator.bench.report import bench_report

        if args.runs < 3:
            parser.error("report --runs: at least 3 (a median of fewer says little)")
        bench_report(args.runs, args.agent_duration, args.detect_trials,
                     args.only or ["check", "agent", "detect", "tui"])
    if args.what in ("detect", "agent"):
        bench_detect(args.trials, args.scenario, args.alert, args.timeout, args.seed,
                     args.patch, getattr(args, "endpoints", 0))
    if args.what == "overhead":
        bench_overhead(args.duration, args.warmup, args.scrape_every, args.patch)
    if args.what == "agent":
        bench_overhead(args.overhead_duration, args.overhead_warmup,
                       args.overhead_scrape_every, args.patch)
    if args.what in ("scale", "agent"):
        bench_scale(_scale_run(args, "scale-" if args.what == "agent" else ""))
    return 0
