"""One training run, normalised: what every memory term is computed from.

Kept apart from the estimator so that the modules computing its terms (``activations``,
``states``) and the estimator that adds them up all depend on it, and not on each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tunelint.memory.models import ModelInfo

Method = Literal["full", "lora", "qlora"]
Framework = Literal["transformers", "torchtune", "litgpt"]
Quantity = Literal["allocated", "reserved", "device"]
QUANTITIES: tuple[Quantity, ...] = ("allocated", "reserved", "device")


@dataclass(frozen=True)
class TrainingSetup:
    """A normalised training configuration (see `settings.setup_from_settings`)."""

    model: ModelInfo
    method: Method = "full"
    param_bytes: int = 4
    amp: bool = False
    quant_bits: int | None = None
    double_quant: bool = True
    lora_r: int = 8
    lora_targets: frozenset[str] = frozenset({"q", "v"})
    lora_dropout: float = 0.05
    adapter_bytes: int = 4
    batch: int = 1
    seq: int = 512
    target_len: int = 0
    grad_accum: int = 1
    grad_checkpointing: bool = False
    optimizer: str = "adamw"
    num_gpus: int = 1
    zero_stage: int = 0
    fsdp: bool = False
    offload_optimizer: bool = False
    offload_param: bool = False
    attention: str = "sdpa"
    framework: Framework = "transformers"
    loss: str = "auto"
    sharded_loading: bool = True
    reduce_bucket: int = 0
    allgather_bucket: int = 0
    prefetch_bucket: int = 0
    max_live_params: int = 0
    cuda_context: int = 0
    unmodelled: tuple[str, ...] = ()
    # fp32 master weights beside 16-bit ones (DeepSpeed, FSDP mixed precision over fp32)
    master_weights: bool = False
    # release-dependent behaviour (see settings.release_effects): gradients kept between
    # steps (torch < 2.0), 4-bit matmuls keeping their input (bitsandbytes < 0.43.2), the
    # causal-LM logits returned in fp32 (transformers < 4.46)
    grads_persist: bool = False
    bnb_keeps_input: bool = False
    logits_fp32_kept: bool = False
