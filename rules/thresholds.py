"""The threshold table (the guide's Key Operational Metrics) and its pure evaluator.

`judge(row, value)` turns one value into OK / WARNING / CRITICAL / UNKNOWN:
meeting the target is OK, crossing the alert threshold is CRITICAL, in between
is WARNING, no value (None or NaN) is UNKNOWN — never silently OK.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable, Literal, Sequence

import yaml

from vocab.model import Status

Direction = Literal["lower", "higher"]
OnAbsent = Literal["ignore", "unknown"]
SOURCES = ("probe", "promql", "json")


@dataclass(frozen=True)
class ThresholdRow:
    component: str
    metric: str
    title: str
    unit: str
    direction: Direction
    target: float
    alert: float
    probe: str | None = None
    promql: str | None = None
    json: str | None = None
    """`<json_metrics source>:<dotted path>`: a reading from a JSON metrics source."""
    export_as: str | None = None
    """Re-export the reading on the agent's /metrics under this name."""
    on_absent: OnAbsent = "ignore"
    """What a metric the source has never had is: a blind spot (ignore) or UNKNOWN."""

    def __post_init__(self) -> None:
        given = [s for s in SOURCES if getattr(self, s) is not None]
        if len(given) != 1:
            raise ValueError(f"{self.component}/{self.metric}: give exactly one of "
                             f"probe, promql, json" + (f" (got {', '.join(given)})"
                                                       if given else ""))
        if self.json is not None:
            source, _, path = self.json.partition(":")
            if not source or not path or any(not p for p in path.split(".")):
                raise ValueError(f"{self.component}/{self.metric}: json must be "
                                 f"'<source>:<dotted.path>', got {self.json!r}")
        if self.on_absent not in ("ignore", "unknown"):
            raise ValueError(f"{self.component}/{self.metric}: on_absent must be ignore or "
                             "unknown")
        if self.direction not in ("lower", "higher"):
            raise ValueError(f"{self.component}/{self.metric}: direction must be lower or higher")
        if self.direction == "lower" and self.alert < self.target:
            raise ValueError(f"{self.component}/{self.metric}: lower-is-better alert "
                             f"{self.alert:g} is below target {self.target:g}")
        if self.direction == "higher" and self.alert > self.target:
            raise ValueError(f"{self.component}/{self.metric}: higher-is-better alert "
                             f"{self.alert:g} is above target {self.target:g}")

    @property
    def key(self) -> tuple[str, str]:
        return (self.component, self.metric)

    @property
    def json_source(self) -> tuple[str, str] | None:
        """(source name, dotted path) of a `json:` row, else None."""
        if self.json is None:
            return None
        source, _, path = self.json.partition(":")
        return source, path

    @property
    def target_text(self) -> str:
        return f"{'<' if self.direction == 'lower' else '>'} {_num(self.target)}{_unit(self.unit)}"

    @property
    def alert_text(self) -> str:
        return f"{'>' if self.direction == 'lower' else '<'} {_num(self.alert)}{_unit(self.unit)}"


def _num(x: float) -> str:
    return f"{x:g}"


def _unit(unit: str) -> str:
    return {"ms": " ms", "percent": " %", "score": "/10", "celsius": " °C",
            "tokens_per_s": " tok/s", "usd": " USD", "minutes": " min"}.get(unit, "")


def format_value(value: float | None, unit: str) -> str:
    """A value with its unit, for tables and summaries ("42.1 ms", "93 %", "8.6/10")."""
    if value is None:
        return "no data"
    text = f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return text + _unit(unit)


def judge(row: ThresholdRow, value: float | None) -> Status:
    """Status of one value against one row. Monotonic: a worse value never judges better."""
    if value is None or math.isnan(value):
        return Status.UNKNOWN
    if row.direction == "lower":
        if value < row.target:
            return Status.OK
        return Status.CRITICAL if value > row.alert else Status.WARNING
    if value > row.target:
        return Status.OK
    return Status.CRITICAL if value < row.alert else Status.WARNING


def parse_rows(data: object, source: str) -> tuple[ThresholdRow, ...]:
    if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
        raise ValueError(f"{source}: expected a mapping with a 'rows' list")
    rows = []
    for i, item in enumerate(data["rows"]):
        try:
            rows.append(ThresholdRow(**item))
        except TypeError as exc:
            raise ValueError(f"{source}: rows[{i}]: {exc}") from None
    return tuple(rows)


@lru_cache(maxsize=1)
def default_rows() -> tuple[ThresholdRow, ...]:
    """The table shipped in rules/defaults/thresholds.yaml."""
    text = resources.files("rules").joinpath("defaults/thresholds.yaml").read_text("utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10x faster
    return parse_rows(yaml.load(text, Loader=loader), "rules/defaults/thresholds.yaml")


_ROW_FIELDS = ("title", "unit", "probe", "promql", "json", "export_as", "on_absent",
               "direction", "target", "alert")
_OVERRIDE_ATTR = {"json": "json_binding"}  # `json` would shadow pydantic's BaseModel.json


def apply_overrides(rows: Sequence[ThresholdRow], overrides: Iterable[Any]
                    ) -> tuple[ThresholdRow, ...]:
    """Merge config `thresholds:` entries into the table (by component + metric).

    An entry for an existing row changes the fields it gives (or drops the row with
    `enabled: false`); an entry for a new row must give every field.
    """
    table = {row.key: row for row in rows}
    for i, ov in enumerate(overrides):
        key = (ov.component, ov.metric)
        given = {f: getattr(ov, _OVERRIDE_ATTR.get(f, f)) for f in _ROW_FIELDS
                 if getattr(ov, _OVERRIDE_ATTR.get(f, f)) is not None}
        if not ov.enabled:
            table.pop(key, None)
            continue
        try:
            if key in table:
                if any(s in given for s in SOURCES):  # a new source replaces the old one
                    for s in SOURCES:
                        given.setdefault(s, None)
                table[key] = replace(table[key], **given)
            else:
                missing = [f for f in ("title", "unit", "direction", "target", "alert")
                           if f not in given]
                if missing:
                    raise ValueError(f"no default row {key[0]}/{key[1]}; to add one give "
                                     + ", ".join(missing))
                table[key] = ThresholdRow(component=ov.component, metric=ov.metric,
                                          **{"probe": None, "promql": None, **given})
        except ValueError as exc:
            raise ValueError(f"thresholds[{i}]: {exc}") from None
    return tuple(table.values())
