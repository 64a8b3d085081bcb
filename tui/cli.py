"""`alice-tui`: the dashboard (being built: see its issue)."""

import sys


def main() -> int:
    print("alice-tui: not built yet — the dashboard lands with its own issue; "
          "use `alice-ops check --demo` or `alice-agent --demo` meanwhile", file=sys.stderr)
    return 2
