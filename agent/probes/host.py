"""Probe of this machine: CPU, memory and disk via psutil, GPUs via NVML.

GPU semantics (DESIGN.md): `auto` — no NVIDIA driver means no GPU, shown and not
counted; `required` — a missing GPU is CRITICAL; `off` — not probed. A driver error
where a GPU exists is UNKNOWN with the reason, never a crash.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Callable

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


@dataclass(frozen=True)
class GpuProcess:
    """One process holding GPU memory, as NVML lists it (`used_bytes` None: not reported)."""

    pid: int
    name: str
    gpu_index: int
    used_bytes: int | None


def _process_name(pid: int) -> str:
    import psutil

    try:
        return psutil.Process(pid).name()
    except (psutil.Error, OSError):
        return ""  # another PID namespace (a container) or gone: unknown, not "not ollama"


def read_gpu_processes(nvml: Any = None, name_of: Callable[[int], str] = _process_name
                       ) -> list[GpuProcess]:
    """Every compute process on every GPU (nvmlDeviceGetComputeRunningProcesses), named
    through `name_of`; NoGpu when there is no driver or device. `nvml` is the pynvml module
    or a fake with the same functions (tests)."""
    if nvml is None:
        import pynvml as nvml
    try:
        nvml.nvmlInit()
    except nvml.NVMLError as exc:
        if isinstance(exc, (nvml.NVMLError_LibraryNotFound, nvml.NVMLError_DriverNotLoaded,
                            nvml.NVMLError_NotFound)):
            raise NoGpu("no NVIDIA driver") from None
        raise
    try:
        count = nvml.nvmlDeviceGetCount()
        if count == 0:
            raise NoGpu("NVIDIA driver present, no GPU")
        found = []
        for i in range(count):
            handle = nvml.nvmlDeviceGetHandleByIndex(i)
            for proc in nvml.nvmlDeviceGetComputeRunningProcesses(handle):
                used = getattr(proc, "usedGpuMemory", None)
                # NVML_VALUE_NOT_AVAILABLE (all ones) where the driver cannot attribute memory
                used = None if used is None or used >= (1 << 63) else int(used)
                found.append(GpuProcess(int(proc.pid), name_of(int(proc.pid)), i, used))
        return found
    finally:
        nvml.nvmlShutdown()


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
