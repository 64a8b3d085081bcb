"""Dashboards as plain data (pure): a panel is a title, its queries, a unit and threshold
steps. `agent.grafana.render` turns these into Grafana JSON with grafana-foundation-sdk.

Threshold steps come from a threshold-table row (`steps_for`): lower-is-better rows are
green below the target, yellow from the target and red from the alert threshold; higher-is-
better rows are red below the alert threshold, yellow from it and green from the target
(Grafana colours a value by the highest step it meets or exceeds).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

from rules.thresholds import ThresholdRow

PanelKind = Literal["timeseries", "stat"]
Source = Literal["guide", "agent"]

GREEN, YELLOW, RED = "green", "yellow", "red"

# threshold-table units as Grafana field units
GRAFANA_UNITS = {"ms": "ms", "percent": "percent", "ratio": "percentunit", "score": "none",
                 "count": "short", "usd": "currencyUSD", "tokens_per_s": "suffix: tok/s",
                 "celsius": "celsius", "s": "s", "bytes": "bytes"}


@dataclass(frozen=True)
class Query:
    """One PromQL target; `source` says whose series it reads: the guide's names (Alice's
    own /metrics) or the alice-ops agent's /metrics."""

    expr: str
    legend: str
    source: Source


@dataclass(frozen=True)
class Step:
    """A threshold step: from `value` upward the panel shows `color` (None: the base)."""

    value: float | None
    color: str


@dataclass(frozen=True)
class PanelSpec:
    title: str
    kind: PanelKind
    unit: str
    """A Grafana unit id (`ms`, `percent`, `currencyUSD`, ...)."""
    queries: tuple[Query, ...]
    description: str = ""
    steps: tuple[Step, ...] = ()
    min: float | None = None
    max: float | None = None
    mappings: tuple[tuple[int, str, str], ...] = ()
    """Value mappings (value, text, colour), e.g. 0 -> OK green for a status gauge."""
    width: int = 6
    height: int = 6


@dataclass(frozen=True)
class RowSpec:
    title: str
    panels: tuple[PanelSpec, ...]


@dataclass(frozen=True)
class DashboardSpec:
    uid: str
    title: str
    description: str
    tags: tuple[str, ...]
    rows: tuple[RowSpec, ...]

    @property
    def panels(self) -> tuple[PanelSpec, ...]:
        return tuple(p for r in self.rows for p in r.panels)


def grafana_unit(unit: str) -> str:
    return GRAFANA_UNITS.get(unit, "short")


def steps_for(row: ThresholdRow, scale: float = 1.0, invert_from: float | None = None
              ) -> tuple[Step, ...]:
    """Red/yellow/green steps from a threshold row, its values times `scale` (a row in ms
    shown in seconds: 1e-3). With `invert_from` the panel shows `invert_from - value` (a
    success rate from an error-rate row: 100 - x), so the direction flips too."""
    target, alert = row.target * scale, row.alert * scale
    lower = row.direction == "lower"
    if invert_from is not None:
        target, alert, lower = invert_from - target, invert_from - alert, not lower
    if lower:
        return (Step(None, GREEN), Step(target, YELLOW), Step(alert, RED))
    return (Step(None, RED), Step(alert, YELLOW), Step(target, GREEN))


def band_steps(low: float, high: float) -> tuple[Step, ...]:
    """A target band (the guide's fast-path 60-70 %): yellow outside, green inside."""
    return (Step(None, YELLOW), Step(low, GREEN), Step(high, YELLOW))


def level_steps(warning: float, critical: float) -> tuple[Step, ...]:
    """Spend against a budget: green, yellow from the warning level, red from critical."""
    return (Step(None, GREEN), Step(warning, YELLOW), Step(critical, RED))


def all_queries(specs: Sequence[DashboardSpec]) -> list[tuple[str, str, Query]]:
    """(dashboard uid, panel title, query) for every query of every panel."""
    return [(d.uid, p.title, q) for d in specs for p in d.panels for q in p.queries]
