"""Human and JSON rendering for CLI commands; secrets are scrubbed before anything prints."""

from __future__ import annotations

import json
import sys
from typing import Any

from vocab.model import Status

STYLE = {Status.OK: "green", Status.WARNING: "yellow", Status.UNKNOWN: "magenta",
         Status.CRITICAL: "bold red"}


def console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def print_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def status_text(status: Status):
    from rich.text import Text

    return Text(status.word.upper(), style=STYLE[status])
