"""The dashboard's settings: the `tui:` section of alice-ops.yaml (keys, ascii).

One schema serves the agent and the dashboard: `agent.config.TuiSettings`, validated by
`agent.config.parse_config` as part of `Config` (pydantic; errors one line each, with
file, line and key path). On top of it the dashboard checks what only it knows: action
names and clashing keys (tui/keys.py). With --attach/--demo only the `tui:` section of a
config file matters: the other sections are blanked (every line keeps its number) and
the rest goes through the same parser, so a config written for another host (its
${ENV} secrets unset here) still lends the dashboard its keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from tui.keys import validate_keymap


class SettingsError(Exception):
    """A `tui:` section or config file that cannot be used; `problems`, one line each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Settings:
    """What the dashboard takes from the config: `Config.tui` with its keys checked."""

    keys: dict[str, str] = field(default_factory=dict)
    """Action id -> key (see tui.keys.ACTIONS), normalised ('?' -> 'question_mark')."""
    ascii: bool = False
    """ASCII-only drawing for poor fonts."""


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SettingsError([f"{path}: config file not found (pass --config, set "
                             "ALICE_OPS_CONFIG, or run `alice-ops config init`)"]) from None
    except IsADirectoryError:
        raise SettingsError([f"{path}: is a directory, not a config file"]) from None
    except (PermissionError, UnicodeDecodeError) as exc:
        raise SettingsError([f"{path}: cannot read config file: "
                             f"{exc.__class__.__name__}"]) from None


def tui_only(text: str) -> tuple[str, int] | None:
    """The text with every top-level section but `tui:` blanked (lines kept, so errors
    name the right line) and the line number of `tui:`; None without a `tui:` section
    or when the text is not a YAML mapping (the agent's parser reports that itself
    when the whole file is used)."""
    import yaml  # here: without a config file the dashboard never needs it

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    if not isinstance(root, yaml.MappingNode):
        return None
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "tui":
            line = key.start_mark.line + 1
            if root.flow_style:  # `{targets: ..., tui: ...}` on one line: re-dump it
                data = yaml.safe_load(text)
                return yaml.safe_dump({"tui": data.get("tui")}, sort_keys=False), line
            lines = text.splitlines(keepends=True)
            last = value.end_mark.line if value.end_mark.column > 0 else value.end_mark.line - 1
            keep = range(key.start_mark.line, min(last, len(lines) - 1) + 1)
            return "".join(ln if i in keep else "\n" for i, ln in enumerate(lines)), line
    return None


def check(tui: Any, source: str, line: int | Callable[[], int | None] | None = None
          ) -> Settings:
    """`Config.tui` (validated by pydantic) plus the dashboard's own checks of the keys.
    `line` (of `tui:`, for the messages) may be a function: only called on a problem."""
    try:
        keys = validate_keymap(dict(tui.keys))
    except ValueError as exc:
        line = line() if callable(line) else line
        where = f"{source}:{line}" if line else source
        raise SettingsError([f"{where}: tui.keys.{p}" if not p.startswith("expected") else
                             f"{where}: tui.keys: {p}" for p in str(exc).splitlines()]) \
            from None
    return Settings(keys=keys, ascii=bool(tui.ascii))


def _tui_line(text: str) -> int | None:
    found = tui_only(text)
    return found[1] if found else None


def load(path: Path, env: dict[str, str], whole: bool) -> tuple[Any, Settings]:
    """Read a config file: (the whole `Config` when `whole`, else None; Settings).

    Raises SettingsError (the file) or agent.config.ConfigError (its contents)."""
    from agent.config import parse_config

    text = read_text(path)
    if whole:
        config = parse_config(text, str(path), env)
        # the line of `tui:` only for a message: not a second YAML parse on every start
        return config, check(config.tui, str(path), lambda: _tui_line(text))
    found = tui_only(text)
    if found is None:
        return None, Settings()
    section, line = found
    return None, check(parse_config(section, str(path), {}).tui, str(path), line)
