"""Plain data that flows through a cycle: what probes return and what the evaluator judges.

Nothing here does I/O; every type is frozen so a snapshot can be shared safely.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Iterable, Mapping


class Status(enum.IntEnum):
    """Health of a metric or component, ordered so that ``max()`` is "worst of".

    An unreadable metric (UNKNOWN) is a blind spot: worse than a missed target,
    better than a crossed alert threshold (DESIGN.md, check --json contract).
    """

    OK = 0
    WARNING = 1
    UNKNOWN = 2
    CRITICAL = 3

    @property
    def word(self) -> str:
        return self.name.lower()

    @property
    def exit_code(self) -> int:
        """Nagios plugin exit code: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN."""
        return {Status.OK: 0, Status.WARNING: 1, Status.CRITICAL: 2, Status.UNKNOWN: 3}[self]

    @classmethod
    def worst(cls, statuses: Iterable[Status]) -> "Status":
        return max(statuses, default=cls.OK)

    @classmethod
    def parse(cls, text: str) -> "Status":
        return cls[text.strip().upper()]


@dataclass(frozen=True)
class Reading:
    """One measured value from a probe, or the reason it could not be measured.

    ``missing`` names what the source has never had (Prometheus series names, JSON
    paths): such a reading is *absent*, a blind spot rather than an outage.
    """

    value: float | None
    unit: str = ""
    reason: str = ""
    missing: tuple[str, ...] = ()

    @property
    def known(self) -> bool:
        return self.value is not None and not math.isnan(self.value)

    @property
    def absent(self) -> bool:
        return bool(self.missing) and not self.known


@dataclass(frozen=True)
class ProbeResult:
    """What one probe learned about one component.

    ``status`` is the probe's own verdict on reachability and semantics (auth
    failure, model missing, "degraded" health); numeric ``readings`` are judged
    separately against the threshold table.
    """

    component: str
    status: Status
    summary: str
    latency_ms: float | None = None
    readings: Mapping[str, Reading] = field(default_factory=dict)
    details: Mapping[str, object] = field(default_factory=dict)

    @classmethod
    def failed(cls, component: str, status: Status, reason: str,
               latency_ms: float | None = None) -> "ProbeResult":
        return cls(component=component, status=status, summary=reason, latency_ms=latency_ms)
