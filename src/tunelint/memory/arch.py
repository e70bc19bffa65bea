"""Transformer architecture shapes and the parameter counts that follow from them.

The estimator needs dimensions, not just a parameter count: activations scale with the
hidden size, the layer count, the MLP width and the head layout, and the logits with the
vocabulary. Counting parameters from the same shapes keeps both consistent (and lets the
tests check the shapes against published counts).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Literal

Kind = Literal["decoder", "encoder-decoder", "encoder"]
MlpKind = Literal["gated", "plain"]
NormKind = Literal["rms", "layer", "none"]
BiasKind = Literal["none", "qkv", "mlp", "all"]
AttnImpl = Literal["sdpa", "eager"]


@dataclass(frozen=True)
class Architecture:
    """Shapes of one model. Zero means "not applicable" or "derive the default"."""

    hidden: int
    layers: int
    heads: int
    kv_heads: int
    intermediate: int
    vocab: int
    family: str = "generic"
    kind: Kind = "decoder"
    tied: bool = False
    mlp: MlpKind = "gated"
    norm: NormKind = "rms"
    bias: BiasKind = "none"
    attention: AttnImpl = "sdpa"
    head_dim: int = 0
    norms_per_layer: int = 2
    qk_norm: bool = False
    positions: int = 0
    type_vocab: int = 0
    embed_norm: bool = False
    embed_proj: int = 0
    lm_head_bias: bool = False
    num_labels: int = 0
    dropout: float = 0.0
    decoder_layers: int = 0
    rel_buckets: int = 0
    experts: int = 0
    experts_per_token: int = 0
    moe_intermediate: int = 0
    shared_experts: int = 0
    dense_layers: int = 0
    q_lora_rank: int = 0
    kv_lora_rank: int = 0
    rope_head_dim: int = 0
    v_head_dim: int = 0
    softcap: bool = False  # tanh soft-capping of attention scores and logits (Gemma 2)

    # ---- derived shapes -------------------------------------------------------------
    @property
    def hd(self) -> int:
        """Per-head dimension."""
        return self.head_dim or max(1, self.hidden // max(1, self.heads))

    @property
    def q_out(self) -> int:
        """Width of the query projection (heads x head_dim; T5 and Gemma differ from hidden)."""
        return self.heads * (self.hd + self.rope_head_dim)

    @property
    def kv_out(self) -> int:
        """Width of each key / value projection (smaller than q_out with GQA / MQA)."""
        return max(1, self.kv_heads) * self.hd

    @property
    def dec_layers(self) -> int:
        """Decoder layers of an encoder-decoder model (equal to `layers` unless stated)."""
        return self.decoder_layers or self.layers

    @property
    def total_layers(self) -> int:
        """All transformer blocks that hold activations."""
        return self.layers + (self.dec_layers if self.kind == "encoder-decoder" else 0)

    @property
    def is_moe(self) -> bool:
        return self.experts > 0

    @property
    def expert_width(self) -> int:
        return self.moe_intermediate or self.intermediate

    @property
    def emb_width(self) -> int:
        return self.embed_proj or self.hidden

    def with_updates(self, **changes: object) -> Architecture:
        """Return a copy with some fields replaced (unknown names are ignored)."""
        names = {f.name for f in fields(self)}
        return replace(self, **{k: v for k, v in changes.items() if k in names})  # type: ignore[arg-type]

    # ---- parameter counting ---------------------------------------------------------
    def _norm(self, width: int) -> int:
        return {"rms": width, "layer": 2 * width, "none": 0}[self.norm]

    def attention_params(self) -> int:
        """One self-attention block: projections, biases and q/k norms."""
        h = self.hidden
        if self.kv_lora_rank:  # multi-head latent attention (DeepSeek-V2/V3)
            qk = self.hd + self.rope_head_dim
            vd = self.v_head_dim or self.hd
            if self.q_lora_rank:
                q = h * self.q_lora_rank + self.q_lora_rank + self.q_lora_rank * self.heads * qk
            else:
                q = h * self.heads * qk
            kv = h * (self.kv_lora_rank + self.rope_head_dim) + self.kv_lora_rank
            kv += self.kv_lora_rank * self.heads * (self.hd + vd)
            return q + kv + self.heads * vd * h
        n = 2 * h * self.q_out + 2 * h * self.kv_out
        if self.bias in ("qkv", "all"):
            n += self.q_out + 2 * self.kv_out
        if self.bias == "all":
            n += h
        if self.qk_norm:
            n += 2 * self.hd
        return n

    def mlp_params(self, width: int) -> int:
        """One feed-forward block of the given inner width."""
        h = self.hidden
        n = (3 if self.mlp == "gated" else 2) * h * width
        if self.bias in ("mlp", "all"):
            n += (2 if self.mlp == "gated" else 1) * width + h
        return n

    def layer_params(self, index: int = 0) -> int:
        """One decoder (or encoder) block; MoE layers hold every expert plus the router."""
        n = self.attention_params() + self.norms_per_layer * self._norm(self.hidden)
        if self.is_moe and index >= self.dense_layers:
            n += (self.experts + self.shared_experts) * self.mlp_params(self.expert_width)
            n += self.hidden * self.experts
        else:
            n += self.mlp_params(self.intermediate)
        return n

    def embedding_params(self) -> int:
        """Input embeddings (+ positions, token types, projections) and an untied LM head.

        These stay in 16 bit when the rest of a model is loaded in 4 or 8 bit.
        """
        h = self.hidden
        n = self.vocab * self.emb_width + self.positions * h + self.type_vocab * h
        if self.embed_proj:
            n += 2 * self.embed_proj * h
        if self.embed_norm:
            n += self._norm(h)
        n += self.lm_head_params()
        return n

    def lm_head_params(self) -> int:
        if self.kind == "encoder":
            return 0
        n = 0 if self.tied else self.vocab * self.emb_width
        return n + (self.vocab if self.lm_head_bias else 0)

    def block_params(self) -> int:
        """Every transformer block (the part that 4/8-bit quantisation compresses)."""
        if self.kind == "encoder-decoder":
            enc = self.layers * (
                self.attention_params()
                + self.mlp_params(self.intermediate)
                + 2 * self._norm(self.hidden)
            )
            dec = self.dec_layers * (
                2 * self.attention_params()
                + self.mlp_params(self.intermediate)
                + 3 * self._norm(self.hidden)
            )
            return enc + dec
        return sum(self.layer_params(i) for i in range(self.layers))

    def other_params(self) -> int:
        """Final norms, relative position tables, pooler and classifier."""
        h = self.hidden
        if self.kind == "encoder-decoder":
            return 2 * self._norm(h) + 2 * self.rel_buckets * self.heads
        if self.kind == "encoder":
            return h * h + h + self.num_labels * (h + 1)
        return self._norm(h)

    def total_params(self) -> int:
        """All parameters, counting tied embeddings once (as `model.parameters()` does)."""
        return self.embedding_params() + self.block_params() + self.other_params()

    def active_params(self) -> int:
        """Parameters used per token: for MoE only the routed experts count."""
        if not self.is_moe:
            return self.total_params()
        per_expert = self.mlp_params(self.expert_width)
        moe_layers = max(0, self.layers - self.dense_layers)
        idle = moe_layers * max(0, self.experts - self.experts_per_token) * per_expert
        return self.total_params() - idle

    def largest_layer_params(self) -> int:
        """The biggest block (what ZeRO-3 / FSDP gathers at once)."""
        blocks = [self.layer_params(i) for i in {0, self.layers - 1}]
        return max([*blocks, self.vocab * self.emb_width])


def generic_architecture(
    params: float, *, experts: int = 0, per_token: int = 0, active: float = 0.0
) -> Architecture:
    """A Llama-shaped architecture whose parameter count is close to `params`.

    Used when only a name like "7b" is known: the widths follow the usual scaling of open
    models, and the MLP width is solved so that the count matches.
    """
    ladder = [
        (0.2e9, 768, 12),
        (0.6e9, 1024, 24),
        (1.6e9, 2048, 22),
        (3.6e9, 2560, 32),
        (9e9, 4096, 32),
        (16e9, 5120, 40),
        (40e9, 6656, 60),
        (80e9, 8192, 80),
        (200e9, 12288, 96),
        (float("inf"), 16384, 126),
    ]
    dense = active if experts and active else params
    hidden, layers = next((h, n) for limit, h, n in ladder if dense <= limit)
    vocab = 32000
    per_layer = max(0.0, (params - 2 * vocab * hidden) / layers - 4 * hidden * hidden)
    width = int(per_layer / (3 * hidden) / max(1, experts))
    width = max(256, width - width % 64)
    return Architecture(
        hidden=hidden,
        layers=layers,
        heads=max(1, hidden // 128),
        kv_heads=max(1, hidden // 128),
        intermediate=width,
        vocab=vocab,
        family="generic",
        experts=experts,
        experts_per_token=(per_token or 2) if experts else 0,
    )
