"""Alert rules: when a stream of per-cycle Status results for one metric is a breach.

Pure data read by `alerts.lifecycle.transition`; it holds no state of its own.
"""

from __future__ import annotations

import functools

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from vocab.model import Status
from alerts.silence import fingerprint

WARNING_SEVERITY = "warning"
CRITICAL_SEVERITY = "critical"
_SEVERITY_RANK = {WARNING_SEVERITY: 1, CRITICAL_SEVERITY: 2}


def worse_severity(a: str | None, b: str | None) -> str | None:
    """The more severe of two severities ("critical" beats "warning" beats None)."""
    rank_a = _SEVERITY_RANK.get(a, 0) if a is not None else 0
    rank_b = _SEVERITY_RANK.get(b, 0) if b is not None else 0
    return a if rank_a >= rank_b else b


@dataclass(frozen=True)
class AlertRule:
    """How one (component, metric) status stream turns into an alert.

    Semantics, in the order `transition` applies them:

    * **Breach.** A result is *bad* when its status is at least `fire_on`
      (WARNING or CRITICAL). UNKNOWN ("no data") is bad when `unknown_is_breach`
      (the default: a blind spot is never silently OK, DESIGN.md). With
      `unknown_is_breach=False`, UNKNOWN is *neutral*: it neither breaches nor
      counts as good, so a blind spot can neither fire nor resolve an alert.
      Every other result is *good*.
    * **failure_threshold** is the number of consecutive bad results needed
      before the breach episode starts (phase pending, `active_since` = the time
      of the result that reached the threshold). The `for_s` timer starts then,
      so with `failure_threshold=3, for_s=60` the alert fires on the first bad
      result at least 60 s after the third consecutive bad one. A neutral result
      does not break the run; a good one does.
    * **for_s** is how long the episode must stay bad before firing; 0 fires on
      the result that starts the episode. One good result cancels a pending
      episode (like Prometheus).
    * **success_threshold** consecutive good results *and* `keep_firing_for_s`
      seconds since the last bad result are both needed to resolve a firing
      alert (hysteresis, as in gatus and Prometheus' `keep_firing_for`).
    * **Flap damping.** Each firing or resolved flip is remembered for
      `flap_window_s`. A flip that would make more than `flap_max_transitions`
      flips inside the window marks the alert *flapping*; a flapping alert is
      held firing until its flapping stops: clear for twice the widest spacing of
      the flips in the window (at most a full window), when the mark clears and it
      resolves; or it is cleared of the mark by staying bad for a full window.
      `flap_window_s=0` disables it.
    * **Severity** of an episode is the worst seen while it lasts, never
      lowered: CRITICAL maps to "critical"; WARNING and UNKNOWN map to
      "warning" (UNKNOWN with the reason "no data" in the summary).

    Attributes:
        name: Alert name, e.g. "openai_error_rate" (Alertmanager's alertname).
        labels: Identifying labels (component, metric, ...), copied on creation.
        for_s: Seconds the breach must last before firing.
        keep_firing_for_s: Seconds to keep firing after the last bad result.
        failure_threshold: Consecutive bad results before pending starts.
        success_threshold: Consecutive good results needed to resolve.
        flap_window_s: Window over which firing/resolved flips are counted.
        flap_max_transitions: Flips allowed inside the window.
        fire_on: Lowest status that is a breach (WARNING or CRITICAL).
        unknown_is_breach: Whether UNKNOWN counts as a breach.
    """

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    for_s: float = 0.0
    keep_firing_for_s: float = 0.0
    failure_threshold: int = 1
    success_threshold: int = 2
    flap_window_s: float = 600.0
    flap_max_transitions: int = 6
    fire_on: Status = Status.WARNING
    unknown_is_breach: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("alert rule name must be a non-empty string")
        labels = dict(self.labels)
        for key, value in labels.items():
            if not isinstance(key, str) or not key or not isinstance(value, str):
                raise ValueError(f"rule {self.name}: labels must map non-empty str to str, "
                                 f"got {key!r}: {value!r}")
        object.__setattr__(self, "labels", labels)
        for attr in ("for_s", "keep_firing_for_s", "flap_window_s"):
            seconds = getattr(self, attr)
            if not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or seconds < 0:
                raise ValueError(f"rule {self.name}: {attr} must be a finite number >= 0, "
                                 f"got {seconds!r}")
        for attr in ("failure_threshold", "success_threshold", "flap_max_transitions"):
            count = getattr(self, attr)
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise ValueError(f"rule {self.name}: {attr} must be an integer >= 1, got {count!r}")
        fire_on = Status(self.fire_on)
        if fire_on not in (Status.WARNING, Status.CRITICAL):
            raise ValueError(f"rule {self.name}: fire_on must be warning or critical, "
                             f"got {fire_on.word} (use unknown_is_breach for unknown)")
        object.__setattr__(self, "fire_on", fire_on)

    def __hash__(self) -> int:
        return hash((self.name, tuple(sorted(self.labels.items())), self.for_s,
                     self.keep_firing_for_s, self.failure_threshold, self.success_threshold,
                     self.flap_window_s, self.flap_max_transitions, self.fire_on,
                     self.unknown_is_breach))

    @functools.cached_property
    def fingerprint(self) -> str:
        """Stable identity of the alert this rule raises (see `alerts.silence.fingerprint`)."""
        return fingerprint(self.name, self.labels)

    def is_breach(self, status: Status) -> bool:
        """Whether one result counts as bad."""
        if status is Status.UNKNOWN:
            return self.unknown_is_breach
        return status >= self.fire_on

    def is_clear(self, status: Status) -> bool:
        """Whether one result counts as good (UNKNOWN is never good)."""
        return status is not Status.UNKNOWN and status < self.fire_on

    def severity_of(self, status: Status) -> str | None:
        """Severity a bad result contributes; None for a result that is not a breach."""
        if not self.is_breach(status):
            return None
        return CRITICAL_SEVERITY if status is Status.CRITICAL else WARNING_SEVERITY
