"""Human and JSON rendering for CLI commands; secrets are scrubbed before anything prints."""

from __future__ import annotations

import functools
import io
import json
import os
import sys
from typing import Any

from vocab.model import Status

STYLE = {Status.OK: "green", Status.WARNING: "yellow", Status.UNKNOWN: "magenta",
         Status.CRITICAL: "bold red"}


def stdout_gone() -> None:
    """The reader of stdout went away (`alice-ops check | head -1`). As CPython's docs advise
    (signal module, "Note on SIGPIPE"), point stdout at /dev/null, so that neither the rest
    of the output nor the flush at exit fails; the command still ends with its own status
    (a Nagios check's, not 1)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, io.UnsupportedOperation):
        return  # not a real file (captured): nothing to point elsewhere
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def flush_stdout() -> str | None:
    """Flush stdout; None, or why it failed (`No space left on device`). Either way stdout
    then points at /dev/null if writing to it failed, so the flush at exit cannot fail
    again; a reader that went away (see stdout_gone) is not a failure."""
    try:
        sys.stdout.flush()
        return None
    except OSError as exc:
        why = None if isinstance(exc, BrokenPipeError) else exc.strerror or str(exc)
    stdout_gone()
    try:
        sys.stdout.flush()  # what was buffered now goes to /dev/null
    except OSError:
        pass
    return why


@functools.cache
def _console_class() -> type:
    from rich.console import Console

    class QuietOnBrokenPipe(Console):
        """rich's Console, but a reader that went away (`| head -1`) does not end the command
        with SystemExit(1) (rich's default): the rest of the output goes to /dev/null."""

        def on_broken_pipe(self) -> None:
            self.quiet = True
            if not self.stderr:
                stdout_gone()

    return QuietOnBrokenPipe


def console(stderr: bool = False):
    return _console_class()(stderr=stderr, highlight=False, soft_wrap=False)


def print_json(document: Any) -> None:
    try:
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    except BrokenPipeError:
        stdout_gone()
        return
    flush_stdout()


def status_text(status: Status):
    from rich.text import Text

    return Text(status.word.upper(), style=STYLE[status])
