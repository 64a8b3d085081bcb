"""`alice-ops cost` and `alice-ops capacity`: spend against budget with a burn-rate projection
and the sources side by side; host use, sessions and request rates against the guide's
scaling table. Exit codes as `check` (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from typing import Any, AsyncIterator, Callable

from agent.cli.output import console, print_json, status_text
from vocab.model import Status


DEMO_SESSION_CAP_USD = 0.1
"""--demo's per-session cap: the simulator's voice sessions spend about 0.0005 USD/s, the
session-runaway scenario's looping session about 0.08 USD/s."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    cost = sub.add_parser(
        "cost", help="spend this hour / today / this week vs budgets; exit 0/1/2/3",
        description="Spend against the hourly, daily and weekly budgets (cost: in the config; "
                    "defaults 2 / 10 / 50 USD), levels at 80 % warning, 95 % critical, 100 % "
                    "exceeded; the last hour's burn rate and when the budget runs out at it; "
                    "every spend source side by side (Prometheus cost counter, OpenAI "
                    "organization costs API, estimate from token counts x prices); the "
                    "fast/think routing split and budget-aware routing advice.")
    _demo_args(cost, "budget-burn shows spend alerts, session-runaway the session cap")
    cost.set_defaults(func=run_cost)
    cap = sub.add_parser(
        "capacity", help="host use, sessions and request rates vs the guide's scaling table",
        description="CPU, memory, disk, GPU, active sessions and request rates mapped onto "
                    "the guide's Capacity Planning table (1-10, 10-50, 50-100, 100+ users): "
                    "instances, local-AI memory, budget band, load verdict, headroom.")
    _demo_args(cap, "budget-burn: spend above the users band's budget; gateway-down: "
                    "0-1 active sessions")
    cap.set_defaults(func=run_capacity)


def _demo_args(p: argparse.ArgumentParser, example: str) -> None:
    p.add_argument("--demo", action="store_true",
                   help="start the simulator on loopback and read it")
    p.add_argument("--scenario", default="normal",
                   help=f"simulator scenario for --demo ({example}); default: normal")


@contextlib.asynccontextmanager
async def _config(args: argparse.Namespace) -> AsyncIterator[Any]:
    if not args.demo:
        from agent.cli.main import load

        yield load(args)
        return
    from agent.cli.main import UsageError
    from simulator.scenarios import SCENARIOS

    if args.scenario not in SCENARIOS:
        raise UsageError(f"{args.command} --scenario: unknown scenario {args.scenario!r} "
                         f"(one of: {', '.join(SCENARIOS)})")
    from agent.config import parse_config
    from agent.demo import DEMO_API_KEY
    from simulator.server import SimPorts, Simulator

    admin = "sk-admin-demo-0000000000"
    sim = Simulator(scenario=args.scenario, ports=SimPorts(0, 0, 0, 0, 0), api_key=DEMO_API_KEY,
                    admin_key=admin)
    await sim.start()
    try:
        await asyncio.sleep(1.5)  # let simulated traffic fill the rate windows
        urls = sim.urls
        yield parse_config(f"""
targets:
  openai: {{base_url: "{urls['openai']}", api_key: "${{K}}", admin_key: "${{A}}"}}
  prometheus: {{url: "{urls['prometheus']}"}}
cost: {{session_cap_usd: {DEMO_SESSION_CAP_USD}}}
""", "<demo>", {"K": DEMO_API_KEY, "A": admin})
    finally:
        await sim.stop()


def _show(args: argparse.Namespace, doc: dict[str, Any],
          render: Callable[[dict[str, Any]], None]) -> int:
    """`--json` prints the document, else `render` draws it; the exit code is its status."""
    if args.json:
        print_json(doc)
    else:
        render(doc)
    return Status.parse(doc["status"]).exit_code


def _usd(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def render_cost(doc: dict[str, Any]) -> None:
    from rich import box
    from rich.table import Table

    out = console()
    table = Table(title=f"Alice spend  {doc['checked_at']}  ({doc['timezone']})",
                  title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for col, just in (("budget", "left"), ("spent", "right"), ("limit", "right"),
                      ("used", "right"), ("status", "left"), ("runs out", "left")):
        table.add_column(col, justify=just, no_wrap=True)
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from rules.budget import clock

    tz = ZoneInfo(doc["timezone"])
    now = datetime.fromisoformat(doc["checked_at"]).timestamp()
    for b in doc["budgets"]:
        runs_out = "-"
        if b["level"] == "exceeded":
            runs_out = "exceeded"
        elif b["exhausted_at"]:
            runs_out = clock(datetime.fromisoformat(b["exhausted_at"]).timestamp(), tz, now)
        elif b["spent_usd"] is not None and doc["burn_rate_usd_per_hour"] is not None:
            runs_out = "lasts"
        pct = "-" if b["percent"] is None else f"{b['percent']:.0f} %"
        shown = status_text(Status.parse(b["status"])) if b["measured"] else "not measured"
        table.add_row(b["window"], _usd(b["spent_usd"]), _usd(b["limit_usd"]), pct, shown,
                      runs_out)
    out.print(table)
    burn = doc["burn_rate_usd_per_hour"]
    out.print(f"burn rate (last hour): {_usd(burn)} USD/h"
              + (f" ({doc['burn_source']})" if doc["burn_source"] else ""))
    for b in doc["budgets"]:
        if b["status"] != "ok" and b["measured"]:
            out.print(f"  {b['text']}")
    for u in doc.get("burn", ()):  # runs out within its horizon: WARNING, and the exit code
        if u["status"] == "warning":
            out.print("  ", status_text(Status.WARNING), f" burn: {u['text']}", sep="")
    sources = Table(title="sources", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("source", "hour", "day", "week", "USD/h", "note"):
        sources.add_column(col, justify="left" if col in ("source", "note") else "right",
                           overflow="fold", no_wrap=col != "note")
    for s in doc["sources"]:
        if s["available"]:
            sources.add_row(s["name"], _usd(s["hourly_usd"]), _usd(s["daily_usd"]),
                            _usd(s["weekly_usd"]), _usd(s["burn_usd_per_hour"]), s["note"])
        else:
            sources.add_row(s["name"], "-", "-", "-", "-", f"unavailable: {s['reason']}")
    if doc["sources"]:
        out.print(sources)
    for line in doc["disagreements"]:
        out.print(f"  sources disagree: {line}", style="yellow")
    r = doc["routing"]
    share = r["fast_share_percent"]
    out.print(f"routing: fast {_rate(r['fast_per_s'])}/s, think {_rate(r['think_per_s'])}/s, "
              f"fast share {'-' if share is None else f'{share:.0f} %'} "
              f"(target {r['band_percent'][0]:g}-{r['band_percent'][1]:g} %: {r['verdict']})")
    if r["active_sessions"] is not None:
        out.print(f"sessions: {r['active_sessions']:.0f} active, "
                  f"{_usd(r['cost_per_session_usd'])} USD per session today, "
                  f"{_usd(r['cost_per_session_hour_usd'])} USD per session-hour")
    if r["advice"]:
        out.print(f"advice: {r['advice']['text']}")
    _render_sessions(out, doc.get("per_session"))
    _render_audio(out, doc.get("audio"))
    from agent.cost.ratelimits import ratelimit_text

    for f in doc.get("rate_limits", ()):
        out.print(f"rate limit (app metrics, {f['source']}): {ratelimit_text(f)}")
    if doc["reason"]:
        out.print(f"no data: {doc['reason']}", style="dim")
    out.print("overall: ", status_text(Status.parse(doc["status"])), sep="")


def _render_sessions(out: Any, per: dict[str, Any] | None) -> None:
    """The session cap line: the top session against the cap, or why it cannot be judged."""
    if not per or per["status"] == "off":
        return
    cap = f"session cap {per['cap_usd']:.2f} USD"
    if per["status"] == "absent":
        out.print(f"{cap}: not measured, a blind spot: {per['reason']}", style="dim")
        return
    if not per["available"]:
        out.print(f"{cap}: ", status_text(Status.UNKNOWN), f" ({per['reason']})", sep="")
        return
    out.print(f"{cap}: {per['count']} sessions, ", status_text(Status.parse(per["status"])),
              f"; {per['text']}", sep="")
    for t in per["top"][1:3] if per["status"] != "ok" else ():
        out.print(f"  session {t['session']}: {t['usd']:.4f} USD ({t['level']})")


def _render_audio(out: Any, audio: dict[str, Any] | None) -> None:
    """Cost per audio minute: measured when the sessions' audio tokens are, else list price."""
    if not audio:
        return
    listed = audio["list_usd_per_minute"]
    where = f"audio ({audio['model']}):"
    if listed is None:
        out.print(f"{where} no audio price in the price table (cost.prices)", style="dim")
        return
    text = (f"{where} list price {listed['input']:.4f} USD/min in, "
            f"{listed['output']:.4f} USD/min out")
    m = audio["measured"]
    if m is not None:
        text += (f"; measured {m['input_minutes']:.1f} min in + {m['output_minutes']:.1f} min "
                 f"out cost {m['usd']:.4f} USD, {m['usd_per_audio_minute']:.4f} USD per audio "
                 "minute all in")
    out.print(text)


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def run_cost(args: argparse.Namespace) -> int:
    from agent.cost import spend_report

    async def main() -> dict[str, Any]:
        async with _config(args) as config:
            return (await spend_report(config)).to_json()

    return _show(args, asyncio.run(main()), render_cost)


def render_capacity(doc: dict[str, Any]) -> None:
    from rich import box
    from rich.table import Table

    out = console()
    table = Table(title=f"Alice capacity  {doc['checked_at']}", title_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("check", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("detail", overflow="fold")
    for f in doc["findings"]:
        table.add_row(f["what"], status_text(Status.parse(f["status"])), f["detail"])
    out.print(table)
    if doc["headroom_users"] is not None and doc["next_band"]:
        out.print(f"headroom: {doc['headroom_users']:.0f} sessions "
                  f"({doc['headroom_percent']:.0f} %) before the {doc['next_band']['name']} band")
    out.print(f"recommendation: {doc['recommendation']}")
    out.print("overall: ", status_text(Status.parse(doc["status"])), sep="")


def run_capacity(args: argparse.Namespace) -> int:
    from agent.cost.capacity import capacity_json, capacity_report

    async def main() -> dict[str, Any]:
        async with _config(args) as config:
            now = time.time()
            p, load, _spend = await capacity_report(config, now)
            return capacity_json(p, load, now)

    return _show(args, asyncio.run(main()), render_capacity)
