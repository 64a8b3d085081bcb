"""When remediation planning has anything new to see: a pure gate in front of
`RemediationController.evaluate`.

Planning reads every alert state (one signal each), so running it after every probe job
costs O(alerts) per job: O(n^2) a cycle with n endpoints (79 % of the main thread at 2000
endpoints, issue 15). Its inputs change only when
- an alert moved (the job's transition events, a retired alert),
- an alert's inhibition changed (it then triggers nothing),
- a ledger changed outside planning (a run or revert finished, a resume was applied),
- time passed a cooldown, window or reset: bounded by `heartbeat_s`, which also keeps
  the controller's own periodic work (resume requests, verification) on its clock.
So the gate answers "evaluate now?" from those facts alone: data and `now` in, a bool out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

HEARTBEAT_S = 1.0  # the controller polls resume requests every second (RESUME_REFRESH_S)


@dataclass
class EvaluateGate:
    """Remembers what the last evaluation saw; `due` says whether the next one may differ."""

    heartbeat_s: float = HEARTBEAT_S
    last_at: float | None = None
    ledgers: tuple[tuple[str, Any], ...] = ()
    inhibited: frozenset[str] = field(default_factory=frozenset)

    def due(self, now: float, *, alerts_moved: bool, ledgers: Mapping[str, Any],
            inhibited: Mapping[str, Any]) -> bool:
        """True when planning may decide something new: the first time, an alert moved,
        an inhibition or a ledger changed since the last evaluation, or `heartbeat_s`
        passed (a clock moved by more than that, either way, counts as passed)."""
        if self.last_at is None or alerts_moved:
            return True
        if abs(now - self.last_at) >= self.heartbeat_s:
            return True
        if frozenset(inhibited) != self.inhibited:
            return True
        return _fingerprint(ledgers) != self.ledgers

    def evaluated(self, now: float, *, ledgers: Mapping[str, Any],
                  inhibited: Mapping[str, Any]) -> None:
        """Record what an evaluation at `now` left behind (its own ledger changes are
        not news for the next call)."""
        self.last_at = now
        self.ledgers = _fingerprint(ledgers)
        self.inhibited = frozenset(inhibited)


def _fingerprint(ledgers: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    # ledgers are frozen dataclasses, one per playbook (a handful): compared by value
    return tuple(sorted(ledgers.items(), key=lambda item: item[0]))
