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
  (``transformers/loss/loss_utils.py``): the output keeps the logits (16-bit, or fp32
  before 4.46), and at the loss's backward the fp32 log-softmax output, its gradient and
  the gradient of its input are alive: 2 + 12 bytes per logit in 16 bit. fitcheck's T4
  sweep (SDPA fit rows, transformers 5.17) measures 14.1-14.7; torchtune's chunked loss
  and LitGPT's chunked cross-entropy keep about one 16-bit copy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tunelint.memory.setup import TrainingSetup

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


def score_backward_bytes(setup: TrainingSetup, s_q: int, s_k: int) -> float:
    """What the backward of one eager attention adds to its kept scores, per layer.

    At the softmax backward the gradient of its output and of its input (both fp32, as the
    softmax runs in fp32) and the incoming gradient in the activation dtype are alive with
    the kept probabilities: 8 + 2 (16-bit) or 12 (fp32) bytes per score. fitcheck's T4 sweep
    (TinyLlama 1.1B, 1024 and 2048 tokens, fit rows) puts the whole backward peak of a
    recomputed eager block at 15-16 bytes per score, kept ones included.
    """
    if setup.attention != "eager":
        return 0.0
    return (8.0 + act_bytes(setup)) * setup.model.arch.heads * s_q * s_k


def activation_parts(setup: TrainingSetup, factor: float = 1.0) -> tuple[float, float]:
    """(kept for backward across all blocks, transient peak of the block in backward)."""
    a = setup.model.arch
    b, s = setup.batch, setup.seq
    s_dec = setup.target_len or s
    per_tok = _layer_token_bytes(setup) * factor
    resid = 4 if act_bytes(setup) == 4 or setup.amp else 2
    # (layers, token-proportional bytes per layer, score bytes kept, score backward extra,
    # checkpointed bytes per layer)
    layer_sets: list[tuple[int, float, float, float, float]] = []
    if a.kind == "encoder-decoder":
        dec_tok = per_tok + 0.35 * per_tok  # + cross-attention half
        enc_scores = b * score_bytes(setup, s, s)
        dec_scores = b * (score_bytes(setup, s_dec, s_dec) + score_bytes(setup, s_dec, s))
        enc_extra = b * score_backward_bytes(setup, s, s)
        dec_extra = b * score_backward_bytes(setup, s_dec, s_dec + s)
        layer_sets = [(a.layers, b * s * per_tok, enc_scores, enc_extra, b * s * a.hidden * resid)]
        layer_sets.append(
            (a.dec_layers, b * s_dec * dec_tok, dec_scores, dec_extra, b * s_dec * a.hidden * resid)
        )
    else:
        scores, extra = b * score_bytes(setup, s, s), b * score_backward_bytes(setup, s, s)
        layer_sets = [(a.layers, b * s * per_tok, scores, extra, b * s * a.hidden * resid)]
    if setup.grad_checkpointing:
        kept = sum(n * ckpt for n, _, _, _, ckpt in layer_sets)
        # the recomputed block, the backward temporaries of its tokens and of its scores
        block = max(1.5 * tok + sc + ex for _, tok, sc, ex, _ in layer_sets)
        return kept, block
    kept = sum(n * (tok + sc) for n, tok, sc, _, _ in layer_sets)
    return kept, max(0.5 * (tok + sc) + ex for _, tok, sc, ex, _ in layer_sets)


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
    # The output holds the logits in the activation dtype through backward; transformers
    # < 4.46 returned ``logits.float()``, an fp32 copy, instead. ``hf_bytes`` is the loss's
    # own share: fp32 log-softmax output, its gradient and the gradient of its input.
    held = 4.0 if setup.logits_fp32_kept else float(act_bytes(setup))
    return held + hf_bytes + softcap


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
