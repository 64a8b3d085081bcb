"""`alice-tui`: the dashboard over SSH. Replaces the guide's Grafana boards and monitor.sh.

    alice-tui --demo                       simulator + in-process agent
    alice-tui --config alice-ops.yaml      in-process agent on a real config
    alice-tui --attach http://host:9321 --token-file ~/.alice-token

Bad input is one line on stderr, `alice-tui: <what>: <why>`, and exit status 2.
Textual is imported only once the dashboard starts (`--help` stays fast).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

PROG = "alice-tui"
TOKEN_ENV = "ALICE_OPS_TOKEN"


class UsageError(Exception):
    """Bad input; each line of the message is printed as `alice-tui: <line>`."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not argparse's usage block
        raise UsageError(f"arguments: {message} (see --help)")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Terminal dashboard for the Alice hybrid AI stack: "
                "component health against the threshold table, alerts (silence, ack, "
                "history), remediation playbooks (dry-run, run), spend and routing, the "
                "operations checklists, host capacity. Keys: ? in the dashboard.")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--demo", action="store_true",
                      help="start the built-in simulator and an agent in this process")
    mode.add_argument("--attach", metavar="URL",
                      help="show a running alice-agent, e.g. http://127.0.0.1:9321")
    p.add_argument("--config", "-c", metavar="FILE",
                   help="alice-ops.yaml (default: $ALICE_OPS_CONFIG, then the XDG config "
                        "dir); runs the agent in this process. With --demo/--attach only "
                        "its tui: section (keys, ascii) is used")
    p.add_argument("--scenario", default="normal", metavar="NAME",
                   help="simulator scenario for --demo (e.g. openai-outage)")
    p.add_argument("--token-file", metavar="FILE",
                   help=f"bearer token for --attach (default: ${TOKEN_ENV}); without one "
                        "the dashboard is read-only")
    p.add_argument("--read-only", action="store_true",
                   help="offer no action that changes the agent's state (silence, ack)")
    p.add_argument("--ascii", action="store_true",
                   help="ASCII only: no unicode sparklines or box characters")
    p.add_argument("--log-file", metavar="FILE",
                   help="write the in-process agent's log here (default: discarded)")
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    return p


@dataclass
class Plan:
    """What `main` resolved from the arguments, before anything starts."""

    kind: str  # demo | config | attach
    keys: dict
    ascii_only: bool
    read_only: bool
    config: object = None
    url: str = ""
    token: str | None = None
    scenario: str = "normal"


def _read_token(path: str) -> str:
    from agent.cli.check_agent import read_token_file

    try:
        return read_token_file(path)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise UsageError(f"--attach {url}: bad port") from None
    if parts.username is not None or parts.password is not None:
        # not echoed: the header, errors and logs show the URL; the token has its file
        raise UsageError("--attach: no user or password in the URL (it is shown in the "
                         "header and messages); give a bearer token with --token-file")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--attach {url}: expected an http(s) URL like "
                         "http://127.0.0.1:9321")
    return url.rstrip("/")


def find_config(explicit: str | None, env: dict[str, str]) -> Path:
    """`agent.config.find_config` (--config, $ALICE_OPS_CONFIG, the XDG config dir) without
    importing agent.config: that pulls in pydantic, which --attach never needs (~0.1 s
    at every start, ~0.35 s on a first start that compiles it). A test keeps the two equal.
    """
    if explicit:
        return Path(explicit)
    if env.get("ALICE_OPS_CONFIG"):
        return Path(env["ALICE_OPS_CONFIG"])
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "alice-ops" / "alice-ops.yaml"


def plan(args: argparse.Namespace, env: dict[str, str] | None = None) -> Plan:
    """Resolve arguments, config file and token; UsageError/SettingsError/ConfigError
    for anything wrong. Imports no Textual (and for --attach without a config file, not
    the agent's config)."""
    from tui import settings

    env = dict(os.environ) if env is None else env
    kind = "demo" if args.demo else "attach" if args.attach else "config"
    if args.token_file and kind != "attach":
        raise UsageError("--token-file: only used with --attach")
    if args.scenario != "normal" and kind != "demo":
        raise UsageError("--scenario: only used with --demo")
    path = find_config(args.config, env)
    config, tui = None, settings.Settings()
    if kind == "config" or args.config or path.exists():
        # its tui: section applies in every mode; the rest only runs an agent here
        config, tui = settings.load(path, env, whole=kind == "config")
    out = Plan(kind=kind, keys=tui.keys, ascii_only=args.ascii or tui.ascii,
               read_only=args.read_only, scenario=args.scenario, config=config)
    if kind == "attach":
        out.url = _check_url(args.attach)
        out.token = _read_token(args.token_file) if args.token_file else env.get(TOKEN_ENV)
    elif kind == "demo":
        from simulator.scenarios import check_scenario

        try:
            check_scenario(args.scenario)
        except ValueError as exc:
            raise UsageError(f"--scenario: {exc}") from None
    return out


def _setup_logging(log_file: str | None) -> None:
    """The agent logs (notices at WARNING) must not scribble over the dashboard."""
    root = logging.getLogger()
    root.handlers[:] = []
    if log_file:
        try:
            handler: logging.Handler = logging.FileHandler(log_file, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--log-file {log_file}: {exc.strerror or exc}") from None
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: "
                                               "%(message)s"))
        root.setLevel(logging.INFO)
    else:
        handler = logging.NullHandler()
    root.addHandler(handler)
    for noisy in ("apscheduler", "httpx", "aiohttp.access", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def tls_soon() -> Callable[[], Any]:
    """Build the TLS context for --attach on a thread now: loading its CA bundle releases
    the GIL, so its ~20 ms run on the other core while this one imports httpx and Textual.
    The function returned waits for it (and raises what building it raised)."""
    from agent.cli.check_agent import default_tls_context

    built: list[Any] = []

    def work() -> None:
        try:
            built.append(default_tls_context())
        except Exception as exc:  # noqa: BLE001 - raised where the context is used
            built.append(exc)

    thread = threading.Thread(target=work, name="alice-tui-tls", daemon=True)
    thread.start()

    def get() -> Any:
        thread.join()
        if isinstance(built[0], Exception):
            raise built[0]
        return built[0]

    return get


def make_source(p: Plan):
    from tui.source import AttachSource, InProcessSource

    if p.kind == "attach":
        return AttachSource(p.url, p.token, verify=tls_soon())
    if p.kind == "demo":
        return InProcessSource(demo=True, scenario=p.scenario,
                               label=f"demo ({p.scenario})" if p.scenario != "normal"
                               else "demo")
    return InProcessSource(p.config, label="in-process agent")


UI_MODULES = ("tui.app", "tui.screens.overview", "textual.drivers.linux_driver")


def preload(names: list[str]) -> threading.Thread:
    """Import `names` on a daemon thread while the in-process agent starts: the --demo
    simulator spends over a second in a warm-up sleep, time the imports of Textual and
    of the agent's probe client libraries can use instead of following it (nothing is
    run: the agent and the dashboard import the same modules a moment later anyway).
    A `module:function` name also calls that (cached, argument-free) function: the
    shipped tables the agent parses once at start."""
    import importlib

    def work() -> None:
        for name in names:
            module, _, function = name.partition(":")
            try:
                loaded = importlib.import_module(module)
                if function:
                    getattr(loaded, function)()
            except Exception:  # noqa: BLE001 - the real import or call reports it
                pass

    thread = threading.Thread(target=work, name="alice-tui-preload", daemon=True)
    thread.start()
    return thread


async def run(p: Plan) -> int:
    from tui.marks import mark
    from tui.source import AttachSource

    source = make_source(p)
    starting: asyncio.Task | None = None
    if isinstance(source, AttachSource):
        await source.check()
        await source.start()
    else:
        print(f"{PROG}: starting the {'simulator and ' if p.kind == 'demo' else ''}agent...",
              file=sys.stderr, flush=True)
        # in the order needed: the agent's own, the dashboard's, the probes' SDKs
        agent = source.modules_to_preload()
        own = ("agent.", "alerts.", "rules.")
        names = [*(n for n in agent if n.startswith(own)), *UI_MODULES,
                 *(n for n in agent if not n.startswith(own))]
        if p.kind == "demo":
            starting = await start_during_warmup(source, names)
        else:
            preload(names)
            await source.start()
    if starting is None:
        mark("source_ready")
    try:
        from tui.app import DashboardApp

        app = DashboardApp(source=source, read_only=p.read_only, ascii_only=p.ascii_only,
                           keys=p.keys)
        if starting is not None:
            # the app is up while the simulator warms up; a failed start ends it
            starting.add_done_callback(lambda task: app.exit(2) if not task.cancelled()
                                       and task.exception() is not None else None)
        await app.run_async()
        if starting is not None and starting.done() and not starting.cancelled() \
                and starting.exception() is not None:
            raise starting.exception()  # SourceError: one line, exit 2
        return app.return_code or 0
    finally:
        if starting is not None and not starting.done():
            starting.cancel()  # quit during the start-up
            await asyncio.gather(starting, return_exceptions=True)
        await source.close()


async def start_during_warmup(source, names: list[str]) -> asyncio.Task:
    """--demo: start the simulator and the agent in a task and return once the simulator
    is up and its traffic warm-up (an idle `warmup_s` sleep) begins, so the dashboard is
    built and painted meanwhile instead of after it. The modules the agent and the
    dashboard need are imported on a thread from the start: the simulator runs in a
    process of its own (tui.demo_sim), so they do not compete with its start. Raises
    SourceError if the start fails before the warm-up."""
    from tui.marks import mark

    warming = asyncio.Event()
    preload(names)

    def warmup_begins() -> None:
        warming.set()

    async def start() -> None:
        await source.start()
        mark("source_ready")

    source.during_warmup = warmup_begins
    task = asyncio.create_task(start(), name="alice-tui-start")
    waiter = asyncio.create_task(warming.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if task.done():
        task.result()  # raises what the start raised
    return task


def main(argv: list[str] | None = None) -> int:
    from tui.marks import mark

    mark("main")
    from agent.cli.slim import without_httpx_cli

    without_httpx_cli()  # ~40 ms of an --attach start
    from tui.settings import SettingsError

    def usage_errors() -> tuple[type[Exception], ...]:
        """Bad input; agent.config's ConfigError only if it was imported (it can only be
        raised then, and importing it costs pydantic)."""
        config = sys.modules.get("agent.config")
        return (UsageError, SettingsError, *((config.ConfigError,) if config else ()))

    debug = "--debug" in (sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
        p = plan(args)
        _setup_logging(args.log_file)
        from tui.source import SourceError

        try:
            return asyncio.run(run(p))
        except SourceError as exc:
            raise UsageError(str(exc)) from None
    except usage_errors() as exc:
        lines = getattr(exc, "problems", None) or str(exc).splitlines()
        for line in lines:
            print(f"{PROG}: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - never a traceback unless asked
        if debug:
            raise
        print(f"{PROG}: internal error: {exc.__class__.__name__}: {exc} "
              "(run with --debug for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
