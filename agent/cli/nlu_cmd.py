"""`alice-ops nlu-bench`: send a gold set to the intent classifier (`targets.nlu`, by
default the backend's classify path), score it against the guide's accuracy row
(> 90 % target, < 85 % alert), exit 0/1/2/3."""

from __future__ import annotations

import argparse
import asyncio
import time

from agent.cli.output import console, print_json, status_text
from rules.nlu import BenchReport
from rules.thresholds import format_value


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "nlu-bench", help="benchmark intent classification accuracy; exit 0/1/2/3 by status",
        description="Send every gold-set item to the classifier (targets.nlu: url, path, "
                    "body template, intent/confidence/latency paths, none_label, aliases; "
                    "default targets.backend.url + nlu_classify_path) and judge the "
                    "accuracy against the threshold row "
                    "backend/intent_classification_accuracy.")
    p.add_argument("--gold-set", metavar="FILE", default=None,
                   help='JSONL or a JSON array, items {"text", "intent"} or {"text", '
                        '"expect_any_of": [...]} (null: "no intent" is right), optional '
                        '"kind" (default: the Swedish/English sample shipped as '
                        "rules/defaults/nlu_sample.jsonl)")
    p.add_argument("--concurrency", type=_positive, default=8, metavar="N",
                   help="requests in flight at once (default 8)")
    p.add_argument("--demo", action="store_true",
                   help="start the simulator on loopback and bench it")
    p.add_argument("--scenario", default="normal",
                   help="simulator scenario for --demo (e.g. accuracy-drop)")
    p.add_argument("--profile", default="guide", choices=("guide", "alice-main"),
                   help="simulator profile for --demo: guide (default: the backend's "
                        "classify path) or alice-main (Alice's NLU agent, replayed; the "
                        "default gold set is then Alice's own synthetic.jsonl)")
    p.set_defaults(func=run)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 256:
        raise argparse.ArgumentTypeError(f"expected a whole number 1..256, got {text!r}")
    return value


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f} %"


def _table(title: str | None, columns: tuple[tuple[str, str], ...]):
    from rich import box
    from rich.table import Table

    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for name, justify in columns:
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    return table


def render(report: BenchReport) -> None:
    """Summary line, per-intent and per-kind tables, top confusions, labels no gold item
    has, failure reasons. Fits 80 columns."""
    out = console()
    acc = report.accuracy_percent
    acc_text = "no data" if acc is None else f"{acc:.1f} %"
    out.print("NLU accuracy ", acc_text, f" ({report.correct}/{report.total})  ",
              status_text(report.status),
              f"  target {report.row.target_text}, alert {report.row.alert_text}", sep="")
    p50 = format_value(report.latency_p50_ms, "ms") if report.latency_p50_ms is not None else "-"
    p95 = format_value(report.latency_p95_ms, "ms") if report.latency_p95_ms is not None else "-"
    out.print(f"latency p50 {p50}, p95 {p95}; failed requests {report.failed}", style="dim")
    intents = _table(None, (("intent", "left"), ("support", "right"),
                            ("predicted", "right"), ("correct", "right"),
                            ("precision", "right"), ("recall", "right")))
    for s in report.intents:
        intents.add_row(s.intent, str(s.support), str(s.predicted), str(s.correct),
                        _pct(s.precision), _pct(s.recall))
    out.print(intents)
    if report.kinds:
        kinds = _table("by kind", (("kind", "left"), ("items", "right"), ("correct", "right"),
                                   ("failed", "right"), ("accuracy", "right")))
        for k in report.kinds:
            kinds.add_row(k.kind, str(k.total), str(k.correct), str(k.failed),
                          _pct(k.accuracy))
        out.print(kinds)
    if report.confusions:
        conf = _table("top confusions", (("expected", "left"), ("predicted", "left"),
                                         ("count", "right")))
        for expected, predicted, count in report.confusions:
            conf.add_row(expected, predicted, str(count))
        out.print(conf)
    if report.unmatched:
        names = ", ".join(f"{lab} x{n}" for lab, n in report.unmatched)
        out.print(f"answered labels no gold item has: {names} (where one is another "
                  "name for a gold label, map it in targets.nlu.aliases)", style="yellow",
                  markup=False)
    for reason, count in report.errors:
        out.print(f"  failed x{count}: {reason}", style="dim")


def run(args: argparse.Namespace) -> int:
    from agent.cli.main import UsageError, load
    from agent.nlu_bench import NluTargetError, classifier_of, load_gold_set, run_bench
    from rules.nlu import GoldSetError, accuracy_row, summarize

    gold = args.gold_set
    if args.demo:
        from simulator.profiles import scenarios_for

        scenarios = scenarios_for(args.profile)
        if args.scenario not in scenarios:
            raise UsageError(f"nlu-bench --scenario: unknown scenario {args.scenario!r} "
                             f"(one of: {', '.join(scenarios)})")
        if gold is None and args.profile == "alice-main":
            from simulator.profiles.alice_main import DEFAULT_RECORDING

            gold = DEFAULT_RECORDING / "gold" / "synthetic.jsonl"
    try:
        items = load_gold_set(gold)
    except GoldSetError as exc:
        raise UsageError(f"nlu-bench: {exc}") from None

    async def main() -> BenchReport:
        if args.demo:
            from agent.demo import demo_stack

            async with demo_stack(args.scenario, profile=args.profile) as (_sim, config):
                outcomes = await run_bench(items, classifier_of(config), args.concurrency)
                return summarize(outcomes, accuracy_row(config.thresholds))
        config = load(args)
        try:
            target = classifier_of(config)
        except NluTargetError as exc:
            raise UsageError(f"nlu-bench: {exc}") from None
        outcomes = await run_bench(items, target, args.concurrency)
        return summarize(outcomes, accuracy_row(config.thresholds))

    started = time.monotonic()
    report = asyncio.run(main())
    elapsed = time.monotonic() - started
    if args.json:
        print_json({**report.to_json(), "elapsed_s": round(elapsed, 3)})
    else:
        render(report)
        console().print(f"{report.total} items in {elapsed:.1f} s", style="dim")
    return report.status.exit_code
