"""The cost controls in force (pure): rules/defaults/cost.yaml merged with the config's `cost:`.

Budgets, levels, routing band, price table and the capacity table, as one frozen
`CostTable` every cost computation takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Mapping

import yaml

from rules.budget import Levels
from rules.capacity import Band, Limits, parse_bands

SOURCE = "rules/defaults/cost.yaml"


@dataclass(frozen=True)
class Price:
    input_per_1k: float
    output_per_1k: float

    def cost(self, prompt_tokens: float, completion_tokens: float) -> float:
        return (prompt_tokens * self.input_per_1k + completion_tokens * self.output_per_1k) / 1000


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
        prices = {str(m): Price(float(p["input_per_1k"]), float(p["output_per_1k"]))
                  for m, p in data["prices"].items()}
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
    prices.update({m: Price(p.input_per_1k, p.output_per_1k)
                   for m, p in settings.prices.items()})
    band = tuple(settings.routing_band_percent) if settings.routing_band_percent \
        else base.routing_band
    return CostTable(budgets=budgets, levels=levels, routing_band=band, prices=prices,
                     tokens_per_request=base.tokens_per_request, bands=base.bands,
                     limits=base.limits)
