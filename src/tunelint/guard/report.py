"""What the guard tells: the card's own limits beside the policy's, a JSON-lines log, a summary."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from tunelint.guard.monitor import GpuStats, Reading


@dataclass(frozen=True)
class EnergyPrice:
    """Electricity price per kWh and its currency; ``None`` when the policy sets none."""

    per_kwh: float | None
    currency: str = "USD"


def limits_line(stats: GpuStats, max_temp_c: float) -> str:
    """The policy limit next to the card's slowdown, shutdown and maximum operating points."""
    names = {"slowdown": "slowdown", "shutdown": "shutdown", "max_operating": "max operating"}
    card = ", ".join(
        f"{label} {stats.thresholds[key]} °C"
        for key, label in names.items()
        if stats.thresholds.get(key) is not None
    )
    card = card or "card thresholds not reported"
    device = stats.device
    return f"GPU {device.index} {device.name}: policy limit {max_temp_c:g} °C; card {card}"


def summary_lines(stats: list[GpuStats], price: EnergyPrice) -> list[str]:
    """Peak and mean temperature, seconds throttled and energy per GPU, then the totals."""
    lines = []
    for gpu in stats:
        device = gpu.device
        if gpu.samples == 0:
            lines.append(f"GPU {device.index} {device.name}: no reading")
            continue
        mean = gpu.mean_c if gpu.mean_c is not None else 0.0
        energy = f"{gpu.energy_j / 3.6e6:.3f} kWh"
        if gpu.energy_from == "power":
            energy += " (from power readings)"
        text = (
            f"GPU {device.index} {device.name}: peak {gpu.peak_c} °C, mean {mean:.1f} °C, "
            f"throttled {gpu.throttled_s:.0f} s, power-capped {gpu.power_capped_s:.0f} s, "
            f"{energy}"
        )
        if gpu.lost:
            text += f"; lost during the run ({gpu.lost})"
        lines.append(text)
    kwh = sum(gpu.energy_j for gpu in stats) / 3.6e6
    if price.per_kwh is None:
        lines.append(
            f"energy: {kwh:.3f} kWh (set cost.electricity_per_kwh in the policy or pass "
            "--kwh-price to see its cost)"
        )
    else:
        cost = kwh * price.per_kwh
        lines.append(
            f"energy: {kwh:.3f} kWh, {cost:.2f} {price.currency} at "
            f"{price.per_kwh:g} {price.currency}/kWh (GPU boards only)"
        )
    return lines


def summary_json(
    stats: list[GpuStats], price: EnergyPrice, status: int | None, reason: str | None
) -> dict[str, Any]:
    kwh = sum(gpu.energy_j for gpu in stats) / 3.6e6
    return {
        "event": "summary",
        "exit_status": status,
        "stopped_because": reason,
        "energy_kwh": round(kwh, 6),
        "cost": round(kwh * price.per_kwh, 6) if price.per_kwh is not None else None,
        "currency": price.currency,
        "gpus": [
            {
                "gpu": gpu.device.index,
                "uuid": gpu.device.uuid,
                "name": gpu.device.name,
                "samples": gpu.samples,
                "peak_c": gpu.peak_c,
                "mean_c": round(gpu.mean_c, 2) if gpu.mean_c is not None else None,
                "throttled_s": round(gpu.throttled_s, 3),
                "power_capped_s": round(gpu.power_capped_s, 3),
                "energy_kwh": round(gpu.energy_j / 3.6e6, 6),
                "energy_from": gpu.energy_from,
                "thresholds_c": gpu.thresholds,
                "lost": gpu.lost,
            }
            for gpu in stats
        ],
    }


class JsonLog:
    """One JSON object per line, flushed as written so a crash loses nothing."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def __enter__(self) -> JsonLog:
        if self.path is not None:
            self._file = self.path.open("a", encoding="utf-8")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def write(self, record: dict[str, Any]) -> None:
        if self._file is not None:
            self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._file.flush()

    def readings(self, readings: list[Reading]) -> None:
        for reading in readings:
            self.write(reading.as_json())
