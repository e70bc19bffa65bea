"""GPU profiles, size parsing, NVML detection through a fake module, budget precedence."""

from __future__ import annotations

import csv
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tunelint.memory import gpus
from tunelint.memory.gpus import (
    NO_DRIVER,
    detect_gpus,
    find_profile,
    parse_size,
    resolve_budget,
)

DATA = Path(__file__).parent / "data"


class FakeNvml:
    """Stands in for pynvml: two devices, or none, or a missing driver."""

    NVML_TEMPERATURE_GPU = 0

    def __init__(self, totals: list[int], *, fail_init: bool = False) -> None:
        self.totals = totals
        self.fail_init = fail_init
        self.shutdown = False

    def nvmlInit(self) -> None:
        if self.fail_init:
            raise RuntimeError("NVML Shared Library Not Found")

    def nvmlShutdown(self) -> None:
        self.shutdown = True

    def nvmlSystemGetDriverVersion(self) -> bytes:
        return b"550.54"

    def nvmlDeviceGetCount(self) -> int:
        return len(self.totals)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        return index

    def nvmlDeviceGetName(self, handle: int) -> str:
        return "NVIDIA GeForce RTX 4090"

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> Any:
        total = self.totals[handle]
        return SimpleNamespace(total=total, free=total - (1 << 30), used=1 << 30)

    def nvmlDeviceGetTemperature(self, handle: int, sensor: int) -> int:
        return 61

    def nvmlDeviceGetPowerUsage(self, handle: int) -> int:
        return 251_000

    def nvmlDeviceGetEnforcedPowerLimit(self, handle: int) -> int:
        raise RuntimeError("not supported")


RTX4090 = 24564 << 20


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24GiB", 24 * 2**30),
        ("24 GiB", 24 * 2**30),
        ("24GB", 24 * 10**9),
        ("24564MiB", 24564 * 2**20),
        ("1.5TB", 15 * 10**11),
        ("512b", 512),
        (1000, 1000),
    ],
)
def test_parse_size(text: str | int, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["24", "lots", "24 parsecs", ""])
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_size(text)


def test_profiles_match_reference_table() -> None:
    rows = {
        r["name"]: int(r["nvml_total_bytes_if_known"])
        for r in csv.DictReader((DATA / "gpus.csv").open())
    }
    pairs = {
        "rtx-4090": "NVIDIA GeForce RTX 4090",
        "rtx-3090": "NVIDIA GeForce RTX 3090",
        "t4": "NVIDIA Tesla T4",
        "h100": "NVIDIA H100 80GB HBM3 (SXM5) / H100 PCIe",
        "a100-80gb": "NVIDIA A100-SXM4-80GB / A100 80GB PCIe",
        "l4": "NVIDIA L4",
        "h200": "NVIDIA H200 (141GB HBM3e) / H200 NVL",
    }
    for key, name in pairs.items():
        profile = find_profile(key)
        assert profile is not None and profile.total_bytes == rows[name]


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("NVIDIA GeForce RTX 4090", "rtx-4090"),
        ("RTX 3090", "rtx-3090"),
        ("NVIDIA H100 80GB HBM3", "h100"),
        ("NVIDIA A100-SXM4-80GB", "a100-80gb"),
        ("Tesla T4", "t4"),
        ("a100", "a100-40gb"),
    ],
)
def test_find_profile_by_nvml_name(name: str, key: str) -> None:
    profile = find_profile(name)
    assert profile is not None and profile.key == key


def test_detect_with_devices() -> None:
    fake = FakeNvml([RTX4090, RTX4090])
    state = detect_gpus(fake)
    assert state.available and len(state.devices) == 2
    device = state.devices[0]
    assert device.total_bytes == RTX4090 and device.used_bytes == 1 << 30
    assert device.temperature_c == 61 and device.power_w == 251.0
    assert device.power_limit_w is None
    assert state.driver == "550.54" and fake.shutdown


def test_detect_without_devices() -> None:
    state = detect_gpus(FakeNvml([]))
    assert state.available and state.devices == ()
    assert "no NVIDIA GPU" in state.message


def test_detect_without_driver_never_raises() -> None:
    state = detect_gpus(FakeNvml([RTX4090], fail_init=True))
    assert not state.available and state.message.startswith(NO_DRIVER)


def test_detect_without_module(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gpus, "_load_pynvml", lambda: None)
    state = detect_gpus()
    assert not state.available and state.message.startswith(NO_DRIVER)


def test_budget_precedence() -> None:
    fake = FakeNvml([48 << 30])
    everything: dict[str, Any] = {
        "cli_vram": "10GiB",
        "cli_gpu": "t4",
        "policy_gpus": ["rtx-3090"],
        "policy_vram": "20GiB",
        "nvml": fake,
    }
    assert resolve_budget(**everything).source == "cli --vram"
    assert resolve_budget(**{**everything, "cli_vram": None}).source == "cli --gpu"
    detected = resolve_budget(**{**everything, "cli_vram": None, "cli_gpu": None})
    assert detected.source == "nvml" and detected.bytes_per_device == 48 << 30
    off = {**everything, "cli_vram": None, "cli_gpu": None, "detect": "off"}
    policy = resolve_budget(**off)
    assert policy.source == "policy gpus" and policy.bytes_per_device == 24576 << 20
    assert resolve_budget(**{**off, "policy_gpus": ()}).bytes_per_device == 20 << 30
    nothing = resolve_budget(detect="auto", nvml=FakeNvml([], fail_init=True))
    assert nothing.source == "none" and nothing.bytes_per_device is None


def test_policy_gpus_use_the_smallest_device() -> None:
    budget = resolve_budget(policy_gpus=["a100-80gb", "rtx-4090"], detect="off")
    assert budget.devices == 2 and budget.bytes_per_device == RTX4090


def test_unknown_profile_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown GPU"):
        resolve_budget(cli_gpu="voodoo-5")
