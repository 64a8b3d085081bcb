"""One remediation at a time, across processes: an `fcntl.flock` on a file beside state.db.

`alice-ops remediate run`, `rotate-key` and the agent take the same lock (`remediation.lock`
beside the state file in use: `--data FILE` or `agent.data_path`, default
`$XDG_DATA_HOME/alice-ops/`; a missing folder is created 0700). It is never waited for:
a second taker gets `LockBusy` naming the holder's pid. The kernel drops the lock
when its holder dies, so a crash never leaves it stuck.
"""

from __future__ import annotations

from pathlib import Path

from agent.config import Config
from agent.store.lock import LockHeld, PidLock


class LockBusy(LockHeld):
    """Another remediation holds the lock."""


def lock_path(config: Config) -> Path:
    from agent.store import state_path

    return state_path(config).with_name("remediation.lock")


class RemediationLock(PidLock):
    """`with RemediationLock(path):` or `acquire()` / `release()`; never blocks."""

    error = LockBusy

    def __init__(self, path: Path) -> None:
        super().__init__(path, "another remediation is running (pid {pid}, lock {lock})")
