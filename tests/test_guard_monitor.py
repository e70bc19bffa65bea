"""GPU monitor with a fake NVML: device choice, API fallbacks, limits, energy, lost GPUs."""

from __future__ import annotations

import itertools

import pytest
from guard_fakes import (
    HW_SLOWDOWN,
    HW_THERMAL,
    SW_POWER_CAP,
    FakeGpu,
    FakeNvml,
    uuid,
)

from tunelint.guard.devices import NvmlUnavailable, enumerate_devices, visible_devices
from tunelint.guard.monitor import ACTING_MASK, REASON_BITS, GpuMonitor, load_nvml


def monitor(nvml: FakeNvml, **options: object) -> GpuMonitor:
    ticks = itertools.count()
    settings: dict[str, object] = {"max_temp_c": 85.0, "consecutive": 3}
    settings.update(options)
    watched = GpuMonitor(nvml, clock=lambda: float(next(ticks)), **settings)  # type: ignore[arg-type]
    watched.open()
    return watched


def four_gpus() -> FakeNvml:
    gpus = [FakeGpu(uuid(i)) for i in range(4)]
    gpus[2].mig_uuids = ["MIG-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"]
    return FakeNvml(gpus)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (None, [0, 1, 2, 3]),
        ("2,0", [2, 0]),
        (" 1 , 3 ", [1, 3]),
        (uuid(3), [3]),
        ("GPU-00000001", [1]),
        ("GPU-00000002-1111", [2]),
        ("MIG-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", [2]),
        (f"MIG-{uuid(1)}/1/0", [1]),
        ("0,0,1", [0, 1]),
        ("0,7,1", [0]),  # CUDA hides everything after an entry that names no device
        ("1,GPU-0000000", [1]),  # a prefix shared by every GPU is ambiguous
    ],
)
def test_visible_devices_follow_cuda_rules(spec: str | None, expected: list[int]) -> None:
    nvml = four_gpus()
    chosen, _ = visible_devices(nvml, enumerate_devices(nvml), spec)
    assert [device.index for device in chosen] == expected


def test_visible_devices_unmatched_watches_everything_with_a_warning() -> None:
    nvml = four_gpus()
    chosen, warnings = visible_devices(nvml, enumerate_devices(nvml), "GPU-ffff")
    assert len(chosen) == 4
    assert any("names no GPU" in w for w in warnings)
    assert any("watching every GPU" in w for w in warnings)


def test_empty_cuda_visible_devices_leaves_nothing_to_watch() -> None:
    nvml = four_gpus()
    with pytest.raises(NvmlUnavailable, match="empty"):
        visible_devices(nvml, enumerate_devices(nvml), " ")


def test_missing_driver_and_no_gpus_are_unavailable() -> None:
    with pytest.raises(NvmlUnavailable, match="no NVIDIA driver found"):
        load_nvml(FakeNvml([], fail_init=True))
    with pytest.raises(NvmlUnavailable, match="no NVIDIA GPU"):
        monitor(FakeNvml([]))


def test_reason_bits_match_the_nvml_header() -> None:
    pynvml = pytest.importorskip("pynvml")
    for name, bit in REASON_BITS.items():
        assert getattr(pynvml, f"nvmlClocksThrottleReason{name}") == bit
    assert pynvml.nvmlClocksEventReasonSwPowerCap & ACTING_MASK == 0


def test_thresholds_are_read_and_missing_ones_stay_none() -> None:
    gpu = FakeGpu(uuid(0))
    del gpu.thresholds[3]
    watched = monitor(FakeNvml([gpu]))
    assert watched.stats[0].thresholds == {"shutdown": 92, "slowdown": 89, "max_operating": None}


def test_temperature_v_is_preferred_and_the_old_call_is_the_fallback() -> None:
    new = FakeNvml([FakeGpu(uuid(0))])
    monitor(new).sample()
    assert "nvmlDeviceGetTemperatureV" in new.calls
    assert "nvmlDeviceGetTemperature" not in new.calls
    old = FakeNvml([FakeGpu(uuid(0))], temperature_v=False, event_reasons=False)
    monitor(old).sample()
    assert "nvmlDeviceGetTemperature" in old.calls
    assert "nvmlDeviceGetCurrentClocksThrottleReasons" in old.calls


def test_temperature_v_missing_from_the_driver_falls_back() -> None:
    nvml = FakeNvml([FakeGpu(uuid(0), temperatures=[70])])

    def not_in_driver(handle: object, sensor: int) -> int:
        raise RuntimeError("Function Not Found")

    nvml.nvmlDeviceGetTemperatureV = not_in_driver
    readings = monitor(nvml).sample()
    assert readings[0].temperature_c == 70
    assert nvml.calls.count("nvmlDeviceGetTemperature") == 1


def test_temperature_over_the_limit_trips_after_consecutive_readings() -> None:
    gpu = FakeGpu(uuid(0), temperatures=[80, 86, 90, 84, 86, 87, 88, 89])
    watched = monitor(FakeNvml([gpu]), consecutive=3)
    seen = []
    for _ in range(8):
        watched.sample()
        seen.append(bool(watched.events))
    # 86, 90 then a dip to 84 resets the count; 86, 87, 88 is the first run of three
    assert seen == [False, False, False, False, False, False, True, False]
    assert watched.tripped is not None and "above 85 °C" in watched.tripped
    assert watched.stats[0].peak_c == 90


def test_sustained_thermal_slowdown_trips_but_power_capping_never_does() -> None:
    throttled = FakeGpu(uuid(0), reasons=[HW_THERMAL | HW_SLOWDOWN])
    capped = FakeGpu(uuid(1), reasons=[SW_POWER_CAP])
    watched = monitor(FakeNvml([throttled, capped]), consecutive=2)
    for _ in range(6):
        watched.sample()
    assert watched.tripped is not None and watched.tripped.startswith("GPU 0 clocks held")
    assert "HwThermalSlowdown" in watched.tripped
    # the fake clock ticks a second per GPU read: two GPUs, two seconds between readings
    assert watched.stats[1].throttling == 0 and watched.stats[1].power_capped_s == 10.0
    assert watched.stats[1].throttled_s == 0.0
    assert watched.stats[0].throttled_s == 10.0


def test_temperature_only_ignores_throttling() -> None:
    watched = monitor(FakeNvml([FakeGpu(uuid(0), reasons=[HW_THERMAL])]), act_on_throttle=False)
    for _ in range(5):
        watched.sample()
    assert watched.tripped is None


def test_energy_from_the_counter() -> None:
    watched = monitor(FakeNvml([FakeGpu(uuid(0), energy_step_mj=3_600_000)]))
    for _ in range(11):
        watched.sample()
    stats = watched.stats[0]
    assert stats.energy_from == "counter"
    assert stats.energy_j == pytest.approx(10 * 3600.0)
    assert watched.energy_kwh() == pytest.approx(0.01)


def test_energy_integrated_from_power_without_a_counter() -> None:
    watched = monitor(FakeNvml([FakeGpu(uuid(0), energy_step_mj=None, power_mw=360_000)]))
    for _ in range(11):
        watched.sample()
    assert watched.stats[0].energy_from == "power"
    assert watched.stats[0].energy_j == pytest.approx(10 * 360.0)  # 10 s at 360 W


def test_a_lost_gpu_is_dropped_and_the_others_are_still_watched() -> None:
    lost = FakeGpu(uuid(0), lost_after=2)
    hot = FakeGpu(uuid(1), temperatures=[70, 70, 70, 95])
    watched = monitor(FakeNvml([lost, hot]), consecutive=2)
    for _ in range(6):
        readings = watched.sample()
    assert [r.gpu for r in readings] == [1]
    assert watched.stats[0].lost == "GPU is lost" and watched.stats[0].samples == 2
    warnings = watched.take_warnings()
    assert any("GPU 0" in w and "stopped answering" in w for w in warnings)
    assert watched.tripped is not None and watched.tripped.startswith("GPU 1")


def test_losing_every_gpu_warns_once() -> None:
    watched = monitor(FakeNvml([FakeGpu(uuid(0), lost_after=1)]))
    for _ in range(4):
        assert watched.sample() == [] or watched.stats[0].lost is None
    warnings = watched.take_warnings()
    assert sum("no GPU left to watch" in w for w in warnings) == 1
