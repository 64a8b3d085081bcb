"""Running programs for remediation's `compose` and `command` steps (an I/O edge).

Small API, reused by `rotate-key`:

- `compose_argv(action, service, file=None, docker="docker") -> list[str]`: the exact
  argv `docker compose [-f FILE] restart SERVICE` or `docker compose [-f FILE] up -d
  --no-deps SERVICE`. Nothing is ever joined into a shell string.
- `run_argv(argv, timeout_s, env=None, cwd=None) -> CommandResult`: run it with no shell, stdin
  closed, in its own process group; on timeout the whole group is killed (SIGTERM, then
  SIGKILL after 2 s) and the result says `timed_out`. Output is capped at 64 KiB each.

- `Executor`: what the runner calls for a step, `run_argv`'s signature. `executor_for(config)`
  is `run_argv`, or for a demo's config (`agent.demo.DemoConfig`) a `Recorder` that records
  the argv and answers "demo: would run ..." without running anything.

Neither function redacts: callers redact `CommandResult.stdout/stderr` before showing
or storing them (`vocab.redact.redact`).
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

ComposeAction = Literal["restart", "up"]
OUTPUT_CAP = 64 * 1024
_SERVICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


class StepError(ValueError):
    """A step that cannot be built (bad service name, empty argv...)."""


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    returncode: int | None
    """None when the program could not be started or was killed on timeout."""
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool = False
    error: str | None = None
    """Why the program could not be started (not found, not executable)."""

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def to_json(self) -> dict:
        return {"argv": list(self.argv), "returncode": self.returncode,
                "stdout": self.stdout, "stderr": self.stderr,
                "duration_s": round(self.duration_s, 3), "timed_out": self.timed_out,
                "error": self.error}


def compose_argv(action: ComposeAction, service: str, file: str | None = None,
                 docker: str = "docker") -> list[str]:
    """`docker compose [-f file] restart SERVICE` / `... up -d --no-deps SERVICE`.

    Raises:
        StepError: unknown action, or a service name that is not a compose service name
            (letters, digits, `_.-`; never an option or path).
    """
    if not _SERVICE.match(service or ""):
        raise StepError(f"compose: bad service name {service!r}")
    argv = [docker, "compose"]
    if file:
        if file.startswith("-"):
            raise StepError(f"compose: bad file name {file!r}")
        argv += ["-f", file]
    if action == "restart":
        return argv + ["restart", service]
    if action == "up":
        return argv + ["up", "-d", "--no-deps", service]
    raise StepError(f"compose: unknown action {action!r} (restart or up)")


def _kill_group(proc: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _text(data: bytes | None) -> str:
    return (data or b"")[:OUTPUT_CAP].decode("utf-8", "replace")


def run_argv(argv: Sequence[str], timeout_s: float,
             env: Mapping[str, str] | None = None, cwd: str | None = None) -> CommandResult:
    """Run `argv` (no shell) for at most `timeout_s` seconds; never raises for the
    program's own failures (not found, exit status, timeout): they are in the result."""
    argv = tuple(argv)
    if not argv or not all(isinstance(a, str) and a for a in argv):
        raise StepError(f"command: argv must be non-empty strings, got {list(argv)!r}")
    started = time.monotonic()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True,
                                env=None if env is None else dict(env), cwd=cwd)
    except OSError as exc:
        return CommandResult(argv, None, "", "", time.monotonic() - started,
                             error=f"cannot run {argv[0]}: {exc.strerror or exc}")
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        try:
            out, err = proc.communicate(timeout=2.0)
        except subprocess.TimeoutExpired:  # a grandchild keeps the pipes open
            out, err = b"", b""
        return CommandResult(argv, None, _text(out), _text(err), time.monotonic() - started,
                             timed_out=True, error=f"timed out after {timeout_s:g} s")
    return CommandResult(argv, proc.returncode, _text(out), _text(err),
                         time.monotonic() - started)


Executor = Callable[[Sequence[str], float, Mapping[str, str] | None, str | None],
                    CommandResult]


class Recorder:
    """An `Executor` that runs nothing: it keeps each argv (and its cwd) in `calls` and
    answers exit status 0 with "demo: would run <argv>" as the output."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[str, ...], str | None]] = []

    def __call__(self, argv: Sequence[str], timeout_s: float,
                 env: Mapping[str, str] | None = None, cwd: str | None = None) -> CommandResult:
        argv = tuple(argv)
        if not argv or not all(isinstance(a, str) and a for a in argv):
            raise StepError(f"command: argv must be non-empty strings, got {list(argv)!r}")
        self.calls.append((argv, cwd))
        return CommandResult(argv, 0, f"demo: would run {shlex.join(argv)}\n", "", 0.0)


def executor_for(config: Any) -> Executor:
    """The executor for compose and command steps under `config`: a fresh `Recorder` for
    a demo's config, else `run_argv`."""
    from agent.sandbox import is_demo

    return Recorder() if is_demo(config) else run_argv
