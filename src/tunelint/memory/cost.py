"""Time, energy and money for one training run, locally and in the cloud (docs/cost.md).

    FLOPs      = tokens x FLOPs per token (6N full, 4N LoRA/QLoRA, +2N recomputation)
    GPU-hours  = FLOPs / (dense BF16 peak x utilisation) / 3600
    energy     = (board power + host allowance) x GPU-hours
    local cost = energy x electricity price + GPU-hours x purchase price
                 / (service life in hours x duty cycle)
    cloud      = GPU-hours x on-demand price; spot adds the work that pre-emptions redo

Figures and prices come from two dated tables shipped beside this module, every row with
its source: ``gpu_specs.csv`` (peak, board power, launch price) and ``gpu_prices.csv``.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

HOURS_PER_YEAR = 8760.0
DEFAULT_MFU = 0.40
DEFAULT_HOST_WATTS = 237.0
DEFAULT_SERVICE_LIFE_YEARS = 4.0
DEFAULT_DUTY_CYCLE = 0.5
DEFAULT_CHECKPOINT_HOURS = 1.0
DEFAULT_PREEMPTIONS_PER_HOUR = 0.05
DEFAULT_RESTART_HOURS = 0.25
TABLE_CURRENCY = "USD"


@dataclass(frozen=True)
class GpuSpec:
    """Compute and power of one GPU profile, with where the figures come from."""

    profile: str
    bf16_tflops: float | None
    board_watts: float | None
    purchase_usd: float | None
    as_of: str
    sources: str


@dataclass(frozen=True)
class CloudPrice:
    """One provider's hourly price for one GPU of a profile."""

    profile: str
    gpu: str
    provider: str
    on_demand: float | None
    spot: float | None
    as_of: str
    source: str


def _number(text: str) -> float | None:
    return float(text) if text.strip() else None


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("tunelint.memory").joinpath(name).read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


@cache
def gpu_specs() -> dict[str, GpuSpec]:
    return {
        row["profile"]: GpuSpec(
            row["profile"],
            _number(row["bf16_dense_tflops"]),
            _number(row["board_power_w"]),
            _number(row["purchase_usd"]),
            row["as_of"],
            row["sources"],
        )
        for row in _rows("gpu_specs.csv")
    }


@cache
def cloud_prices() -> tuple[CloudPrice, ...]:
    return tuple(
        CloudPrice(
            row["profile"],
            row["gpu"],
            row["provider"],
            _number(row["on_demand_usd_per_h"]),
            _number(row["spot_usd_per_h"]),
            row["as_of"],
            row["source"],
        )
        for row in _rows("gpu_prices.csv")
    )


_TOKENS = re.compile(r"^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([kmbt]?)\s*$", re.IGNORECASE)
_SCALE = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9, "t": 10**12}


def parse_tokens(text: str | int) -> int:
    """Tokens from "50M", "2T", "1.5B", "120k", "1e9" or a plain number (decimal units)."""
    if isinstance(text, int):
        return text
    match = _TOKENS.match(text.replace("_", "").replace(",", ""))
    if not match:
        raise ValueError(f"not a token count: {text!r} (write e.g. 50M, 1.5B or 2T)")
    value = float(match.group(1)) * _SCALE[match.group(2).lower()]
    if value < 1:
        raise ValueError(f"a token count must be at least 1: {text!r}")
    return round(value)


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h)?\s*$", re.IGNORECASE)


def parse_hours(text: str | float) -> float:
    """Hours from "30m", "2h", "90s" or a bare number of hours."""
    if isinstance(text, int | float):
        return float(text)
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (write e.g. 30m or 2h)")
    value, unit = float(match.group(1)), (match.group(2) or "h").lower()
    return value / {"s": 3600.0, "m": 60.0, "min": 60.0, "h": 1.0}[unit]


def flops_per_token(params: int, method: str, grad_checkpointing: bool) -> float:
    """Training FLOPs per token for ``params`` (active) parameters.

    Forward 2N; backward 2N for the activation gradients plus 2N for weight gradients,
    which frozen weights (LoRA, QLoRA) do not need; gradient checkpointing runs the forward
    pass again (2N). Attention's sequence-length term and the adapters themselves are left
    out, as in the 6N rule (Kaplan et al. 2020).
    """
    per_token = 6.0 if method == "full" else 4.0
    if grad_checkpointing:
        per_token += 2.0
    return per_token * params


@dataclass(frozen=True)
class CostInputs:
    """Everything one estimate depends on; prices are in ``currency``."""

    params: int
    method: str
    grad_checkpointing: bool
    tokens: int
    gpus: int
    profile: str
    mfu: float = DEFAULT_MFU
    tflops: float | None = None
    gpu_watts: float | None = None
    host_watts: float = DEFAULT_HOST_WATTS
    kwh_price: float | None = None
    currency: str = TABLE_CURRENCY
    purchase_price: float | None = None
    service_life_years: float = DEFAULT_SERVICE_LIFE_YEARS
    duty_cycle: float = DEFAULT_DUTY_CYCLE
    checkpoint_hours: float = DEFAULT_CHECKPOINT_HOURS
    preemptions_per_hour: float = DEFAULT_PREEMPTIONS_PER_HOUR
    restart_hours: float = DEFAULT_RESTART_HOURS


@dataclass
class CostEstimate:
    tokens: int
    flops: float
    gpu_hours: float
    wall_hours: float
    energy_kwh: float | None
    local: dict[str, float | None]
    cloud: list[dict[str, Any]]
    currency: str
    prices_as_of: str | None
    assumptions: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "tokens": self.tokens,
            "flops": self.flops,
            "gpu_hours": self.gpu_hours,
            "wall_hours": self.wall_hours,
            "energy_kwh": self.energy_kwh,
            "local": self.local,
            "cloud": self.cloud,
            "currency": self.currency,
            "prices_as_of": self.prices_as_of,
            "assumptions": self.assumptions,
        }


def spot_overhead(
    preemptions_per_hour: float, checkpoint_hours: float, restart_hours: float
) -> float | None:
    """Factor on the work when pre-emptions strike: None when the run would never finish.

    Each pre-emption loses on average half a checkpoint interval plus the restart time;
    the redone work can itself be pre-empted, hence 1 / (1 - rate x loss).
    """
    lost = preemptions_per_hour * (checkpoint_hours / 2.0 + restart_hours)
    return 1.0 / (1.0 - lost) if lost < 1.0 else None


def estimate_cost(inputs: CostInputs) -> CostEstimate:
    """Raises ValueError when the GPU's dense BF16 peak is unknown and not given."""
    spec = gpu_specs().get(inputs.profile)
    notes: list[str] = []
    tflops = inputs.tflops or (spec.bf16_tflops if spec else None)
    if not tflops:
        raise ValueError(
            f"no dense BF16 peak is known for GPU profile {inputs.profile!r}: pass --tflops"
        )
    flops = flops_per_token(inputs.params, inputs.method, inputs.grad_checkpointing) * inputs.tokens
    gpu_hours = flops / (tflops * 1e12 * inputs.mfu) / 3600.0
    wall_hours = gpu_hours / max(1, inputs.gpus)
    notes.append(
        f"{tflops:g} TFLOPS dense BF16 peak x {inputs.mfu:.0%} utilisation"
        + (
            ""
            if inputs.tflops or spec is None
            else f" ({inputs.profile}, figures as of {spec.as_of})"
        )
    )
    watts = inputs.gpu_watts or (spec.board_watts if spec else None)
    energy = None
    if watts:
        energy = (watts + inputs.host_watts) * gpu_hours / 1000.0
        notes.append(f"{watts:g} W board power at full load + {inputs.host_watts:g} W host per GPU")
    else:
        notes.append(f"board power of {inputs.profile} unknown: pass --gpu-watts for energy")
    electricity = None
    if energy is not None and inputs.kwh_price is not None:
        electricity = energy * inputs.kwh_price
    elif inputs.kwh_price is None:
        notes.append("no electricity price: set cost.electricity_per_kwh or pass --kwh-price")
    purchase = inputs.purchase_price
    if purchase is None and spec and spec.purchase_usd and inputs.currency == TABLE_CURRENCY:
        purchase = spec.purchase_usd
        notes.append(f"purchase price {purchase:g} USD: the card's launch price")
    depreciation = None
    if purchase is not None:
        hours = inputs.service_life_years * HOURS_PER_YEAR * inputs.duty_cycle
        depreciation = purchase / hours * gpu_hours
        notes.append(
            f"depreciation over {inputs.service_life_years:g} years at a "
            f"{inputs.duty_cycle:.0%} duty cycle: {purchase / hours:.3f} {inputs.currency} "
            "per GPU-hour"
        )
    else:
        notes.append(
            "no purchase price: set cost.purchase_price or pass --purchase-price for depreciation"
        )
    parts = [value for value in (electricity, depreciation) if value is not None]
    local: dict[str, float | None] = {
        "electricity": electricity,
        "depreciation": depreciation,
        "total": sum(parts) if parts else None,
    }
    cloud, as_of = _cloud_rows(inputs, gpu_hours, notes)
    return CostEstimate(
        tokens=inputs.tokens,
        flops=flops,
        gpu_hours=gpu_hours,
        wall_hours=wall_hours,
        energy_kwh=energy,
        local=local,
        cloud=cloud,
        currency=inputs.currency,
        prices_as_of=as_of,
        assumptions=notes,
    )


def _cloud_rows(
    inputs: CostInputs, gpu_hours: float, notes: list[str]
) -> tuple[list[dict[str, Any]], str | None]:
    overhead = spot_overhead(
        inputs.preemptions_per_hour, inputs.checkpoint_hours, inputs.restart_hours
    )
    rows = []
    prices = [price for price in cloud_prices() if price.profile == inputs.profile]
    for price in prices:
        spot = None
        if price.spot is not None and overhead is not None:
            spot = price.spot * gpu_hours * overhead
        rows.append(
            {
                "provider": price.provider,
                "gpu": price.gpu,
                "on_demand": price.on_demand * gpu_hours if price.on_demand is not None else None,
                "spot": spot,
                "currency": TABLE_CURRENCY,
                "as_of": price.as_of,
                "source": price.source,
            }
        )
    if not prices:
        notes.append(f"no cloud price for {inputs.profile} in the shipped table")
    elif overhead is None:
        notes.append("spot: pre-emptions would undo work faster than it is done")
    else:
        notes.append(
            f"spot: {inputs.preemptions_per_hour:g} pre-emptions per hour, checkpoint every "
            f"{inputs.checkpoint_hours:g} h, {inputs.restart_hours:g} h to restart: "
            f"{overhead - 1:.1%} of the work is done again"
        )
    if prices and inputs.currency != TABLE_CURRENCY:
        notes.append(f"cloud prices are in {TABLE_CURRENCY}, local costs in {inputs.currency}")
    return rows, min((price.as_of for price in prices), default=None)
