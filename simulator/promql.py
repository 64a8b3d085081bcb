"""A small PromQL subset (selectors, rate/increase, histogram_quantile, aggregations,
arithmetic and comparisons) evaluated against the simulator's metric history.

Anything outside the subset raises `Unsupported` (the API answers an empty result);
only plainly broken input (empty, unbalanced brackets, stray characters) is `ParseError`.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Protocol

Sample = tuple[dict[str, str], float]
Vector = list[Sample]


class ParseError(ValueError):
    """The query is not PromQL at all (Prometheus would answer 400 bad_data)."""


class Unsupported(ValueError):
    """Valid-looking PromQL the simulator does not evaluate (answered with no data)."""


class Source(Protocol):
    def instant(self, name: str, t: float) -> Vector: ...

    def delta(self, name: str, t: float, range_s: float, follow_scenario: bool
              ) -> list[tuple[dict[str, str], float, float]]: ...


_TOKEN = re.compile(r"""
    (?P<ws>\s+|\#[^\n]*)
  | (?P<dur>\[[^\]]*\])
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>==|!=|>=|<=|=~|!~|[-+*/%^(){},=<>])
""", re.VERBOSE)
_DURATION = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
AGGREGATIONS = {"sum", "avg", "min", "max", "count"}


def parse_duration(text: str) -> float:
    text = text.strip()
    if not text or _DURATION.sub("", text):
        raise Unsupported(f"unsupported range {text!r}")
    return sum(int(n) * _UNITS[u] for n, u in _DURATION.findall(text))


def tokenize(query: str) -> list[tuple[str, str]]:
    if not query.strip():
        raise ParseError("1:1: parse error: no expression found in input")
    tokens, pos = [], 0
    while pos < len(query):
        m = _TOKEN.match(query, pos)
        if m is None:
            raise ParseError(f"1:{pos + 1}: parse error: unexpected character {query[pos]!r}")
        pos = m.end()
        if m.lastgroup != "ws":
            tokens.append((m.lastgroup, m.group()))
    depth = {"(": 0, "{": 0}
    for kind, text in tokens:
        if kind == "op" and text in "(){}":
            key = "(" if text in "()" else "{"
            depth[key] += 1 if text in "({" else -1
            if depth[key] < 0:
                raise ParseError(f"parse error: unexpected {text!r}")
    if any(depth.values()):
        raise ParseError("parse error: unclosed left parenthesis or brace")
    return tokens


# -- AST --------------------------------------------------------------------------------
@dataclass
class Node:
    kind: str  # num, sel, call, agg, bin, neg
    value: Any = None
    args: tuple = ()
    extra: Any = None


class _Parser:
    BINARY = [("or", "and", "unless"), ("==", "!=", ">", "<", ">=", "<="), ("+", "-"),
              ("*", "/", "%"), ("^",)]

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens, self.pos = tokens, 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", "")

    def take(self, text: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok[0] == "end" or (text is not None and tok[1] != text):
            raise Unsupported(f"expected {text or 'more'} at token {self.pos + 1}")
        self.pos += 1
        return tok

    def parse(self) -> Node:
        node = self.binary(0)
        if self.peek()[0] != "end":
            raise Unsupported(f"unsupported syntax at {self.peek()[1]!r}")
        return node

    def binary(self, level: int) -> Node:
        if level == len(self.BINARY):
            return self.unary()
        node = self.binary(level + 1)
        while self.peek()[1] in self.BINARY[level] and self.peek()[0] in ("op", "ident"):
            op = self.take()[1]
            if op in ("or", "and", "unless"):
                raise Unsupported("set operators are not simulated")
            is_bool = self.peek() == ("ident", "bool")
            if is_bool:
                self.take()
            if self.peek()[1] in ("on", "ignoring", "group_left", "group_right"):
                raise Unsupported("vector matching modifiers are not simulated")
            right = self.binary(level + 1) if op != "^" else self.binary(level)
            node = Node("bin", op, (node, right), is_bool)
            if op == "^":
                break
        return node

    def unary(self) -> Node:
        if self.peek() in (("op", "-"), ("op", "+")):
            sign = self.take()[1]
            inner = self.unary()
            return Node("neg", None, (inner,)) if sign == "-" else inner
        node = self.primary()
        if self.peek()[0] == "dur" or self.peek()[1] == "offset":
            raise Unsupported("subqueries and offsets are not simulated")
        return node

    def primary(self) -> Node:
        kind, text = self.take()
        if kind == "num":
            return Node("num", float(text))
        if text == "(":
            node = self.binary(0)
            self.take(")")
            return node
        if kind != "ident":
            raise Unsupported(f"unexpected {text!r}")
        if text.lower() in ("nan", "inf"):
            return Node("num", float(text))
        if text in AGGREGATIONS:
            return self.aggregation(text)
        if self.peek()[1] == "(":
            self.take("(")
            args = [] if self.peek()[1] == ")" else [self.binary(0)]
            while self.peek()[1] == ",":
                self.take(",")
                args.append(self.binary(0))
            self.take(")")
            return Node("call", text, tuple(args))
        return self.selector(text)

    def labels(self) -> tuple[str, ...]:
        self.take("(")
        names = []
        while self.peek()[1] != ")":
            names.append(self.take()[1])
            if self.peek()[1] == ",":
                self.take(",")
        self.take(")")
        return tuple(names)

    def aggregation(self, name: str) -> Node:
        grouping = None
        if self.peek()[1] in ("by", "without"):
            grouping = (self.take()[1], self.labels())
        self.take("(")
        inner = self.binary(0)
        self.take(")")
        if grouping is None and self.peek()[1] in ("by", "without"):
            grouping = (self.take()[1], self.labels())
        return Node("agg", name, (inner,), grouping)

    def selector(self, name: str) -> Node:
        matchers = []
        if self.peek()[1] == "{":
            self.take("{")
            while self.peek()[1] != "}":
                label = self.take()[1]
                op = self.take()[1]
                kind, value = self.take()
                if kind != "str" or op not in ("=", "!=", "=~", "!~"):
                    raise Unsupported("bad label matcher")
                matchers.append((label, op, re.sub(r"\\(.)", r"\1", value[1:-1])))
                if self.peek()[1] == ",":
                    self.take(",")
            self.take("}")
        range_s = None
        if self.peek()[0] == "dur":
            range_s = parse_duration(self.take()[1][1:-1])
        return Node("sel", name, (), (tuple(matchers), range_s))


def parse(query: str) -> Node:
    return _Parser(tokenize(query)).parse()


# -- evaluation -------------------------------------------------------------------------
def _matches(labels: dict[str, str], matchers) -> bool:
    for label, op, value in matchers:
        have = labels.get(label, "")
        ok = {"=": have == value, "!=": have != value}.get(op)
        if ok is None:
            ok = re.fullmatch(value, have) is not None
            ok = ok if op == "=~" else not ok
        if not ok:
            return False
    return True


def _div(a: float, b: float) -> float:
    if b == 0:
        return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a)
    return a / b


def _pow(a: float, b: float) -> float:
    try:
        return math.pow(a, b)
    except (OverflowError, ValueError):
        return math.inf if a > 0 else math.nan


ARITH: dict[str, Callable[[float, float], float]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": _div, "^": _pow,
    "%": lambda a, b: math.fmod(a, b) if b else math.nan}
COMPARE: dict[str, Callable[[float, float], bool]] = {
    "==": operator.eq, "!=": operator.ne, ">": operator.gt, "<": operator.lt,
    ">=": operator.ge, "<=": operator.le}


def _drop_name(labels: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in labels.items() if k != "__name__"}


def bucket_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """Prometheus's histogram_quantile over (upper bound, cumulative count) pairs."""
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    buckets = sorted(buckets)
    if len(buckets) < 2 or not math.isinf(buckets[-1][0]):
        return math.nan
    counts, highest = [], 0.0
    for _, count in buckets:  # Prometheus forces monotonicity the same way
        highest = max(highest, count)
        counts.append(highest)
    total = counts[-1]
    if total == 0:
        return math.nan
    rank = q * total
    b = next(i for i, c in enumerate(counts) if c >= rank)
    if b == len(buckets) - 1:
        return buckets[-2][0]
    if b == 0 and buckets[0][0] <= 0:
        return buckets[0][0]
    start = 0.0 if b == 0 else buckets[b - 1][0]
    below = 0.0 if b == 0 else counts[b - 1]
    count = counts[b] - below
    return start + (buckets[b][0] - start) * ((rank - below) / count)


class Evaluator:
    """Evaluates parsed queries at time `t` against a `Source`."""

    def __init__(self, source: Source, t: float) -> None:
        self.source, self.t = source, t

    def eval(self, node: Node) -> float | Vector:
        return getattr(self, f"_{node.kind}")(node)

    def _num(self, node: Node) -> float:
        return node.value

    def _neg(self, node: Node) -> float | Vector:
        value = self.eval(node.args[0])
        if isinstance(value, float):
            return -value
        return [(_drop_name(labels), -v) for labels, v in value]

    def _sel(self, node: Node) -> Vector:
        matchers, range_s = node.extra
        if range_s is not None:
            raise Unsupported("range vectors are only simulated inside rate() and increase()")
        return [(dict(labels, __name__=node.value), v)
                for labels, v in self.source.instant(node.value, self.t)
                if _matches(dict(labels, __name__=node.value), matchers)]

    def _range_arg(self, node: Node, fn: str):
        if len(node.args) != 1 or node.args[0].kind != "sel" or node.args[0].extra[1] is None:
            raise Unsupported(f"{fn}() needs one range selector")
        sel = node.args[0]
        return sel.value, sel.extra[0], sel.extra[1]

    def _call(self, node: Node) -> float | Vector:
        fn = node.value
        if fn in ("rate", "irate", "increase"):
            name, matchers, range_s = self._range_arg(node, fn)
            rows = self.source.delta(name, self.t, range_s, follow_scenario=fn != "increase")
            return [(labels, delta if fn == "increase" else delta / seconds)
                    for labels, delta, seconds in rows
                    if _matches(dict(labels, __name__=name), matchers)]
        args = [self.eval(a) for a in node.args]
        if fn == "histogram_quantile" and len(args) == 2 and isinstance(args[0], float) \
                and isinstance(args[1], list):
            return self._quantile(args[0], args[1])
        if fn == "time" and not args:
            return float(self.t)
        if fn == "vector" and len(args) == 1 and isinstance(args[0], float):
            return [({}, args[0])]
        if fn == "scalar" and len(args) == 1 and isinstance(args[0], list):
            return args[0][0][1] if len(args[0]) == 1 else math.nan
        simple = {"abs": abs, "ceil": math.ceil, "floor": math.floor}
        if fn in simple and len(args) == 1 and isinstance(args[0], list):
            return [(_drop_name(lb), float(simple[fn](v))) for lb, v in args[0]]
        if fn in ("clamp_min", "clamp_max") and len(args) == 2 and isinstance(args[1], float):
            pick = max if fn == "clamp_min" else min
            return [(_drop_name(lb), pick(v, args[1])) for lb, v in args[0]]
        raise Unsupported(f"function {fn}() is not simulated")

    def _quantile(self, q: float, vector: Vector) -> Vector:
        groups: dict[tuple, list[tuple[float, float]]] = {}
        for labels, value in vector:
            if "le" not in labels:
                continue
            key = tuple(sorted((k, v) for k, v in labels.items() if k not in ("le", "__name__")))
            groups.setdefault(key, []).append((float(labels["le"]), value))
        return [(dict(key), bucket_quantile(q, buckets)) for key, buckets in groups.items()]

    def _agg(self, node: Node) -> Vector:
        value = self.eval(node.args[0])
        if not isinstance(value, list):
            raise Unsupported("aggregation over a scalar")
        mode, names = node.extra or ("by", ())
        groups: dict[tuple, list[float]] = {}
        for labels, v in value:
            if mode == "by":
                key = tuple(sorted((k, labels[k]) for k in names if k in labels))
            else:
                key = tuple(sorted((k, x) for k, x in _drop_name(labels).items()
                                   if k not in names))
            groups.setdefault(key, []).append(v)
        fns = {"sum": sum, "avg": lambda xs: sum(xs) / len(xs), "min": min, "max": max,
               "count": lambda xs: float(len(xs))}
        return [(dict(key), float(fns[node.value](vals))) for key, vals in groups.items()]

    def _bin(self, node: Node) -> float | Vector:
        op, is_bool = node.value, node.extra
        left, right = self.eval(node.args[0]), self.eval(node.args[1])

        def apply(a: float, b: float, labels: dict[str, str]) -> Sample | None:
            if op in ARITH:
                return _drop_name(labels), ARITH[op](a, b)
            hit = COMPARE[op](a, b)
            if is_bool:
                return _drop_name(labels), float(hit)
            return (labels, a) if hit else None

        if isinstance(left, float) and isinstance(right, float):
            if op in COMPARE and not is_bool:
                raise Unsupported("comparisons between scalars need bool")
            return ARITH[op](left, right) if op in ARITH else float(COMPARE[op](left, right))
        out: list[Sample | None] = []
        if isinstance(left, float):
            out = [apply(left, v, lb) for lb, v in right]
            if op in COMPARE and not is_bool:
                out = [(lb, v) if s else None for (lb, v), s in zip(right, out)]
        elif isinstance(right, float):
            out = [apply(v, right, lb) for lb, v in left]
        else:
            by_sig = {tuple(sorted(_drop_name(lb).items())): v for lb, v in right}
            for lb, v in left:
                other = by_sig.get(tuple(sorted(_drop_name(lb).items())))
                if other is not None:
                    out.append(apply(v, other, lb))
        return [s for s in out if s is not None]


def evaluate(query: str | Node, source: Source, t: float) -> float | Vector:
    node = parse(query) if isinstance(query, str) else query
    return Evaluator(source, t).eval(node)


def format_value(value: float) -> str:
    """A float as Prometheus writes sample values ("NaN", "+Inf", "0.93", "100")."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    text = repr(value)
    return format(Decimal(text), "f") if "e" in text else text
