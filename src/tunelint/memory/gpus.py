"""GPU memory budgets: built-in profiles, size parsing and NVML detection.

Profiles hold the totals NVML reports (``nvmlDeviceGetMemoryInfo().total``), not the
marketing size: an RTX 4090 reports 24564 MiB, not 24 GB, and a job that "fits in 24 GB"
on paper can still fail there. NVML is read through ``pynvml`` from the
``nvidia-ml-py`` distribution, imported only when detection runs; without it or without
a driver the state says so instead of raising.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MiB = 1 << 20
NO_DRIVER = "no NVIDIA driver found"


@dataclass(frozen=True)
class GpuProfile:
    """A GPU model and the total memory its driver reports, in bytes."""

    key: str
    name: str
    total_bytes: int
    aliases: tuple[str, ...] = ()


# totals = nvidia-smi MiB x 2^20, from the public logs cited in tests/data/gpus.csv
PROFILES: tuple[GpuProfile, ...] = (
    GpuProfile("rtx-3060", "NVIDIA GeForce RTX 3060 (12GB)", 12288 * MiB, ("3060",)),
    GpuProfile("rtx-3090", "NVIDIA GeForce RTX 3090", 24576 * MiB, ("3090", "rtx-3090-ti")),
    GpuProfile("rtx-4070", "NVIDIA GeForce RTX 4070 (12GB)", 12282 * MiB, ("4070",)),
    GpuProfile("rtx-4080", "NVIDIA GeForce RTX 4080 (16GB)", 16376 * MiB, ("4080",)),
    GpuProfile("rtx-4090", "NVIDIA GeForce RTX 4090", 24564 * MiB, ("4090", "rtx-a5000")),
    GpuProfile("rtx-5090", "NVIDIA GeForce RTX 5090", 32607 * MiB, ("5090",)),
    GpuProfile("a10g", "NVIDIA A10G", 23028 * MiB, ("a10",)),
    GpuProfile("l4", "NVIDIA L4", 23034 * MiB),
    GpuProfile("t4", "Tesla T4", 15360 * MiB, ("tesla-t4",)),
    GpuProfile("v100-16gb", "Tesla V100-SXM2-16GB", 16160 * MiB, ("v100",)),
    GpuProfile("v100-32gb", "Tesla V100 32GB", 32768 * MiB),
    GpuProfile("a100-40gb", "NVIDIA A100 40GB", 40960 * MiB, ("a100", "a100-sxm4-40gb")),
    GpuProfile("a100-80gb", "NVIDIA A100 80GB", 81920 * MiB, ("a100-sxm4-80gb", "a100-80gb-pcie")),
    GpuProfile("h100", "NVIDIA H100 80GB", 81559 * MiB, ("h100-80gb", "h100-sxm", "h100-pcie")),
    GpuProfile("h200", "NVIDIA H200", 143771 * MiB, ("h200-nvl",)),
    GpuProfile("l40s", "NVIDIA L40S", 46068 * MiB, ("l40", "a40")),
    GpuProfile("rtx-a6000", "NVIDIA RTX A6000", 49140 * MiB, ("a6000",)),
    GpuProfile("mi300x", "AMD Instinct MI300X", 205822885888, ()),
)


def _norm(name: str) -> str:
    low = name.strip().lower()
    for word in ("nvidia", "geforce", "tesla", "amd instinct"):
        low = low.replace(word, " ")
    return re.sub(r"[\s_]+", "-", low.strip()).strip("-")


def find_profile(name: str) -> GpuProfile | None:
    """A profile by key, alias or NVML device name ("NVIDIA GeForce RTX 4090")."""
    key = _norm(name)
    pairs = [(n, p) for p in PROFILES for n in {p.key, _norm(p.name), *p.aliases}]
    for n, profile in pairs:
        if key == n or key.replace("-", "") == n.replace("-", ""):
            return profile
    for n, profile in sorted(pairs, key=lambda pair: -len(pair[0])):
        if key.startswith(n + "-"):  # "h100-80gb-hbm3", "a100-sxm4-80gb-..."
            return profile
    return None


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)\s*$", re.IGNORECASE)


def parse_size(text: str | int) -> int:
    """Bytes from "24GiB", "24 GiB", "24564MiB" (binary) or "24GB", "24G" (decimal).

    GB/MB mean 10^9/10^6 bytes, GiB/MiB 2^30/2^20, as in the SI/IEC standards.
    A bare number is rejected because the unit cannot be guessed.
    """
    if isinstance(text, int):
        return text
    m = _SIZE.match(text)
    if not m:
        raise ValueError(f"not a memory size: {text!r} (write e.g. 24GiB or 24GB)")
    number, unit = float(m.group(1)), m.group(2).lower()
    if unit == "b":
        return int(number)
    power = "kmgt".index(unit[0]) + 1
    base = 1024 if unit[1:2] == "i" else 1000
    return int(number * base**power)


@dataclass(frozen=True)
class GpuDevice:
    """One GPU as NVML reports it."""

    index: int
    name: str
    total_bytes: int
    free_bytes: int
    used_bytes: int
    temperature_c: int | None = None
    power_w: float | None = None
    power_limit_w: float | None = None


@dataclass(frozen=True)
class NvmlState:
    """Result of a detection: devices, or a plain message saying why there are none."""

    available: bool
    devices: tuple[GpuDevice, ...] = ()
    driver: str | None = None
    message: str = ""


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _optional(call: Any, *args: object) -> Any:
    try:
        return call(*args)
    except Exception:
        return None


def _load_pynvml() -> Any | None:
    try:
        import pynvml
    except ImportError:
        return None
    return pynvml


def detect_gpus(nvml: Any | None = None) -> NvmlState:
    """Query NVML; never raises. `nvml` is the pynvml module or a stand-in (tests)."""
    module = nvml if nvml is not None else _load_pynvml()
    if module is None:
        return NvmlState(False, message=f"{NO_DRIVER} (nvidia-ml-py is not installed)")
    try:
        module.nvmlInit()
    except Exception as exc:  # NVMLError_LibraryNotFound, DriverNotLoaded, ...
        return NvmlState(False, message=f"{NO_DRIVER} ({_text(exc) or type(exc).__name__})")
    try:
        driver = _optional(module.nvmlSystemGetDriverVersion)
        devices: list[GpuDevice] = []
        for index in range(int(module.nvmlDeviceGetCount())):
            handle = module.nvmlDeviceGetHandleByIndex(index)
            mem = module.nvmlDeviceGetMemoryInfo(handle)
            sensor = getattr(module, "NVML_TEMPERATURE_GPU", 0)
            temp = _optional(module.nvmlDeviceGetTemperature, handle, sensor)
            power = _optional(module.nvmlDeviceGetPowerUsage, handle)
            limit = _optional(module.nvmlDeviceGetEnforcedPowerLimit, handle)
            devices.append(
                GpuDevice(
                    index=index,
                    name=_text(module.nvmlDeviceGetName(handle)),
                    total_bytes=int(mem.total),
                    free_bytes=int(mem.free),
                    used_bytes=int(mem.used),
                    temperature_c=int(temp) if temp is not None else None,
                    power_w=power / 1000.0 if power is not None else None,
                    power_limit_w=limit / 1000.0 if limit is not None else None,
                )
            )
    except Exception as exc:
        return NvmlState(False, message=f"NVML query failed: {_text(exc)}")
    finally:
        _optional(module.nvmlShutdown)
    if not devices:
        return NvmlState(True, (), _text(driver) if driver else None, "no NVIDIA GPU found")
    return NvmlState(True, tuple(devices), _text(driver) if driver else None, "")


@dataclass(frozen=True)
class Budget:
    """Memory available per device, how many devices, and where that came from."""

    bytes_per_device: int | None
    devices: int
    source: str
    label: str


def resolve_budget(
    cli_vram: str | int | None = None,
    cli_gpu: str | None = None,
    policy_gpus: Sequence[str] = (),
    policy_vram: str | int | None = None,
    detect: str = "auto",
    nvml: Any | None = None,
) -> Budget:
    """Budget by precedence: --vram, --gpu, NVML (detect auto/on), policy gpus, policy vram.

    Raises ValueError for an unknown GPU profile or a malformed size.
    """
    if cli_vram is not None:
        size = parse_size(cli_vram)
        return Budget(size, 1, "cli --vram", f"{size / (1 << 30):.1f} GiB (--vram)")
    if cli_gpu:
        profile = _profile_or_error(cli_gpu)
        return Budget(profile.total_bytes, 1, "cli --gpu", profile.name)
    if detect in ("auto", "on"):
        state = detect_gpus(nvml)
        if state.devices:
            smallest = min(state.devices, key=lambda d: d.total_bytes)
            label = f"{len(state.devices)} x {smallest.name} (detected)"
            return Budget(smallest.total_bytes, len(state.devices), "nvml", label)
    if policy_gpus:
        profiles = [_profile_or_error(g) for g in policy_gpus]
        smallest_p = min(profiles, key=lambda p: p.total_bytes)
        label = ", ".join(p.name for p in profiles) + " (policy)"
        return Budget(smallest_p.total_bytes, len(profiles), "policy gpus", label)
    if policy_vram is not None:
        size = parse_size(policy_vram)
        return Budget(size, 1, "policy vram", f"{size / (1 << 30):.1f} GiB (policy)")
    return Budget(None, 0, "none", "no budget")


def _profile_or_error(name: str) -> GpuProfile:
    profile = find_profile(name)
    if profile is None:
        raise ValueError(unknown_gpu(name))
    return profile


def unknown_gpu(name: str) -> str:
    """Why ``name`` is not a GPU profile, with the closest one."""
    from tunelint.hints import did_you_mean

    names = [n for p in PROFILES for n in (p.key, *p.aliases)]
    known = ", ".join(p.key for p in PROFILES)
    return f"unknown GPU {name!r}{did_you_mean(name, names)}; known profiles: {known}"


def budget_problems(
    sizes: Sequence[tuple[object, str]], gpus: Sequence[tuple[object, str]]
) -> list[str]:
    """What is wrong with memory sizes and GPU names, each as ``(value, where)``.

    The one check behind ``--vram``/``--gpu`` and the policy's ``hardware.vram`` and
    ``hardware.gpus``, so ``policy validate`` refuses exactly what ``check`` would.
    """
    problems = []
    for size, where in sizes:
        if size is None:
            continue
        try:
            parse_size(size if isinstance(size, int) and not isinstance(size, bool) else str(size))
        except ValueError as error:
            problems.append(f"{where}: {error}")
    for name, where in gpus:
        if name is not None and find_profile(str(name)) is None:
            problems.append(f"{where}: {unknown_gpu(str(name))}")
    return problems
