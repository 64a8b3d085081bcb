"""Heavy client libraries are imported in a worker thread, so the event loop keeps
driving the other probes' I/O meanwhile (importing `openai` alone takes ~0.3 s); and work
that releases the GIL (loading the CA bundle) runs on a second core while the main thread
imports (`warm`, `settle`)."""

from __future__ import annotations

import asyncio
import importlib
import sys
from types import ModuleType


async def load(name: str) -> ModuleType:
    """The module `name`, imported off the event loop if it is not fully imported yet
    (import_module also waits for an import another thread has under way)."""
    module = sys.modules.get(name)
    if module is not None and not getattr(module.__spec__, "_initializing", False):
        return module
    return await asyncio.to_thread(importlib.import_module, name)


def preload(*names: str) -> None:
    """Start importing `names` in a daemon thread now, to overlap with other start-up work."""
    import threading

    def work() -> None:
        for name in names:
            try:
                importlib.import_module(name)
            except ImportError:
                pass  # the probe that needs it reports the failure

    threading.Thread(target=work, name="preload", daemon=True).start()


_warming: list = []


def warm(function) -> None:
    """Call `function` (argument-free, cached, releasing the GIL for most of its time: the
    probes' TLS context, whose CA bundle load is ~20 ms) on a daemon thread now, so it
    overlaps the imports that follow; `settle()` waits for it before its result is used."""
    import threading

    def work() -> None:
        try:
            function()
        except Exception:  # noqa: BLE001 - the real call after settle() reports it
            pass

    thread = threading.Thread(target=work, name="warm", daemon=True)
    thread.start()
    _warming.append(thread)


def settle(timeout_s: float = 10.0) -> None:
    """Wait for what `warm` started (so a cached function is not computed twice)."""
    while _warming:
        _warming.pop().join(timeout_s)
