"""The Alice stack simulator: wires the five fake services onto loopback ports, runs the
background traffic, and offers both an asyncio API (`Simulator`) and a threaded one.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import random
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from aiohttp import web

from simulator.context import SimContext
from simulator.history import History
from simulator.metrics import MetricStore
from simulator.profiles import DEFAULT_PROFILE, SERVICES, check_profile, scenarios_for
from simulator.scenarios import check_scenario
from simulator.services import backend, gateway, ollama, openai_api, prom_api, tools
from simulator.state import SimState
from simulator.traffic import Traffic

APP_FACTORIES: dict[str, Callable[[SimContext], web.Application]] = {
    "backend": lambda ctx: tools.mount(backend.create_app(ctx)), "gateway": gateway.create_app,
    "ollama": ollama.create_app, "openai": openai_api.create_app,
    "prometheus": prom_api.create_app,
}
SHUTDOWN_TIMEOUT_S = 1.0


def app_factories(profile: str) -> dict[str, Callable[[SimContext], web.Application]]:
    """The service apps of `profile` (alice-main: recorded backend and NLU agent, and a
    Prometheus of the recorded series; Ollama and OpenAI are the simulator's own)."""
    if profile == "guide":
        return APP_FACTORIES
    from simulator.profiles import alice_main

    alice_main.recording()  # RecordingMissing (a ValueError) now, not at start()
    return {"backend": alice_main.backend_app, "nlu": alice_main.nlu_app,
            "ollama": ollama.create_app, "openai": openai_api.create_app,
            "prometheus": alice_main.prometheus_app}


@dataclass(frozen=True)
class SimPorts:
    """Port per service; 0 picks a free one (read the bound one back from `Simulator.urls`)."""

    backend: int = 0
    gateway: int = 0
    ollama: int = 0
    openai: int = 0
    prometheus: int = 0
    nlu: int = 0  # Alice's NLU agent; only the alice-main profile has one


class BindError(OSError):
    """A service port could not be bound; `str()` is `cannot bind <service> port <n>: ...`."""

    def __init__(self, service: str, port: int, cause: OSError) -> None:
        if cause.errno == errno.EADDRINUSE:
            reason = "address in use"
        elif cause.errno in (errno.EACCES, errno.EPERM):
            reason = "permission denied"
        else:
            reason = (cause.strerror or str(cause)).lower()
        super().__init__(cause.errno, f"cannot bind {service} port {port}: {reason}")
        self.service, self.port, self.reason = service, port, reason

    def __str__(self) -> str:
        return self.strerror or super().__str__()


class Simulator:
    """Fake Alice services on 127.0.0.1 with switchable fault scenarios."""

    def __init__(self, scenario: str = "normal", ports: SimPorts | None = None,
                 latency_ms: float | None = None, seed: int | None = None,
                 api_key: str = "sk-sim-test-key", admin_key: str = "sk-admin-sim-key",
                 model: str = "gpt-oss:20b", tick_s: float = 0.1,
                 host: str = "127.0.0.1", profile: str = DEFAULT_PROFILE) -> None:
        if not tick_s > 0:
            raise ValueError(f"tick_s must be > 0, not {tick_s!r}")
        self.profile = check_profile(profile)
        self.ports = ports or SimPorts()
        self.host = host
        self._factories = app_factories(profile)
        state = SimState(scenario, latency_ms, scenarios_for(profile))
        store = MetricStore()
        history = History(store, time.time())
        rng = random.Random(seed)
        self._ctx = SimContext(state, store, history, rng, api_key, admin_key, model)
        self._traffic = Traffic(store, state, history, rng, tick_s)
        self._runners: list[web.AppRunner] = []
        self._task: asyncio.Task | None = None
        self._started = self._stopped = False
        self.urls: dict[str, str] = {}

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        """Bind every service; raises BindError (after cleaning up) if a port is taken."""
        if self._started:
            raise RuntimeError("simulator already started")
        self._started = True
        urls: dict[str, str] = {}
        try:
            for service in SERVICES[self.profile]:
                runner = web.AppRunner(self._factories[service](self._ctx), handle_signals=False,
                                       access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
                await runner.setup()
                self._runners.append(runner)
                port = getattr(self.ports, service)
                try:
                    await web.TCPSite(runner, self.host, port).start()
                except OSError as exc:
                    raise BindError(service, port, exc) from exc
                bound = runner.addresses[0][1]
                urls[service] = f"http://{self.host}:{bound}" + ("/v1" if service == "openai"
                                                                 else "")
        except BaseException:
            await self._shutdown()
            raise
        self.urls = urls
        self._ctx.urls.update(urls)
        self._ctx.history.reset(time.time())
        self._task = asyncio.create_task(self._traffic.run(), name="alice-sim-traffic")

    async def stop(self) -> None:
        """Release hung requests, close WebSockets and free every port. Idempotent."""
        if self._stopped:
            return
        await self._shutdown()

    async def _shutdown(self) -> None:
        self._stopped = True
        self._ctx.state.stop()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()

    async def __aenter__(self) -> "Simulator":
        await self.start()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.stop()

    # -- control --------------------------------------------------------------------------
    @property
    def scenario(self) -> str:
        return self._ctx.state.scenario

    def set_scenario(self, name: str) -> None:
        """Switch scenario now; ValueError naming the valid ones for an unknown name."""
        self._ctx.state.set_scenario(name)

    def set_latency(self, ms: float, endpoint: str | None = None) -> None:
        """Extra delay on every endpoint, or one service ("openai", ..., "metrics") or path."""
        self._ctx.state.set_latency(ms, endpoint)

    @property
    def state(self) -> dict[str, Any]:
        """A copy of the backend's admin state: mode, mode_message, broadcasts."""
        return self._ctx.state.admin_snapshot()

    @property
    def model(self) -> str:
        return self._ctx.model

    @property
    def metrics(self) -> MetricStore:
        return self._ctx.store


class ThreadedSimulator:
    """A Simulator running its own event loop in a daemon thread, for synchronous callers."""

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sim: Simulator | None = None
        self._release: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()),
                                        name="alice-simulator", daemon=True)
        self.urls: dict[str, str] = {}

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._release = asyncio.Event()
        try:
            self._sim = Simulator(**self._kwargs)
            await self._sim.start()
        except BaseException as exc:  # handed to the starting thread
            self._error = exc
            self._ready.set()
            return
        self.urls = dict(self._sim.urls)
        self._ready.set()
        try:
            await self._release.wait()
        finally:
            await self._sim.stop()

    def start(self, timeout: float = 10.0) -> "ThreadedSimulator":
        """Start the thread; blocks until every port is bound (or raises what start raised)."""
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("simulator did not start in time")
        if self._error is not None:
            self._thread.join(timeout)
            raise self._error
        return self

    def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        async def call() -> Any:
            return fn(*args)

        assert self._loop is not None, "simulator not started"
        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(10)

    @property
    def scenario(self) -> str:
        return self._call(lambda: self._sim.scenario)

    def set_scenario(self, name: str) -> None:
        check_scenario(name, scenarios_for(self._kwargs.get("profile", DEFAULT_PROFILE)))
        self._call(self._sim.set_scenario, name)

    def set_latency(self, ms: float, endpoint: str | None = None) -> None:
        self._call(self._sim.set_latency, ms, endpoint)

    @property
    def state(self) -> dict[str, Any]:
        return self._call(lambda: self._sim.state)

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None and self._release is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._release.set)
        if self._thread.is_alive():
            self._thread.join(timeout)

    def __enter__(self) -> "ThreadedSimulator":
        if not self._thread.is_alive() and not self._ready.is_set():
            self.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()


def run_in_thread(**kwargs: Any) -> ThreadedSimulator:
    """Start a Simulator(**kwargs) in a background thread; returns once ports are bound."""
    return ThreadedSimulator(**kwargs).start()


__all__ = ["BindError", "SimPorts", "Simulator", "ThreadedSimulator", "run_in_thread"]
