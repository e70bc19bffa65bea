"""Read an architecture from a Hugging Face ``config.json`` mapping.

Config files name the same dimension differently per model family (``hidden_size``,
``d_model``, ``n_embd``...). This module maps them onto `Architecture`, using the
family defaults of the built-in table for what a config does not say (MLP kind, norms,
biases).
"""

from __future__ import annotations

from collections.abc import Mapping

from tunelint.memory.arch import Architecture

# model_type -> family of architectures.json / Architecture defaults
_FAMILY: dict[str, dict[str, object]] = {
    "llama": {"family": "llama"},
    "mistral": {"family": "llama"},
    "mixtral": {"family": "mixtral"},
    "qwen": {"family": "qwen2", "bias": "qkv"},
    "qwen2": {"family": "qwen2", "bias": "qkv"},
    "qwen2_moe": {"family": "qwen2", "bias": "qkv"},
    "qwen3": {"family": "qwen3", "qk_norm": True},
    "qwen3_moe": {"family": "qwen3", "qk_norm": True},
    "gemma": {"family": "gemma", "tied": True},
    "gemma2": {"family": "gemma2", "tied": True, "norms_per_layer": 4, "attention": "eager"},
    "gemma3": {"family": "gemma3", "tied": True, "norms_per_layer": 4, "qk_norm": True},
    "gemma3_text": {"family": "gemma3", "tied": True, "norms_per_layer": 4, "qk_norm": True},
    "phi": {"family": "phi", "mlp": "plain", "norm": "layer", "bias": "all", "norms_per_layer": 1},
    "phi3": {"family": "llama"},
    "falcon": {"family": "falcon", "mlp": "plain", "norm": "layer", "norms_per_layer": 1},
    "RefinedWeb": {"family": "falcon", "mlp": "plain", "norm": "layer"},
    "RefinedWebModel": {"family": "falcon", "mlp": "plain", "norm": "layer", "norms_per_layer": 1},
    "bloom": {
        "family": "bloom",
        "mlp": "plain",
        "norm": "layer",
        "bias": "all",
        "embed_norm": True,
    },
    "gpt2": {"family": "gpt2", "mlp": "plain", "norm": "layer", "bias": "all", "dropout": 0.1},
    "gpt_neo": {"family": "gpt2", "mlp": "plain", "norm": "layer", "bias": "all"},
    "gpt_neox": {"family": "gpt_neox", "mlp": "plain", "norm": "layer", "bias": "all"},
    "gptj": {
        "family": "gptj",
        "mlp": "plain",
        "norm": "layer",
        "bias": "mlp",
        "norms_per_layer": 1,
    },
    "opt": {"family": "opt", "mlp": "plain", "norm": "layer", "bias": "all", "dropout": 0.1},
    "gpt_bigcode": {"family": "gpt_bigcode", "mlp": "plain", "norm": "layer", "bias": "all"},
    "starcoder2": {"family": "starcoder2", "mlp": "plain", "norm": "layer", "bias": "all"},
    "t5": {"family": "t5", "kind": "encoder-decoder", "attention": "eager", "rel_buckets": 32},
    "mt5": {"family": "t5v11", "kind": "encoder-decoder", "attention": "eager", "rel_buckets": 32},
    "umt5": {"family": "t5v11", "kind": "encoder-decoder", "attention": "eager", "rel_buckets": 32},
    "bert": {"family": "bert", "kind": "encoder", "mlp": "plain", "norm": "layer", "bias": "all"},
    "roberta": {
        "family": "bert",
        "kind": "encoder",
        "mlp": "plain",
        "norm": "layer",
        "bias": "all",
    },
    "olmo": {"family": "olmo", "norm": "none"},
    "olmo2": {"family": "olmo2", "qk_norm": True},
    "deepseek_v2": {"family": "deepseek_v3"},
    "deepseek_v3": {"family": "deepseek_v3"},
}

_PLAIN_MLP = {"phi", "falcon", "RefinedWeb", "RefinedWebModel", "bloom", "gpt2", "gpt_neo"}
_PLAIN_MLP |= {"gpt_neox", "gptj", "opt", "gpt_bigcode", "starcoder2", "bert", "roberta"}
_LEARNED_POSITIONS = {"gpt2", "gpt_neo", "opt", "gpt_bigcode", "bert", "roberta"}


def _int(cfg: Mapping[str, object], *keys: str) -> int:
    for key in keys:
        value = cfg.get(key)
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    return 0


def _text_config(cfg: Mapping[str, object]) -> Mapping[str, object]:
    """Multimodal configs (Gemma 3, LLaVA) nest the language model under text_config."""
    inner = cfg.get("text_config")
    if isinstance(inner, dict) and _int(inner, "hidden_size", "d_model"):
        merged = dict(inner)
        merged.setdefault("model_type", cfg.get("model_type"))
        return merged
    return cfg


def architecture_from_config(config: Mapping[str, object]) -> Architecture | None:
    """Map config.json keys to an Architecture; None when the core sizes are missing."""
    cfg = _text_config(config)
    model_type = str(cfg.get("model_type") or "")
    hidden = _int(cfg, "hidden_size", "d_model", "n_embd", "dim", "model_dim")
    layers = _int(cfg, "num_hidden_layers", "num_layers", "n_layer", "n_layers")
    heads = _int(cfg, "num_attention_heads", "num_heads", "n_head", "n_heads")
    vocab = _int(cfg, "vocab_size", "padded_vocab_size")
    if not (hidden and layers and heads and vocab):
        return None
    values: dict[str, object] = dict(_FAMILY.get(model_type, {"family": model_type or "generic"}))
    kv = _int(cfg, "num_key_value_heads", "num_kv_heads", "n_head_kv", "multi_query_group_num")
    if not kv and cfg.get("multi_query") is True:
        kv = 1
    if model_type in ("falcon", "RefinedWeb") and cfg.get("new_decoder_architecture"):
        values["norms_per_layer"] = 2
    inter = _int(cfg, "intermediate_size", "d_ff", "n_inner", "ffn_dim", "ffn_hidden_size")
    if model_type == "qwen" and inter:
        inter //= 2  # Qwen 1 counts both gated branches in intermediate_size
    plain = model_type in _PLAIN_MLP
    ff_proj = str(cfg.get("feed_forward_proj") or "")
    if model_type in ("t5", "mt5", "umt5"):
        plain = not ff_proj.startswith("gated")
        values["family"] = "t5" if plain else "t5v11"
    values["mlp"] = "plain" if plain else "gated"
    if not inter:
        inter = 4 * hidden
    tied = cfg.get("tie_word_embeddings")
    if isinstance(tied, bool):
        values["tied"] = tied
    elif model_type in ("t5",) or plain:
        values.setdefault("tied", True)
    values["head_dim"] = _int(cfg, "head_dim", "d_kv", "kv_channels", "qk_nope_head_dim")
    if model_type in _LEARNED_POSITIONS:
        positions = _int(cfg, "max_position_embeddings", "n_positions", "n_ctx")
        values["positions"] = positions + (2 if model_type == "opt" else 0)
    proj = _int(cfg, "word_embed_proj_dim")
    if proj and proj != hidden:
        values["embed_proj"] = proj
    values["experts"] = _int(cfg, "num_local_experts", "num_experts", "n_routed_experts")
    values["experts_per_token"] = _int(cfg, "num_experts_per_tok", "moe_top_k")
    values["moe_intermediate"] = _int(cfg, "moe_intermediate_size")
    values["shared_experts"] = _int(cfg, "n_shared_experts")
    values["dense_layers"] = _int(cfg, "first_k_dense_replace")
    values["q_lora_rank"] = _int(cfg, "q_lora_rank")
    values["kv_lora_rank"] = _int(cfg, "kv_lora_rank")
    values["rope_head_dim"] = _int(cfg, "qk_rope_head_dim") if values["kv_lora_rank"] else 0
    values["v_head_dim"] = _int(cfg, "v_head_dim")
    values["decoder_layers"] = _int(cfg, "num_decoder_layers")
    if values.get("kind") == "encoder":
        values["type_vocab"] = _int(cfg, "type_vocab_size")
        values["embed_norm"] = True
        labels = cfg.get("id2label")
        values["num_labels"] = len(labels) if isinstance(labels, dict) else 2
    dropout = cfg.get("hidden_dropout_prob", cfg.get("dropout_rate", cfg.get("resid_pdrop")))
    if isinstance(dropout, (int, float)) and not isinstance(dropout, bool):
        values["dropout"] = float(dropout)
    caps = (cfg.get("attn_logit_softcapping"), cfg.get("final_logit_softcapping"))
    if any(isinstance(c, (int, float)) and not isinstance(c, bool) and c > 0 for c in caps):
        values["softcap"] = True  # Gemma 2: tanh soft-capping of scores and logits
    attn = str(cfg.get("_attn_implementation") or cfg.get("attn_implementation") or "")
    if attn:
        values["attention"] = "eager" if attn == "eager" else "sdpa"
    base = Architecture(
        hidden=hidden,
        layers=layers,
        heads=heads,
        kv_heads=kv or heads,
        intermediate=inter,
        vocab=vocab,
    )
    return base.with_updates(**{k: v for k, v in values.items() if v not in (None, "")})


def quant_bits_from_config(config: Mapping[str, object]) -> int | None:
    """4 or 8 when the config ships a quantisation_config (GPTQ, AWQ, bitsandbytes)."""
    quant = config.get("quantization_config")
    if not isinstance(quant, dict):
        return None
    if quant.get("load_in_4bit") is True:
        return 4
    if quant.get("load_in_8bit") is True:
        return 8
    bits = quant.get("bits", quant.get("w_bit"))
    if isinstance(bits, int) and bits in (2, 3, 4, 8):
        return 8 if bits == 8 else 4
    return None
