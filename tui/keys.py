"""Every key of the dashboard in one table: default, description, where it works.

Pure data (no Textual), so the CLI can validate a `tui.keys` mapping from the config
before the dashboard starts, and the help screen lists the keys actually in effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping


@dataclass(frozen=True)
class KeyAction:
    id: str
    """Binding id, the name used in `tui: {keys: {<id>: <key>}}`."""
    key: str
    """Default key (Textual key names; several separated by commas)."""
    description: str
    where: str = "everywhere"
    mutating: bool = False
    """Changes the agent's state: not offered in read-only mode."""


SCREENS = (("overview", "Overview"), ("alerts", "Alerts"), ("remediation", "Remediation"),
           ("costs", "Costs"), ("checklists", "Checklists"), ("capacity", "Capacity / Host"))

ACTIONS: tuple[KeyAction, ...] = (
    KeyAction("quit", "q", "quit"),
    KeyAction("help", "question_mark", "help: every key"),
    *(KeyAction(f"screen.{name}", str(i), f"{title} screen")
      for i, (name, title) in enumerate(SCREENS, start=1)),
    KeyAction("filter", "slash", "filter: the Alerts screen's filter (type, enter / esc)"),
    KeyAction("silence", "s", "silence the selected alert (reason + duration)", "alerts",
              mutating=True),
    KeyAction("ack", "a", "acknowledge the selected alert (reason + duration)", "alerts",
              mutating=True),
    KeyAction("expire", "x", "end the silence on the selected alert", "alerts", mutating=True),
    KeyAction("history", "h", "alert history: every fired / resolved / flapping transition, "
              "newest first, 200 a page (r reloads)", "alerts"),
    KeyAction("plan", "p", "dry-run the selected playbook: every step exactly as it would run",
              "remediation"),
    KeyAction("run", "r", "run the selected playbook (type its name to confirm)", "remediation",
              mutating=True),
    KeyAction("resume", "u", "resume a playbook the agent suspended", "remediation",
              mutating=True),
    KeyAction("tick", "t", "tick the selected checklist item (result + note)", "checklists",
              mutating=True),
    KeyAction("weekly", "w", "switch between today's daily and this week's weekly checklist",
              "checklists"),
    KeyAction("back", "escape", "close a dialog / clear the filter / back to Overview"),
)
FIXED_KEYS: tuple[tuple[str, str, str], ...] = (
    ("ctrl+p", "command palette: every action by name", "everywhere"),
    ("tab / shift+tab", "move focus to the next / previous tile or table", "everywhere"),
    ("enter", "details of the focused tile or selected alert; dry-run the playbook; tick "
              "the item", "most screens"),
    ("up / down", "move the selection", "alerts"),
    ("pgup / pgdn", "scroll a page; past the last row, the next 500 alerts (200 history "
                    "records)", "alerts, history"),
    ("r", "reload the alert history", "alert history"),
)
BY_ID = {a.id: a for a in ACTIONS}


def validate_keymap(mapping: object) -> dict[str, str]:
    """Check a `tui.keys` mapping; ValueError lists every problem (one per line)."""
    if mapping is None:
        return {}
    if not isinstance(mapping, dict):
        raise ValueError(f"expected a mapping of action -> key, got {type(mapping).__name__}")
    problems, out = [], {}
    for action, key in mapping.items():
        if action not in BY_ID:
            problems.append(f"{action}: unknown action (known: {', '.join(BY_ID)})")
        elif not isinstance(key, str) or not key.strip() or \
                any(not k.strip() for k in key.split(",")):
            problems.append(f"{action}: key must be a non-empty string like 'ctrl+q', got "
                            f"{key!r}")
        else:
            out[action] = ",".join(normalize_key(k) for k in key.split(","))
    if problems:
        raise ValueError("\n".join(problems))
    clash = _clashes(out)
    if clash:
        raise ValueError(clash)
    return out


def _scopes_overlap(a: str, b: str) -> bool:
    return a == b or "everywhere" in (a, b)


def _clashes(overrides: Mapping[str, str]) -> str | None:
    keys = {a.id: effective_key(a.id, overrides).split(",") for a in ACTIONS}
    for i, a in enumerate(ACTIONS):
        for b in ACTIONS[i + 1:]:
            shared = set(keys[a.id]) & set(keys[b.id])
            if shared and _scopes_overlap(a.where, b.where):
                mine, other = (b, a) if b.id in overrides else (a, b)
                return (f"{mine.id}: {key_display(sorted(shared)[0])!r} is already the key "
                        f"of {other.id}")
    return None


def effective_key(action_id: str, overrides: Mapping[str, str]) -> str:
    return overrides.get(action_id, BY_ID[action_id].key)


_DISPLAY = {"question_mark": "?", "slash": "/", "escape": "esc", "pagedown": "pgdn",
            "pageup": "pgup", "exclamation_mark": "!", "number_sign": "#"}


_FROM_CHAR = {"?": "question_mark", "/": "slash", "esc": "escape", "!": "exclamation_mark",
              "#": "number_sign", "pgdn": "pagedown", "pgup": "pageup"}


def normalize_key(key: str) -> str:
    """'?' -> 'question_mark', 'esc' -> 'escape' (Textual's names), else unchanged."""
    key = key.strip()
    return _FROM_CHAR.get(key, key)


def key_display(key: str) -> str:
    """'question_mark' -> '?', 'ctrl+q' stays; alternatives joined by ' / '."""
    return " / ".join(_DISPLAY.get(k, k) for k in key.split(","))
