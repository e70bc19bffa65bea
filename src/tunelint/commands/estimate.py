"""``tunelint estimate MODEL``: peak training memory per GPU, its breakdown and a verdict."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tunelint.commands import EXIT_OK, EXIT_USAGE

GiB = float(1 << 30)
FALLBACK_GPU = "rtx-4090"

_PRECISION: dict[str, dict[str, object]] = {
    "bf16": {"torch_dtype": "bf16"},
    "fp16": {"torch_dtype": "fp16"},
    "fp32": {"torch_dtype": "fp32", "mixed_precision": "no"},
    "bf16-mixed": {"torch_dtype": "fp32", "mixed_precision": "bf16"},
    "fp16-mixed": {"torch_dtype": "fp32", "mixed_precision": "fp16"},
}


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "estimate",
        help="estimate peak training memory per GPU",
        description="Estimate peak training memory per GPU for a model and training setup: "
        "each term of the estimate, a verdict against the GPU budget, and what would make "
        "it fit.",
    )
    p.add_argument("model", help="hub id (org/name), bare name, or a local model directory")
    p.add_argument(
        "--method",
        choices=("full", "lora", "qlora"),
        default="full",
        help="full fine-tune, LoRA adapters, or QLoRA (LoRA on a 4-bit base) (default: full)",
    )
    p.add_argument(
        "--precision",
        choices=tuple(_PRECISION),
        default="bf16",
        help="weights dtype; *-mixed = fp32 weights with autocast (default: bf16)",
    )
    p.add_argument("--optimizer", default="adamw_torch", help="HF optim name (adamw_bnb_8bit, ...)")
    p.add_argument("--batch", type=int, default=None, help="micro-batch per GPU (default 1)")
    p.add_argument("--seq", type=int, default=None, help="sequence length (default 1024)")
    p.add_argument(
        "--grad-accum", type=int, default=1, help="gradient accumulation steps (default 1)"
    )
    p.add_argument(
        "--grad-checkpointing",
        action="store_true",
        help="activation (gradient) checkpointing is on",
    )
    p.add_argument("--lora-r", type=int, default=None, help="LoRA rank (default 8)")
    p.add_argument("--lora-targets", default=None, help="e.g. q_proj,v_proj or all-linear")
    p.add_argument("--gpus", type=int, default=1, help="number of GPUs")
    p.add_argument("--zero", type=int, choices=(0, 1, 2, 3), default=0, help="DeepSpeed ZeRO")
    p.add_argument("--fsdp", action="store_true", help="FSDP full sharding")
    p.add_argument(
        "--offload", action="store_true", help="offload optimizer (and params with ZeRO-3) to CPU"
    )
    p.add_argument("--vram", default=None, help="budget per GPU, e.g. 24GiB or 24GB")
    p.add_argument("--gpu", default=None, help="GPU profile, e.g. rtx-4090, a100-80gb")
    p.add_argument(
        "--detect",
        choices=("auto", "on", "off"),
        default="auto",
        help="read the local GPUs through NVML for the budget: auto (when a driver is "
        "present; else an illustrative RTX 4090), on (no GPU found is an error), off",
    )
    p.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )
    add_memory_flags(p)
    _add_cost_arguments(p)
    p.set_defaults(func=run)


def _add_cost_arguments(p: Any) -> None:
    cost = p.add_argument_group("cost (--cost): time, energy and money for the run, docs/cost.md")
    cost.add_argument("--cost", action="store_true", help="add the run's time, energy and cost")
    cost.add_argument("--tokens", help="tokens trained on, e.g. 50M, 1.5B, 2T")
    cost.add_argument("--dataset-tokens", help="tokens in the dataset (with --epochs)")
    cost.add_argument("--epochs", type=float, default=1.0, help="passes over --dataset-tokens")
    cost.add_argument("--mfu", type=float, help="utilisation of the dense BF16 peak (0.40)")
    cost.add_argument("--tflops", type=float, help="dense BF16 peak per GPU, overriding the table")
    cost.add_argument("--gpu-watts", type=float, help="power per GPU under load (table)")
    cost.add_argument("--host-watts", type=float, help="rest of the machine per GPU (237)")
    cost.add_argument(
        "--kwh-price", type=float, help="electricity price (cost.electricity_per_kwh)"
    )
    cost.add_argument("--currency", help="currency of local prices (cost.currency, USD)")
    cost.add_argument("--purchase-price", type=float, help="price of one GPU (cost.purchase_price)")
    cost.add_argument("--service-life", type=float, help="years a GPU is written off over (4)")
    cost.add_argument("--duty-cycle", type=float, help="share of its life a GPU trains (0.5)")
    cost.add_argument("--checkpoint-every", help="checkpoint interval for spot, e.g. 30m (1h)")
    cost.add_argument("--preemptions-per-hour", type=float, help="spot pre-emption rate (0.05)")
    cost.add_argument("--policy", type=Path, help="policy file for the cost section")


def add_memory_flags(p: Any) -> None:
    """Flags of the memory model itself: attention kernel and the quantity reported."""
    p.add_argument(
        "--attention",
        choices=("sdpa", "flash", "eager"),
        default=None,
        help="attention implementation (default: the model family's; eager keeps s^2 scores)",
    )
    p.add_argument(
        "--quantity",
        choices=("allocated", "reserved", "device"),
        default="device",
        help="figure to report: torch max_memory_allocated, max_memory_reserved, or what "
        "nvidia-smi shows (default; the verdict always uses it)",
    )


def memory_settings(args: argparse.Namespace) -> dict[str, object]:
    """Settings that only the memory-model flags add."""
    attention = getattr(args, "attention", None)
    if attention is None:
        return {}
    return {"attn_implementation": "flash_attention_2" if attention == "flash" else attention}


def quantity_lines(est: Any, quantity: str) -> list[str]:
    """One line per quantity, the requested one first, each with its range."""
    order = [quantity] + [q for q in ("allocated", "reserved", "device") if q != quantity]
    lines = []
    for name in order:
        low, point, high = est.quantities[name]
        lines.append(f"{name}: {_gib(point)} (range {_gib(low)} to {_gib(high)})")
    return lines


def settings_from_args(args: argparse.Namespace) -> dict[str, object]:
    """Canonical settings (the same names rules use) from the command-line flags."""
    settings: dict[str, object] = {"model": args.model, "adapter": args.method}
    settings.update(_PRECISION[args.precision])
    if args.method == "qlora":
        settings["load_in_4bit"] = True
    settings["optimizer"] = args.optimizer
    settings["batch_size"] = args.batch
    settings["seq_len"] = args.seq
    settings["grad_accum"] = args.grad_accum
    settings["grad_checkpointing"] = bool(args.grad_checkpointing)
    settings["num_gpus"] = args.gpus
    settings["zero_stage"] = args.zero
    settings["fsdp"] = bool(args.fsdp)
    if args.lora_r is not None:
        settings["lora_r"] = args.lora_r
    if args.lora_targets:
        settings["lora_targets"] = args.lora_targets
    if args.offload:
        settings["offload_optimizer_device"] = "cpu"
        if args.zero == 3 or args.fsdp:
            settings["offload_param_device"] = "cpu"
    settings.update(memory_settings(args))
    return {k: v for k, v in settings.items() if v is not None}


def run(args: argparse.Namespace) -> int:
    from tunelint.memory.advice import alternatives, verdict
    from tunelint.memory.gpus import find_profile, resolve_budget
    from tunelint.memory.models import UnknownModelError
    from tunelint.memory.settings import estimate_from_settings

    settings = settings_from_args(args)
    try:
        est = estimate_from_settings(settings)
        budget = resolve_budget(
            cli_vram=args.vram,
            cli_gpu=args.gpu,
            detect=args.detect,
            nvml=getattr(args, "nvml", None),
        )
    except (UnknownModelError, ValueError) as exc:
        sys.stderr.write(f"tunelint: error: {exc}\n")
        return EXIT_USAGE
    budget_bytes, budget_label, budget_source = budget.bytes_per_device, budget.label, budget.source
    if budget_bytes is None and args.detect == "on":
        from tunelint.memory.gpus import detect_gpus

        state = detect_gpus(getattr(args, "nvml", None))
        sys.stderr.write(
            f"tunelint: error: --detect on: {state.message or 'no GPU found'}; name the GPU "
            "with --gpu or the budget with --vram, or use --detect auto for an illustrative "
            f"{FALLBACK_GPU}\n"
        )
        return EXIT_USAGE
    if budget_bytes is None:
        profile = find_profile(FALLBACK_GPU)
        assert profile is not None
        budget_bytes = profile.total_bytes
        budget_label = f"{profile.name} (illustrative target: no GPU detected or named)"
        budget_source = "fallback"
    result = verdict(est, budget_bytes)
    alts = alternatives(settings) if result != "fits" else []
    cost = None
    if args.cost:
        try:
            cost = cost_estimate(args, settings, budget_source)
        except ValueError as exc:
            sys.stderr.write(f"tunelint: error: {exc}\n")
            return 2
    if args.format == "json":
        payload = {
            "model": est.model_id,
            "estimate_bytes": est.total_bytes,
            "optimistic_bytes": est.optimistic_bytes,
            "conservative_bytes": est.conservative_bytes,
            "allocated_bytes": est.allocated_bytes,
            "reserved_bytes": est.reserved_bytes,
            "quantity": getattr(args, "quantity", "device"),
            "quantity_bytes": est.figure(getattr(args, "quantity", "device")),
            "quantities": {k: list(v) for k, v in est.quantities.items()},
            "uncertain": est.uncertain,
            "breakdown": est.breakdown,
            "params": est.params,
            "trainable_params": est.trainable_params,
            "params_source": est.params_source,
            "confidence": est.confidence,
            "num_gpus": est.num_gpus,
            "assumptions": est.assumptions,
            "budget_bytes": budget_bytes,
            "budget_source": budget_source,
            "budget_label": budget_label,
            "verdict": result,
            "suggestions": [
                {
                    "change": a.label,
                    "settings": a.change,
                    "estimate_bytes": a.estimate.total_bytes,
                    "verdict": verdict(a.estimate, budget_bytes),
                }
                for a in alts
            ],
        }
        if cost is not None:
            payload["cost"] = cost.as_json()
        sys.stdout.write(json.dumps(payload, indent=2, sort_keys=True) + "\n")
        return EXIT_OK
    _print_text(est, budget_bytes, budget_label, result, alts, getattr(args, "quantity", "device"))
    if cost is not None:
        from tunelint.commands.estimate_cost import print_cost

        print_cost(cost)
    return EXIT_OK


def cost_estimate(args: argparse.Namespace, settings: dict[str, object], budget_source: str) -> Any:
    """The cost block; ValueError for missing tokens, bad values or an unknown GPU peak."""
    from tunelint.commands.estimate_cost import cost_from_args

    return cost_from_args(args, settings, budget_source)


def _gib(value: float) -> str:
    if 0 < value < 0.1 * GiB:
        return f"{value / (1 << 20):.0f} MiB"
    return f"{value / GiB:.1f} GiB"


def _print_text(
    est: Any, budget: int, label: str, result: str, alts: list[Any], quantity: str = "device"
) -> None:
    from rich.console import Console
    from rich.table import Table

    from tunelint.memory.advice import verdict

    console = Console(file=sys.stdout, width=100 if not sys.stdout.isatty() else None)
    gpus = f" on each of {est.num_gpus} GPUs" if est.num_gpus > 1 else ""
    title = f"{est.model_id}: {est.params / 1e9:.2f}B params ({est.params_source})"
    table = Table(title=title, show_footer=True)
    table.add_column("term", footer="total (point estimate)")
    table.add_column("memory", justify="right", footer=_gib(est.total_bytes))
    table.add_column("share", justify="right")
    for term, value in est.breakdown.items():
        share = f"{100 * value / max(1, est.total_bytes):.0f}%"
        shown = _gib(value) if value else "0 (not alive at the peak)"
        table.add_row(term.replace("_", " "), shown, share if value else "")
    console.print(table)
    console.print(
        f"range {_gib(est.optimistic_bytes)} (optimistic) to {_gib(est.conservative_bytes)} "
        f"(conservative){gpus}; confidence {est.confidence}"
    )
    for line in quantity_lines(est, quantity):
        console.print(f"  {line}", highlight=False)
    for note in est.uncertain:
        console.print(f"  uncertain: {note} (range widened)", highlight=False)
    style = {"fits": "green", "may not fit": "yellow", "does not fit": "red"}.get(result, "")
    console.print(f"budget: {_gib(budget)} per GPU, {label}")
    console.print(f"verdict: [{style}]{result}[/{style}]" if style else f"verdict: {result}")
    for note in est.assumptions:
        console.print(f"  assumption: {note}", highlight=False)
    if alts:
        console.print("what would make it fit:")
        for alt in alts:
            mark = verdict(alt.estimate, budget)
            console.print(f"  {alt.label}: {_gib(alt.estimate.total_bytes)} ({mark})")
