"""`alice-agent`: the headless agent (not built yet: see issue 3)."""

import sys


def main() -> int:
    print("alice-agent: not built yet — the headless agent lands with its own issue; "
          "use `alice-ops check` meanwhile", file=sys.stderr)
    return 2
