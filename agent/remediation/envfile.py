"""`.env` files for remediation's `env` step (and `rotate-key`): read, plan, write safely.

The I/O edge of the "act" step for environment changes. Small API:

- `read_env(path) -> dict[str, str]`: the file's keys (a missing file is empty).
- `plan_env(path, changes) -> EnvPlan`: what would change, nothing written.
- `apply_env(path, changes, now=...) -> EnvResult`: write it: the new text goes to a
  temporary file in the same directory, is fsynced, `chmod 600`, renamed over the
  original, and the directory is fsynced; the old file is first copied to
  `<name>.bak-<UTC timestamp>` (mode 600).
- `EnvPlan.diff` / `EnvResult.diff`: one `EnvChange` per changed key with before/after
  values already redacted (`redact_env_value`): keys whose name contains KEY, TOKEN,
  SECRET or PASSWORD, and any value that looks like an OpenAI key, show as `<redacted>`.

Comments, blank lines and the order of lines are kept; a changed key is rewritten in
place; a new key is appended. Values containing whitespace, `#` or quotes are written
double-quoted with `\\` and `"` escaped.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from vocab.redact import OPENAI_KEY

REDACTED = "<redacted>"
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD", re.IGNORECASE)
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=(.*)$")


class EnvFileError(Exception):
    """A .env file that cannot be read or written; the message names the file."""


@dataclass(frozen=True)
class EnvChange:
    """One key's change; `before`/`after` are redacted (None: absent)."""

    key: str
    before: str | None
    after: str

    def to_json(self) -> dict[str, str | None]:
        return {"key": self.key, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class EnvPlan:
    path: str
    diff: tuple[EnvChange, ...]

    def to_json(self) -> dict:
        return {"path": self.path, "diff": [c.to_json() for c in self.diff]}


@dataclass(frozen=True)
class EnvResult:
    path: str
    diff: tuple[EnvChange, ...]
    backup: str | None
    """Path of the copy of the old file (None when there was no file or no change)."""

    def to_json(self) -> dict:
        return {"path": self.path, "diff": [c.to_json() for c in self.diff],
                "backup": self.backup}


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_NAME.search(key))


def redact_env_value(key: str, value: str | None) -> str | None:
    """The value as it may be shown: `<redacted>` for secret keys or key-shaped values."""
    if value is None:
        return None
    if is_secret_key(key) or OPENAI_KEY.search(value):
        return REDACTED
    return value


def _unquote(raw: str) -> str:
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return re.sub(r'\\(["\\])', r"\1", raw[1:-1])
    if len(raw) >= 2 and raw[0] == raw[-1] == "'":
        return raw[1:-1]
    value, _, _ = raw.partition(" #")  # an unquoted value ends at a comment
    return value.strip()


def _quote(value: str) -> str:
    if value and re.fullmatch(r"[A-Za-z0-9_./:@%+,=\-]*", value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_env(text: str) -> dict[str, str]:
    """Keys and values of .env text (the last assignment of a key wins)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        m = _LINE.match(line)
        if m and not line.lstrip().startswith("#"):
            out[m.group(1)] = _unquote(m.group(2))
    return out


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise EnvFileError(f"{path}: cannot read: {exc.__class__.__name__}: "
                           f"{getattr(exc, 'strerror', None) or exc}") from None


def read_env(path: str | Path) -> dict[str, str]:
    """The keys of the .env file at `path`; a missing file has none."""
    text = _read_text(Path(path))
    return {} if text is None else parse_env(text)


def _check_changes(path: Path, changes: Mapping[str, str]) -> None:
    for key, value in changes.items():
        if not _KEY.match(key):
            raise EnvFileError(f"{path}: {key!r} is not a valid variable name")
        if not isinstance(value, str) or "\n" in value or "\r" in value or "\0" in value:
            raise EnvFileError(f"{path}: {key}: the value must be one line of text")


def _diff(current: Mapping[str, str], changes: Mapping[str, str]) -> tuple[EnvChange, ...]:
    return tuple(EnvChange(k, redact_env_value(k, current.get(k)), redact_env_value(k, v))
                 for k, v in changes.items() if current.get(k) != v)


def plan_env(path: str | Path, changes: Mapping[str, str]) -> EnvPlan:
    """What `apply_env` would change (redacted), without writing anything."""
    path = Path(path)
    _check_changes(path, changes)
    return EnvPlan(str(path), _diff(read_env(path), changes))


def render_env(text: str, changes: Mapping[str, str]) -> str:
    """`text` with `changes` applied: keys rewritten in place, new keys appended."""
    pending = dict(changes)
    lines = text.splitlines()
    out = []
    for line in lines:
        m = _LINE.match(line)
        if m and not line.lstrip().startswith("#") and m.group(1) in changes:
            key = m.group(1)
            if key not in pending:  # a duplicate assignment: keep one, the rewritten one
                continue
            prefix = "export " if line.lstrip().startswith("export ") else ""
            out.append(f"{prefix}{key}={_quote(pending.pop(key))}")
        else:
            out.append(line)
    out.extend(f"{k}={_quote(v)}" for k, v in pending.items())
    return "\n".join(out) + "\n" if out else ""


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: Path, data: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            os.fchmod(fh.fileno(), 0o600)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def backup_name(path: Path, now: float) -> Path:
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return path.with_name(f"{path.name}.bak-{stamp}")


def apply_env(path: str | Path, changes: Mapping[str, str], *, now: float) -> EnvResult:
    """Set `changes` in the .env file at `path` atomically, keeping a backup.

    Nothing is written when no value changes. The new file and the backup are mode 600.

    Raises:
        EnvFileError: a bad key or value, or the file/directory cannot be read or written.
    """
    path = Path(path)
    _check_changes(path, changes)
    text = _read_text(path)
    current = {} if text is None else parse_env(text)
    diff = _diff(current, changes)
    if not diff:
        return EnvResult(str(path), (), None)
    backup = None
    try:
        if text is not None:
            target = backup_name(path, now)
            _write_atomic(target, text)
            backup = str(target)
        _write_atomic(path, render_env(text or "", changes))
        _fsync_dir(path.parent)
    except OSError as exc:
        raise EnvFileError(f"{path}: cannot write: {exc.strerror or exc}") from None
    return EnvResult(str(path), diff, backup)
