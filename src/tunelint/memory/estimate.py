"""Peak GPU memory per device for one training run.

Per GPU::

    total = context + (1 + fragmentation) x (weights + gradients + optimizer
                                             + activations + logits + comm buffers)

Public anchors for each term (the code is written from these descriptions):

- weights / gradients / optimizer bytes per parameter: EleutherAI, "Transformer Math
  101" (2023); Rajbhandari et al., "ZeRO: Memory Optimizations Toward Training Trillion
  Parameter Models" (2020) for K=12 bytes of fp32 optimizer state under mixed precision
  and its division over GPUs per ZeRO stage; DeepSpeed's
  ``estimate_zero2_model_states_mem_needs`` / ``estimate_zero3_...`` for the offload cases.
- activations: Korthikanti et al., "Reducing Activation Recomputation in Large
  Transformer Models" (2022): ``s*b*h*(34 + 5*a*s/h)`` bytes per layer for a GPT block
  in 16 bit; here counted tensor by tensor so that gated MLPs, GQA, LoRA (frozen linears
  keep no inputs), fp32 norms and FlashAttention/SDPA (no s^2 scores) are reflected.
- 4-bit NF4 storage with double quantisation: Dettmers et al., "QLoRA" (2023).
- weights by dtype: Hugging Face accelerate ``estimate-memory``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from tunelint.memory.arch import Architecture
from tunelint.memory.models import ModelInfo

GiB = 1 << 30

Method = Literal["full", "lora", "qlora"]
Framework = Literal["transformers", "torchtune", "litgpt"]
LINEAR_SLOTS = ("q", "k", "v", "o", "gate", "up", "down")


@dataclass(frozen=True)
class TrainingSetup:
    """A normalised training configuration (see `settings.setup_from_settings`)."""

    model: ModelInfo
    method: Method = "full"
    param_bytes: int = 4
    amp: bool = False
    quant_bits: int | None = None
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


@dataclass(frozen=True)
class Estimate:
    """Peak memory per GPU, in bytes, with its breakdown and the assumptions behind it."""

    model_id: str
    total_bytes: int
    optimistic_bytes: int
    conservative_bytes: int
    allocated_bytes: int
    breakdown: dict[str, int]
    params: int
    trainable_params: int
    params_source: str
    confidence: str
    num_gpus: int = 1
    assumptions: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Scenario:
    context: int
    fragmentation: float
    nf4_bytes: float
    logits_hf: float
    activation_factor: float
    optimizer_temp: bool
    count_paged: bool
    overlap_grads: bool


# optimistic / point / conservative; ranges come from the spread seen in public measurements
OPTIMISTIC = _Scenario(300 << 20, 0.03, 0.516, 8.0, 0.9, False, False, True)
POINT = _Scenario(512 << 20, 0.08, 0.516, 12.0, 1.0, False, False, False)
CONSERVATIVE = _Scenario(GiB, 0.15, 0.5625, 16.0, 1.15, True, True, False)


# ------------------------------------------------------------------------ adapters
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
    if arch.is_moe:
        ew = arch.expert_width
        mlp_slots = {"gate": (h, ew), "up": (h, ew), "down": (ew, h)}
        attn = sum(r * (a + b) for s, (a, b) in shapes.items() if s in targets and s in "qkvo")
        moe = sum(r * (a + b) for s, (a, b) in mlp_slots.items() if s in targets)
        per_layer = attn + moe * (arch.experts + arch.shared_experts)
    layers = arch.layers
    if arch.kind == "encoder-decoder":  # decoder blocks carry self- and cross-attention
        attn = sum(r * (a + b) for s, (a, b) in shapes.items() if s in targets and s in "qkvo")
        layers_total = per_layer * arch.layers + (per_layer + attn) * arch.dec_layers
        return layers_total + _head_lora(arch, targets, r)
    return per_layer * layers + _head_lora(arch, targets, r)


def _head_lora(arch: Architecture, targets: frozenset[str], r: int) -> int:
    return r * (arch.hidden + arch.vocab) if "lm_head" in targets else 0


# ------------------------------------------------------------------------ activations
def _layer_token_bytes(setup: TrainingSetup) -> float:
    """Bytes kept for backward per token per block (without the s^2 attention scores)."""
    a = setup.model.arch
    ab = 4 if (setup.param_bytes == 4 and not setup.amp and setup.quant_bits is None) else 2
    full = setup.method == "full"
    nb = 4 if (a.norm == "rms" or setup.amp or ab == 4) else ab
    # a linear keeps its input when its weight trains; bitsandbytes' 4/8-bit matmul
    # functions keep it even for frozen weights (torchao's NF4 linear does not)
    bnb = setup.quant_bits is not None and setup.framework != "torchtune"
    trained = set(LINEAR_SLOTS) if (full or bnb) else set(setup.lora_targets)
    targets = set() if full else set(setup.lora_targets)
    drop = (ab + 1) if (not full and setup.lora_dropout > 0) else 0
    h, q, kv = a.hidden, a.q_out, a.kv_out
    width = a.intermediate
    if a.is_moe:
        width = a.expert_width * (a.experts_per_token + a.shared_experts)

    norms = max(1, min(a.norms_per_layer, 4))
    total = norms * nb * h
    if full and a.norm == "rms":
        total += norms * ab * h  # the normalised copy kept for the norm weight's gradient
    if trained & {"q", "k", "v"}:
        total += ab * h + drop * h * len(targets & {"q", "k", "v"})
    total += ab * (2 * q + 2 * kv)  # q, k, v and the attention output (SDPA / flash)
    if "o" in trained:
        total += ab * q + (drop * q if "o" in targets else 0)
    if trained & {"gate", "up"}:
        total += ab * h + drop * h * len(targets & {"gate", "up"})
    total += ab * width * (3 if a.mlp == "gated" else 1)
    if "down" in trained:
        total += ab * width + (drop * width if "down" in targets else 0)
    if a.dropout > 0:
        total += 2 * h  # one-byte masks of the two residual dropouts
    return float(total)


def _score_bytes(setup: TrainingSetup, s_q: int, s_k: int) -> float:
    """Eager attention keeps the softmax of the b x heads x s x s scores per layer."""
    a = setup.model.arch
    if setup.attention != "eager":
        return 0.0
    ab = 4 if (setup.param_bytes == 4 and not setup.amp) else 2
    per = 4.0 + (ab if ab != 4 else 0)  # fp32 softmax output (+ its 16-bit cast)
    if a.dropout > 0:
        per += 1 + ab  # dropout mask and output
    return per * a.heads * s_q * s_k


def activation_bytes(setup: TrainingSetup, factor: float = 1.0) -> int:
    """Activation memory of one micro-batch on one GPU."""
    kept, transient = activation_parts(setup, factor)
    return int(kept + transient)


def activation_parts(setup: TrainingSetup, factor: float = 1.0) -> tuple[float, float]:
    """(kept for backward across all blocks, transient peak of the block in backward)."""
    a = setup.model.arch
    b, s = setup.batch, setup.seq
    s_dec = setup.target_len or s
    per_tok = _layer_token_bytes(setup) * factor
    resid = 4 if (setup.amp or (setup.param_bytes == 4 and setup.quant_bits is None)) else 2
    enc_layers = a.layers
    layer_sets: list[tuple[int, float, float]] = []  # (layers, bytes per layer, ckpt bytes)
    if a.kind == "encoder-decoder":
        enc = b * s * per_tok + b * _score_bytes(setup, s, s)
        dec_tok = per_tok + 0.35 * per_tok  # + cross-attention half
        dec = b * s_dec * dec_tok + b * (
            _score_bytes(setup, s_dec, s_dec) + _score_bytes(setup, s_dec, s)
        )
        layer_sets = [(enc_layers, enc, b * s * a.hidden * resid)]
        layer_sets.append((a.dec_layers, dec, b * s_dec * a.hidden * resid))
    else:
        one = b * s * per_tok + b * _score_bytes(setup, s, s)
        layer_sets = [(a.layers, one, b * s * a.hidden * resid)]
    biggest = max(one for _, one, _ in layer_sets)
    if setup.grad_checkpointing:
        kept = sum(n * ckpt for n, _, ckpt in layer_sets)
        return kept, 1.5 * biggest  # recomputed block + its backward temporaries
    return sum(n * one for n, one, _ in layer_sets), 0.5 * biggest


def logits_bytes(setup: TrainingSetup, hf_bytes: float) -> int:
    """Logits and cross-entropy: tokens x vocab, upcast to fp32 by most trainers.

    Hugging Face models keep the 16-bit logits, an fp32 copy and the fp32 log-softmax;
    its backward adds two more fp32 buffers. torchtune (chunked, compiled loss) and
    LitGPT (chunked 16-bit loss) keep about one or two 16-bit copies.
    """
    a = setup.model.arch
    if a.kind == "encoder":
        return setup.batch * setup.seq * 4 * max(1, a.num_labels)
    tokens = setup.batch * (setup.target_len or setup.seq)
    per = {"transformers": hf_bytes, "torchtune": 3.0, "litgpt": 4.0}[setup.framework]
    return int(tokens * a.vocab * per)


# ------------------------------------------------------------------------ model states
def optimizer_state_bytes(optimizer: str, state_bytes: int) -> tuple[float, bool]:
    """(bytes per trainable parameter, paged?) of an optimizer's state.

    torch optimizers keep state in the parameter dtype; bitsandbytes 8-bit optimizers use
    one byte per moment, its 32-bit ones fp32. Adafactor's factored second moment is
    accounted for separately (rows + columns, not rows x columns).
    """
    table: dict[str, tuple[float, bool]] = {
        "adamw": (2.0 * state_bytes, False),
        "adamw_fused": (2.0 * state_bytes, False),
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


def _terms(setup: TrainingSetup, sc: _Scenario) -> dict[str, int]:
    """All terms in bytes (before context and fragmentation) for one scenario."""
    info, a = setup.model, setup.model.arch
    n = max(1, setup.num_gpus)
    zero = 3 if setup.fsdp else setup.zero_stage
    sd_opt = n if zero >= 1 else 1
    sd_grad = n if zero >= 2 else 1
    sd_par = n if zero >= 3 else 1
    full = setup.method == "full"
    emb = a.embedding_params()
    body = max(0, info.params - emb)
    layer = a.largest_layer_params()
    terms: dict[str, int] = {}

    # weights (+ fp32 -> 16-bit autocast copies, + NF4 dequantisation buffer)
    if setup.quant_bits == 4:
        weights = body * sc.nf4_bytes + emb * 2 + 2 * a.hidden * a.intermediate
    elif setup.quant_bits == 8:
        weights = body * 1.0 + emb * 2 + 2 * a.hidden * a.intermediate
    else:
        weights = float(info.params * setup.param_bytes)
    if zero >= 3 and (sd_par > 1 or setup.offload_param):
        resident = 0.0 if setup.offload_param else weights / sd_par
        weights = resident + 2 * layer * setup.param_bytes  # gathered block + prefetch
    if setup.amp and setup.quant_bits is None:
        copies = info.params if (full or not setup.grad_checkpointing) else layer
        weights += 2 * copies
    terms["weights"] = int(weights)

    trainable = info.params if full else lora_params(a, setup.lora_targets, setup.lora_r)
    tb = setup.param_bytes if full else setup.adapter_bytes
    if not full:
        terms["adapters"] = trainable * tb

    # gradients
    grads = trainable * tb / sd_grad
    if setup.offload_optimizer and zero >= 1:
        grads = min(grads, 2.0 * a.hidden * a.hidden * tb)
    terms["gradients"] = int(grads)

    # optimizer state (+ fp32 master weights kept by DeepSpeed / FSDP mixed precision)
    master = full and setup.param_bytes < 4 and zero >= 1 and setup.quant_bits is None
    state_b = 4 if master else tb
    per, paged = optimizer_state_bytes(setup.optimizer, state_b)
    opt = trainable * per
    if setup.optimizer == "adafactor":
        opt = 4.0 * trainable * (2.0 / a.hidden) if full else 4.0 * trainable * 0.5
    if master:
        opt += 4 * trainable
    opt /= sd_opt
    if setup.offload_optimizer:
        opt = 0.0
    if paged and not sc.count_paged:
        opt = 0.0
    terms["optimizer"] = int(opt)
    temp = 0.0
    if setup.optimizer in ("adamw", "lion") and not setup.offload_optimizer:
        temp = trainable * state_b / sd_opt  # foreach step: one state-sized temporary

    kept, transient = activation_parts(setup, sc.activation_factor)
    logits = logits_bytes(setup, sc.logits_hf)
    if setup.grad_checkpointing:  # the logits are freed before the first block is recomputed
        transient = max(0.0, transient - logits)
    acts = kept + transient
    terms["activations"] = int(acts)
    terms["logits"] = logits
    if sc.overlap_grads and setup.grad_accum <= 1 and sd_grad == 1:
        # zero_grad(set_to_none=True): gradients and activations peak at different moments
        if terms["gradients"] + temp > acts + logits:
            terms["activations"] = terms["logits"] = 0
            terms["optimizer_step_temp"] = int(temp)
        else:
            terms["gradients"] = 0
    elif temp and sc.optimizer_temp:
        terms["optimizer_step_temp"] = int(temp)

    comm = 0.0
    if n > 1 and zero == 0 and not setup.fsdp:
        comm = trainable * tb  # DDP gradient buckets mirror the gradients
    elif zero >= 1:
        comm = 2 * 2.0 * a.hidden * a.hidden * 2  # reduce + all-gather buckets ("auto" sizes)
    terms["comm_buffers"] = int(comm)
    return terms


def _confidence(setup: TrainingSetup, assumed: int) -> str:
    if setup.model.confidence == "low":
        return "low"
    return "high" if assumed == 0 else "medium"


def estimate(setup: TrainingSetup, assumptions: list[str] | None = None) -> Estimate:
    """Estimate peak memory per GPU for `setup` (optimistic, point and conservative)."""
    notes = list(assumptions or [])
    notes += list(setup.model.notes)
    totals: list[int] = []
    point_terms: dict[str, int] = {}
    allocated = 0
    for sc in (OPTIMISTIC, POINT, CONSERVATIVE):
        terms = _terms(setup, sc)
        alloc = sum(terms.values())
        frag = int(alloc * sc.fragmentation)
        totals.append(sc.context + alloc + frag)
        if sc is POINT:
            allocated = alloc
            point_terms = {"cuda_context": sc.context, **terms, "fragmentation": frag}
    trainable = (
        setup.model.params
        if setup.method == "full"
        else lora_params(setup.model.arch, setup.lora_targets, setup.lora_r)
    )
    assumed = sum(1 for n in notes if "assumed" in n)
    return Estimate(
        model_id=setup.model.model_id,
        total_bytes=totals[1],
        optimistic_bytes=min(totals),
        conservative_bytes=max(totals),
        allocated_bytes=allocated,
        breakdown=point_terms,
        params=setup.model.params,
        trainable_params=trainable,
        params_source=setup.model.source,
        confidence=_confidence(setup, assumed),
        num_gpus=max(1, setup.num_gpus),
        assumptions=notes,
    )
