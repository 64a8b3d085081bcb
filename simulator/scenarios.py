"""The simulator's fault scenarios: their names and the traffic profile each one shapes.

HTTP behaviour per scenario lives with each service; this module only says how the
generated metrics look (latencies, failure shares, gauges) while a scenario is active.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

SCENARIOS: tuple[str, ...] = (
    "normal",
    "openai-outage",
    "openai-slow",
    "openai-auth-failure",
    "local-ai-degraded",
    "model-missing",
    "backend-degraded",
    "gateway-down",
    "accuracy-drop",
    "budget-burn",
    "hang",
    "garbage",
    "openai-quota",
    "openai-rate-limited",
    "ollama-reload",
    "ollama-queue-full",
    "ollama-stuck-unloading",
    "session-runaway",
)


def check_scenario(name: str, valid: tuple[str, ...] = SCENARIOS) -> str:
    """Return `name` if it is one of `valid` (default: the guide profile's scenarios),
    else raise ValueError naming the valid ones."""
    if name not in valid:
        raise ValueError(f"unknown scenario {name!r}; valid: {', '.join(valid)}")
    return name


@dataclass(frozen=True)
class Profile:
    """How one scenario shapes the generated traffic. Latencies are (median, p95) in ms."""

    requests_per_s: float = 40.0
    fast_share: float = 0.65
    routing_ms: tuple[float, float] = (18.0, 30.0)
    accuracy: float = 0.93
    openai_ms: tuple[float, float] = (120.0, 200.0)
    openai_fail_ms: tuple[float, float] = (60.0, 120.0)
    openai_fail: float = 0.003
    auth_failures: bool = False
    prompt_tokens: int = 60
    completion_tokens: int = 40
    cost_usd_per_min: float = 0.005
    local_ms: tuple[float, float] = (700.0, 1200.0)
    queue_depth: tuple[int, int] = (0, 3)
    ws_connects_per_s: float = 5.0
    ws_error: float = 0.002
    ws_active: tuple[int, int] = (10, 14)
    sessions: tuple[int, int] = (6, 10)
    audio_score: float = 8.6
    tools_per_s: float = 20.0
    tool_fail: float = 0.02
    tool_ms: tuple[float, float] = (300.0, 600.0)
    # each active voice session (Realtime): user audio ~30 % of the time (10 tokens/s while
    # speaking), assistant audio ~30 % (20 tokens/s), a little text (instructions, transcripts);
    # about 0.0005 USD/s at gpt-realtime prices, 0.3 USD for a 10-minute conversation
    session_text_in_per_s: float = 2.0
    session_text_out_per_s: float = 1.0
    session_audio_in_per_s: float = 3.0
    session_audio_out_per_s: float = 6.0
    runaway_session: str | None = None
    """A session stuck answering itself: a Response a second, each re-billing its context."""
    runaway_text_in_per_s: float = 0.0


NORMAL = Profile()

PROFILES: dict[str, Profile] = {
    "normal": NORMAL,
    # The router sends nearly everything to the think path; what still goes out fails slowly.
    "openai-outage": replace(NORMAL, fast_share=0.05, openai_fail=1.0,
                             openai_fail_ms=(900.0, 2500.0), cost_usd_per_min=0.0),
    "openai-slow": replace(NORMAL, openai_ms=(560.0, 800.0)),
    "openai-auth-failure": replace(NORMAL, openai_fail=1.0, auth_failures=True,
                                   cost_usd_per_min=0.0),
    "local-ai-degraded": replace(NORMAL, local_ms=(4500.0, 7000.0), queue_depth=(22, 28)),
    # Think requests fail fast with 404; the router leans on the cloud.
    "model-missing": replace(NORMAL, fast_share=0.9, local_ms=(15.0, 30.0),
                             queue_depth=(0, 0)),
    # Degraded, not down: every backend metric lands in the WARNING band of the table.
    "backend-degraded": replace(NORMAL, routing_ms=(55.0, 85.0), tool_fail=0.07,
                                tool_ms=(1100.0, 1900.0)),  # p95 well inside 1000..3000
    "gateway-down": replace(NORMAL, ws_error=0.85, ws_active=(0, 0), sessions=(0, 1)),
    "accuracy-drop": replace(NORMAL, accuracy=0.78),
    "budget-burn": replace(NORMAL, prompt_tokens=1200, completion_tokens=800,
                           cost_usd_per_min=0.5),
    "hang": NORMAL,
    "garbage": NORMAL,
    # Billing exhausted: every completion is a 429 insufficient_quota, nothing is spent.
    "openai-quota": replace(NORMAL, fast_share=0.05, openai_fail=1.0, cost_usd_per_min=0.0),
    "openai-rate-limited": replace(NORMAL, openai_fail=0.3),
    # Each think request reloads the model: slow, and the queue builds behind the loads.
    "ollama-reload": replace(NORMAL, local_ms=(2600.0, 3400.0), queue_depth=(6, 12)),
    "ollama-queue-full": replace(NORMAL, local_ms=(4000.0, 6500.0), queue_depth=(24, 30)),
    "ollama-stuck-unloading": replace(NORMAL, local_ms=(2600.0, 3400.0)),
    # One voice session loops: a Response every second re-bills a 20k-token context and
    # talks all the time; at gpt-realtime prices about 0.08 USD a second for that session.
    "session-runaway": replace(NORMAL, runaway_session="sess_sim03",
                               runaway_text_in_per_s=20000.0),
}


def profile(name: str) -> Profile:
    """The traffic shape of scenario `name`; normal traffic for a scenario that only
    another simulator profile has (e.g. alice-main's database-error)."""
    return PROFILES.get(name, NORMAL)
