"""`alice-tui`: the dashboard (not built yet: see issue 4)."""

import sys


def main() -> int:
    print("alice-tui: not built yet — the dashboard lands with its own issue; "
          "use `alice-ops check --demo` meanwhile", file=sys.stderr)
    return 2
