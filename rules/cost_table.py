"""The cost controls in force (pure): rules/defaults/cost.yaml merged with the config's `cost:`.

Budgets, levels, routing band, price table and the capacity table, as one frozen
`CostTable` every cost computation takes. A price row prices each token type apart (text in
and out, cached input, audio in and out): Realtime audio costs many times its text rate, so
pricing audio as text undercounts badly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable, Mapping

import yaml

from rules.budget import Level, Levels, level
from rules.capacity import Band, Limits, parse_bands

SOURCE = "rules/defaults/cost.yaml"


# OpenAI Realtime: user audio is one token per 100 ms, assistant audio one per 50 ms.
AUDIO_TOKENS_PER_MINUTE = {"input": 600.0, "output": 1200.0}
TOKEN_TYPES = ("text_in", "cached_text_in", "text_out", "audio_in", "cached_audio_in",
               "audio_out")


@dataclass(frozen=True)
class TokenUsage:
    """Tokens of one Response (or a sum of them) by type; cached counts are not in the
    uncached ones (`text_in` is text input that was not served from the cache)."""

    text_in: float = 0.0
    cached_text_in: float = 0.0
    text_out: float = 0.0
    audio_in: float = 0.0
    cached_audio_in: float = 0.0
    audio_out: float = 0.0

    def __add__(self, other: "TokenUsage") -> "TokenUsage":
        return TokenUsage(*(getattr(self, t) + getattr(other, t) for t in TOKEN_TYPES))


def usage_from_realtime(usage: Mapping[str, Any]) -> TokenUsage:
    """A Realtime `response.done` usage object (input/output_token_details) as TokenUsage."""
    def num(d: Any, key: str) -> float:
        value = d.get(key) if isinstance(d, Mapping) else None
        return float(value) if isinstance(value, (int, float)) else 0.0

    inp, out = usage.get("input_token_details") or {}, usage.get("output_token_details") or {}
    cached = inp.get("cached_tokens_details") or {}
    cached_text, cached_audio = num(cached, "text_tokens"), num(cached, "audio_tokens")
    return TokenUsage(text_in=max(0.0, num(inp, "text_tokens") - cached_text),
                      cached_text_in=cached_text, text_out=num(out, "text_tokens"),
                      audio_in=max(0.0, num(inp, "audio_tokens") - cached_audio),
                      cached_audio_in=cached_audio, audio_out=num(out, "audio_tokens"))


@dataclass(frozen=True)
class Price:
    """USD per 1000 tokens of one model, by token type; an unset type costs what its text
    counterpart costs (and `unpriced` says so)."""

    input_per_1k: float
    output_per_1k: float
    cached_input_per_1k: float | None = None
    audio_input_per_1k: float | None = None
    audio_output_per_1k: float | None = None
    cached_audio_input_per_1k: float | None = None

    def cost(self, prompt_tokens: float, completion_tokens: float) -> float:
        return (prompt_tokens * self.input_per_1k + completion_tokens * self.output_per_1k) / 1000

    def rates(self) -> dict[str, float]:
        """USD per 1k tokens for every token type, fallbacks applied."""
        audio_in = self.audio_input_per_1k
        return {"text_in": self.input_per_1k,
                "cached_text_in": _first(self.cached_input_per_1k, self.input_per_1k),
                "text_out": self.output_per_1k,
                "audio_in": _first(audio_in, self.input_per_1k),
                "cached_audio_in": _first(self.cached_audio_input_per_1k, audio_in,
                                          self.input_per_1k),
                "audio_out": _first(self.audio_output_per_1k, self.output_per_1k)}

    def cost_of(self, usage: TokenUsage) -> float:
        rates = self.rates()
        return float(sum(getattr(usage, t) * rates[t] for t in TOKEN_TYPES)) / 1000

    def unpriced(self, usage: TokenUsage) -> tuple[str, ...]:
        """Audio token types in `usage` this row has no price for (billed above text rate)."""
        missing = []
        if (usage.audio_in or usage.cached_audio_in) and self.audio_input_per_1k is None:
            missing.append("audio_in")
        if usage.audio_out and self.audio_output_per_1k is None:
            missing.append("audio_out")
        return tuple(missing)

    def audio_minute_usd(self) -> tuple[float, float] | None:
        """USD per minute of user audio in and of assistant audio out, when audio is priced."""
        if self.audio_input_per_1k is None or self.audio_output_per_1k is None:
            return None
        return (AUDIO_TOKENS_PER_MINUTE["input"] * self.audio_input_per_1k / 1000,
                AUDIO_TOKENS_PER_MINUTE["output"] * self.audio_output_per_1k / 1000)


def _first(*values: float | None) -> float:
    return next(v for v in values if v is not None)


@dataclass(frozen=True)
class SessionSpend:
    """What one Realtime session cost, judged against the per-session cap."""

    usage: TokenUsage
    cost_usd: float
    level: Level
    unpriced: tuple[str, ...]


def session_spend(price: Price, responses: Iterable[TokenUsage], cap_usd: float | None,
                  levels: Levels) -> SessionSpend:
    """Sum a session's Responses and judge the total against `cap_usd` (None: no cap)."""
    total = sum(responses, TokenUsage())
    cost = price.cost_of(total)
    judged = level(cost, cap_usd, levels) if cap_usd else Level.OK
    return SessionSpend(total, cost, judged, price.unpriced(total))


def usd(value: float) -> str:
    """USD with the digits that matter: "0.42", "12.50", "0.0042"."""
    if value == 0 or abs(value) >= 0.995:
        return f"{value:.2f}"
    return f"{value:.2g}" if abs(value) < 0.01 else f"{value:.2f}"


def cap_text(session: str, cost_usd: float, cap_usd: float) -> str:
    """The cause of a session-cap alert: "session abc123 spent 0.42 USD > cap 0.25 USD"."""
    spent, cap = usd(cost_usd), usd(cap_usd)
    if spent == cap and cost_usd != cap_usd:  # 0.0958 of 0.10 is not "0.10 of 0.10"
        spent, cap = f"{cost_usd:.4f}", f"{cap_usd:.4f}"
    if cap_usd <= 0 or cost_usd > cap_usd:
        return f"session {session} spent {spent} USD > cap {cap} USD"
    # floored: 99.6 % is not yet "100 % of cap"
    return (f"session {session} spent {spent} USD, {math.floor(100 * cost_usd / cap_usd)} % "
            f"of cap {cap} USD")


def judge_sessions(price: Price, usages: Mapping[str, TokenUsage], cap_usd: float | None,
                   levels: Levels) -> tuple[tuple[str, SessionSpend], ...]:
    """Every session's spend judged against the cap, the most expensive first (ties by id)."""
    judged = [(sid, session_spend(price, [u], cap_usd, levels)) for sid, u in usages.items()]
    return tuple(sorted(judged, key=lambda x: (-x[1].cost_usd, x[0])))


def audio_minutes(usage: TokenUsage) -> tuple[float, float]:
    """Minutes of user audio in and assistant audio out that `usage`'s audio tokens are."""
    return ((usage.audio_in + usage.cached_audio_in) / AUDIO_TOKENS_PER_MINUTE["input"],
            usage.audio_out / AUDIO_TOKENS_PER_MINUTE["output"])


def audio_cost(price_name: str, price: Price, measured: TokenUsage | None) -> dict[str, Any]:
    """Cost per audio minute: the model's list price per minute in and out (from its audio
    token rates) and, when audio tokens were measured, what a minute of audio cost all in
    (every token of those sessions, text included, over the minutes of audio in and out)::

        {"model": str, "basis": "measured" | "list price" | "no audio price",
         "list_usd_per_minute": {"input": 0.06, "output": 0.24} | None,
         "measured": {"input_minutes", "output_minutes", "usd",
                      "usd_per_audio_minute"} | None}
    """
    listed = price.audio_minute_usd()
    out: dict[str, Any] = {
        "model": price_name,
        "list_usd_per_minute": None if listed is None else
        {"input": round(listed[0], 6), "output": round(listed[1], 6)},
        "measured": None,
        "basis": "list price" if listed is not None else "no audio price"}
    if measured is not None:
        minutes_in, minutes_out = audio_minutes(measured)
        if minutes_in + minutes_out > 0:
            cost = price.cost_of(measured)
            out["measured"] = {"input_minutes": round(minutes_in, 4),
                               "output_minutes": round(minutes_out, 4), "usd": round(cost, 6),
                               "usd_per_audio_minute": round(cost / (minutes_in + minutes_out),
                                                             6)}
            out["basis"] = "measured"
    return out


@dataclass(frozen=True)
class CostTable:
    budgets: Mapping[str, float]  # hourly / daily / weekly -> USD
    levels: Levels
    routing_band: tuple[float, float]
    prices: Mapping[str, Price]
    tokens_per_request: tuple[float, float]  # prompt, completion
    bands: tuple[Band, ...]
    limits: Limits

    def price(self, model: str | None) -> tuple[str, Price]:
        """The price row of `model`, else of its longest known prefix, else `default`."""
        if model and model in self.prices:
            return model, self.prices[model]
        if model:
            prefixes = [m for m in self.prices if model.startswith(m)]
            if prefixes:
                best = max(prefixes, key=len)
                return best, self.prices[best]
        return "default", self.prices["default"]


def parse_table(data: Any, source: str = SOURCE) -> CostTable:
    try:
        budgets = {k.removesuffix("_usd"): float(v) for k, v in data["budgets"].items()}
        lv = data["levels"]
        levels = Levels(float(lv["warning"]), float(lv["critical"]), float(lv["exceeded"]))
        low, high = data["routing_band_percent"]
        prices = {str(m): _price(p) for m, p in data["prices"].items()}
        tpr = data["tokens_per_request"]
        cap = data["capacity"]
        limits = Limits(high_load_per_s=float(cap["high_load_per_s"]),
                        low_load_per_s=float(cap["low_load_per_s"]))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"{source}: {exc.__class__.__name__}: {exc}") from None
    if set(budgets) != {"hourly", "daily", "weekly"} or "default" not in prices:
        raise ValueError(f"{source}: needs budgets hourly/daily/weekly and a default price")
    return CostTable(budgets=budgets, levels=levels, routing_band=(float(low), float(high)),
                     prices=prices, tokens_per_request=(float(tpr["prompt"]),
                                                        float(tpr["completion"])),
                     bands=parse_bands(cap["bands"], source), limits=limits)


OPTIONAL_RATES = ("cached_input_per_1k", "audio_input_per_1k", "audio_output_per_1k",
                  "cached_audio_input_per_1k")


def _price(row: Any) -> Price:
    """A price row from YAML (a mapping) or from the config (PriceSettings)."""
    def get(key: str) -> Any:
        return row.get(key) if isinstance(row, Mapping) else getattr(row, key, None)

    extra = {k: float(get(k)) for k in OPTIONAL_RATES if get(k) is not None}
    return Price(float(get("input_per_1k")), float(get("output_per_1k")), **extra)


@lru_cache(maxsize=1)
def default_table() -> CostTable:
    text = resources.files("rules").joinpath("defaults/cost.yaml").read_text("utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return parse_table(yaml.load(text, Loader=loader))


def table_for(settings: Any | None) -> CostTable:
    """Defaults with the config's `cost:` section (an agent.config.CostSettings) applied."""
    base = default_table()
    if settings is None:
        return base
    budgets = dict(base.budgets)
    for window in ("hourly", "daily", "weekly"):
        value = getattr(settings.budgets, f"{window}_usd")
        if value is not None:
            budgets[window] = value
    levels = Levels(settings.warning_level or base.levels.warning,
                    settings.critical_level or base.levels.critical, base.levels.exceeded)
    prices = dict(base.prices)
    prices.update({m: _price(p) for m, p in settings.prices.items()})
    band = tuple(settings.routing_band_percent) if settings.routing_band_percent \
        else base.routing_band
    return CostTable(budgets=budgets, levels=levels, routing_band=band, prices=prices,
                     tokens_per_request=base.tokens_per_request, bands=base.bands,
                     limits=base.limits)
