"""`alice-agent --recover`: move a damaged state file aside (kept for forensics) and start fresh.

A damaged state.db (SQLite says "malformed" or "not a database") cannot be fixed by
restarting, so the agent refuses to start with one line naming this command and exits
with EXIT_CORRUPT (the systemd unit lists it in `RestartPreventExitStatus=`, so a
damaged file never becomes a restart loop). `recover` takes the agent lock first (no
agent may be using the file), checks the file, and renames it with its -wal and -shm
companions to `state.db.corrupt-<UTC time>` (+ `-wal`, `-shm`). A healthy file is left
where it is.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from agent.store.database import Store
from agent.store.errors import StoreError
from agent.store.lock import AgentLock, LockHeld

EXIT_CORRUPT = 65  # sysexits EX_DATAERR
RECOVER_HINT = ("run `alice-agent --recover` to move it aside (kept as "
                "state.db.corrupt-<UTC time>) and start with a fresh one")


def damage(path: Path) -> str | None:
    """Why the file at `path` is damaged, or None when it opens and checks clean."""
    try:
        with Store.open(path) as store:
            found = store.quick_check()
    except StoreError as exc:
        if exc.corrupt:
            return str(exc)
        raise
    return None if found == "ok" else found.splitlines()[0]


def recover(path: Path, now: float | None = None) -> Path | None:
    """Move a damaged state file aside; return where it went, or None when the file is
    missing or healthy (nothing moved).

    Raises:
        StoreError: an agent holds the file, or it cannot be read or moved.
    """
    path = Path(path).expanduser()
    if not path.exists():
        return None
    lock = AgentLock(path)
    try:
        lock.acquire()
    except LockHeld as exc:
        raise StoreError(f"--recover: {exc}") from None
    try:
        if damage(path) is None:
            return None
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None
                                                            else now))
        target = path.with_name(f"{path.name}.corrupt-{stamp}")
        try:
            for suffix in ("", "-wal", "-shm"):
                source = Path(f"{path}{suffix}")
                if source.exists():
                    os.replace(source, f"{target}{suffix}")
        except OSError as exc:
            raise StoreError(f"{path}: cannot move aside: {exc.strerror or exc}") from None
        return target
    finally:
        lock.release()
