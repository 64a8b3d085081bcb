"""The agent assembled and running inside someone's event loop: the state-file lock, store
thread, runtime, scheduler, optional HTTP API. Used by `alice-agent` and by `alice-tui`
in-process.

One agent per state file: `start` takes `<state file>.agent.lock` (flock, holding the
pid) before opening the store; a second agent gets StoreError naming the holder's pid.
Blocking helpers (asyncio.to_thread: host and GPU reads) run on one bounded executor
(PROBE_THREADS) made the loop's default, which `asyncio.run` shuts down, waiting, when
the program ends (the dashboard's loop keeps a working one after `stop`).
"""

from __future__ import annotations

import asyncio
import logging
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from agent.config import Config

log = logging.getLogger("alice_ops.agent")
PROBE_THREADS = 8

# Settings a running agent cannot change on SIGHUP (they need a restart).
RESTART_KEYS = (("agent.listen", lambda c: c.agent.listen),
                ("agent.token", lambda c: c.agent.token),
                ("agent.data_path", lambda c: c.agent.data_path),
                ("notifiers", lambda c: c.notifiers),
                ("agent.external_labels", lambda c: c.agent.external_labels),
                ("agent.heartbeat", lambda c: c.agent.heartbeat),
                ("alerts.runbook_base_url", lambda c: c.alerts.runbook_base_url))


def host_in_url(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def make_notifiers(config: Config) -> list:
    from agent.receivers import make_notifiers as build

    return build(config)


class AgentService:
    """Start with `await AgentService.start(config)`; `runtime` answers the commands
    (snapshot, wait_for_change, add_silence, add_ack, expire_silence); `await stop()`."""

    def __init__(self) -> None:
        self.runtime = None
        self.scheduler = None
        self.runner = None
        self.store = None
        self.path: Path | None = None
        self.api_url: str | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._threads: ThreadPoolExecutor | None = None
        self._lock = None
        self.in_force: Config | None = None  # what a restart-only setting runs with
        self.heartbeat = None

    @property
    def api_port(self) -> int | None:
        return int(self.api_url.rsplit(":", 1)[1]) if self.api_url else None

    @classmethod
    async def start(cls, config: Config, *, serve_api: bool = True) -> "AgentService":
        """Open the store, restore state, start probing (and the API); StoreError or
        agent.api.ApiError on failure, with everything opened so far closed again."""
        from agent import scheduler
        from agent.runtime import Runtime
        from agent.store import Store, StoreError, state_path
        from agent.store.lock import AgentLock, LockHeld

        self = cls()
        loop = asyncio.get_running_loop()
        self.path = state_path(config)
        self.in_force = config
        self._lock = AgentLock(self.path)
        try:
            self._lock.acquire()
        except LockHeld as exc:
            raise StoreError(str(exc)) from None
        except OSError as exc:
            raise StoreError(f"{self._lock.path}: cannot lock: {exc.strerror or exc}") from None
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="alice-db")
        self._threads = ThreadPoolExecutor(PROBE_THREADS, thread_name_prefix="alice-probe")
        loop.set_default_executor(self._threads)
        try:
            self.store = await loop.run_in_executor(self._executor, Store.open, self.path)
            found = await loop.run_in_executor(self._executor, self.store.quick_check)
            if found != "ok":
                raise StoreError(f"{self.path}: damaged: {found.splitlines()[0]}",
                                 corrupt=True)
            notifiers = make_notifiers(config)
            self.runtime = Runtime(config, self.store, self._executor, notifiers)
            if serve_api:  # agent.api is aiohttp's server (~0.1 s, ~8 MB): only for it
                from agent import api

                token = config.agent.token.get_secret_value() if config.agent.token else None
                self.runner = await api.serve(self.runtime, config.agent.listen, token,
                                              tuple(config.agent.allowed_hosts))
                host, _ = api.split_listen(config.agent.listen)
                self.api_url = f"http://{host_in_url(host)}:{api.bound_port(self.runner)}"
                for notifier in notifiers:  # link to the bound port (listen may say 0)
                    if hasattr(notifier, "generator_url"):
                        notifier.generator_url = f"{self.api_url}/api/v1/snapshot"
            await self.runtime.start()
            self.scheduler = scheduler.build(self.runtime)
            self.scheduler.start()
            beat = config.agent.heartbeat
            if beat is not None:
                from agent.heartbeat import Heartbeat

                runtime = self.runtime
                self.heartbeat = Heartbeat(beat.url, beat.interval_s, lambda: runtime.snapshot,
                                           runtime.storage_problem, method=beat.method,
                                           send_fail=beat.send_fail,
                                           timeout_s=beat.timeout_ms / 1000)
                self.heartbeat.start()
        except BaseException:
            await self.stop()
            raise
        return self

    def reload(self, config: Config) -> list[str]:
        """Apply a new config to the running probes and rules; return the changed
        settings that only a restart applies."""
        from agent import scheduler

        in_force = self.in_force or self.runtime.config
        stuck = [key for key, get in RESTART_KEYS if get(in_force) != get(config)]
        self.runtime.configure(config)
        scheduler.schedule_probes(self.scheduler, self.runtime, keep_phase=True,
                                  rand=random.random)
        scheduler.schedule_checklists(self.scheduler, self.runtime)
        return stuck

    async def stop(self) -> None:
        """Finish the jobs in flight (each commits), stop delivering, close the store."""
        if self.heartbeat is not None:
            await self.heartbeat.stop()
            self.heartbeat = None
        if self.scheduler is not None:
            self.scheduler.pause()  # no new runs; shutdown() would cancel those in flight
        if self.runtime is not None:
            await self.runtime.stop()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        if self.runner is not None:
            await self.runner.cleanup()
        if self.store is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, self.store.close)
        if self._executor is not None:
            self._executor.shutdown()
        if self._lock is not None:
            self._lock.release()
        self.runtime = self.scheduler = self.runner = self.store = self._executor = None
        self._threads = self._lock = None
