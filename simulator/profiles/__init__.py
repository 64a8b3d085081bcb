"""Simulator profiles: which surface the simulated Alice serves.

- `guide`: what Alice's operations guide describes (backend, voice gateway on its own port,
  the guide's Prometheus metrics): the default.
- `alice-main`: a replay of recordings of the real Alice main backend
  (tests/data/alice_main/): no separate gateway; Alice's NLU agent on a port of its own;
  Prometheus with Alice's real series names. Ollama and OpenAI stay the simulator's.
"""

from __future__ import annotations

from simulator.scenarios import SCENARIOS

DEFAULT_PROFILE = "guide"
PROFILES: tuple[str, ...] = ("guide", "alice-main")
# the scenarios a profile accepts; alice-main: its recorded faults plus what the
# simulator's own Ollama and OpenAI (and every service's hang/garbage) can do
SIM_OWN_SCENARIOS = ("openai-outage", "openai-slow", "openai-auth-failure",
                     "local-ai-degraded", "model-missing", "budget-burn", "hang", "garbage")
SERVICES: dict[str, tuple[str, ...]] = {
    "guide": ("backend", "gateway", "ollama", "openai", "prometheus"),
    "alice-main": ("backend", "nlu", "ollama", "openai", "prometheus"),
}


def check_profile(name: str) -> str:
    """`name` if it is a profile, else ValueError naming the valid ones."""
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; valid: {', '.join(PROFILES)}")
    return name


def scenarios_for(profile: str) -> tuple[str, ...]:
    """The scenarios `profile` accepts (alice-main: from its recording's meta)."""
    if check_profile(profile) == "guide":
        return SCENARIOS
    from simulator.profiles.alice_main import recorded_scenarios

    return ("normal", *recorded_scenarios(), *SIM_OWN_SCENARIOS)
