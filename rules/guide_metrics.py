"""The operations guide's metric catalogue, and which metric names a PromQL query reads (pure).

`load_catalogue()` is rules/defaults/guide_metrics.yaml as frozen entries;
`metric_names_in(promql)` finds the metric families a query reads (a tolerant
tokenizer, not a PromQL parser: it skips functions, aggregation keywords, label
matchers and lists, durations, numbers and strings); `export_hint(name)` is the short
prometheus_client snippet that would make Alice export a missing metric.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Literal, Mapping

import yaml

MetricType = Literal["counter", "gauge", "histogram"]
_TYPES = ("counter", "gauge", "histogram")
SOURCE = "rules/defaults/guide_metrics.yaml"


@dataclass(frozen=True)
class GuideMetric:
    """One series family the guide expects Alice to export."""

    name: str
    type: MetricType
    unit: str
    help: str
    component: str
    labels: tuple[str, ...] = ()
    used_by: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "unit": self.unit,
               "labels": list(self.labels), "help": self.help, "component": self.component,
               "used_by": list(self.used_by)}
        if self.buckets:
            out["buckets"] = list(self.buckets)
        return out


def parse_catalogue(data: object, source: str = SOURCE) -> dict[str, GuideMetric]:
    """Entries by name; a malformed entry is a ValueError naming source and index."""
    if not isinstance(data, dict) or not isinstance(data.get("metrics"), list):
        raise ValueError(f"{source}: expected a mapping with a 'metrics' list")
    out: dict[str, GuideMetric] = {}
    for i, item in enumerate(data["metrics"]):
        where = f"{source}: metrics[{i}]"
        if not isinstance(item, dict):
            raise ValueError(f"{where}: expected a mapping")
        try:
            entry = GuideMetric(
                name=str(item["name"]), type=item["type"], unit=str(item["unit"]),
                help=str(item["help"]), component=str(item["component"]),
                labels=tuple(str(x) for x in item.get("labels") or ()),
                used_by=tuple(str(x) for x in item.get("used_by") or ()),
                buckets=tuple(float(b) for b in item.get("buckets") or ()))
        except KeyError as exc:
            raise ValueError(f"{where}: missing {exc.args[0]}") from None
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: {exc}") from None
        if entry.type not in _TYPES:
            raise ValueError(f"{where}: type must be one of {', '.join(_TYPES)}")
        if entry.name in out:
            raise ValueError(f"{where}: {entry.name} listed twice")
        out[entry.name] = entry
    return out


@lru_cache(maxsize=1)
def load_catalogue() -> Mapping[str, GuideMetric]:
    """The shipped catalogue, by metric name (read once)."""
    text = resources.files("rules").joinpath("defaults/guide_metrics.yaml").read_text("utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return parse_catalogue(yaml.load(text, Loader=loader))


# -- which names a query reads ---------------------------------------------------------

_KEYWORDS = frozenset({
    # aggregation operators (may be written without parentheses right after: `sum by (x) (`)
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
    "bottomk", "topk", "quantile", "limitk", "limit_ratio",
    # binary operators, modifiers and grouping keywords
    "and", "or", "unless", "atan2", "bool", "offset", "by", "without", "on", "ignoring",
    "group_left", "group_right",
    # number literals spelled as words
    "inf", "nan",
})
# keywords followed by a parenthesised list of label names (not metric names)
_LABEL_LIST = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
_FAMILY_SUFFIXES = ("_bucket", "_sum", "_count")
_TOKEN = re.compile(r"""
    (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<comment>\#[^\n]*)
  | (?P<number>(?:0[xX][0-9a-fA-F]+|[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)[a-zA-Z0-9_]*)
  | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<open>[({\[])
  | (?P<close>[)}\]])
  | (?P<other>.)
""", re.VERBOSE | re.DOTALL)
_NAME_MATCHER = re.compile(
    r"""__name__\s*=\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|`([^`]*)`)""")
_CLOSING = {"(": ")", "{": "}", "[": "]"}


def _skip_group(tokens: list[tuple[str, str]], i: int) -> int:
    """Index after the bracket group that opens at tokens[i] (tolerates unbalanced input)."""
    depth = 0
    for j in range(i, len(tokens)):
        kind, _text = tokens[j]
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth -= 1
            if depth <= 0:
                return j + 1
    return len(tokens)


def _next_significant(tokens: list[tuple[str, str]], i: int) -> tuple[str, str] | None:
    while i < len(tokens) and tokens[i][0] == "space":
        i += 1
    return tokens[i] if i < len(tokens) else None


def _tokens(promql: str) -> list[tuple[str, str]]:
    out = []
    for m in _TOKEN.finditer(promql):
        kind = m.lastgroup or "other"
        text = m.group()
        if kind == "other" and text.isspace():
            kind = "space"
        if kind != "comment":
            out.append((kind, text))
    return out


def series_names_in(promql: str) -> set[str]:
    """Every series name a query selects, exactly as written (`x_bucket` stays `x_bucket`)."""
    tokens = _tokens(promql)
    names: set[str] = set()
    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        if kind == "open" and text == "{":
            end = _skip_group(tokens, i)
            inner = "".join(t for _, t in tokens[i + 1:end - 1])
            for m in _NAME_MATCHER.finditer(inner):
                names.add(next(g for g in m.groups() if g is not None))
            i = end
            continue
        if kind == "open" and text == "[":  # range or subquery duration
            i = _skip_group(tokens, i)
            continue
        if kind == "ident":
            lower = text.lower()
            nxt = _next_significant(tokens, i + 1)
            if lower in _LABEL_LIST:
                j = i + 1
                while j < len(tokens) and tokens[j][0] == "space":
                    j += 1
                i = _skip_group(tokens, j) if nxt == ("open", "(") else i + 1
                continue
            if lower in _KEYWORDS or nxt == ("open", "("):  # keyword or function call
                i += 1
                continue
            names.add(text)
        i += 1
    return names


def family_of(name: str, known: Mapping[str, object] | None = None) -> str:
    """`x_bucket`/`x_sum`/`x_count` -> `x`; a name the catalogue lists as itself stays."""
    catalogue = load_catalogue() if known is None else known
    if name in catalogue:
        return name
    for suffix in _FAMILY_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def metric_names_in(promql: str) -> set[str]:
    """The metric families a query reads: histogram series mapped to their family."""
    return {family_of(n) for n in series_names_in(promql)}


# -- how to export a missing metric ----------------------------------------------------

def _py_name(name: str) -> str:
    return re.sub(r"\W", "_", name).upper()


def export_hint(name: str) -> str:
    """A short prometheus_client snippet exporting `name` the way the guide reads it."""
    entry = load_catalogue().get(name) or load_catalogue().get(family_of(name))
    if entry is None:
        return (f"export {name} from Alice with prometheus_client "
                f"(Counter, Gauge or Histogram) on its /metrics")
    var = _py_name(entry.name.removesuffix("_total"))
    labels = f", labelnames={list(entry.labels)!r}" if entry.labels else ""
    chain = "".join(f".labels({label}=...)" for label in entry.labels)
    doc = entry.help.replace('"', "'")
    if entry.type == "histogram":
        buckets = ", ".join(f"{b:g}" for b in entry.buckets) or "..."
        return (f'{var} = Histogram("{entry.name}", "{doc}"{labels}, buckets=({buckets}))\n'
                f"{var}{chain}.observe({_observed(entry)})")
    if entry.type == "counter":
        return (f'{var} = Counter("{entry.name}", "{doc}"{labels})\n'
                f"{var}{chain}.inc()")
    return (f'{var} = Gauge("{entry.name}", "{doc}"{labels})\n'
            f"{var}{chain}.set({_observed(entry)})")


def _observed(entry: GuideMetric) -> str:
    return {"ms": "elapsed_ms", "ratio": "accuracy", "score": "score",
            "count": "depth"}.get(entry.unit, "value")
