"""One remediation at a time, across processes: an `fcntl.flock` on a file beside state.db.

`alice-ops remediate run`, `rotate-key` and the agent take the same lock (`remediation.lock`
beside the state file in use: `--data FILE` or `agent.data_path`, default
`$XDG_DATA_HOME/alice-ops/`; a missing folder is created 0700). It is never waited for:
a second taker gets `LockBusy` naming the holder's pid. The kernel drops the lock
when its holder dies, so a crash never leaves it stuck.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from agent.config import Config


class LockBusy(Exception):
    """Another remediation holds the lock."""


def lock_path(config: Config) -> Path:
    from agent.store import state_path

    return state_path(config).with_name("remediation.lock")


class RemediationLock:
    """`with RemediationLock(path):` or `acquire()` / `release()`; never blocks."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def acquire(self) -> None:
        from agent.store.lock import make_private_dirs

        make_private_dirs(self.path.parent)  # 0700, like the state file's folder
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise LockBusy(f"another remediation is running (pid {holder}, lock "
                           f"{self.path})") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                os.ftruncate(fd, 0)
            finally:
                os.close(fd)  # closing drops the flock

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> RemediationLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
