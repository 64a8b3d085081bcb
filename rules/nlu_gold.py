"""Gold sets for the intent benchmark, parsed (pure: text in, items out).

Two file shapes:
- JSONL, one item per line; blank lines and `#` lines are skipped;
- one JSON document: an array of items, or an object holding one array of items
  (Alice's `server/tests/intent_cases.json` is `{"cases": [...]}`).

An item is an object with `text` and what counts as the right answer:
- `"intent": "WEATHER"`: that label; `"intent": null`: "no intent" is right;
- `"expect_any_of": ["SET_VOLUME", null]`: any listed label is right (`null`: "no intent");
- `"expect": {"tool": "PLAY", ...}` (or `{"intent": ...}`): Alice's intent cases; the
  other keys of `expect` (args, source, comment) are not labels and are not judged;
- none of these, but a `kind`: "no intent" is right (Alice's `synthetic.jsonl` gives
  `chat_only` and `missing_params` items no label: no tool may be chosen for them).
Optional `kind` groups items for a per-kind breakdown; `comment` is ignored.
Labels compare case-insensitively (kept upper-case). A bad item raises GoldSetError
naming `source:line` and the problem.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable

NO_INTENT = "(none)"
"""The label of the answer "no intent" (a JSON null, or the target's none_label). No
label read from a file or a server can equal it: those are upper-cased."""
EXPECTATIONS = ("intent", "expect_any_of", "expect")
KEYS = frozenset({"text", "kind", "comment", *EXPECTATIONS})


class GoldSetError(ValueError):
    """A gold-set line that cannot be used; the message names source:line and the problem."""


@dataclass(frozen=True)
class GoldItem:
    text: str
    intent: str
    """The first right answer (NO_INTENT for "no intent"): the expected label in
    confusions, and the intent a wrong answer is counted against."""
    line: int
    accept: frozenset[str] = frozenset()
    """Every right answer; empty means just `intent`."""
    kind: str | None = None

    @property
    def accepted(self) -> frozenset[str]:
        return self.accept or frozenset({self.intent})


def label(value: str) -> str:
    """A label as compared: trimmed, upper-case."""
    return value.strip().upper()


def _expected(value: Any, key: str) -> str:
    if value is None:
        return NO_INTENT
    if isinstance(value, str) and value.strip():
        return label(value)
    raise ValueError(f"{key!r} must be a non-empty string or null")


def parse_item(data: Any, source: str, line: int) -> GoldItem:
    """One gold item from its decoded JSON; GoldSetError names `source:line` and the
    problem."""
    where = f"{source}:{line}"
    if not isinstance(data, dict):
        raise GoldSetError(f"{where}: expected an object {{\"text\": ..., \"intent\": ...}}, "
                           f"got {type(data).__name__}")
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise GoldSetError(f"{where}: unknown key(s): {', '.join(unknown)}")
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        problem = "is missing" if "text" not in data else "must be a non-empty string"
        raise GoldSetError(f"{where}: 'text' {problem}")
    kind = data.get("kind")
    if kind is not None and (not isinstance(kind, str) or not kind.strip()):
        raise GoldSetError(f"{where}: 'kind' must be a non-empty string")
    given = [k for k in EXPECTATIONS if k in data]
    if len(given) > 1:
        raise GoldSetError(f"{where}: give one of {', '.join(given)}, not both")
    try:
        accepted = _accepted(data, given[0] if given else None, kind)
    except ValueError as exc:
        raise GoldSetError(f"{where}: {exc}") from None
    return GoldItem(text, accepted[0], line,
                    frozenset(accepted) if len(accepted) > 1 else frozenset(),
                    kind.strip() if kind else None)


def _accepted(data: dict[str, Any], key: str | None, kind: str | None) -> list[str]:
    if key is None:
        if kind is None:
            raise ValueError("'intent' is missing (or expect_any_of, or a kind for an item "
                             "that expects no intent)")
        return [NO_INTENT]
    value = data[key]
    if key == "intent":
        return [_expected(value, "intent")]
    if key == "expect":
        if not isinstance(value, dict):
            raise ValueError("'expect' must be an object with 'tool' or 'intent'")
        names = [k for k in ("tool", "intent") if k in value]
        if len(names) != 1:
            raise ValueError("'expect' must hold one of 'tool' or 'intent'")
        return [_expected(value[names[0]], f"expect.{names[0]}")]
    if not isinstance(value, list) or not value:
        raise ValueError("'expect_any_of' must be a non-empty list of labels (null: no intent)")
    out: list[str] = []
    for i, one in enumerate(value):
        got = _expected(one, f"expect_any_of[{i}]")
        if got not in out:
            out.append(got)
    return out


def _finish(items: list[GoldItem], source: str) -> tuple[GoldItem, ...]:
    if not items:
        raise GoldSetError(f"{source}: the gold set is empty")
    return tuple(items)


def parse_gold_set(lines: Iterable[str], source: str) -> tuple[GoldItem, ...]:
    """JSONL, one item per line; blank and `#` lines are skipped.

    Raises GoldSetError naming `source:line` and the problem at the first bad line.
    """
    items = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{source}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise GoldSetError(f"{where}: not valid JSON: {exc.msg} (column {exc.colno})") \
                from None
        items.append(parse_item(data, source, number))
    return _finish(items, source)


def parse_gold_text(text: str, source: str) -> tuple[GoldItem, ...]:
    """A whole gold-set file: one JSON document holding the items, else JSONL."""
    text = text.lstrip("\ufeff")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        doc = None
    key: str | None = None
    if isinstance(doc, dict) and "text" not in doc:
        lists = [k for k, v in doc.items() if isinstance(v, list)]
        if len(lists) != 1:
            raise GoldSetError(f"{source}: a JSON object must hold exactly one list of items "
                               f"(like {{\"cases\": [...]}}), found {len(lists)}")
        key = lists[0]
    elif not isinstance(doc, list):
        return parse_gold_set(text.splitlines(), source)
    return _finish([parse_item(data, source, line) for line, data in _elements(text, key)],
                   source)


def _elements(text: str, key: str | None) -> list[tuple[int, Any]]:
    """(line, value) of each element of the document's array (top level, or the
    object's member `key`); `text` is known to be valid JSON."""
    decoder = json.JSONDecoder()
    i = _skip(text, 0)
    if key is not None:  # walk the object's members to the one holding the list
        i = _skip(text, i + 1)
        while True:
            name, i = decoder.raw_decode(text, i)
            i = _skip(text, _skip(text, i) + 1)  # past ':'
            if name == key and text[i] == "[":
                break
            _, i = decoder.raw_decode(text, i)
            i = _skip(text, _skip(text, i) + 1)  # past ','
    out = []
    i = _skip(text, i + 1)  # past '['
    while text[i] != "]":
        line = text.count("\n", 0, i) + 1
        value, i = decoder.raw_decode(text, i)
        out.append((line, value))
        i = _skip(text, i)
        if text[i] == ",":
            i = _skip(text, i + 1)
    return out


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i
