"""Which GPUs a command may use: NVML devices picked by ``CUDA_VISIBLE_DEVICES``.

NVML numbers devices in its own order and ignores ``CUDA_VISIBLE_DEVICES``, so the guard
matches each entry of the variable to a device by UUID. The entries follow the CUDA
programming guide: integer indices, GPU UUIDs or their unique prefixes (``GPU-8932f937``),
and MIG instances (``MIG-<uuid>``, or the older ``MIG-GPU-<uuid>/<gi>/<ci>``); a MIG instance
is watched through the GPU that holds it, since temperature and clocks belong to the board.
As in CUDA, an entry that names no device hides every entry after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class NvmlUnavailable(RuntimeError):
    """No GPU can be watched: NVML, the driver or a visible device is missing."""


@dataclass(frozen=True)
class Device:
    """One physical GPU: NVML index, handle, UUID and marketing name."""

    index: int
    handle: Any
    uuid: str
    name: str


def text(value: object) -> str:
    """NVML strings arrive as bytes from older bindings and as str from newer ones."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def enumerate_devices(nvml: Any) -> list[Device]:
    """Every GPU NVML reports, in NVML's order."""
    devices = []
    for index in range(int(nvml.nvmlDeviceGetCount())):
        handle = nvml.nvmlDeviceGetHandleByIndex(index)
        uuid = text(nvml.nvmlDeviceGetUUID(handle))
        try:
            name = text(nvml.nvmlDeviceGetName(handle))
        except Exception:
            name = "NVIDIA GPU"
        devices.append(Device(index, handle, uuid, name))
    return devices


def _by_uuid_prefix(devices: list[Device], prefix: str) -> Device | None:
    matches = [d for d in devices if d.uuid.lower().startswith(prefix.lower())]
    return matches[0] if len(matches) == 1 else None


def _mig_parent(nvml: Any, devices: list[Device], mig_uuid: str) -> Device | None:
    """The GPU holding the MIG instance whose own UUID is ``mig_uuid``."""
    for device in devices:
        try:
            count = int(nvml.nvmlDeviceGetMaxMigDeviceCount(device.handle))
        except Exception:
            continue
        for slot in range(count):
            try:
                instance = nvml.nvmlDeviceGetMigDeviceHandleByIndex(device.handle, slot)
                if text(nvml.nvmlDeviceGetUUID(instance)).lower().startswith(mig_uuid.lower()):
                    return device
            except Exception:
                continue
    return None


def _resolve(nvml: Any, devices: list[Device], entry: str) -> Device | None:
    if entry.lstrip("-").isdigit():
        index = int(entry)
        return devices[index] if 0 <= index < len(devices) else None
    if entry.upper().startswith("GPU-"):
        return _by_uuid_prefix(devices, entry)
    if entry.upper().startswith("MIG-"):
        rest = entry[4:]
        if "/" in rest:  # MIG-GPU-<gpu uuid>/<gpu instance>/<compute instance>
            return _by_uuid_prefix(devices, rest.split("/", 1)[0])
        return _mig_parent(nvml, devices, entry)
    return None


def visible_devices(
    nvml: Any, devices: list[Device], spec: str | None
) -> tuple[list[Device], list[str]]:
    """The devices ``spec`` (the variable's value, None when unset) lets a job use.

    Returns them with warnings. An entry that names no device ends the list as it does for
    CUDA; if nothing at all matches, every GPU is watched rather than none.
    """
    if spec is None:
        return list(devices), []
    entries = [part.strip() for part in spec.split(",")]
    if not any(entries):
        raise NvmlUnavailable("CUDA_VISIBLE_DEVICES is empty: the command can use no GPU")
    chosen: list[Device] = []
    warnings: list[str] = []
    for entry in entries:
        device = _resolve(nvml, devices, entry)
        if device is None:
            warnings.append(
                f"CUDA_VISIBLE_DEVICES entry {entry!r} names no GPU here; CUDA ignores it "
                "and every entry after it"
            )
            break
        if device not in chosen:
            chosen.append(device)
    if not chosen:
        warnings.append("no CUDA_VISIBLE_DEVICES entry matched a GPU: watching every GPU")
        return list(devices), warnings
    return chosen, warnings
