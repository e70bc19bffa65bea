"""Model states on one GPU: weights, adapters, gradients, optimizer, sharding buffers.

Sources (accessed 2026-12-04):

- bytes per parameter and mixed precision (K = 12 bytes of fp32 master weights and Adam
  moments): Rajbhandari et al., "ZeRO", https://arxiv.org/abs/1910.02054, and EleutherAI,
  "Transformer Math 101", https://blog.eleuther.ai/transformer-math/. The fp32 masters
  exist under DeepSpeed's 16-bit optimizers and FSDP mixed precision over fp32 weights;
  pure 16-bit FSDP (Lightning's ``bf16-true``, fsdp_qlora) keeps none.
- what ZeRO-1/2/3 divide by the GPU count, and the bucket settings (defaults
  ``reduce_bucket_size`` 5e8, ``allgather_bucket_size`` 5e8, ``stage3_prefetch_bucket_size``
  5e7, ``stage3_max_live_parameters`` 1e9 elements):
  https://www.deepspeed.ai/docs/config-json/ ; Hugging Face's "auto" values
  (``reduce_bucket_size = hidden^2``, ``stage3_prefetch_bucket_size = 0.9 hidden^2``):
  https://huggingface.co/docs/transformers/deepspeed .
- FSDP gathers one wrapped unit at a time and prefetches the next (``BACKWARD_PRE``):
  https://pytorch.org/docs/stable/fsdp.html .
- NF4 storage: 4 bits per weight plus one absmax per 64 weights (fp32, or 8 bit plus one
  fp32 per 256 blocks with double quantisation): Dettmers et al., "QLoRA",
  https://arxiv.org/abs/2305.14314. ``MatMul4Bit`` dequantises the weight to the compute
  dtype for every matmul (a weight-sized temporary), bitsandbytes ``autograd/_functions.py``.
- torch AdamW's foreach step allocates one state-sized temporary (``_foreach_sqrt`` of the
  second moment), ``torch/optim/adamw.py``; a per-tensor loop (transformers' own AdamW,
  torch before 2.0) one tensor's worth; bitsandbytes 8-bit optimizers keep one byte
  per moment, https://huggingface.co/docs/bitsandbytes/main/en/optimizers .
- DDP copies gradients into communication buckets:
  https://pytorch.org/docs/stable/notes/ddp.html .
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tunelint.memory.arch import Architecture

if TYPE_CHECKING:
    from tunelint.memory.setup import TrainingSetup

NF4_BYTES = 0.5 + 4 / 64  # 0.5625 bytes per weight without double quantisation
NF4_DQ_BYTES = 0.5 + 1 / 64 + 4 / (64 * 256)  # ~0.516 with double quantisation
DS_REDUCE_BUCKET = 500_000_000  # DeepSpeed defaults, elements
DS_ALLGATHER_BUCKET = 500_000_000
DS_PREFETCH_BUCKET = 50_000_000
DS_MAX_LIVE = 1_000_000_000


def lora_params(arch: Architecture, targets: frozenset[str], r: int) -> int:
    """Trainable LoRA parameters: r x (in + out) for every targeted linear of every layer."""
    h, i = arch.hidden, arch.intermediate
    shapes = {
        "q": (h, arch.q_out),
        "k": (h, arch.kv_out),
        "v": (h, arch.kv_out),
        "o": (arch.q_out, h),
        "gate": (h, i),
        "up": (h, i),
        "down": (i, h),
    }
    if arch.mlp == "plain":
        shapes.pop("gate")
    per_layer = sum(r * (a + b) for slot, (a, b) in shapes.items() if slot in targets)
    attn = sum(r * (a + b) for s, (a, b) in shapes.items() if s in targets and s in "qkvo")
    if arch.is_moe:
        ew = arch.expert_width
        mlp_slots = {"gate": (h, ew), "up": (h, ew), "down": (ew, h)}
        moe = sum(r * (a + b) for s, (a, b) in mlp_slots.items() if s in targets)
        per_layer = attn + moe * (arch.experts + arch.shared_experts)
    head = r * (arch.hidden + arch.vocab) if "lm_head" in targets else 0
    if arch.kind == "encoder-decoder":  # decoder blocks carry self- and cross-attention
        return per_layer * arch.layers + (per_layer + attn) * arch.dec_layers + head
    return per_layer * arch.layers + head


def trainable_params(setup: TrainingSetup) -> int:
    if setup.method == "full":
        return setup.model.params
    return lora_params(setup.model.arch, setup.lora_targets, setup.lora_r)


def zero_level(setup: TrainingSetup) -> int:
    """0-3: what is sharded (FSDP full sharding counts as 3)."""
    if setup.num_gpus <= 1 and not (setup.offload_param or setup.offload_optimizer):
        return 0
    return 3 if setup.fsdp else setup.zero_stage


def base_weight_bytes(setup: TrainingSetup, nf4: float) -> float:
    """Every weight of the base model, whole (before any sharding)."""
    a, info = setup.model.arch, setup.model
    emb = a.embedding_params()
    body = max(0, info.params - emb)
    if setup.quant_bits == 4:
        return body * nf4 + emb * setup.param_bytes
    if setup.quant_bits == 8:
        return body * 1.0 + emb * setup.param_bytes
    return float(info.params * setup.param_bytes)


def largest_linear(arch: Architecture) -> int:
    return max(arch.hidden * arch.intermediate, arch.hidden * arch.q_out)


def gathered_bytes(setup: TrainingSetup, per_param: float) -> float:
    """Parameters ZeRO-3 / FSDP hold unsharded at once: the unit in use and the prefetch."""
    a = setup.model.arch
    layer = a.largest_layer_params()
    if setup.fsdp:
        return 2.0 * layer * per_param  # current unit + the one prefetched (BACKWARD_PRE)
    prefetch = setup.prefetch_bucket or DS_PREFETCH_BUCKET
    live = setup.max_live_params or DS_MAX_LIVE
    return min(layer + prefetch, max(layer, live)) * per_param


def comm_buffers(setup: TrainingSetup, trainable: int, grad_bytes: int) -> float:
    """Gradient-communication buffers: DDP buckets, ZeRO reduce / all-gather buckets."""
    n, zero = max(1, setup.num_gpus), zero_level(setup)
    if n > 1 and zero == 0:
        return float(trainable * grad_bytes)  # DDP buckets mirror the gradients
    if zero == 0:
        return 0.0
    if setup.fsdp:
        # reduce-scatter input: one unit's unsharded gradients
        unit = min(trainable, setup.model.arch.largest_layer_params())
        return float(unit * grad_bytes)
    reduce = min(trainable, setup.reduce_bucket or DS_REDUCE_BUCKET) * grad_bytes
    if zero in (1, 2):
        gather = min(trainable, setup.allgather_bucket or DS_ALLGATHER_BUCKET) * grad_bytes
        return float(reduce + gather)
    return float(reduce)


def optimizer_state_bytes(optimizer: str, state_bytes: int) -> tuple[float, bool]:
    """(bytes per trainable parameter, paged?) of an optimizer's state."""
    table: dict[str, tuple[float, bool]] = {
        "adamw": (2.0 * state_bytes, False),
        "adamw_fused": (2.0 * state_bytes, False),
        "adamw_loop": (2.0 * state_bytes, False),
        "adamw_8bit": (2.0, False),
        "paged_adamw_8bit": (2.0, True),
        "paged_adamw_32bit": (8.0, True),
        "lion": (1.0 * state_bytes, False),
        "lion_8bit": (1.0, False),
        "paged_lion_8bit": (1.0, True),
        "sgd": (0.0, False),
        "sgd_momentum": (1.0 * state_bytes, False),
        "one_state": (1.0 * state_bytes, False),
        "adafactor": (0.0, False),
    }
    return table.get(optimizer, table["adamw"])


def model_states(setup: TrainingSetup, nf4: float, count_paged: bool) -> dict[str, float]:
    """weights, gathered_params, quant_workspace, adapters, gradients, optimizer, step temp."""
    a = setup.model.arch
    n = max(1, setup.num_gpus)
    zero = zero_level(setup)
    full = setup.method == "full"
    out: dict[str, float] = {}

    whole = base_weight_bytes(setup, nf4)
    weights = whole
    if zero >= 3:
        weights = 0.0 if setup.offload_param else whole / n
        per = nf4 if setup.quant_bits == 4 else setup.param_bytes
        out["gathered_params"] = gathered_bytes(setup, per)
    if setup.amp and setup.quant_bits is None:
        # autocast keeps 16-bit copies of fp32 weights until backward has used them
        copies = setup.model.params if not setup.grad_checkpointing else a.largest_layer_params()
        weights += 2 * copies / (n if zero >= 3 else 1)
    out["weights"] = weights
    if setup.quant_bits:
        # dequantised weight of the matmul in flight (compute dtype, 2 bytes)
        out["quant_workspace"] = 2.0 * largest_linear(a)

    trainable = trainable_params(setup)
    tb = setup.param_bytes if full else setup.adapter_bytes
    if not full:  # ZeRO-3 / FSDP shard the trainable parameters with the frozen ones
        out["adapters"] = float(trainable * tb) / (n if zero >= 3 else 1)
    sd_grad = n if zero >= 2 else 1
    grads = trainable * tb / sd_grad
    if setup.offload_optimizer and zero >= 1:
        grads = 0.0  # gradient partitions go to host memory with the optimizer
    out["gradients"] = grads

    master = setup.master_weights and zero >= 1
    state_b = 4 if master else tb
    per_p, paged = optimizer_state_bytes(setup.optimizer, state_b)
    opt = trainable * per_p
    if setup.optimizer == "adafactor":
        opt = 4.0 * trainable * (2.0 / a.hidden) if full else 4.0 * trainable * 0.5
    if master:
        opt += 4 * trainable
    opt /= n if zero >= 1 else 1
    if setup.offload_optimizer or (paged and not count_paged):
        opt = 0.0
    out["optimizer"] = opt
    temp = 0.0
    if setup.optimizer in ("adamw", "lion") and not setup.offload_optimizer:
        temp = trainable * state_b / (n if zero >= 1 else 1)
    elif setup.optimizer == "adamw_loop" and not setup.offload_optimizer:
        # one parameter at a time: the largest tensor's ``sqrt`` temporary
        temp = min(trainable, a.vocab * a.emb_width) * state_b / (n if zero >= 1 else 1)
    out["optimizer_step_temp"] = temp
    out["comm_buffers"] = comm_buffers(setup, trainable, tb if not master else 2)
    return out


def loading_peak(setup: TrainingSetup) -> float:
    """Allocated peak while a checkpoint is loaded whole onto each GPU before sharding.

    LitGPT's FSDP recipes load the full state dict into the sharded model through
    Lightning's ``_load_raw_module_state`` ("gathering all weights first"), and a Trainer
    without ``zero3_init`` / ``cpu_ram_efficient_loading`` materialises the whole model on
    every rank first. Zero when the model is not sharded or loads sharded. LitGPT's 4-bit
    runs have no such peak: Lightning's bitsandbytes plugin quantises layer by layer.
    """
    if zero_level(setup) < 3 or setup.sharded_loading:
        return 0.0
    whole = base_weight_bytes(setup, NF4_DQ_BYTES)
    n = max(1, setup.num_gpus)
    return whole + whole / n
