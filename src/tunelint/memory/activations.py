"""Activation and logits memory of one micro-batch, counted tensor by tensor.

Sources (accessed 2026-12-04):

- Korthikanti et al., "Reducing Activation Recomputation in Large Transformer Models"
  (2022), https://arxiv.org/abs/2205.05198: ``s*b*h*(34 + 5*a*s/h)`` bytes per GPT layer
  in 16 bit. Here each saved tensor is counted, so gated MLPs, GQA, LoRA (a frozen linear
  keeps no input for its weight gradient), fp32 norms and SDPA/flash attention (no
  ``s^2`` scores) are reflected.
- FlashAttention / SDPA memory-efficient kernels keep only q, k, v, the output and the
  log-sum-exp: Dao et al. (2022), https://arxiv.org/abs/2205.14135.
- bitsandbytes 0.50 ``MatMul4Bit`` saves only the packed weight for backward; its
  ``MatMul8bitLt`` saves the input as well
  (https://github.com/bitsandbytes-foundation/bitsandbytes, ``autograd/_functions.py``).
- Hugging Face causal-LM loss upcasts the logits to fp32 before cross-entropy
  (``transformers/loss/loss_utils.py``), so the logits exist in 16 and 32 bit and the
  backward adds fp32 gradients; torchtune's chunked loss and LitGPT's chunked
  cross-entropy keep about one 16-bit copy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tunelint.memory.estimate import TrainingSetup

LINEAR_SLOTS = ("q", "k", "v", "o", "gate", "up", "down")


def act_bytes(setup: TrainingSetup) -> int:
    """Bytes per activation element: 4 when the model runs in fp32 without autocast."""
    return 4 if (setup.param_bytes == 4 and not setup.amp) else 2


def _layer_token_bytes(setup: TrainingSetup) -> float:
    """Bytes kept for backward per token per block (without the s^2 attention scores)."""
    a = setup.model.arch
    ab = act_bytes(setup)
    full = setup.method == "full"
    nb = 4 if (a.norm == "rms" or setup.amp or ab == 4) else ab
    # a linear keeps its input when its weight trains; bitsandbytes' 8-bit matmul keeps it
    # for frozen weights too, as did its 4-bit matmul before 0.43.2; torchao's NF4 linear
    # (torchtune) keeps only the packed weight
    keeps_input = setup.framework != "torchtune" and (
        setup.quant_bits == 8 or (setup.quant_bits == 4 and setup.bnb_keeps_input)
    )
    trained = set(LINEAR_SLOTS) if (full or keeps_input) else set(setup.lora_targets)
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


def score_bytes(setup: TrainingSetup, s_q: int, s_k: int) -> float:
    """Eager attention keeps the softmax of the b x heads x s x s scores per layer."""
    a = setup.model.arch
    if setup.attention != "eager":
        return 0.0
    ab = act_bytes(setup)
    per = 4.0 + (ab if ab != 4 else 0)  # fp32 softmax output (+ its 16-bit cast)
    if a.softcap:
        per += ab  # Gemma 2 soft-caps the scores: tanh keeps its output for backward
    if a.dropout > 0:
        per += 1 + ab  # dropout mask and output
    return per * a.heads * s_q * s_k


def activation_parts(setup: TrainingSetup, factor: float = 1.0) -> tuple[float, float]:
    """(kept for backward across all blocks, transient peak of the block in backward)."""
    a = setup.model.arch
    b, s = setup.batch, setup.seq
    s_dec = setup.target_len or s
    per_tok = _layer_token_bytes(setup) * factor
    resid = 4 if act_bytes(setup) == 4 or setup.amp else 2
    layer_sets: list[tuple[int, float, float]] = []  # (layers, bytes per layer, ckpt bytes)
    if a.kind == "encoder-decoder":
        enc = b * s * per_tok + b * score_bytes(setup, s, s)
        dec_tok = per_tok + 0.35 * per_tok  # + cross-attention half
        dec = b * s_dec * dec_tok + b * (
            score_bytes(setup, s_dec, s_dec) + score_bytes(setup, s_dec, s)
        )
        layer_sets = [(a.layers, enc, b * s * a.hidden * resid)]
        layer_sets.append((a.dec_layers, dec, b * s_dec * a.hidden * resid))
    else:
        one = b * s * per_tok + b * score_bytes(setup, s, s)
        layer_sets = [(a.layers, one, b * s * a.hidden * resid)]
    biggest = max(one for _, one, _ in layer_sets)
    if setup.grad_checkpointing:
        kept = sum(n * ckpt for n, _, ckpt in layer_sets)
        return kept, 1.5 * biggest  # recomputed block + its backward temporaries
    return sum(n * one for n, one, _ in layer_sets), 0.5 * biggest


def logits_per_element(setup: TrainingSetup, hf_bytes: float) -> float:
    """Bytes per (token, vocabulary entry) at the loss's peak, by loss implementation."""
    loss = setup.loss
    # Gemma 2's final soft-capping (tanh(x / cap) * cap) keeps tanh's 16-bit output
    softcap = 2.0 if setup.model.arch.softcap else 0.0
    if loss == "auto":
        loss = {"transformers": "standard", "torchtune": "chunked", "litgpt": "litgpt"}[
            setup.framework
        ]
    if loss == "chunked":
        return 3.0 + softcap
    if loss == "litgpt":
        return 4.0 + softcap
    # fp32 activations: the logits and their gradient are fp32 throughout (4 more bytes)
    if act_bytes(setup) == 4:
        return hf_bytes + 4.0 + softcap
    # transformers < 4.46 returned ``logits.float()``: the output holds an fp32 copy
    # through backward instead of the 16-bit one (2 more bytes)
    return hf_bytes + (2.0 if setup.logits_fp32_kept else 0.0) + softcap


def logits_bytes(setup: TrainingSetup, hf_bytes: float) -> int:
    """Logits and cross-entropy over the whole vocabulary for the micro-batch."""
    a = setup.model.arch
    if a.kind == "encoder":
        return setup.batch * setup.seq * 4 * max(1, a.num_labels)
    tokens = setup.batch * (setup.target_len or setup.seq)
    return int(tokens * a.vocab * logits_per_element(setup, hf_bytes))


def largest_transient(setup: TrainingSetup) -> int:
    """The biggest single temporary of a step: one fp32 logits copy or one layer's scores.

    The caching allocator keeps such blocks reserved after they are freed, and later
    smaller requests split them, so reserved memory exceeds allocated by about this much.
    """
    a = setup.model.arch
    tokens = setup.batch * (setup.target_len or setup.seq)
    logits = 0 if a.kind == "encoder" else tokens * a.vocab * 4
    scores = setup.batch * score_bytes(setup, setup.seq, setup.seq) if setup.attention else 0
    return int(max(logits, scores))
