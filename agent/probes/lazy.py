"""Heavy client libraries are imported in a worker thread, so the event loop keeps
driving the other probes' I/O meanwhile (importing `openai` alone takes ~0.3 s)."""

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
