"""`alice-ops discover`: find out what a deployment serves, print it beside what the guide
asks for, and (`--write FILE`) write a config fitted to it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from agent.cli.output import print_json

SCHEMES = {"http": "http", "https": "https", "ws": "http", "wss": "https"}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("discover", help="find out what a deployment serves; --write a fitted "
                                        "config")
    p.add_argument("--backend", required=True, metavar="URL", help="the Alice backend")
    p.add_argument("--gateway", metavar="URL",
                   help="the voice gateway (a path on it is tried as a WebSocket path)")
    p.add_argument("--prometheus", metavar="URL", help="the Prometheus holding Alice's metrics")
    p.add_argument("--ollama", metavar="URL", help="the local Ollama")
    p.add_argument("--openai-base-url", metavar="URL",
                   help="an OpenAI-compatible API (key from $OPENAI_API_KEY, never printed)")
    p.add_argument("--nlu", metavar="URL",
                   help="a classifier service of its own (Alice's NLU agent), tried beside "
                        "the backend")
    p.add_argument("--write", metavar="FILE", help="write a config fitted to what answered")
    p.add_argument("--force", action="store_true", help="overwrite an existing --write FILE")
    p.add_argument("--timeout-ms", type=int, default=1500, metavar="N",
                   help="deadline of each request (default 1500)")
    p.set_defaults(func=run)


def parse_url(flag: str, value: str, websocket: bool = False) -> tuple[str, str]:
    """(base URL with any path prefix, path); one-line UsageError for a bad URL."""
    from agent.cli.main import UsageError

    parts = urlsplit(value.strip())
    allowed = SCHEMES if websocket else {"http": "http", "https": "https"}
    if parts.scheme not in allowed or not parts.hostname:
        kinds = "http(s) or ws(s)" if websocket else "http(s)"
        raise UsageError(f"discover {flag}: not an {kinds} URL: {value!r}")
    if parts.username or parts.password:
        raise UsageError(f"discover {flag}: a user:password in the URL is not accepted "
                         "(the URL is not shown)")
    try:
        port = parts.port
    except ValueError:
        raise UsageError(f"discover {flag}: bad port in URL: {value!r}") from None
    if parts.query or parts.fragment:
        raise UsageError(f"discover {flag}: drop the query or fragment from {value!r}")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    base = f"{allowed[parts.scheme]}://{host}" + (f":{port}" if port else "")
    return base, parts.path.rstrip("/")


def options(args: argparse.Namespace):
    from agent.cli.main import UsageError
    from agent.discover.explore import Options

    if not 1 <= args.timeout_ms <= 60_000:
        raise UsageError(f"discover --timeout-ms: expected 1..60000, got {args.timeout_ms}")
    backend, prefix = parse_url("--backend", args.backend)
    gateway, gateway_paths = None, ()
    if args.gateway:
        gateway, path = parse_url("--gateway", args.gateway, websocket=True)
        gateway_paths = (path,) if path else ()
    other = {}
    for flag, name in (("--prometheus", "prometheus"), ("--ollama", "ollama"),
                       ("--openai-base-url", "openai_base_url"), ("--nlu", "nlu")):
        value = getattr(args, name)
        if value:
            base, path = parse_url(flag, value)
            other[name] = base + path
    return Options(backend=backend + prefix, gateway=gateway, gateway_paths=gateway_paths,
                   prometheus=other.get("prometheus"), ollama=other.get("ollama"),
                   openai=other.get("openai_base_url"), nlu=other.get("nlu"),
                   timeout_ms=args.timeout_ms)


def run(args: argparse.Namespace) -> int:
    from agent.cli.main import UsageError
    from agent.config import ConfigError, parse_config
    from agent.discover.explore import discover
    from agent.discover.fitted import fitted_config
    from agent.discover.report import render, to_json

    opts = options(args)
    target = Path(args.write) if args.write else None
    if target is not None and target.exists() and not args.force:
        raise UsageError(f"discover --write: {target} already exists (use --force to "
                         "overwrite)")
    found = asyncio.run(discover(opts))
    written = None
    if target is not None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        text = fitted_config(found, stamp, have_openai_key=bool(os.environ.get("OPENAI_API_KEY")))
        try:
            parse_config(text, str(target), dict(os.environ))
        except ConfigError as exc:  # a bug here, never the user's: say so, write nothing
            raise UsageError(f"discover: the fitted config does not validate "
                             f"({exc.problems[0]}); nothing written") from None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            target.chmod(0o600)
        except OSError as exc:
            raise UsageError(f"discover --write: cannot write {target}: {exc.strerror}") \
                from None
        written = str(target)
    if args.json:
        print_json(to_json(found, written))
    else:
        import shutil

        print(render(found, written, width=shutil.get_terminal_size((100, 24)).columns))
    return 0
