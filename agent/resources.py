"""The agent's own resources on /metrics: threads, open file descriptors and their limit,
and failed state commits; a warning in the log at 80 % of the descriptor limit.

At the limit every new socket fails ("cannot connect" to healthy targets), so the
warning comes well before it, naming the limit to raise (`LimitNOFILE=` in the
systemd unit).
"""

from __future__ import annotations

import logging
import os
import resource
import threading
import time
from typing import Callable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

log = logging.getLogger("alice_ops.agent")
FD_WARN_RATIO = 0.8
WATCH_EVERY_S = 5.0


def open_fds() -> int | None:
    """Descriptors open in this process (None where /proc or /dev/fd is missing)."""
    for folder in ("/proc/self/fd", "/dev/fd"):
        try:
            return max(0, len(os.listdir(folder)) - 1)  # the listing's own descriptor
        except OSError:
            continue
    return None


def thread_count() -> int:
    """OS threads of this process (those of C libraries too), else Python's count."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def fd_limit() -> int | None:
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else int(soft)


class FdWatch:
    """Warn once when open descriptors pass 80 % of the limit (again after they fell
    back below 70 %); checked at most every WATCH_EVERY_S."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock, self._at, self._warned = clock, float("-inf"), False

    def check(self) -> None:
        now = self._clock()
        if now - self._at < WATCH_EVERY_S:
            return
        self._at = now
        used, limit = open_fds(), fd_limit()
        if used is None or not limit:
            return
        if used >= FD_WARN_RATIO * limit and not self._warned:
            self._warned = True
            log.warning("file descriptors: %d open of a limit of %d (%.0f %%); at the limit "
                        "new connections fail: raise it (LimitNOFILE= in the systemd unit, "
                        "ulimit -n)", used, limit, 100 * used / limit)
        elif used < 0.7 * limit:
            self._warned = False


class ResourceCollector:
    """prometheus_client collector of the process's threads and descriptors."""

    def __init__(self, commit_failures: Callable[[], int]) -> None:
        self._commit_failures = commit_failures

    def collect(self) -> Iterator:
        failures = CounterMetricFamily(
            "alice_ops_store_commit_failures", "State commits that failed (kept and retried).")
        failures.add_metric([], self._commit_failures())
        yield failures
        yield GaugeMetricFamily("alice_ops_threads", "Threads in the agent process.",
                                value=thread_count())
        used, limit = open_fds(), fd_limit()
        if used is not None:
            yield GaugeMetricFamily("alice_ops_open_fds", "Open file descriptors.", value=used)
        if limit is not None:
            yield GaugeMetricFamily("alice_ops_fd_limit",
                                    "The soft limit on open file descriptors.", value=limit)
