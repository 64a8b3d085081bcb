"""A fake NVML at its boundary: the pynvml functions alice-ops calls, answering from plain
per-GPU data, raising pynvml-shaped errors (NotSupported where a GPU lacks a feature)."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any


class NVMLError(Exception):
    pass


class NVMLError_LibraryNotFound(NVMLError):  # noqa: N801 - pynvml's names
    pass


class NVMLError_DriverNotLoaded(NVMLError):  # noqa: N801
    pass


class NVMLError_NotFound(NVMLError):  # noqa: N801
    pass


class NVMLError_NotSupported(NVMLError):  # noqa: N801
    pass


@dataclass
class FakeGpu:
    name: str = "NVIDIA H200"
    util: int = 40
    used: int = 60 * 1024**3
    total: int = 141 * 1024**3
    temperature: int = 55
    power_mw: int | None = 350_000
    limit_mw: int | None = 700_000
    reasons: int = 0
    ecc_uncorrected: int | None = 0  # None: no ECC (NotSupported)
    remapped: tuple[int, int, int, int] | None = (0, 0, 0, 0)
    processes: list[tuple[int, int | None]] = field(default_factory=list)


class FakeNvml:
    NVMLError = NVMLError
    NVMLError_LibraryNotFound = NVMLError_LibraryNotFound
    NVMLError_DriverNotLoaded = NVMLError_DriverNotLoaded
    NVMLError_NotFound = NVMLError_NotFound
    NVML_TEMPERATURE_GPU = 0

    def __init__(self, gpus: list[FakeGpu], init_error: Exception | None = None):
        self.gpus, self.init_error, self.shut = gpus, init_error, 0

    def nvmlInit(self) -> None:
        if self.init_error is not None:
            raise self.init_error

    def nvmlShutdown(self) -> None:
        self.shut += 1

    def nvmlDeviceGetCount(self) -> int:
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, i: int) -> FakeGpu:
        return self.gpus[i]

    def nvmlDeviceGetName(self, gpu: FakeGpu) -> str:
        return gpu.name

    def nvmlDeviceGetUtilizationRates(self, gpu: FakeGpu) -> Any:
        return SimpleNamespace(gpu=gpu.util, memory=0)

    def nvmlDeviceGetMemoryInfo(self, gpu: FakeGpu) -> Any:
        return SimpleNamespace(used=gpu.used, total=gpu.total, free=gpu.total - gpu.used)

    def nvmlDeviceGetTemperature(self, gpu: FakeGpu, sensor: int) -> int:
        return gpu.temperature

    @staticmethod
    def _supported(value: Any) -> Any:
        if value is None:
            raise NVMLError_NotSupported("Not Supported")
        return value

    def nvmlDeviceGetPowerUsage(self, gpu: FakeGpu) -> int:
        return self._supported(gpu.power_mw)

    def nvmlDeviceGetEnforcedPowerLimit(self, gpu: FakeGpu) -> int:
        return self._supported(gpu.limit_mw)

    def nvmlDeviceGetCurrentClocksEventReasons(self, gpu: FakeGpu) -> int:
        return gpu.reasons

    def nvmlDeviceGetTotalEccErrors(self, gpu: FakeGpu, error_type: int, counter: int) -> int:
        assert (error_type, counter) == (1, 0)  # uncorrected, volatile
        return self._supported(gpu.ecc_uncorrected)

    def nvmlDeviceGetRemappedRows(self, gpu: FakeGpu) -> tuple[int, int, int, int]:
        return self._supported(gpu.remapped)

    def nvmlDeviceGetComputeRunningProcesses(self, gpu: FakeGpu) -> list[Any]:
        return [SimpleNamespace(pid=pid, usedGpuMemory=used) for pid, used in gpu.processes]


class NVMLError_Timeout(NVMLError):  # noqa: N801
    pass


class FakeEvents(FakeNvml):
    """FakeNvml with the event API: `fire(gpu_index, xid)` queues an Xid for the set."""

    NVMLError_Timeout = NVMLError_Timeout

    def __init__(self, gpus: list[FakeGpu], unsupported: tuple[int, ...] = ()):
        super().__init__(gpus)
        self.unsupported, self.registered, self.queue = unsupported, [], []
        self.freed = self.inits = 0

    def nvmlInit(self) -> None:
        self.inits += 1

    def nvmlEventSetCreate(self) -> str:
        return "event-set"

    def nvmlDeviceRegisterEvents(self, gpu: FakeGpu, types: int, events: str) -> None:
        index = self.nvmlDeviceGetIndex(gpu)
        if index in self.unsupported:
            raise NVMLError_NotSupported("Not Supported")
        assert types == 0x8 and events == "event-set"
        self.registered.append(index)

    def fire(self, index: int, xid: int) -> None:
        if index in self.registered:
            self.queue.append(SimpleNamespace(device=self.gpus[index], eventType=0x8,
                                              eventData=xid))

    def nvmlEventSetWait_v2(self, events: str, timeout_ms: int) -> Any:
        assert timeout_ms == 0  # a probe never waits for events
        if not self.queue:
            raise NVMLError_Timeout("Timeout")
        return self.queue.pop(0)

    def nvmlDeviceGetIndex(self, gpu: FakeGpu) -> int:
        return next(i for i, g in enumerate(self.gpus) if g is gpu)  # equal GPUs differ

    def nvmlEventSetFree(self, events: str) -> None:
        self.freed += 1
