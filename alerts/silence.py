"""Silences, acknowledgements and alert fingerprints: who should not be told, and why.

Pure: the dispatcher asks `is_silenced` / `is_acked` before it notifies.
Matchers follow Alertmanager's (=, !=, =~, !~; regexes fully anchored; a
missing label matches as the empty string).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MATCHER = re.compile(r"\s*(?P<name>[^=!~\s]*)\s*(?P<op>=~|!~|!=|=)\s*(?P<value>.*?)\s*", re.S)
_UNESCAPE = {'"': '"', "\\": "\\", "n": "\n"}


def _scrubbed(comment: str) -> str:
    """A free-text comment with key shapes (sk-..., bearer tokens, `token=...`) masked:
    comments are stored and shown, and people paste keys into them."""
    from vocab.redact import redact_comment

    return redact_comment(comment)


def fingerprint(name: str, labels: Mapping[str, str]) -> str:
    """Stable 16-hex-digit identity of an alert: sha256 of its name and sorted labels.

    Label order does not matter; the same alert gets the same fingerprint on
    every run and every machine.
    """
    payload = json.dumps([name, sorted(labels.items())], ensure_ascii=False,
                         separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Matcher:
    """One label condition: `name=value`, `name!=value`, `name=~regex`, `name!~regex`.

    Regexes are fully anchored (`=~ open.*` does not match "reopen"). A label
    the alert lacks is matched as "" (Alertmanager's rule), so `team!=core`
    matches alerts without a team label.
    """

    name: str
    value: str
    is_regex: bool = False
    is_equal: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _LABEL_NAME.fullmatch(self.name):
            raise ValueError(f"invalid matcher label name {self.name!r}: "
                             "must match [A-Za-z_][A-Za-z0-9_]*")
        if not isinstance(self.value, str):
            raise ValueError(f"matcher {self.name}: value must be a string, got {self.value!r}")
        if self.is_regex:
            try:
                re.compile(self.value)
            except re.error as err:
                raise ValueError(f"matcher {self.name}{self.op}{self.value!r}: "
                                 f"invalid regex: {err}") from None

    @property
    def op(self) -> str:
        """The operator as written: =, !=, =~ or !~."""
        if self.is_regex:
            return "=~" if self.is_equal else "!~"
        return "=" if self.is_equal else "!="

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether the labels satisfy this condition."""
        actual = labels.get(self.name, "")
        if self.is_regex:
            hit = re.fullmatch(self.value, actual) is not None
        else:
            hit = actual == self.value
        return hit == self.is_equal

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'{self.name}{self.op}"{escaped}"'


def _unquote(raw: str, text: str) -> str:
    if not raw.startswith('"'):
        return raw
    if len(raw) < 2 or not raw.endswith('"'):
        raise ValueError(f"invalid matcher {text!r}: unterminated quoted value")
    out, chars = [], iter(raw[1:-1])
    for ch in chars:
        if ch == '"':
            raise ValueError(f"invalid matcher {text!r}: unescaped quote inside value")
        if ch == "\\":
            nxt = next(chars, None)
            if nxt not in _UNESCAPE:
                raise ValueError(f"invalid matcher {text!r}: bad escape \\{nxt or ''}")
            ch = _UNESCAPE[nxt]
        out.append(ch)
    return "".join(out)


def parse_matcher(text: str) -> Matcher:
    """Parse one matcher such as `component=openai`, `metric=~"error_.*"`.

    The value may be bare or double-quoted (quotes allow commas, `\\"`, `\\\\`, `\\n`).

    Raises:
        ValueError: naming the text and what is wrong with it.
    """
    found = _MATCHER.fullmatch(text)
    if found is None:
        raise ValueError(f"invalid matcher {text!r}: expected <label><op><value> "
                         "with op one of =, !=, =~, !~")
    name, op = found["name"], found["op"]
    if not name:
        raise ValueError(f"invalid matcher {text!r}: missing label name before {op!r}")
    if not _LABEL_NAME.fullmatch(name):
        raise ValueError(f"invalid matcher {text!r}: label name {name!r} "
                         "must match [A-Za-z_][A-Za-z0-9_]*")
    value = _unquote(found["value"], text)
    try:
        return Matcher(name, value, is_regex="~" in op, is_equal=op in ("=", "=~"))
    except ValueError as err:
        raise ValueError(f"invalid matcher {text!r}: {err}") from None


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return parts


def parse_matchers(text: str) -> tuple[Matcher, ...]:
    """Parse a comma-separated list, optionally in braces: `a=b,c=~"d.*"` or `{a="b"}`.

    Raises:
        ValueError: for an empty list, an empty item or any invalid matcher.
    """
    body = text.strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1].strip()
    if not body:
        raise ValueError(f"invalid matchers {text!r}: no matcher given")
    parts = _split_top_level(body)
    if parts[-1].strip() == "" and len(parts) > 1:
        parts = parts[:-1]  # a trailing comma is allowed, as in PromQL selectors
    if any(not part.strip() for part in parts):
        raise ValueError(f"invalid matchers {text!r}: empty matcher between commas")
    return tuple(parse_matcher(part) for part in parts)


def _require_time(owner: str, attr: str, value: object) -> float:
    if value is None:
        raise ValueError(f"{owner}: {attr} is required")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{owner}: {attr} must be a finite unix timestamp, got {value!r}")
    return float(value)


def _require_text(owner: str, attr: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{owner}: {attr} is required (a non-empty string)")


@dataclass(frozen=True)
class Silence:
    """Mute every alert whose labels match all matchers, from `starts_at` until `ends_at`.

    Like Alertmanager, a silence needs an end, an author and a comment, and at
    least one matcher that does not match the empty string (so that it cannot
    silence everything by accident). `matchers` may be given as a string, which
    is parsed with `parse_matchers`. Active on `starts_at <= now < ends_at`.

    Raises:
        ValueError: if any of the above is missing or invalid.
    """

    id: str
    matchers: tuple[Matcher, ...] = ()
    starts_at: float | None = None
    ends_at: float | None = None
    created_by: str = ""
    comment: str = ""

    def __post_init__(self) -> None:
        _require_text("silence", "id", self.id)
        owner = f"silence {self.id}"
        given: str | Iterable[Matcher] = self.matchers  # a string is parsed (see above)
        matchers = parse_matchers(given) if isinstance(given, str) else tuple(given)
        if not matchers:
            raise ValueError(f"{owner}: at least one matcher is required")
        if not all(isinstance(m, Matcher) for m in matchers):
            raise ValueError(f"{owner}: matchers must be Matcher objects")
        if all(m.matches({}) for m in matchers):
            raise ValueError(f"{owner}: matchers {', '.join(map(str, matchers))} match every "
                             "alert; at least one must not match the empty string")
        object.__setattr__(self, "matchers", matchers)
        starts = _require_time(owner, "starts_at", self.starts_at)
        ends = _require_time(owner, "ends_at", self.ends_at)
        if ends <= starts:
            raise ValueError(f"{owner}: ends_at must be after starts_at")
        object.__setattr__(self, "starts_at", starts)
        object.__setattr__(self, "ends_at", ends)
        _require_text(owner, "created_by", self.created_by)
        _require_text(owner, "comment", self.comment)
        object.__setattr__(self, "comment", _scrubbed(self.comment))

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether every matcher matches the labels (time is not considered)."""
        return all(m.matches(labels) for m in self.matchers)

    def is_active(self, now: float) -> bool:
        """Whether the silence is in force at `now` (it expires exactly at `ends_at`)."""
        return self.starts_at <= now < self.ends_at  # type: ignore[operator]

    def state(self, now: float) -> str:
        """Alertmanager's word for it at `now`: "pending", "active" or "expired"."""
        if now < self.starts_at:  # type: ignore[operator]
            return "pending"
        return "active" if self.is_active(now) else "expired"


@dataclass(frozen=True)
class Ack:
    """An operator's acknowledgement of one alert (by fingerprint): stop re-notifying.

    `expires_at=None` means "until the alert resolves": the dispatcher drops
    the ack when it sends the resolved notification, since a fingerprint is the
    same for every episode of an alert. `by` is required for the audit trail.
    """

    alert_fingerprint: str
    comment: str = ""
    expires_at: float | None = None
    by: str = ""

    def __post_init__(self) -> None:
        _require_text("ack", "alert_fingerprint", self.alert_fingerprint)
        owner = f"ack of {self.alert_fingerprint}"
        _require_text(owner, "by", self.by)
        if not isinstance(self.comment, str):
            raise ValueError(f"{owner}: comment must be a string")
        object.__setattr__(self, "comment", _scrubbed(self.comment))
        if self.expires_at is not None:
            object.__setattr__(self, "expires_at",
                               _require_time(owner, "expires_at", self.expires_at))

    def is_active(self, now: float) -> bool:
        """Whether the ack still holds at `now` (it expires exactly at `expires_at`)."""
        return self.expires_at is None or now < self.expires_at


def is_silenced(labels: Mapping[str, str], silences: Iterable[Silence],
                now: float) -> Silence | None:
    """The active silence muting an alert with these labels, or None.

    Pass the alert's full label set including `alertname` (see
    `AlertEvent.match_labels`). When several silences apply, the one that ends
    last is returned (it tells how long the alert stays muted).
    """
    best: Silence | None = None
    for silence in silences:
        if not (silence.is_active(now) and silence.matches(labels)):
            continue
        if best is None or silence.ends_at > best.ends_at:  # type: ignore[operator]
            best = silence
    return best


def _lasts_longer(a: Ack, b: Ack) -> bool:
    if b.expires_at is None:
        return False
    return a.expires_at is None or a.expires_at > b.expires_at


def is_acked(alert_fingerprint: str, acks: Iterable[Ack], now: float) -> Ack | None:
    """The active ack for this fingerprint, or None; the longest-lasting one if several."""
    best: Ack | None = None
    for ack in acks:
        if ack.alert_fingerprint != alert_fingerprint or not ack.is_active(now):
            continue
        if best is None or _lasts_longer(ack, best):
            best = ack
    return best
