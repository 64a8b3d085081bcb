"""File permission check: secrets files (the config, .env) must not be readable or
writable by everyone (world-readable WARNING, world-writable CRITICAL, missing UNKNOWN)."""

from __future__ import annotations

import os
import stat

from vocab.model import Status
from agent.security.finding import Finding

CHECK = "permissions"


def check_permissions(path: str) -> Finding:
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return Finding(CHECK, path, Status.UNKNOWN, "file not found")
    except OSError as exc:
        return Finding(CHECK, path, Status.UNKNOWN, f"cannot stat: {exc.strerror or exc}")
    perms = stat.S_IMODE(mode)
    text = f"mode {perms:04o}"
    if mode & stat.S_IWOTH:
        return Finding(CHECK, path, Status.CRITICAL, f"{text}: world-writable (chmod o-rw)")
    if mode & stat.S_IROTH:
        return Finding(CHECK, path, Status.WARNING, f"{text}: world-readable (chmod o-r)")
    return Finding(CHECK, path, Status.OK, text)
