"""What every simulated service needs to answer: shared state, metrics, history and config."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from simulator.history import History
from simulator.metrics import MetricStore
from simulator.state import SimState


@dataclass
class SimContext:
    state: SimState
    store: MetricStore
    history: History
    rng: random.Random
    api_key: str
    admin_key: str
    model: str
    urls: dict[str, str] = field(default_factory=dict)
