"""NVML sampling for the thermal guard: temperature, power, clock-event reasons, energy.

Names and constants come from the NVML API reference (``nvml.h``) as the ``nvidia-ml-py``
bindings expose them. ``pynvml`` is imported only when a monitor opens, so importing this
module costs nothing on a machine without a GPU.

- Temperature: ``nvmlDeviceGetTemperatureV`` where the bindings and driver have it, else
  ``nvmlDeviceGetTemperature`` (deprecated in CUDA 13.0).
- Clock-event reasons: ``nvmlDeviceGetCurrentClocksEventReasons``, else the older
  ``nvmlDeviceGetCurrentClocksThrottleReasons`` (same bits).
- Energy: ``nvmlDeviceGetTotalEnergyConsumption`` (millijoules since the driver loaded,
  Volta and newer), else the power readings integrated over time.

The guard acts on a temperature above the limit, or on sustained hardware slowdown, hardware
thermal slowdown, hardware power brake or software thermal slowdown; never on software power
capping (``SwPowerCap``), which is normal under full load.
"""

from __future__ import annotations

import contextlib
import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tunelint.guard.devices import (
    Device,
    NvmlUnavailable,
    enumerate_devices,
    text,
    visible_devices,
)

# bit values of nvmlClocksEventReason* (identical to the older nvmlClocksThrottleReason*)
REASON_BITS: dict[str, int] = {
    "GpuIdle": 0x1,
    "ApplicationsClocksSetting": 0x2,
    "SwPowerCap": 0x4,
    "HwSlowdown": 0x8,
    "SyncBoost": 0x10,
    "SwThermalSlowdown": 0x20,
    "HwThermalSlowdown": 0x40,
    "HwPowerBrakeSlowdown": 0x80,
    "DisplayClockSetting": 0x100,
}
ACTING_REASONS = ("HwSlowdown", "SwThermalSlowdown", "HwThermalSlowdown", "HwPowerBrakeSlowdown")
ACTING_MASK = sum(REASON_BITS[name] for name in ACTING_REASONS)
POWER_CAP_MASK = REASON_BITS["SwPowerCap"]

# nvmlTemperatureThresholds_t
THRESHOLDS = {"shutdown": 0, "slowdown": 1, "max_operating": 3}


def load_nvml(module: Any = None) -> Any:
    """``module`` (default: ``pynvml``) initialised; raises NvmlUnavailable with the reason."""
    if module is None:
        try:
            module = importlib.import_module("pynvml")
        except ImportError:
            raise NvmlUnavailable(
                "NVML is not available: install nvidia-ml-py (pip install 'tunelint[gpu]')"
            ) from None
    try:
        module.nvmlInit()
    except Exception as error:
        detail = text(error) or type(error).__name__
        raise NvmlUnavailable(f"no NVIDIA driver found ({detail})") from None
    return module


def reason_names(bits: int) -> tuple[str, ...]:
    return tuple(name for name, bit in REASON_BITS.items() if bits & bit)


@dataclass(frozen=True)
class Reading:
    """One sample of one GPU."""

    time: float
    gpu: int
    uuid: str
    temperature_c: int | None
    power_w: float | None
    reasons: tuple[str, ...]
    reason_bits: int | None
    energy_mj: int | None

    def as_json(self) -> dict[str, Any]:
        return {
            "event": "reading",
            "time": round(self.time, 3),
            "gpu": self.gpu,
            "uuid": self.uuid,
            "temperature_c": self.temperature_c,
            "power_w": self.power_w,
            "clock_event_reasons": list(self.reasons),
            "clock_event_bits": self.reason_bits,
            "energy_mj": self.energy_mj,
        }


@dataclass
class GpuStats:
    """What the guard learnt about one GPU over the run."""

    device: Device
    thresholds: dict[str, int | None]
    samples: int = 0
    temperature_sum: float = 0.0
    peak_c: int | None = None
    throttled_s: float = 0.0
    power_capped_s: float = 0.0
    energy_j: float = 0.0
    energy_from: str = "none"
    lost: str | None = None
    over_limit: int = 0
    throttling: int = 0
    _last_time: float | None = field(default=None, repr=False)
    _last_power: float | None = field(default=None, repr=False)
    _last_counter: int | None = field(default=None, repr=False)
    _temperature_call: str | None = field(default=None, repr=False)
    _reasons_call: str | None = field(default=None, repr=False)

    @property
    def mean_c(self) -> float | None:
        return self.temperature_sum / self.samples if self.samples else None


def _call(nvml: Any, name: str, *args: Any) -> Any:
    return getattr(nvml, name)(*args)


class GpuMonitor:
    """Samples the GPUs a command may use and tells when the policy limit is reached.

    ``events`` holds, after each ``sample()``, the limit episodes that began with it (a
    counter reaching ``consecutive``); ``tripped`` keeps the first one for the whole run.
    """

    def __init__(
        self,
        nvml: Any,
        *,
        max_temp_c: float,
        consecutive: int = 3,
        act_on_throttle: bool = True,
        visible: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.nvml = nvml
        self.max_temp_c = max_temp_c
        self.consecutive = max(1, consecutive)
        self.act_on_throttle = act_on_throttle
        self.visible = visible
        self.clock = clock
        self.wall_clock = wall_clock
        self.stats: list[GpuStats] = []
        self.warnings: list[str] = []
        self.events: list[str] = []
        self.tripped: str | None = None
        self._all_lost = False

    # ------------------------------------------------------------------ setup
    def open(self) -> None:
        """Choose the devices and read their thresholds; NvmlUnavailable if none remains."""
        try:
            devices = enumerate_devices(self.nvml)
        except Exception as error:
            raise NvmlUnavailable(f"NVML could not list the GPUs ({text(error)})") from None
        if not devices:
            raise NvmlUnavailable("no NVIDIA GPU found")
        chosen, warnings = visible_devices(self.nvml, devices, self.visible)
        self.warnings.extend(warnings)
        self.stats = [GpuStats(device, self._thresholds(device)) for device in chosen]

    def _thresholds(self, device: Device) -> dict[str, int | None]:
        found: dict[str, int | None] = {}
        for name, code in THRESHOLDS.items():
            try:
                value = _call(self.nvml, "nvmlDeviceGetTemperatureThreshold", device.handle, code)
                found[name] = int(value)
            except Exception:
                found[name] = None
        return found

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.nvml.nvmlShutdown()

    @property
    def watched(self) -> list[GpuStats]:
        return [s for s in self.stats if s.lost is None]

    # ------------------------------------------------------------------ readings
    def _temperature(self, stats: GpuStats) -> int:
        sensor = getattr(self.nvml, "NVML_TEMPERATURE_GPU", 0)
        handle = stats.device.handle
        if stats._temperature_call is None:
            names = ("nvmlDeviceGetTemperatureV", "nvmlDeviceGetTemperature")
            calls = [name for name in names if hasattr(self.nvml, name)]
            last_error: Exception | None = None
            for name in calls:
                try:
                    value = _call(self.nvml, name, handle, sensor)
                except Exception as error:
                    last_error = error
                    continue
                stats._temperature_call = name
                return int(getattr(value, "temperature", value))
            raise last_error or RuntimeError("NVML has no temperature call")
        value = _call(self.nvml, stats._temperature_call, handle, sensor)
        return int(getattr(value, "temperature", value))

    def _reasons(self, stats: GpuStats) -> int | None:
        names = (
            "nvmlDeviceGetCurrentClocksEventReasons",
            "nvmlDeviceGetCurrentClocksThrottleReasons",
        )
        candidates = [stats._reasons_call] if stats._reasons_call else list(names)
        for name in candidates:
            if not hasattr(self.nvml, name):
                continue
            try:
                bits = int(_call(self.nvml, name, stats.device.handle))
            except Exception:
                continue
            stats._reasons_call = name
            return bits
        return None

    def _optional(self, name: str, handle: Any) -> Any:
        try:
            return _call(self.nvml, name, handle)
        except Exception:
            return None

    def sample(self) -> list[Reading]:
        """Read every watched GPU once; a GPU that stops answering is dropped with a warning."""
        self.events = []
        readings = []
        for stats in self.watched:
            now = self.clock()
            try:
                temperature = self._temperature(stats)
            except Exception as error:
                stats.lost = text(error) or type(error).__name__
                self.warnings.append(
                    f"GPU {stats.device.index} ({stats.device.uuid}) stopped answering NVML "
                    f"({stats.lost}); still watching the others"
                )
                continue
            power_mw = self._optional("nvmlDeviceGetPowerUsage", stats.device.handle)
            power_w = power_mw / 1000.0 if power_mw is not None else None
            counter = self._optional("nvmlDeviceGetTotalEnergyConsumption", stats.device.handle)
            bits = self._reasons(stats)
            self._account(stats, now, temperature, power_w, counter, bits)
            readings.append(
                Reading(
                    time=self.wall_clock(),
                    gpu=stats.device.index,
                    uuid=stats.device.uuid,
                    temperature_c=temperature,
                    power_w=power_w,
                    reasons=reason_names(bits) if bits is not None else (),
                    reason_bits=bits,
                    energy_mj=int(counter) if counter is not None else None,
                )
            )
            self._judge(stats, temperature, bits)
        if self.stats and not self.watched and not self._all_lost:
            self._all_lost = True
            self.warnings.append("no GPU left to watch: the command runs on unguarded")
        return readings

    def _account(
        self,
        stats: GpuStats,
        now: float,
        temperature: int,
        power_w: float | None,
        counter: Any,
        bits: int | None,
    ) -> None:
        stats.samples += 1
        stats.temperature_sum += temperature
        stats.peak_c = temperature if stats.peak_c is None else max(stats.peak_c, temperature)
        elapsed = now - stats._last_time if stats._last_time is not None else 0.0
        if bits is not None and bits & ACTING_MASK:
            stats.throttled_s += elapsed
        if bits is not None and bits & POWER_CAP_MASK:
            stats.power_capped_s += elapsed
        if counter is not None and (stats._last_counter is None or counter >= stats._last_counter):
            if stats._last_counter is not None:
                stats.energy_j += (int(counter) - stats._last_counter) / 1000.0
            stats._last_counter = int(counter)
            stats.energy_from = "counter" if stats.energy_from in ("none", "counter") else "mixed"
        elif power_w is not None and stats._last_time is not None:
            before = stats._last_power if stats._last_power is not None else power_w
            stats.energy_j += (before + power_w) / 2.0 * elapsed
            stats._last_counter = None
            stats.energy_from = "power" if stats.energy_from in ("none", "power") else "mixed"
        stats._last_time = now
        stats._last_power = power_w

    def _judge(self, stats: GpuStats, temperature: int, bits: int | None) -> None:
        index = stats.device.index
        stats.over_limit = stats.over_limit + 1 if temperature > self.max_temp_c else 0
        acting = bits is not None and bool(bits & ACTING_MASK) and self.act_on_throttle
        stats.throttling = stats.throttling + 1 if acting else 0
        event = None
        if stats.over_limit == self.consecutive:
            event = (
                f"GPU {index} above {self.max_temp_c:g} °C for {self.consecutive} readings "
                f"in a row (now {temperature} °C)"
            )
        elif stats.throttling == self.consecutive:
            active = ", ".join(n for n in reason_names(bits or 0) if n in ACTING_REASONS)
            event = f"GPU {index} clocks held down by {active} for {self.consecutive} readings"
        if event:
            self.events.append(event)
            self.tripped = self.tripped or event

    # ------------------------------------------------------------------ summary
    def energy_kwh(self) -> float:
        return sum(s.energy_j for s in self.stats) / 3.6e6

    def take_warnings(self) -> list[str]:
        taken, self.warnings = self.warnings, []
        return taken
