"""Two peer estimators, re-implemented from their published descriptions for comparison.

Neither peer's code is copied; each method is described here in our own words.

**accelerate estimate-memory** (Hugging Face accelerate, ``commands/estimate.py`` and the
"Model memory estimator" guide, https://huggingface.co/docs/accelerate/usage_guides/
model_size_estimator, accessed 2026-12-04). It builds the model with ``AutoModel`` (the
bare model, without a causal-LM head) on the meta device, sums its parameter bytes in
fp32, and reports per dtype a "Total Size" (the fp32 size halved for float16, quartered
for int8, divided by eight for int4) and "Training using Adam" as the largest of four
stages: for float32, model 4P, gradients 4P, optimizer 8P and "step" 16P bytes (so 16P);
for float16/bfloat16 mixed precision, model 4P, gradients 6P, optimizer 8P, step 8P (so
8P). It knows no activations, adapters, sharding or quantised training. A user reads the
Adam figure for full fine-tuning and the load size of the base dtype for LoRA / QLoRA.

**fitcheck-llm 0.3.1** (https://pypi.org/project/fitcheck-llm/, source
https://github.com/Anassbzdd/fitcheck, read 2026-12-04). Peak = weights + LoRA + optimizer
+ gradients + activations + overhead:

- weights: parameters x dtype bytes; for NF4 the quantised part at 0.5 bytes plus one fp32
  absmax per 64 weights (a quarter of that with double quantisation), and the embeddings,
  head and norms kept at 4 bytes;
- LoRA: layers x r x (in + out) over the targeted projections, held in fp32, with fp32
  gradients and AdamW states of 8 bytes (4 in bf16, 2 for 8-bit Adam, 0 for SGD); full
  fine-tuning has gradients in the compute dtype and adds 4 bytes of master weights when
  that dtype is not fp32;
- activations: per layer, compute-dtype bytes x tokens x (12 h + 3 q-width + kv-width +
  3 MLP width); eager attention adds the b x heads x s^2 scores (2.9 copies kept per
  layer, 7.4 at the layer's peak, 9 with NF4); logits 3.5 fp32 copies of tokens x vocab
  (4 with NF4). Without checkpointing: all layers' kept bytes + logits; with it: one
  hidden state per layer (fp32 with NF4) + the larger of the logits and one layer;
- overhead: 500 MiB + 5% of weights and activations, or on a Tesla T4 140.875 MiB plus a
  fitted multiple (0.58-1.97) of the smaller of logits and layer when checkpointing.

Its "tensors" figure (total minus overhead) is compared with allocated measurements, the
total with reserved and device ones. It models one GPU: sharding is not divided out.
"""

from __future__ import annotations

from dataclasses import dataclass

from tunelint.memory.arch import Architecture
from tunelint.memory.estimate import TrainingSetup

MiB = 1 << 20


def accelerate_estimate(setup: TrainingSetup) -> float:
    """Bytes the `accelerate estimate-memory` table would tell a user for this job."""
    a = setup.model.arch
    params = setup.model.params - (a.lm_head_params() if a.kind != "encoder" else 0)
    fp32 = 4.0 * params
    if setup.method == "full":
        return 16.0 * params if (setup.param_bytes == 4 and not setup.amp) else 8.0 * params
    if setup.quant_bits == 4:
        return fp32 / 8
    if setup.quant_bits == 8:
        return fp32 / 4
    return fp32 / 2 if setup.param_bytes == 2 or setup.amp else fp32


@dataclass(frozen=True)
class _Hump:
    logits_win: float
    layer_win: float | None


# fitcheck's Tesla T4 profiles: (attention kernel, quantised?) -> fitted multiples
_T4: dict[tuple[bool, bool], _Hump] = {
    (False, True): _Hump(0.6442, 0.7518),
    (False, False): _Hump(0.5808, 0.8468),
    (True, True): _Hump(1.9683, None),
    (True, False): _Hump(1.3181, None),
}


def _lora_count(a: Architecture, setup: TrainingSetup) -> int:
    dims = {
        "q": a.hidden + a.q_out,
        "k": a.hidden + a.kv_out,
        "v": a.hidden + a.kv_out,
        "o": a.q_out + a.hidden,
        "gate": a.hidden + a.intermediate,
        "up": a.hidden + a.intermediate,
        "down": a.intermediate + a.hidden,
    }
    per = sum(d for slot, d in dims.items() if slot in setup.lora_targets)
    return a.total_layers * setup.lora_r * per


def fitcheck_estimate(setup: TrainingSetup, gpu: str) -> tuple[float, float]:
    """(tensors, total) in bytes by fitcheck-llm's method."""
    a = setup.model.arch
    p = setup.model.params
    nf4 = setup.quant_bits == 4
    compute = 4 if (setup.param_bytes == 4 and not setup.amp and not nf4) else 2
    if setup.quant_bits == 8:
        compute = 4
    if nf4:
        emb = a.vocab * a.hidden * (1 if a.tied else 2)
        keep = emb + a.total_layers * 2 * a.hidden + a.hidden
        quantised = p - keep
        absmax = 4 / 64 * (0.25390625 if setup.double_quant else 1.0)
        weights = quantised * (0.5 + absmax) + keep * 4.0
    elif setup.quant_bits == 8:
        weights = float(p)
    else:
        weights = p * (4.0 if compute == 4 and not setup.amp else 2.0)
    full = setup.method == "full"
    trainable = p if full else _lora_count(a, setup)
    lora = 0.0 if full else trainable * 4.0
    opt_per = {"adamw_8bit": 2.0, "paged_adamw_8bit": 2.0, "sgd": 0.0}.get(setup.optimizer, 8.0)
    optimizer = trainable * (opt_per + (4.0 if full and compute != 4 else 0.0))
    gradients = trainable * (compute if full else 4.0)
    b, s = setup.batch, setup.seq
    tokens = b * s
    flash = setup.attention != "eager"
    bracket = 12 * a.hidden + 3 * a.q_out + a.kv_out + 3 * a.intermediate
    scores = compute * b * a.heads * s * s
    layer = compute * tokens * bracket
    retained = layer
    if not flash:
        layer += (9.0 if nf4 else 7.4) * scores
        retained += 2.9 * scores
    logits = (4.0 if nf4 else 3.5) * 4.0 * tokens * a.vocab
    if setup.grad_checkpointing:
        store = (4 if nf4 else compute) * a.total_layers * tokens * a.hidden
        acts = store + max(logits, layer)
    else:
        acts = a.total_layers * retained + logits
    tensors = weights + lora + optimizer + gradients + acts
    hump = _T4.get((flash, nf4)) if gpu == "t4" else None
    if hump is not None and setup.grad_checkpointing:
        share = hump.logits_win
        if layer > logits and hump.layer_win is not None:
            share = hump.layer_win
        overhead = 140.875 * MiB + share * min(logits, layer)
    else:
        overhead = 500 * MiB + 0.05 * (weights + acts)
    return tensors, tensors + overhead
