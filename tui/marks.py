"""Opt-in timing marks for the start-up benchmark (`python -m tui.bench startup`).

When `ALICE_TUI_BENCH_FILE=<path>` is set, `mark(event)` appends one line
`<event> <time.time()> <time.monotonic()>` to that file; otherwise it does nothing
(one dict lookup). CLOCK_MONOTONIC is shared by every process on Linux, so the
benchmark compares these marks with the monotonic time at which it spawned alice-tui.

Events: `main` (cli entered), `sim_start` / `sim_ready` (the --demo simulator, its
warm-up included), `source_ready`, `app_mount`, `first_snapshot`, `first_paint` (the
first frame drawn from any snapshot) and `first_full_paint` (every configured component
probed and drawn: ALICE_TUI_BENCH_COMPONENTS says how many; see
`DashboardApp._check_paint`); then `snapshot` for every later snapshot applied.
"""

from __future__ import annotations

import os
import time

ENV = "ALICE_TUI_BENCH_FILE"
COMPONENTS_ENV = "ALICE_TUI_BENCH_COMPONENTS"


def enabled() -> bool:
    return bool(os.environ.get(ENV))


def expected_components() -> int:
    """How many components the benchmark's agent is configured with (0: not told)."""
    try:
        return int(os.environ.get(COMPONENTS_ENV) or 0)
    except ValueError:
        return 0


def mark(event: str) -> None:
    path = os.environ.get(ENV)
    if not path:
        return
    line = f"{event} {time.time():.6f} {time.monotonic():.6f}\n"
    try:
        with open(path, "a", encoding="utf-8") as out:
            out.write(line)
    except OSError:
        pass  # a benchmark aid must never break the dashboard
