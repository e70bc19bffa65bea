"""A scripted stand-in for ``pynvml``: temperatures, clock-event reasons, energy, lost GPUs.

Each GPU answers from lists that advance one step per temperature reading (the last value
repeats), so a test states what the n-th reading sees rather than when it happens.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HW_THERMAL = 0x40
HW_SLOWDOWN = 0x8
SW_POWER_CAP = 0x4
NVML_TEMPERATURE_THRESHOLD_SHUTDOWN = 0
NVML_TEMPERATURE_THRESHOLD_SLOWDOWN = 1
NVML_TEMPERATURE_THRESHOLD_GPU_MAX = 3


class NVMLError(Exception):
    """Like pynvml.NVMLError: the message is what str() shows."""


@dataclass
class FakeGpu:
    uuid: str
    name: str = "NVIDIA H100 80GB HBM3"
    temperatures: list[int] = field(default_factory=lambda: [60])
    reasons: list[int] = field(default_factory=lambda: [0])
    power_mw: int = 300_000
    energy_step_mj: int | None = 1_000_000  # None: the card has no energy counter
    thresholds: dict[int, int] = field(
        default_factory=lambda: {
            NVML_TEMPERATURE_THRESHOLD_SHUTDOWN: 92,
            NVML_TEMPERATURE_THRESHOLD_SLOWDOWN: 89,
            NVML_TEMPERATURE_THRESHOLD_GPU_MAX: 87,
        }
    )
    lost_after: int | None = None  # readings answered before NVML reports the GPU lost
    mig_uuids: list[str] = field(default_factory=list)
    wait_for: Path | None = None  # readings stay at the first value until this file exists
    reads: int = 0

    def _at(self, values: list[int]) -> int:
        return values[min(self.reads, len(values)) - 1] if self.reads else values[0]


class FakeNvml(types.ModuleType):
    """Module-shaped, so it can replace ``pynvml`` in ``sys.modules``."""

    NVML_TEMPERATURE_GPU = 0
    NVMLError = NVMLError

    def __init__(
        self,
        gpus: list[FakeGpu],
        *,
        fail_init: bool = False,
        temperature_v: bool = True,
        event_reasons: bool = True,
    ) -> None:
        super().__init__("pynvml")
        self.gpus = gpus
        self.fail_init = fail_init
        self.calls: list[str] = []
        self.shutdown = False
        if temperature_v:
            self.nvmlDeviceGetTemperatureV = self._temperature_v
        if event_reasons:
            self.nvmlDeviceGetCurrentClocksEventReasons = self._reasons

    def _log(self, name: str) -> None:
        self.calls.append(name)

    def nvmlInit(self) -> None:
        if self.fail_init:
            raise NVMLError("Driver Not Loaded")

    def nvmlShutdown(self) -> None:
        self.shutdown = True

    def nvmlDeviceGetCount(self) -> int:
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> FakeGpu:
        return self.gpus[index]

    def nvmlDeviceGetUUID(self, handle: Any) -> str:
        return handle if isinstance(handle, str) else handle.uuid

    def nvmlDeviceGetName(self, handle: FakeGpu) -> bytes:
        return handle.name.encode()

    def nvmlDeviceGetMaxMigDeviceCount(self, handle: FakeGpu) -> int:
        if not handle.mig_uuids:
            raise NVMLError("Not Supported")
        return len(handle.mig_uuids)

    def nvmlDeviceGetMigDeviceHandleByIndex(self, handle: FakeGpu, index: int) -> str:
        return handle.mig_uuids[index]

    def _read(self, handle: FakeGpu) -> int:
        if handle.lost_after is not None and handle.reads >= handle.lost_after:
            raise NVMLError("GPU is lost")
        if handle.wait_for is None or handle.wait_for.exists():
            handle.reads += 1
        return handle._at(handle.temperatures)

    def _temperature_v(self, handle: FakeGpu, sensor: int) -> int:
        self._log("nvmlDeviceGetTemperatureV")
        return self._read(handle)

    def nvmlDeviceGetTemperature(self, handle: FakeGpu, sensor: int) -> int:
        self._log("nvmlDeviceGetTemperature")
        return self._read(handle)

    def nvmlDeviceGetTemperatureThreshold(self, handle: FakeGpu, kind: int) -> int:
        if kind not in handle.thresholds:
            raise NVMLError("Not Supported")
        return handle.thresholds[kind]

    def nvmlDeviceGetPowerUsage(self, handle: FakeGpu) -> int:
        if handle.lost_after is not None and handle.reads >= handle.lost_after:
            raise NVMLError("GPU is lost")
        return handle.power_mw

    def nvmlDeviceGetTotalEnergyConsumption(self, handle: FakeGpu) -> int:
        if handle.energy_step_mj is None:
            raise NVMLError("Not Supported")
        return 5_000_000_000 + handle.reads * handle.energy_step_mj

    def _reasons(self, handle: FakeGpu) -> int:
        self._log("nvmlDeviceGetCurrentClocksEventReasons")
        return handle._at(handle.reasons)

    def nvmlDeviceGetCurrentClocksThrottleReasons(self, handle: FakeGpu) -> int:
        self._log("nvmlDeviceGetCurrentClocksThrottleReasons")
        return handle._at(handle.reasons)


def uuid(n: int) -> str:
    return f"GPU-{n:08x}-1111-2222-3333-444455556666"
