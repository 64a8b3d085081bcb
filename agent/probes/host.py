"""Probe of this machine: CPU, memory and disk via psutil, GPUs via NVML.

GPU semantics (DESIGN.md): `auto` — no NVIDIA driver means no GPU, shown and not
counted; `required` — a missing GPU is CRITICAL; `off` — not probed. A driver error
where a GPU exists is UNKNOWN with the reason, never a crash.

GPU health: power against the enforced limit, hardware/thermal clock slowdowns (WARNING),
and faults (uncorrected volatile ECC errors, failed or pending row remapping) that are
CRITICAL for a person to look at: a restart does not fix hardware. Each is read only where
the GPU supports it (consumer cards have no ECC).
"""

from __future__ import annotations

import asyncio
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterator

from agent.config import HostTarget
from vocab.model import ProbeResult, Reading, Status

COMPONENT = "host"


# nvmlClocksEventReason* bits that mean the GPU slows itself down (SW power cap, idle and
# application clocks are normal operation and are not listed).
SLOWDOWNS = {0x8: "hw_slowdown", 0x20: "sw_thermal", 0x40: "hw_thermal", 0x80: "hw_power_brake"}
NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_VOLATILE_ECC = 1, 0


@dataclass(frozen=True)
class GpuInfo:
    name: str
    util_percent: float
    memory_percent: float
    temperature_c: float
    power_w: float | None = None
    power_limit_w: float | None = None
    slowdowns: tuple[str, ...] = ()
    """Active clock slowdown reasons (SLOWDOWNS words)."""
    ecc_uncorrected: int | None = None
    """Uncorrected ECC errors since the driver loaded (None: no ECC on this GPU)."""
    remap_failed: bool = False
    remap_pending: bool = False
    """Row remapping pending: the GPU needs a reset for it to take effect."""

    def faults(self) -> list[str]:
        found = []
        if self.ecc_uncorrected:
            found.append(f"{self.ecc_uncorrected} uncorrected ECC errors")
        if self.remap_failed:
            found.append("row remapping failed")
        elif self.remap_pending:
            found.append("row remapping pending (needs a GPU reset)")
        return found


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


def _optional(nvml: Any, fn: Callable[..., Any], *args: Any) -> Any:
    """An NVML read this GPU may not support: None instead of NVMLError_NotSupported."""
    try:
        return fn(*args)
    except nvml.NVMLError:
        return None


def _health(nvml: Any, handle: Any) -> dict[str, Any]:
    power = _optional(nvml, nvml.nvmlDeviceGetPowerUsage, handle)
    limit = _optional(nvml, nvml.nvmlDeviceGetEnforcedPowerLimit, handle)
    reasons = _optional(nvml, getattr(nvml, "nvmlDeviceGetCurrentClocksEventReasons", None)
                        or nvml.nvmlDeviceGetCurrentClocksThrottleReasons, handle) or 0
    ecc = _optional(nvml, nvml.nvmlDeviceGetTotalEccErrors, handle,
                    NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_VOLATILE_ECC)
    remap = _optional(nvml, nvml.nvmlDeviceGetRemappedRows, handle)
    _, _, pending, failed = remap if isinstance(remap, (tuple, list)) else (0, 0, 0, 0)
    return {"power_w": power / 1000 if power is not None else None,
            "power_limit_w": limit / 1000 if limit else None,
            "slowdowns": tuple(w for bit, w in SLOWDOWNS.items() if int(reasons) & bit),
            "ecc_uncorrected": int(ecc) if ecc is not None else None,
            "remap_pending": bool(pending), "remap_failed": bool(failed)}


@contextmanager
def _nvml_devices(nvml: Any) -> Iterator[int]:
    """NVML initialised, yielding the device count, shut down on leaving; NoGpu when there is
    no driver or no device (read_gpus and read_gpu_processes both open NVML here)."""
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
        yield count
    finally:
        nvml.nvmlShutdown()


def read_gpus(nvml: Any = None) -> list[GpuInfo]:
    """Read every GPU through NVML; raise NoGpu when there is no driver or device. `nvml` is
    the pynvml module or a fake with its functions (tests)."""
    if nvml is None:
        import pynvml as nvml
    pynvml = nvml
    with _nvml_devices(pynvml) as count:
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
                                temperature_c=float(temp), **_health(pynvml, handle)))
        return gpus


# Xids NVIDIA documents as hardware or driver faults (ECC, row remapping, NVLink, off the
# bus, contained/uncontained memory errors, GSP): a person must look. Others (13, 31, 43...)
# are usually an application's own fault.
HARDWARE_XIDS = {48: "double-bit ECC error", 63: "row remapping event",
                 64: "row remapping failure", 74: "NVLink error", 79: "fallen off the bus",
                 92: "high single-bit ECC rate", 94: "contained ECC error",
                 95: "uncontained ECC error", 119: "GSP timeout", 120: "GSP error"}
NVML_EVENT_XID = 0x8  # nvmlEventTypeXidCriticalError


@dataclass(frozen=True)
class Xid:
    gpu_index: int
    code: int
    at: float = 0.0
    """When the watcher drained it (unix time)."""

    @property
    def hardware(self) -> bool:
        return self.code in HARDWARE_XIDS

    def words(self) -> str:
        return f"Xid {self.code} ({HARDWARE_XIDS.get(self.code, 'application fault?')})"


class XidWatcher:
    """Xid events since the watcher started, through one NVML event set held open across
    probes (events are only delivered to a set registered before they happen, so a one-shot
    `check` cannot see them; a long-lived agent holds one watcher and passes `poll`)."""

    def __init__(self, nvml: Any = None, keep_s: float = 3600.0,
                 clock: Callable[[], float] = time.time) -> None:
        self._nvml = nvml
        self._set: Any = None
        self._keep_s, self._clock = keep_s, clock
        self.seen: list[Xid] = []

    def _open(self) -> Any:
        nvml = self._nvml
        if nvml is None:
            import pynvml as nvml
            self._nvml = nvml
        try:
            nvml.nvmlInit()  # held until close(): NVML counts inits, other reads shut theirs
        except nvml.NVMLError as exc:
            if isinstance(exc, (nvml.NVMLError_LibraryNotFound, nvml.NVMLError_DriverNotLoaded,
                                nvml.NVMLError_NotFound)):
                raise NoGpu("no NVIDIA driver") from None
            raise
        try:
            events = nvml.nvmlEventSetCreate()
            for i in range(nvml.nvmlDeviceGetCount()):
                try:
                    nvml.nvmlDeviceRegisterEvents(nvml.nvmlDeviceGetHandleByIndex(i),
                                                  NVML_EVENT_XID, events)
                except nvml.NVMLError:
                    pass  # a GPU that cannot report Xids: the others still do
        except BaseException:
            nvml.nvmlShutdown()  # the next poll starts over
            raise
        return events

    def poll(self) -> list[Xid]:
        """The Xids of the last `keep_s` seconds (new ones drained without waiting), so a
        fault stays visible long enough to be seen and then ages out."""
        if self._set is None:
            self._set = self._open()
        nvml, now = self._nvml, self._clock()
        while True:
            try:
                data = nvml.nvmlEventSetWait_v2(self._set, 0)
            except nvml.NVMLError_Timeout:
                break
            self.seen.append(Xid(int(nvml.nvmlDeviceGetIndex(data.device)),
                                 int(data.eventData), now))
        self.seen = [x for x in self.seen if now - x.at <= self._keep_s]
        return list(self.seen)

    def close(self) -> None:
        if self._set is not None:
            self._nvml.nvmlEventSetFree(self._set)
            self._nvml.nvmlShutdown()
            self._set = None


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
    with _nvml_devices(nvml) as count:
        found = []
        for i in range(count):
            handle = nvml.nvmlDeviceGetHandleByIndex(i)
            for proc in nvml.nvmlDeviceGetComputeRunningProcesses(handle):
                used = getattr(proc, "usedGpuMemory", None)
                # NVML_VALUE_NOT_AVAILABLE (all ones) where the driver cannot attribute memory
                used = None if used is None or used >= (1 << 63) else int(used)
                found.append(GpuProcess(int(proc.pid), name_of(int(proc.pid)), i, used))
        return found


async def probe(target: HostTarget, system: Callable[[str], dict] = read_system,
                gpus: Callable[[], list[GpuInfo]] = read_gpus,
                xids: Callable[[], list[Xid]] | None = None) -> ProbeResult:
    """`xids`: a long-lived XidWatcher's `poll` (the agent's); None reads no Xid events."""
    async def gpu_part():
        if target.gpu == "off":
            return None
        return await asyncio.to_thread(gpus)

    async def xid_part():
        if target.gpu == "off" or xids is None:
            return []
        return await asyncio.to_thread(xids)

    sys_res, gpu_res, xid_res = await asyncio.gather(
        asyncio.to_thread(system, target.disk_path), gpu_part(), xid_part(),
        return_exceptions=True)
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
        powered = [100.0 * g.power_w / g.power_limit_w for g in gpu_res
                   if g.power_w is not None and g.power_limit_w]
        if powered:
            readings["gpu_power_percent"] = Reading(max(powered), "percent")
        notes.append(f"{len(gpu_res)} GPU: " + ", ".join(
            f"{g.name} {g.util_percent:.0f}% {g.temperature_c:.0f}°C" for g in gpu_res))
        status = max(status, _gpu_health(gpu_res, notes))
    found: list[Xid] = xid_res if isinstance(xid_res, list) else []
    if isinstance(xid_res, BaseException) and not isinstance(xid_res, NoGpu):
        notes.append(f"Xid events unreadable: {str(xid_res) or xid_res.__class__.__name__}")
    for x in found:
        status = max(status, Status.CRITICAL if x.hardware else Status.WARNING)
        notes.append(f"GPU {x.gpu_index} {x.words()}")
    return ProbeResult(COMPONENT, status, "; ".join(notes), readings=readings,
                       details={"gpus": [] if not isinstance(gpu_res, list) else
                                [asdict(g) for g in gpu_res],
                                "xids": [asdict(x) for x in found]})


def _gpu_health(gpus: list[GpuInfo], notes: list[str]) -> Status:
    """Faults are CRITICAL (a person must look; no restart fixes them), slowdowns WARNING."""
    status = Status.OK
    for i, g in enumerate(gpus):
        if g.faults():
            status = Status.CRITICAL
            notes.append(f"GPU {i} fault: {', '.join(g.faults())}")
        if g.slowdowns:
            status = max(status, Status.WARNING)
            notes.append(f"GPU {i} throttled: {', '.join(g.slowdowns)}")
    return status
