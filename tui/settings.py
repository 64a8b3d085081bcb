"""The `tui:` section of alice-ops.yaml (keys, ascii), read from the raw YAML here.

`agent.config.Config` forbids unknown keys and has no `tui:` section yet, so the
section is cut out of the text (its lines blanked, so every other line keeps its
number in error messages) before the rest goes to `agent.config.parse_config`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tui.keys import validate_keymap


class SettingsError(Exception):
    """A `tui:` section or config file that cannot be used; `problems`, one line each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class TuiSettings:
    keys: dict[str, str] = field(default_factory=dict)
    """Action id -> key (see tui.keys.ACTIONS)."""
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


def split_tui_section(text: str, source: str) -> tuple[str, TuiSettings]:
    """Return (text without the top-level `tui:` block, the parsed TuiSettings).

    Text that is not valid YAML, or has no top-level `tui:`, comes back unchanged
    (the agent's parser reports YAML errors with their line numbers).
    """
    import yaml  # here: without a config file the dashboard never needs it
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return text, TuiSettings()
    if not isinstance(root, yaml.MappingNode):
        return text, TuiSettings()
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "tui":
            data = yaml.safe_load(text)
            settings = _parse(data.get("tui") if isinstance(data, dict) else None, source,
                              key.start_mark.line + 1)
            if root.flow_style:  # `{targets: ..., tui: ...}` on one line: re-dump the rest
                data.pop("tui", None)
                return yaml.safe_dump(data, sort_keys=False), settings
            lines = text.splitlines(keepends=True)
            first = key.start_mark.line
            last = value.end_mark.line if value.end_mark.column > 0 else value.end_mark.line - 1
            for i in range(first, min(last, len(lines) - 1) + 1):
                lines[i] = "\n"
            return "".join(lines), settings
    return text, TuiSettings()


def _parse(data: object, source: str, line: int) -> TuiSettings:
    where = f"{source}:{line}"
    if data is None:
        return TuiSettings()
    if not isinstance(data, dict):
        raise SettingsError([f"{where}: tui: expected a mapping with keys/ascii, "
                             f"got {type(data).__name__}"])
    problems = [f"{where}: tui.{k}: unknown key (known: keys, ascii)"
                for k in data if k not in ("keys", "ascii")]
    keys: dict[str, str] = {}
    try:
        keys = validate_keymap(data.get("keys"))
    except ValueError as exc:
        problems += [f"{where}: tui.keys.{p}" if not p.startswith("expected") else
                     f"{where}: tui.keys: {p}" for p in str(exc).splitlines()]
    ascii_only = data.get("ascii", False)
    if not isinstance(ascii_only, bool):
        problems.append(f"{where}: tui.ascii: expected true or false, got {ascii_only!r}")
    if problems:
        raise SettingsError(problems)
    return TuiSettings(keys=keys, ascii=bool(ascii_only))


def load(path: Path) -> tuple[str, TuiSettings]:
    """Read a config file: (agent config text with `tui:` blanked out, TuiSettings)."""
    return split_tui_section(read_text(path), str(path))
