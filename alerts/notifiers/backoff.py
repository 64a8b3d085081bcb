"""Retry spacing for a receiver that fails: exponential backoff with a cap and jitter.

Pure: `Backoff.delay(attempt, rand)` with the random draw passed in.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Delay before retry number `attempt + 1`: base_s x factor**attempt, capped, +-jitter.

    With the defaults: 1 s, 2 s, 4 s, ... 32 s, then 60 s for every later attempt,
    each scaled by a random factor in [1 - jitter, 1 + jitter] (so that agents
    sharing a receiver do not retry in lock-step) and never above `cap_s`.

    Attributes:
        base_s: Delay after the first failure.
        factor: Growth per further failure.
        cap_s: Longest delay.
        jitter: Relative spread, 0 <= jitter < 1.
    """

    base_s: float = 1.0
    factor: float = 2.0
    cap_s: float = 60.0
    jitter: float = 0.1

    def __post_init__(self) -> None:
        if not (0 < self.base_s <= self.cap_s):
            raise ValueError("backoff: need 0 < base_s <= cap_s")
        if self.factor < 1:
            raise ValueError("backoff: factor must be >= 1")
        if not (0 <= self.jitter < 1):
            raise ValueError("backoff: jitter must be in [0, 1)")

    def delay(self, attempt: int, rand: float = 0.5) -> float:
        """Seconds to wait after `attempt` earlier failures (0 = first failure).

        Args:
            attempt: How many times this delivery has failed before.
            rand: A uniform draw in [0, 1); 0.5 means no jitter.
        """
        exponent = min(max(int(attempt), 0), 64)  # no float overflow on huge counts
        raw = min(self.cap_s, self.base_s * self.factor ** exponent)
        return min(self.cap_s, raw * (1 + self.jitter * (2 * rand - 1)))
