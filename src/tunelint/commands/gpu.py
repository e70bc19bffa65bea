"""``tunelint gpu``: list local NVIDIA GPUs (memory, temperature, power) through NVML."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import Any


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "gpu",
        help="list local GPUs as NVML reports them",
        description="List the local NVIDIA GPUs (memory, temperature, power) through NVML.",
    )
    p.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tunelint.memory.gpus import detect_gpus

    state = detect_gpus(getattr(args, "nvml", None))
    if args.format == "json":
        payload = {
            "available": state.available,
            "driver": state.driver,
            "message": state.message,
            "devices": [asdict(d) for d in state.devices],
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return 0
    if not state.devices:
        sys.stdout.write(f"{state.message}\n")
        return 0
    from rich.console import Console
    from rich.table import Table

    gib = float(1 << 30)
    table = Table(title=f"NVIDIA driver {state.driver}" if state.driver else "GPUs")
    for column in ("#", "name", "total", "free", "used", "temp", "power"):
        table.add_column(column, justify="left" if column == "name" else "right")
    for d in state.devices:
        temp = f"{d.temperature_c} C" if d.temperature_c is not None else "-"
        power = "-"
        if d.power_w is not None:
            limit = f" / {d.power_limit_w:.0f}" if d.power_limit_w is not None else ""
            power = f"{d.power_w:.0f}{limit} W"
        table.add_row(
            str(d.index),
            d.name,
            f"{d.total_bytes / gib:.1f} GiB",
            f"{d.free_bytes / gib:.1f} GiB",
            f"{d.used_bytes / gib:.1f} GiB",
            temp,
            power,
        )
    Console(file=sys.stdout, width=100 if not sys.stdout.isatty() else None).print(table)
    return 0
