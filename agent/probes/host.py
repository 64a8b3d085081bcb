"""Probe of this machine: CPU, memory and disk via psutil, GPUs via NVML.

GPU semantics (DESIGN.md): `auto` — no NVIDIA driver means no GPU, shown and not
counted; `required` — a missing GPU is CRITICAL; `off` — not probed. A driver error
where a GPU exists is UNKNOWN with the reason, never a crash.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Callable

from agent.config import HostTarget
from agent.model import ProbeResult, Reading, Status

COMPONENT = "host"


@dataclass(frozen=True)
class GpuInfo:
    name: str
    util_percent: float
    memory_percent: float
    temperature_c: float


class NoGpu(Exception):
    """No NVIDIA driver or no device: not an error under gpu: auto."""


class SystemReader:
    """CPU, memory and disk use. CPU is the average since the previous read when that
    was at least `min_window_s` ago (the agent's case: a whole probe interval); a
    one-shot check has no previous read and uses the 1-minute load average per core
    instead, so a check never measures its own start-up burst."""

    def __init__(self, min_window_s: float = 1.0):
        self._min_window_s = min_window_s
        self._last_read: float | None = None

    def __call__(self, disk_path: str) -> dict[str, float]:
        import os
        import time

        import psutil

        now = time.monotonic()
        if self._last_read is not None and now - self._last_read >= self._min_window_s:
            cpu = psutil.cpu_percent(interval=None)
        else:
            psutil.cpu_percent(interval=None)  # start a window for the next read
            cpu = min(100.0, 100.0 * os.getloadavg()[0] / (psutil.cpu_count() or 1))
        self._last_read = now
        return {"cpu_percent": cpu,
                "memory_percent": psutil.virtual_memory().percent,
                "disk_percent": psutil.disk_usage(disk_path).percent}


def read_system(disk_path: str) -> dict[str, float]:
    """One-shot read (no previous window): CPU from the load average."""
    return SystemReader()(disk_path)


def read_gpus() -> list[GpuInfo]:
    """Read every GPU through NVML; raise NoGpu when there is no driver or device."""
    import pynvml

    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        no_driver = (pynvml.NVMLError_LibraryNotFound, pynvml.NVMLError_DriverNotLoaded,
                     pynvml.NVMLError_NotFound)
        if isinstance(exc, no_driver):
            raise NoGpu("no NVIDIA driver") from None
        raise
    try:
        count = pynvml.nvmlDeviceGetCount()
        if count == 0:
            raise NoGpu("NVIDIA driver present, no GPU")
        gpus = []
        for i in range(count):
            handle = pynvml.nvmlDeviceGetHandleByIndex(i)
            util = pynvml.nvmlDeviceGetUtilizationRates(handle)
            mem = pynvml.nvmlDeviceGetMemoryInfo(handle)
            temp = pynvml.nvmlDeviceGetTemperature(handle, pynvml.NVML_TEMPERATURE_GPU)
            name = pynvml.nvmlDeviceGetName(handle)
            gpus.append(GpuInfo(name=name.decode() if isinstance(name, bytes) else str(name),
                                util_percent=float(util.gpu),
                                memory_percent=100.0 * mem.used / mem.total if mem.total else 0.0,
                                temperature_c=float(temp)))
        return gpus
    finally:
        pynvml.nvmlShutdown()


async def probe(target: HostTarget, system: Callable[[str], dict] = read_system,
                gpus: Callable[[], list[GpuInfo]] = read_gpus) -> ProbeResult:
    async def gpu_part():
        if target.gpu == "off":
            return None
        return await asyncio.to_thread(gpus)

    sys_res, gpu_res = await asyncio.gather(asyncio.to_thread(system, target.disk_path),
                                            gpu_part(), return_exceptions=True)
    readings: dict[str, Reading] = {}
    status, notes = Status.OK, []
    if isinstance(sys_res, BaseException):
        status = Status.UNKNOWN
        notes.append(f"system counters unreadable ({sys_res.__class__.__name__})")
    else:
        for key, value in sys_res.items():
            readings[key] = Reading(float(value), "percent")
        notes.append(f"CPU {sys_res['cpu_percent']:.0f}%, memory {sys_res['memory_percent']:.0f}%, "
                     f"disk {sys_res['disk_percent']:.0f}%")
    if gpu_res is None:
        notes.append("GPU not probed (gpu: off)")
    elif isinstance(gpu_res, NoGpu):
        if target.gpu == "required":
            status = Status.CRITICAL
            notes.append(f"GPU required but none found: {gpu_res}")
        else:
            notes.append(f"no GPU ({gpu_res})")
    elif isinstance(gpu_res, BaseException):
        status = max(status, Status.UNKNOWN)
        notes.append(f"GPU driver error: {str(gpu_res) or gpu_res.__class__.__name__}")
    elif not gpu_res:
        notes.append("no GPU")
    else:
        readings["gpu_temperature_c"] = Reading(max(g.temperature_c for g in gpu_res), "celsius")
        readings["gpu_memory_percent"] = Reading(max(g.memory_percent for g in gpu_res), "percent")
        readings["gpu_util_percent"] = Reading(max(g.util_percent for g in gpu_res), "percent")
        notes.append(f"{len(gpu_res)} GPU: " + ", ".join(
            f"{g.name} {g.util_percent:.0f}% {g.temperature_c:.0f}°C" for g in gpu_res))
    return ProbeResult(COMPONENT, status, "; ".join(notes), readings=readings,
                       details={"gpus": [] if not isinstance(gpu_res, list) else
                                [g.__dict__ for g in gpu_res]})
