"""The host probe fed recorded psutil/NVML data through its injectable readers.

`system` and `gpus` stand in for psutil and NVML (STYLE.md, Tests: "psutil/NVML
behind small injectable functions fed recorded data"); two tests at the end read
this machine for real.
"""

from __future__ import annotations

import ctypes.util
import threading

import pynvml
import pytest

from agent.config import HostTarget
from vocab.model import Status
from agent.probes import host
from agent.probes.host import GpuInfo, NoGpu, read_gpus, read_system

# Recorded readings: a busy-ish inference box and its two GPUs.
SYSTEM = {"cpu_percent": 37.5, "memory_percent": 61.2, "disk_percent": 83.9}
GPUS = [GpuInfo(name="NVIDIA GeForce RTX 4090", util_percent=92.0, memory_percent=71.5,
                temperature_c=78.0),
        GpuInfo(name="NVIDIA RTX A4000", util_percent=15.0, memory_percent=88.25,
                temperature_c=54.0)]
SYSTEM_KEYS = {"cpu_percent", "memory_percent", "disk_percent"}
GPU_KEYS = {"gpu_temperature_c", "gpu_memory_percent", "gpu_util_percent"}

HAS_NVML = ctypes.util.find_library("nvidia-ml") is not None


def recorded_system(disk_path: str) -> dict[str, float]:
    assert disk_path == "/"
    return dict(SYSTEM)


def raising(exc: BaseException):
    """A reader (of either kind) that fails with `exc`."""
    def reader(*args: object):
        raise exc
    return reader


def must_not_be_called() -> list[GpuInfo]:
    raise AssertionError("gpus() called although gpu: off")


async def test_normal_values_with_gpus() -> None:
    result = await host.probe(HostTarget(), system=recorded_system, gpus=lambda: list(GPUS))
    assert result.status is Status.OK
    assert set(result.readings) == SYSTEM_KEYS | GPU_KEYS
    assert result.readings["cpu_percent"].value == 37.5
    assert result.readings["disk_percent"].unit == "percent"
    # the worst GPU on each axis, not the first one and not an average
    assert result.readings["gpu_temperature_c"].value == 78.0
    assert result.readings["gpu_temperature_c"].unit == "celsius"
    assert result.readings["gpu_memory_percent"].value == 88.25
    assert result.readings["gpu_util_percent"].value == 92.0
    assert result.summary == ("CPU 38%, memory 61%, disk 84%; 2 GPU: "
                              "NVIDIA GeForce RTX 4090 92% 78°C, NVIDIA RTX A4000 15% 54°C")
    assert [g["name"] for g in result.details["gpus"]] == [g.name for g in GPUS]


@pytest.mark.parametrize(("gpu", "status", "words"), [
    ("auto", Status.OK, "no GPU (no NVIDIA driver)"),
    ("required", Status.CRITICAL, "GPU required but none found: no NVIDIA driver"),
])
async def test_no_gpu(gpu: str, status: Status, words: str) -> None:
    result = await host.probe(HostTarget(gpu=gpu), system=recorded_system,
                              gpus=raising(NoGpu("no NVIDIA driver")))
    assert result.status is status
    assert words in result.summary
    assert set(result.readings) == SYSTEM_KEYS  # no GPU readings, not GPU readings of None
    assert result.details["gpus"] == []


@pytest.mark.parametrize("gpu", ["auto", "required"])
@pytest.mark.parametrize(("exc", "words"), [
    (pynvml.NVMLError_Unknown(), "GPU driver error: Unknown Error"),
    (pynvml.NVMLError(pynvml.NVML_ERROR_GPU_IS_LOST), "GPU driver error: GPU is lost"),
    (RuntimeError("nvmlDeviceGetTemperature failed"),
     "GPU driver error: nvmlDeviceGetTemperature failed"),
    (OSError(), "GPU driver error: OSError"),
], ids=["nvml-unknown", "nvml-gpu-lost", "generic", "no-message"])
async def test_gpu_driver_error_is_unknown(gpu: str, exc: BaseException, words: str) -> None:
    result = await host.probe(HostTarget(gpu=gpu), system=recorded_system, gpus=raising(exc))
    assert result.status is Status.UNKNOWN
    assert words in result.summary
    assert set(result.readings) == SYSTEM_KEYS


async def test_gpu_off_does_not_probe() -> None:
    result = await host.probe(HostTarget(gpu="off"), system=recorded_system,
                              gpus=must_not_be_called)
    assert result.status is Status.OK
    assert result.summary == "CPU 38%, memory 61%, disk 84%; GPU not probed (gpu: off)"
    assert set(result.readings) == SYSTEM_KEYS


@pytest.mark.parametrize(("gpu", "status"), [("auto", Status.UNKNOWN),
                                             ("required", Status.CRITICAL)])
async def test_unreadable_system_counters(gpu: str, status: Status) -> None:
    """psutil failing is a blind spot (UNKNOWN), but a missing required GPU still wins."""
    result = await host.probe(HostTarget(gpu=gpu, disk_path="/nonexistent"),
                              system=raising(FileNotFoundError("/nonexistent")),
                              gpus=raising(NoGpu("no NVIDIA driver")))
    assert result.status is status
    assert "system counters unreadable (FileNotFoundError)" in result.summary
    assert result.readings == {}


async def test_readers_run_off_the_event_loop() -> None:
    """psutil and NVML block: both readers must run in worker threads (STYLE.md, Async)."""
    loop_thread = threading.get_ident()
    seen: list[int] = []

    def system(disk_path: str) -> dict[str, float]:
        seen.append(threading.get_ident())
        return dict(SYSTEM)

    def gpus() -> list[GpuInfo]:
        seen.append(threading.get_ident())
        return list(GPUS)

    await host.probe(HostTarget(), system=system, gpus=gpus)
    assert len(seen) == 2 and loop_thread not in seen


# --- this machine, for real ---------------------------------------------------------------

@pytest.mark.skipif(HAS_NVML, reason="an NVIDIA driver is installed here")
def test_real_read_gpus_without_driver_raises_no_gpu() -> None:
    with pytest.raises(NoGpu):
        read_gpus()


@pytest.mark.skipif(HAS_NVML, reason="an NVIDIA driver is installed here")
async def test_real_host_probe_without_driver() -> None:
    result = await host.probe(HostTarget())
    assert result.status is Status.OK, result.summary
    assert "no GPU" in result.summary
    assert set(result.readings) == SYSTEM_KEYS


def test_real_read_system() -> None:
    values = read_system("/")
    assert set(values) == SYSTEM_KEYS
    for key, value in values.items():
        assert isinstance(value, float) and 0.0 <= value <= 100.0, (key, value)
