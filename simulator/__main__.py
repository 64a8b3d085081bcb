"""`python -m simulator`: the same as `alice-ops sim`."""

import sys

from simulator.cli import main

sys.exit(main())
