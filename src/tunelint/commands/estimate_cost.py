"""``tunelint estimate --cost``: the flags and policy turned into a cost estimate, and its table."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tunelint.memory.cost import (
    DEFAULT_DUTY_CYCLE,
    DEFAULT_HOST_WATTS,
    DEFAULT_MFU,
    DEFAULT_PREEMPTIONS_PER_HOUR,
    DEFAULT_SERVICE_LIFE_YEARS,
    TABLE_CURRENCY,
    CostEstimate,
    CostInputs,
    estimate_cost,
    parse_hours,
    parse_tokens,
)

FALLBACK_GPU = "rtx-4090"


def _tokens(args: argparse.Namespace) -> int:
    if args.tokens:
        return parse_tokens(args.tokens)
    if args.dataset_tokens:
        if args.epochs <= 0:
            raise ValueError("--epochs must be greater than 0")
        return max(1, round(parse_tokens(args.dataset_tokens) * float(args.epochs)))
    raise ValueError("--cost needs the run's size: --tokens N, or --dataset-tokens N --epochs E")


def _profile(args: argparse.Namespace, budget_source: str) -> tuple[str, str | None]:
    """The GPU profile key, and a note when it was assumed rather than given or detected."""
    from tunelint.memory.gpus import detect_gpus, find_profile

    if args.gpu:
        found = find_profile(args.gpu)
        if found is None:
            raise ValueError(f"unknown GPU {args.gpu!r}")
        return found.key, None
    if budget_source == "nvml":
        state = detect_gpus(getattr(args, "nvml", None))
        for device in state.devices:
            found = find_profile(device.name)
            if found is not None:
                return found.key, None
    note = f"no GPU named or detected: {FALLBACK_GPU} assumed (pass --gpu)"
    return FALLBACK_GPU, note


def _policy_cost(args: argparse.Namespace) -> dict[str, Any]:
    from tunelint.policy import PolicyError, load_policy

    try:
        policy = load_policy(args.policy, Path.cwd())
    except PolicyError as error:
        raise ValueError(str(error)) from None
    section = policy.get("cost", {})
    return dict(section) if isinstance(section, dict) else {}


def _fraction(value: float, name: str) -> float:
    if not 0 < value <= 1:
        raise ValueError(f"{name} must be in (0, 1]: {value}")
    return value


def cost_from_args(
    args: argparse.Namespace, settings: dict[str, object], budget_source: str
) -> CostEstimate:
    from tunelint.memory.models import resolve_model

    policy = _policy_cost(args)

    def pick(cli: Any, key: str, default: Any) -> Any:
        return cli if cli is not None else policy.get(key, default)

    model = resolve_model(str(settings["model"]))
    profile, note = _profile(args, budget_source)
    inputs = CostInputs(
        params=model.active_params,
        method=args.method,
        grad_checkpointing=bool(args.grad_checkpointing),
        tokens=_tokens(args),
        gpus=max(1, args.gpus),
        profile=profile,
        mfu=_fraction(args.mfu if args.mfu is not None else DEFAULT_MFU, "--mfu"),
        tflops=args.tflops,
        gpu_watts=args.gpu_watts,
        host_watts=float(pick(args.host_watts, "host_watts", DEFAULT_HOST_WATTS)),
        kwh_price=pick(args.kwh_price, "electricity_per_kwh", None),
        currency=str(pick(args.currency, "currency", TABLE_CURRENCY)),
        purchase_price=pick(args.purchase_price, "purchase_price", None),
        service_life_years=float(
            pick(args.service_life, "service_life_years", DEFAULT_SERVICE_LIFE_YEARS)
        ),
        duty_cycle=_fraction(
            float(pick(args.duty_cycle, "duty_cycle", DEFAULT_DUTY_CYCLE)), "duty cycle"
        ),
        checkpoint_hours=parse_hours(args.checkpoint_every or "1h"),
        preemptions_per_hour=(
            args.preemptions_per_hour
            if args.preemptions_per_hour is not None
            else DEFAULT_PREEMPTIONS_PER_HOUR
        ),
    )
    estimate = estimate_cost(inputs)
    if model.active_params != model.params:
        estimate.assumptions.insert(0, f"{model.active_params / 1e9:.2f}B active parameters")
    if settings.get("mixed_precision") == "no":
        estimate.assumptions.append("fp32 without autocast runs far below the BF16 peak used here")
    if note:
        estimate.assumptions.insert(0, note)
    return estimate


def _money(value: float | None, currency: str) -> str:
    return "-" if value is None else f"{value:,.2f} {currency}"


def _hours(value: float) -> str:
    return f"{value:,.1f} h" if value >= 1 else f"{value * 60:,.1f} min"


def print_cost(cost: CostEstimate) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=sys.stdout, width=100 if not sys.stdout.isatty() else None)
    table = Table(title=f"run cost: {cost.tokens:,} tokens, {cost.flops:.3g} FLOPs")
    table.add_column("where")
    table.add_column("on-demand / total", justify="right")
    table.add_column("spot", justify="right")
    table.add_column("prices as of")
    local = cost.local
    energy = "-" if cost.energy_kwh is None else f"{cost.energy_kwh:,.1f} kWh"
    table.add_row("time", f"{_hours(cost.wall_hours)} wall", f"{cost.gpu_hours:,.1f} GPU-h", "")
    table.add_row("energy", energy, "", "")
    table.add_row("local: electricity", _money(local["electricity"], cost.currency), "", "")
    table.add_row("local: depreciation", _money(local["depreciation"], cost.currency), "", "")
    table.add_row("local: total", _money(local["total"], cost.currency), "", "")
    for row in cost.cloud:
        table.add_row(
            f"{row['provider']} ({row['gpu']})",
            _money(row["on_demand"], row["currency"]),
            _money(row["spot"], row["currency"]),
            row["as_of"],
        )
    console.print(table)
    if cost.prices_as_of:
        console.print(f"cloud prices from the shipped table, oldest row {cost.prices_as_of}")
    for note in cost.assumptions:
        console.print(f"  assumption: {note}", highlight=False)
