"""`alice-agent`: the headless agent — scheduled probes, alerts, notifiers, store, HTTP API.

SIGTERM/SIGINT finish the jobs in flight (each commits) and exit 0; SIGHUP reloads
the config (each probe keeps its phase), and an invalid new config is refused with a
log line while the old one keeps running.

Exit codes: 0 stopped cleanly; 2 cannot start (bad config, address in use, state file
unusable, another agent on the same state file); 65 the state file is damaged: one line
says so and names `alice-agent --recover` (never a restart loop: the systemd unit has
`RestartPreventExitStatus=65`); 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from pathlib import Path

from agent.config import Config, ConfigError, find_config, load_config

PROG = "alice-agent"
log = logging.getLogger("alice_ops.agent")


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        from vocab.redact import redact

        doc = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
               "logger": record.name, "msg": redact(record.getMessage())}
        if record.exc_info:
            doc["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(doc, ensure_ascii=False)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        from vocab.redact import redact

        return redact(super().format(record))


def setup_logging(fmt: str, level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonFormatter() if fmt == "json" else
                         _TextFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("apscheduler", "httpx", "aiohttp.access", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class UsageError(Exception):
    """Bad input: printed as one line, `alice-agent: <what>: <why>`, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]  # one line, not the usage block
        raise UsageError(f"{message} (see --help)")


def _listen(value: str) -> str:
    """--listen: HOST:PORT, checked as agent.listen is."""
    from pydantic import ValidationError

    from agent.config import AgentSettings

    try:
        return AgentSettings(listen=value).listen
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(
            exc.errors()[0]["msg"].removeprefix("Value error, ")) from None


def check_args(args: argparse.Namespace) -> None:
    """What argparse cannot check alone; UsageError names the flag."""
    if args.demo:
        from simulator.profiles import scenarios_for

        scenarios = scenarios_for(args.profile)
        if args.scenario not in scenarios:
            raise UsageError(f"--scenario: unknown scenario {args.scenario!r} for profile "
                             f"{args.profile} (one of: {', '.join(scenarios)})")
        for flag in ("config", "data"):
            if getattr(args, flag):
                raise UsageError(f"--{flag}: not used with --demo (the demo runs on its own "
                                 "config, all state in a temporary directory)")
    elif args.scenario != "normal":
        raise UsageError("--scenario: only used with --demo")
    elif args.profile != "guide":
        raise UsageError("--profile: only used with --demo")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Headless Alice monitoring agent.")
    p.add_argument("--config", "-c", metavar="FILE", help="config file (default: discovery)")
    p.add_argument("--demo", action="store_true", help="run against the built-in simulator")
    p.add_argument("--scenario", default="normal", help="simulator scenario for --demo")
    p.add_argument("--profile", default="guide", choices=("guide", "alice-main"),
                   help="simulator profile for --demo: guide (default, the operations "
                        "guide's Alice) or alice-main (the real Alice main backend, replayed)")
    p.add_argument("--listen", metavar="HOST:PORT", type=_listen,
                   help="API address (overrides agent.listen)")
    p.add_argument("--data", metavar="FILE", help="SQLite state file (overrides agent.data_path)")
    p.add_argument("--recover", action="store_true",
                   help="a damaged state file is moved aside (kept as "
                        "state.db.corrupt-<UTC time>) and the agent starts with a fresh one")
    p.add_argument("--read-only", action="store_true",
                   help="refuse every mutating action (as config read_only: true)")
    p.add_argument("--log-format", choices=("text", "json"), default="text",
                   help="log lines on stderr: text, or one JSON object per line (default text)")
    p.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"),
                   help="least severe level logged (default info)")
    return p


def _with_overrides(config: Config, args: argparse.Namespace) -> Config:
    agent = config.agent
    if args.listen:
        agent = agent.model_copy(update={"listen": args.listen})
    if args.data:
        agent = agent.model_copy(update={"data_path": args.data})
    if os.environ.get("ALICE_OPS_TOKEN") and agent.token is None:
        from pydantic import SecretStr
        agent = agent.model_copy(update={"token": SecretStr(os.environ["ALICE_OPS_TOKEN"])})
    return config.model_copy(update={"agent": agent,
                                     "read_only": config.read_only or args.read_only})


async def run_agent(config: Config, config_path: Path | None, args: argparse.Namespace,
                    ready: asyncio.Event | None = None) -> int:
    from agent.api import ApiError
    from agent.service import AgentService
    from agent.store import StoreError

    from agent.store.recover import EXIT_CORRUPT, RECOVER_HINT

    try:
        if getattr(args, "recover", False):
            _recover(config)
        service = await AgentService.start(config)
    except (StoreError, ApiError) as exc:
        if isinstance(exc, StoreError) and exc.corrupt:
            print(f"{PROG}: the state file is damaged ({exc}); {RECOVER_HINT}",
                  file=sys.stderr)
            return EXIT_CORRUPT
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    log.info("api listening on %s", service.api_url)
    log.info("state in %s", service.path)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def reload() -> None:
        if config_path is None:
            log.warning("SIGHUP: no config file to reload (--demo)")
            return
        try:
            new = _with_overrides(load_config(config_path), args)
        except ConfigError as exc:
            for line in exc.problems:
                log.error("config reload refused, keeping the running config: %s", line)
            return
        stuck = service.reload(new)
        log.info("config reloaded from %s: %d probe jobs", config_path,
                 len(service.runtime.jobs))
        if stuck:
            log.warning("config reload: %s changed; restart alice-agent to apply it",
                        ", ".join(stuck))

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, reload)
    if ready is not None:
        ready.set()
    await stop.wait()
    log.info("stopping: finishing the probes in flight")
    await service.stop()
    log.info("stopped cleanly")
    return 0


def _recover(config: Config) -> None:
    """--recover: move a damaged state file aside (StoreError when it cannot be)."""
    from agent.store import state_path
    from agent.store.recover import recover

    path = state_path(config)
    moved = recover(path)
    if moved is None:
        log.info("--recover: %s is not damaged (or absent): nothing moved", path)
    else:
        log.warning("--recover: damaged %s moved aside to %s; starting with a fresh one",
                    path, moved)


async def _demo(args: argparse.Namespace) -> int:
    """The simulator and an agent on it; all state in a temporary sandbox removed at exit
    (--data and --config are refused with --demo: the demo never writes a real state
    file)."""
    from agent.demo import demo_stack, sandbox, with_demo_capabilities

    with sandbox() as root:
        async with demo_stack(args.scenario, warmup_s=1.2,
                              profile=args.profile) as (sim, config):
            log.info("demo: simulator on %s (switch scenarios with POST /_sim/scenario)",
                     sim.urls["backend"])
            log.info("demo: state in the temporary %s (removed at exit)", root)
            config = with_demo_capabilities(config, str(root / "state.db"))
            demo_args = argparse.Namespace(**{**vars(args), "data": None})
            return await run_agent(_with_overrides(config, demo_args), None, demo_args)


def main(argv: list[str] | None = None) -> int:
    from agent.cli.slim import without_httpx_cli

    without_httpx_cli()  # the agent never calls httpx's command line: ~4 MB of RSS less
    try:
        args = build_parser().parse_args(argv)
        check_args(args)
    except UsageError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    setup_logging(args.log_format, args.log_level)
    try:
        if args.demo:
            return asyncio.run(_demo(args))
        path = find_config(args.config)
        config = _with_overrides(load_config(path), args)
        return asyncio.run(run_agent(config, path, args))
    except ConfigError as exc:
        for line in exc.problems:
            print(f"{PROG}: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback, unless debugging
        if args.log_level == "debug":
            raise
        from vocab.redact import redact

        print(f"{PROG}: unexpected error: {redact(f'{exc.__class__.__name__}: {exc}')} "
              "(rerun with --log-level debug for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
