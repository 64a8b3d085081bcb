"""Pure formatting for the dashboard: sparklines, ages, values, thresholds, severity styles.

Everything here takes plain snapshot values (and `now` where time matters) and returns
strings or style names; no Textual, no I/O, so it is tested without an App.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any, Iterable, Mapping, Sequence

SPARK_UNICODE = "▁▂▃▄▅▆▇█"
SPARK_ASCII = "_.-~=+*#"
GAP_UNICODE, GAP_ASCII = "·", "."

STATUS_WORDS = {"ok": "OK", "warning": "WARNING", "critical": "CRITICAL", "unknown": "UNKNOWN",
                "absent": "absent"}  # absent: a blind spot (never exported), not a status
# Colour AND word, never colour alone; critical is reversed so it stands out under NO_COLOR.
STATUS_STYLES = {"ok": "bold green", "warning": "bold yellow", "critical": "bold reverse red",
                 "unknown": "bold magenta", "absent": "dim"}
SEVERITY_STYLES = {"critical": "bold red", "warning": "bold yellow"}
STATUS_RANK = {"absent": -1, "ok": 0, "warning": 1, "unknown": 2, "critical": 3}  # "worst of"
UNIT_SUFFIX = {"ms": " ms", "percent": " %", "score": "/10", "count": "", "celsius": " °C",
               "tokens_per_s": " tok/s", "s": " s", "usd": " USD"}


def status_word(status: str | None) -> str:
    return STATUS_WORDS.get((status or "unknown").lower(), (status or "UNKNOWN").upper())


def status_style(status: str | None) -> str:
    return STATUS_STYLES.get((status or "unknown").lower(), "bold magenta")


def severity_style(severity: str | None) -> str:
    return SEVERITY_STYLES.get((severity or "").lower(), "bold")


def status_rank(status: str | None) -> int:
    return STATUS_RANK.get((status or "unknown").lower(), 2)


_TS_CACHE: dict[str, float | None] = {}
_TS_CACHE_MAX = 100_000


def parse_ts(value: str | float | None) -> float | None:
    """Unix seconds from the snapshot's ISO-8601 strings (or a number); None stays None.

    Strings are memoised: every snapshot repeats the same alert timestamps, and sorting
    10,000 alerts parsed each of them again on every update.
    """
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return _TS_CACHE[value]
    except KeyError:
        pass
    except TypeError:  # unhashable: not a timestamp
        return None
    try:
        parsed: float | None = datetime.fromisoformat(value).timestamp()
    except (ValueError, TypeError):
        parsed = None
    if len(_TS_CACHE) >= _TS_CACHE_MAX:
        _TS_CACHE.clear()
    _TS_CACHE[value] = parsed
    return parsed


def format_duration(seconds: float) -> str:
    """Compact human duration: 0s, 45s, 3m, 1h05m, 2d3h."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        h, m = divmod(s // 60, 60)
        return f"{h}h{m:02d}m" if m else f"{h}h"
    d, h = divmod(s // 3600, 24)
    return f"{d}d{h}h" if h else f"{d}d"


def age(ts: str | float | None, now: float, never: str = "never") -> str:
    """'3s ago' for a timestamp, `never` for None; a future time (clock skew) is 'now'."""
    t = parse_ts(ts)
    if t is None:
        return never
    delta = now - t
    return "now" if delta < 1 else f"{format_duration(delta)} ago"


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)?\s*$", re.I)
_UNIT_S = {None: 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float:
    """'90', '90s', '30m', '2h', '1d', '1w' -> seconds. ValueError says what is accepted."""
    match = _DURATION.match(text or "")
    if match:
        seconds = float(match.group(1)) * _UNIT_S[(match.group(2) or "").lower() or None]
        if seconds > 0:
            return seconds
    raise ValueError(f"bad duration {text!r}: use a positive number with s, m, h, d or w "
                     "(e.g. 30m, 2h)")


def format_value(value: float | None, unit: str) -> str:
    """'42.1 ms', '93 %', '8.69/10', 'no data' (same rounding as the agent's tables)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no data"
    text = f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return text + UNIT_SUFFIX.get(unit, f" {unit}" if unit else "")


def compact(text: str | None) -> str:
    """'< 300 ms' -> '<300ms' for tight spaces ('no data' stays readable)."""
    if text == "no data":
        return "n/a"
    return (text or "?").replace(" ", "")


def fit(text: str, width: int, ascii_only: bool = False) -> str:
    """Truncate to `width` cells with an ellipsis."""
    if width <= 0:
        return ""
    if len(text) <= width:
        return text
    mark = "~" if ascii_only else "…"
    return text[: width - 1] + mark if width > 1 else text[:width]


_UNIT_TAIL = re.compile(r"(?<=\d)[A-Za-z/]+$")


def threshold_line(value: str, target: str | None, alert: str | None, width: int) -> str:
    """Value with its target and alert threshold, as long as fits `width`."""
    bare_t, bare_a = _UNIT_TAIL.sub("", compact(target)), _UNIT_TAIL.sub("", compact(alert))
    candidates = [f"{value}  target {target}  alert {alert}",
                  f"{value} tgt {target} alert {alert}",
                  f"{compact(value)} tgt{compact(target)} alert{compact(alert)}",
                  f"{compact(value)} t{compact(target)} a{compact(alert)}",
                  f"{compact(value)} t{bare_t} a{bare_a}"]
    for line in candidates:
        if len(line) <= width:
            return line
    return fit(candidates[-1], width)


def sparkline(values: Sequence[float | None], width: int, ascii_only: bool = False) -> str:
    """The last `width` values as block characters, scaled to their own min..max.

    None (a probe without latency, e.g. a failure before connect) is a gap mark so
    a hole in the data is visible rather than drawn as a low value.
    """
    if width <= 0:
        return ""
    ramp = SPARK_ASCII if ascii_only else SPARK_UNICODE
    gap = GAP_ASCII if ascii_only else GAP_UNICODE
    tail = list(values)[-width:]
    real = [v for v in tail if v is not None and not math.isnan(v)]
    if not real:
        return gap * len(tail)
    lo, hi = min(real), max(real)
    span = hi - lo
    out = []
    for v in tail:
        if v is None or math.isnan(v):
            out.append(gap)
        elif span <= 0:
            out.append(ramp[len(ramp) // 2 - 1])
        else:
            out.append(ramp[min(len(ramp) - 1, int((v - lo) / span * len(ramp)))])
    return "".join(out)


def bar(fraction: float, width: int, ascii_only: bool = False) -> str:
    """A filled bar of `width` cells for 0..1."""
    width = max(0, width)
    filled = round(max(0.0, min(1.0, fraction)) * width)
    full, empty = ("#", "-") if ascii_only else ("█", "░")
    return full * filled + empty * (width - filled)


def routing_bar(share: float, width: int, band: tuple[float, float] = (60.0, 70.0),
                ascii_only: bool = False) -> str:
    """Fast-path share (0..100) as a bar with the target band marked by brackets."""
    width = max(10, width)
    lo = round(band[0] / 100 * width)
    hi = round(band[1] / 100 * width)
    filled = round(max(0.0, min(100.0, share)) / 100 * width)
    full, empty = ("#", "-") if ascii_only else ("█", "░")
    cells = [full if i < filled else empty for i in range(width)]
    cells.insert(hi, "]")
    cells.insert(lo, "[")
    return "".join(cells)


def in_band(share: float, band: tuple[float, float] = (60.0, 70.0)) -> bool:
    return band[0] <= share <= band[1]


def headline_metric(component: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The metric a tile shows: the worst one (ties: table order), else None."""
    metrics = list(component.get("metrics") or [])
    if not metrics:
        return None
    return max(metrics, key=lambda m: (status_rank(m.get("status")), -metrics.index(m)))


def worst(statuses: Iterable[str | None]) -> str:
    ranked = sorted(statuses, key=status_rank)
    return (ranked[-1] or "unknown") if ranked else "unknown"


def newest_first(alerts: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Alerts by the time they fired (or started), newest first."""
    return sorted(alerts, key=lambda a: -(parse_ts(a.get("fired_at")) or
                                          parse_ts(a.get("started_at")) or 0.0))


def alert_marks(alert: Mapping[str, Any]) -> str:
    """'silenced', 'acked', 'flapping' tags for an alert (joined by spaces)."""
    marks = []
    if alert.get("silenced_by"):
        marks.append("silenced")
    if alert.get("acked"):
        marks.append("acked")
    if alert.get("flapping"):
        marks.append("flapping")
    return " ".join(marks)


def alert_component(alert: Mapping[str, Any]) -> str:
    return str((alert.get("labels") or {}).get("component", ""))


def alert_haystack(alert: Mapping[str, Any]) -> str:
    """The lower-case text the filter searches: every visible field and the labels."""
    labels = alert.get("labels") or {}
    hay = " ".join(str(v) for v in (alert.get("name"), alert.get("state"), alert.get("severity"),
                                    alert.get("summary"), alert.get("cause") or "",
                                    alert.get("inhibited_by") or "", alert_marks(alert),
                                    *labels.items())).lower()
    return hay + " " + " ".join(f"{k}={v}" for k, v in labels.items()).lower()


def query_words(query: str) -> list[str]:
    return query.lower().split()


def alert_matches(alert: Mapping[str, Any], query: str) -> bool:
    """Case-insensitive substring filter over every visible field; words are ANDed."""
    words = query_words(query)
    if not words:
        return True
    hay = alert_haystack(alert)
    return all(word in hay for word in words)


def quote_matcher_value(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def default_matchers(alert: Mapping[str, Any] | None) -> str:
    """The silence a row suggests: exactly this alert by name."""
    if not alert:
        return ""
    return f"alertname={quote_matcher_value(str(alert.get('name', '')))}"


def metric(snapshot: Mapping[str, Any] | None, name: str,
           component: str | None = None) -> Mapping[str, Any] | None:
    """A metric by name (and component) from the snapshot, else None."""
    if not snapshot:
        return None
    for m in snapshot.get("metrics") or []:
        if m.get("name") == name and (component is None or m.get("component") == component):
            return m
    return None


STALE_FACTOR = 3.0
STALE_MIN_S = 5.0  # a few missed sub-second updates are a hiccup, not stale data


def staleness(now: float, received_at: float | None, connected: bool, problem: str | None,
              expected_interval_s: float, factor: float = STALE_FACTOR) -> str | None:
    """Why the data on screen is stale, or None while it is fresh.

    Stale when the source is down (attach disconnected) or no snapshot arrived for
    more than `factor` x the expected interval (and at least STALE_MIN_S). Measured on the
    local clock at receipt, so a remote agent's clock skew cannot make fresh data look stale.
    """
    if not connected:
        return problem or "source disconnected"
    if received_at is not None and \
            now - received_at > max(factor * expected_interval_s, STALE_MIN_S):
        return f"no update for {format_duration(now - received_at)}"
    return None


def clock_time(ts: str | float | None, now: float) -> str:
    """Local wall-clock time of a timestamp: '16:13:48' today, '11-24 16:13' otherwise."""
    t = parse_ts(ts)
    if t is None:
        return "-"
    when, today = datetime.fromtimestamp(t), datetime.fromtimestamp(now)
    return when.strftime("%H:%M:%S") if when.date() == today.date() else \
        when.strftime("%m-%d %H:%M")


STATE_ORDER = {"firing": 0, "pending": 1, "resolved": 2}
SEVERITY_ORDER = {"critical": 0, "warning": 1}


def order_alerts(alerts: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Firing, then pending, then resolved; by severity (critical first), then oldest
    first; an inhibited alert right under the alert it follows from."""
    items = list(alerts)

    def key(a: Mapping[str, Any]) -> tuple:
        at = parse_ts(a.get("fired_at")) or parse_ts(a.get("started_at"))
        return (STATE_ORDER.get(a.get("state", ""), 3), SEVERITY_ORDER.get(a.get("severity"), 2),
                at if at is not None else float("inf"), a.get("name", ""))

    names = {a.get("name") for a in items}
    tops = sorted((a for a in items if a.get("inhibited_by") not in names), key=key)
    under: dict[str, list[Mapping[str, Any]]] = {}
    for a in items:
        if a.get("inhibited_by") in names:
            under.setdefault(a["inhibited_by"], []).append(a)
    out: list[Mapping[str, Any]] = []
    for a in tops:
        out.append(a)
        out.extend(sorted(under.pop(a.get("name"), ()), key=key))
    for rest in under.values():  # a cause that is itself under another: keep them all
        out.extend(sorted(rest, key=key))
    return out


def alert_cause(alert: Mapping[str, Any]) -> str:
    """The fault in words (`HTTP 503 from GET /v1/models`); the summary for an older agent."""
    return " ".join(str(alert.get("cause") or alert.get("summary") or "").split())


def wrap(text: str, width: int, lines: int, ascii_only: bool = False) -> list[str]:
    """`text` over at most `lines` lines of `width`, broken at spaces where it can; only
    the last line is cut (with an ellipsis) when it does not fit in all of them."""
    words, out, cur = text.split(), [], ""
    for word in words:
        while len(word) > width:  # a word longer than a line: break it
            if cur:
                out.append(cur)
                cur = ""
            out.append(word[:width])
            word = word[width:]
        if not cur:
            cur = word
        elif len(cur) + 1 + len(word) <= width:
            cur += " " + word
        else:
            out.append(cur)
            cur = word
    if cur or not out:
        out.append(cur)
    if len(out) > lines:
        rest = " ".join(out[lines - 1:])
        out = out[:lines - 1] + [fit(rest, width, ascii_only)]
    return out


def fit_keep_right(left: str, right: str, width: int, ascii_only: bool = False) -> str:
    """`left` cut (never `right`) so that `left + right` fits `width`."""
    return fit(left, max(0, width - len(right)), ascii_only) + right
