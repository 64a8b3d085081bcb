"""`alice-ops check --agent URL`: is a running alice-agent alive and fresh, and what does it see?

It reads the agent's `/api/v1/snapshot` (one GET, a total deadline). A fresh snapshot
(taken within 3 of the agent's fastest probe intervals, at least 5 s) exits by the
overall status it reports, like `check`; an agent that does not answer, or whose
snapshot is stale, is CRITICAL: a dead agent must never read as a healthy Alice. A
refused token or a bad answer is UNKNOWN. The token comes from --token-file or
$ALICE_OPS_TOKEN and is never printed.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from vocab.model import Status

TOKEN_ENV = "ALICE_OPS_TOKEN"
STALE_AFTER_INTERVALS = 3
STALE_MIN_S = 5.0
DEADLINE_S = 10.0


@dataclass(frozen=True)
class AgentVerdict:
    """What `check --agent` concluded (pure data)."""

    url: str
    status: Status
    alive: bool
    fresh: bool
    reason: str
    age_s: float | None = None
    snapshot: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        snap = self.snapshot
        return {"agent": self.url, "alive": self.alive, "fresh": self.fresh,
                "age_s": None if self.age_s is None else round(self.age_s, 3),
                "status": self.status.word, "reason": self.reason,
                "checked_at": snap.get("checked_at"), "taken_at": snap.get("taken_at"),
                "components": [{"name": c.get("name"), "status": c.get("status"),
                                "summary": c.get("summary", "")}
                               for c in snap.get("components", [])],
                "alerts": [{"name": a.get("name"), "state": a.get("state"),
                            "severity": a.get("severity"), "summary": a.get("summary", "")}
                           for a in snap.get("alerts", []) if a.get("state") == "firing"]}


def judge(url: str, http_status: int | None, body: Any, now: float,
          error: str = "") -> AgentVerdict:
    """The verdict for one answer (or none: `http_status` None and `error` why)."""
    if http_status is None:
        return AgentVerdict(url, Status.CRITICAL, False, False, f"no answer: {error}")
    if http_status == 401:
        return AgentVerdict(url, Status.UNKNOWN, True, False,
                            f"the agent wants a token (--token-file or ${TOKEN_ENV}): "
                            f"HTTP 401")
    if http_status == 503:
        why = body.get("error") if isinstance(body, dict) else None
        return AgentVerdict(url, Status.UNKNOWN, True, False,
                            str(why or "no snapshot yet (HTTP 503)"))
    if http_status != 200 or not isinstance(body, dict):
        return AgentVerdict(url, Status.UNKNOWN, True, False,
                            f"not an agent snapshot: HTTP {http_status}")
    try:
        taken = float(body["taken_at_unix"])
        interval = float((body.get("agent") or {}).get("expected_interval_s", 5.0))
        overall = _status(body["status"])
    except (KeyError, TypeError, ValueError):
        return AgentVerdict(url, Status.UNKNOWN, True, False,
                            "not an agent snapshot: taken_at_unix or status missing")
    age = max(0.0, now - taken)
    limit = max(STALE_AFTER_INTERVALS * interval, STALE_MIN_S)
    if age > limit:
        return AgentVerdict(url, Status.CRITICAL, True, False,
                            f"stale: its latest snapshot is {age:.0f}s old (more than "
                            f"{STALE_AFTER_INTERVALS} x {interval:g}s): its cycles stopped",
                            age, body)
    return AgentVerdict(url, overall, True, True,
                        f"alive, snapshot {age:.1f}s old; overall {overall.word}", age, body)


def _status(word: Any) -> Status:
    return Status.parse(str(word))


def _shown(word: Any) -> Status:
    try:
        return _status(word)
    except KeyError:
        return Status.UNKNOWN


def check_url(url: str) -> str:
    """The agent's base URL, or UsageError naming what is wrong (never echoing a password)."""
    from agent.cli.main import UsageError

    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        raise UsageError("check --agent: no user or password in the URL; pass the API "
                         "token in a file (--token-file) or $" + TOKEN_ENV)
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise UsageError(f"check --agent {parts.scheme}://{parts.hostname}: bad port") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"check --agent {url}: expected an http(s) URL like "
                         "http://127.0.0.1:9321")
    return url.rstrip("/")


def read_token_file(path: str) -> str:
    """The bearer token in `path`, stripped; ValueError with one line saying what is wrong.

    `alice-ops check --agent` and `alice-ops-tui --attach` both read `--token-file` here.
    """
    try:
        token = Path(path).expanduser().read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise ValueError(f"--token-file {path}: no such file") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise ValueError(f"--token-file {path}: cannot read it: "
                         f"{exc.__class__.__name__}") from None
    if not token:
        raise ValueError(f"--token-file {path}: the file is empty")
    return token


def read_token(path: str | None, env: dict[str, str]) -> str | None:
    """The bearer token from the file (stripped), else $ALICE_OPS_TOKEN, else None."""
    from agent.cli.main import UsageError

    if path is None:
        return env.get(TOKEN_ENV) or None
    try:
        return read_token_file(path)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def fetch(url: str, token: str | None, deadline_s: float = DEADLINE_S) -> AgentVerdict:
    """GET the snapshot within a total deadline of `deadline_s` and judge it.

    The standard library's http.client on a worker thread, joined with the deadline: one
    GET needs no event loop and no httpx (their imports and a client's set-up are ~0.1 s,
    most of a check a monitoring system runs every minute). It connects directly (no
    $HTTP_PROXY). TLS trusts $SSL_CERT_FILE, else $SSL_CERT_DIR, else certifi's bundle,
    as httpx did."""
    import threading

    from vocab.redact import redact

    answer: list[tuple[int, bytes]] = []
    failure: list[BaseException] = []

    def work() -> None:
        try:
            answer.append(_get(url, token, deadline_s))
        except BaseException as exc:  # noqa: BLE001 - judged below, on the caller's thread
            failure.append(exc)

    worker = threading.Thread(target=work, name="check-agent-get", daemon=True)
    worker.start()
    worker.join(deadline_s)  # a daemon: a hung connection ends with the process
    error = failure[0] if failure else None
    if not answer and (error is None or isinstance(error, TimeoutError)):
        return judge(url, None, None, time.time(), f"timed out after {deadline_s:g}s")
    if error is not None:
        import http.client

        if not isinstance(error, (OSError, http.client.HTTPException)):
            raise error  # a bug, not an answer: main says "unexpected error"
        text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        what = redact(text, [token] if token else [])
        return judge(url, None, None, time.time(), " ".join(what.split()))
    status, raw = answer[0]
    import json

    try:
        body: Any = json.loads(raw)
    except ValueError:
        body = None
    return judge(url, status, body, time.time())


def _get(url: str, token: str | None, timeout_s: float) -> tuple[int, bytes]:
    """One GET of `url`/api/v1/snapshot: (HTTP status, body); OSError (refused, reset,
    TLS, a socket timeout) or http.client.HTTPException (a bad status line, a dropped
    connection) when there is no answer."""
    import http.client

    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(host, port, timeout=timeout_s,
                                           context=default_tls_context())
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout_s)
    headers = {"Accept": "application/json", "User-Agent": "alice-ops check --agent"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        conn.request("GET", f"{parts.path}/api/v1/snapshot", headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def default_tls_context():
    """httpx's default TLS context without importing httpx: $SSL_CERT_FILE, else
    $SSL_CERT_DIR, else certifi's bundle (the system's without certifi). Loading the
    bundle releases the GIL, so it can run on another core (alice-tui --attach does)."""
    import ssl

    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    try:
        import certifi
    except ImportError:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


def render(verdict: AgentVerdict) -> None:
    from agent.cli.output import console, status_text

    out = console()
    out.print(f"agent {verdict.url}: {verdict.reason}")
    for comp in verdict.snapshot.get("components", []):
        out.print(f"  {comp.get('name', '?'):<11} ", status_text(_shown(comp.get("status"))),
                  f"  {comp.get('summary', '')}", sep="")
    out.print("overall: ", status_text(verdict.status), sep="")


def run(args: argparse.Namespace) -> int:
    from agent.cli.output import print_json

    url = check_url(args.agent)
    verdict = fetch(url, read_token(args.token_file, dict(os.environ)))
    if args.json:
        print_json(verdict.to_json())
    else:
        render(verdict)
    return verdict.status.exit_code
