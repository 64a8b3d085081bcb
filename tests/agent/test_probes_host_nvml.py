"""GPU health through a fake NVML at its boundary: power against the limit, clock slowdowns
(WARNING), uncorrected ECC errors and row remapping (CRITICAL, for a person), and GPUs that
support none of it."""

from __future__ import annotations

import json

import pytest
from fake_nvml import (FakeEvents, FakeGpu, FakeNvml,  # tests/agent on sys.path
                       NVMLError_DriverNotLoaded)

from agent.config import HostTarget
from vocab.model import Status
from agent.probes import host
from agent.probes.host import NoGpu, XidWatcher, read_gpus

SYSTEM = {"cpu_percent": 20.0, "memory_percent": 30.0, "disk_percent": 40.0}


async def probe(*gpus: FakeGpu):
    fake = FakeNvml(list(gpus))
    result = await host.probe(HostTarget(), system=lambda path: dict(SYSTEM),
                              gpus=lambda: read_gpus(fake))
    assert fake.shut == 1
    return result


async def test_healthy_gpu_reads_power_share():
    result = await probe(FakeGpu())
    assert result.status is Status.OK, result.summary
    assert result.readings["gpu_power_percent"].value == 50.0
    assert result.readings["gpu_memory_percent"].value == pytest.approx(100 * 60 / 141)
    gpu = result.details["gpus"][0]
    assert gpu["power_w"] == 350.0 and gpu["power_limit_w"] == 700.0
    assert gpu["ecc_uncorrected"] == 0 and gpu["slowdowns"] == ()
    json.dumps(result.details)  # plain data, fit for the snapshot


@pytest.mark.parametrize(("reasons", "words"), [
    (0x40 | 0x8, "GPU 0 throttled: hw_slowdown, hw_thermal"),
    (0x80 | 0x8, "GPU 0 throttled: hw_slowdown, hw_power_brake"),
    (0x20, "GPU 0 throttled: sw_thermal"),
])
async def test_slowdowns_are_warnings(reasons, words):
    result = await probe(FakeGpu(reasons=reasons))
    assert result.status is Status.WARNING
    assert words in result.summary


async def test_power_cap_and_idle_are_normal():
    result = await probe(FakeGpu(reasons=0x4 | 0x1))  # SW power cap, GPU idle
    assert result.status is Status.OK and "throttled" not in result.summary


@pytest.mark.parametrize(("gpu", "words"), [
    (FakeGpu(ecc_uncorrected=3), "GPU 1 fault: 3 uncorrected ECC errors"),
    (FakeGpu(remapped=(0, 2, 0, 1)), "GPU 1 fault: row remapping failed"),
    (FakeGpu(remapped=(0, 1, 1, 0)), "GPU 1 fault: row remapping pending (needs a GPU reset)"),
])
async def test_faults_are_critical(gpu, words):
    result = await probe(FakeGpu(), gpu)
    assert result.status is Status.CRITICAL
    assert words in result.summary


async def test_a_consumer_gpu_without_ecc_power_or_remapping():
    result = await probe(FakeGpu(name="NVIDIA GeForce RTX 4090", power_mw=None, limit_mw=None,
                                 ecc_uncorrected=None, remapped=None))
    assert result.status is Status.OK, result.summary
    assert "gpu_power_percent" not in result.readings
    assert result.details["gpus"][0]["ecc_uncorrected"] is None


def test_no_driver():
    with pytest.raises(NoGpu):
        read_gpus(FakeNvml([], init_error=NVMLError_DriverNotLoaded()))


# --- Xid events through a long-lived watcher ----------------------------------------------

class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def probe_xids(fake, watcher):
    return await host.probe(HostTarget(), system=lambda path: dict(SYSTEM),
                            gpus=lambda: read_gpus(fake), xids=watcher.poll)


async def test_xids_hardware_critical_application_warning_and_ageing_out():
    fake, clock = FakeEvents([FakeGpu(), FakeGpu()], unsupported=(1,)), Clock()
    watcher = XidWatcher(fake, keep_s=3600, clock=clock)
    assert (await probe_xids(fake, watcher)).status is Status.OK  # registers the set
    assert fake.registered == [0]  # GPU 1 cannot report Xids; GPU 0 still does
    fake.fire(0, 13)
    result = await probe_xids(fake, watcher)
    assert result.status is Status.WARNING
    assert "GPU 0 Xid 13 (application fault?)" in result.summary
    fake.fire(0, 79)
    clock.now += 60
    result = await probe_xids(fake, watcher)
    assert result.status is Status.CRITICAL
    assert "GPU 0 Xid 79 (fallen off the bus)" in result.summary
    assert [x["code"] for x in result.details["xids"]] == [13, 79]
    clock.now += 3570  # Xid 13 is now older than an hour, 79 is not
    assert [x.code for x in watcher.poll()] == [79]
    clock.now += 60
    assert (await probe_xids(fake, watcher)).status is Status.OK
    watcher.close()
    assert fake.freed == 1 and fake.shut >= 1 and fake.inits >= 1


async def test_xid_reader_failure_is_a_note():
    def broken():
        raise FakeNvml.NVMLError("Unknown Error")

    result = await host.probe(HostTarget(), system=lambda path: dict(SYSTEM),
                              gpus=lambda: read_gpus(FakeNvml([FakeGpu()])), xids=broken)
    assert result.status is Status.OK
    assert "Xid events unreadable: Unknown Error" in result.summary


def test_xid_watcher_without_a_driver_is_no_gpu():
    class NoDriver(FakeEvents):
        def nvmlInit(self) -> None:
            raise NVMLError_DriverNotLoaded("Driver Not Loaded")

    with pytest.raises(NoGpu):
        XidWatcher(NoDriver([FakeGpu()])).poll()
