"""Verdicts against a budget, and the changes that would make a job fit.

Shared by the ``estimate`` command and rule TL101 so both say the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from tunelint.memory.estimate import Estimate
from tunelint.memory.settings import estimate_from_settings

Verdict = Literal["fits", "may not fit", "does not fit", "no budget"]


def verdict(est: Estimate, budget_bytes: int | None) -> Verdict:
    """Error when even the optimistic figure exceeds the budget, warn on the conservative."""
    if budget_bytes is None:
        return "no budget"
    if est.optimistic_bytes > budget_bytes:
        return "does not fit"
    if est.conservative_bytes > budget_bytes or est.total_bytes > budget_bytes:
        return "may not fit"
    return "fits"


@dataclass(frozen=True)
class Alternative:
    """One change to the job and the estimate it would give."""

    label: str
    change: dict[str, object]
    estimate: Estimate


def alternatives(settings: Mapping[str, object]) -> list[Alternative]:
    """Estimates for LoRA, 4-bit QLoRA, checkpointing, batch 1 and ZeRO-3 offload.

    Only changes that differ from the current settings and lower the estimate are
    returned, cheapest first. The QLoRA option keeps the job's own LoRA rank and targets
    when it has them, so it never adds adapters the job did not ask for.
    """
    base = dict(settings)
    adapter = str(base.get("adapter") or "full").lower()
    quant = bool(base.get("load_in_4bit")) or adapter == "qlora"
    gpus = base.get("num_gpus") or 1
    options: list[tuple[str, dict[str, object]]] = []
    if adapter in ("full", "none", "") and not quant:
        options.append(
            ("LoRA (r=16, q/k/v/o)", {"adapter": "lora", "lora_r": 16, "lora_targets": "q,k,v,o"})
        )
    if not quant:
        qlora: dict[str, object] = {"adapter": "qlora", "load_in_4bit": True}
        label = "QLoRA (4-bit base, same adapters)"
        if adapter in ("full", "none", ""):
            qlora.update({"lora_r": 16, "lora_targets": "q,k,v,o"})
            label = "QLoRA (4-bit base, r=16, q/k/v/o)"
        options.append((label, qlora))
    if not base.get("grad_checkpointing"):
        options.append(("gradient checkpointing", {"grad_checkpointing": True}))
    batch = base.get("batch_size")
    if isinstance(batch, int) and batch > 1:
        options.append(
            ("batch size 1 (raise grad_accum to keep the global batch)", {"batch_size": 1})
        )
    if adapter in ("full", "none", "") and not quant:
        options.append(
            (
                f"DeepSpeed ZeRO-3 + CPU offload over {gpus} GPU(s)",
                {
                    "zero_stage": 3,
                    "offload_optimizer_device": "cpu",
                    "offload_param_device": "cpu",
                    "mixed_precision": base.get("mixed_precision") or "bf16",
                },
            )
        )
    current = estimate_from_settings(base).total_bytes
    found: list[Alternative] = []
    for label, change in options:
        est = estimate_from_settings({**base, **change})
        if est.total_bytes < current:  # a suggestion must need less than the job as it is
            found.append(Alternative(label, change, est))
    return sorted(found, key=lambda alt: alt.estimate.total_bytes)
