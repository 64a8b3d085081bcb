"""One agent per state file: an exclusive `flock` on `<state file>.agent.lock` holding the pid.

`alice-agent` (and the dashboard's in-process agent) takes it before opening the
store and keeps it until it exits; a second agent on the same file is refused with
one line naming the holder's pid. The kernel drops the lock when its holder dies, so
a `kill -9` never leaves it stuck. Read-only commands (alerts list, report, checklist
history) do not take it: they read beside a running agent.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class LockHeld(Exception):
    """Another process holds the lock; the message names its pid and the file."""


def make_private_dirs(directory: Path) -> None:
    """Create `directory` and its missing parents as 0700 (existing ones are kept)."""
    missing = [d for d in (directory, *directory.parents) if not d.exists()]
    for d in reversed(missing):
        d.mkdir(mode=0o700, exist_ok=True)


def agent_lock_path(state: Path) -> Path:
    return state.with_name(state.name + ".agent.lock")


class PidLock:
    """A non-blocking exclusive flock on `path` whose file holds the holder's pid.

    The agent's lock and the remediation lock (agent/remediation/lock.py) are both this;
    a subclass names the exception it raises in `error`.
    """

    error: type[LockHeld] = LockHeld

    def __init__(self, path: Path, busy: str) -> None:
        """`busy`: the refusal, with `{pid}` and `{lock}` filled in."""
        self.path, self.busy = Path(path), busy
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise `error` (`busy` with the holder's pid)."""
        make_private_dirs(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise self.error(self.busy.format(pid=holder, lock=self.path)) from None
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

    def __enter__(self) -> PidLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class AgentLock(PidLock):
    """The agent's exclusive hold on one state file."""

    def __init__(self, state: Path) -> None:
        super().__init__(agent_lock_path(Path(state)),
                         f"another alice-agent (pid {{pid}}) is running on {state}: "
                         "one agent per state file (lock {lock})")
