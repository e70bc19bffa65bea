"""The estimate: terms, monotonicity, sharding, quantisation and settings defaults."""

from __future__ import annotations

import pytest

from tunelint.memory.estimate import lora_params
from tunelint.memory.models import UnknownModelError, resolve_model
from tunelint.memory.settings import estimate_from_settings, normalize_optimizer
from tunelint.memory.states import NF4_DQ_BYTES

GiB = 1 << 30
BASE: dict[str, object] = {
    "model": "meta-llama/Llama-2-7b-hf",
    "torch_dtype": "bf16",
    "adapter": "full",
    "batch_size": 2,
    "seq_len": 1024,
    "grad_checkpointing": False,
    "optimizer": "adamw_torch",
}


def test_estimate_has_terms_that_add_up() -> None:
    e = estimate_from_settings(BASE, cache_dirs=[])
    assert sum(e.breakdown.values()) == e.total_bytes
    assert e.optimistic_bytes <= e.total_bytes <= e.conservative_bytes
    assert e.params_source == "table" and e.params == 6_738_415_616
    assert e.breakdown["weights"] == e.params * 2
    assert e.breakdown["gradients"] == e.params * 2
    assert e.breakdown["optimizer"] == e.params * 4  # AdamW state in the bf16 param dtype


def test_lora_is_smaller_than_full() -> None:
    full = estimate_from_settings(BASE, cache_dirs=[])
    lora = estimate_from_settings({**BASE, "adapter": "lora", "lora_r": 16}, cache_dirs=[])
    assert lora.total_bytes < full.total_bytes / 2
    assert lora.trainable_params == lora_params(
        resolve_model("llama-2-7b").arch, frozenset({"q", "v"}), 16
    )
    assert lora.trainable_params == 32 * 16 * (2 * 4096 + 2 * 4096)


def test_checkpointing_lowers_activations() -> None:
    plain = estimate_from_settings({**BASE, "adapter": "lora"}, cache_dirs=[])
    ckpt = estimate_from_settings(
        {**BASE, "adapter": "lora", "grad_checkpointing": True}, cache_dirs=[]
    )
    assert ckpt.breakdown["activations"] < plain.breakdown["activations"] / 4
    assert ckpt.total_bytes < plain.total_bytes


def test_activations_grow_with_batch_and_sequence() -> None:
    small = estimate_from_settings({**BASE, "adapter": "lora"}, cache_dirs=[])
    big_b = estimate_from_settings({**BASE, "adapter": "lora", "batch_size": 4}, cache_dirs=[])
    big_s = estimate_from_settings({**BASE, "adapter": "lora", "seq_len": 2048}, cache_dirs=[])
    assert big_b.breakdown["activations"] > 1.9 * small.breakdown["activations"]
    assert big_s.breakdown["activations"] > 1.9 * small.breakdown["activations"]


def test_eager_attention_stores_scores() -> None:
    sdpa = estimate_from_settings({**BASE, "adapter": "lora"}, cache_dirs=[])
    eager = estimate_from_settings(
        {**BASE, "adapter": "lora", "attn_implementation": "eager"}, cache_dirs=[]
    )
    # 32 layers x batch 2 x 32 heads x 1024^2 scores x 6 bytes (fp32 softmax + bf16 copy)
    extra = eager.breakdown["activations"] - sdpa.breakdown["activations"]
    assert extra >= 32 * 2 * 32 * 1024 * 1024 * 6


def test_zero3_over_four_gpus_divides_states() -> None:
    one = estimate_from_settings({**BASE, "mixed_precision": "bf16"}, cache_dirs=[])
    four = estimate_from_settings(  # accumulation keeps the gradients alive at the peak
        {**BASE, "mixed_precision": "bf16", "num_gpus": 4, "zero_stage": 3, "grad_accum": 2},
        cache_dirs=[],
    )
    assert four.breakdown["optimizer"] == pytest.approx(one.params * 12 / 4, rel=0.01)
    assert four.breakdown["gradients"] == pytest.approx(one.params * 2 / 4, rel=0.01)
    assert four.breakdown["weights"] < one.breakdown["weights"] / 3
    assert four.num_gpus == 4


def test_zero2_keeps_weights_and_shards_gradients() -> None:
    z2 = estimate_from_settings(  # accumulation keeps the gradients alive at the peak
        {**BASE, "mixed_precision": "bf16", "num_gpus": 4, "zero_stage": 2, "grad_accum": 2},
        cache_dirs=[],
    )
    assert z2.breakdown["weights"] == z2.params * 2
    assert z2.breakdown["gradients"] == pytest.approx(z2.params * 2 / 4, rel=0.01)


def test_cpu_offload_moves_optimizer_off_the_gpu() -> None:
    off = estimate_from_settings(
        {
            **BASE,
            "mixed_precision": "bf16",
            "zero_stage": 3,
            "offload_optimizer_device": "cpu",
            "offload_param_device": "cpu",
        },
        cache_dirs=[],
    )
    assert off.breakdown["optimizer"] == 0
    assert off.breakdown["weights"] < off.params  # only gathered blocks stay on the GPU


def test_four_bit_weights_keep_embeddings_in_16_bit() -> None:
    e = estimate_from_settings(
        {**BASE, "adapter": "qlora", "load_in_4bit": True, "torch_dtype": None}, cache_dirs=[]
    )
    arch = resolve_model("meta-llama/Llama-2-7b-hf").arch
    emb = arch.embedding_params()
    body = e.params - emb
    expected = body * NF4_DQ_BYTES + emb * 2
    assert expected <= e.breakdown["weights"] <= expected * 1.05
    assert e.breakdown["weights"] < 0.3 * e.params * 2


def test_mixed_precision_keeps_fp32_weights_and_a_16_bit_copy() -> None:
    e = estimate_from_settings(
        {**BASE, "torch_dtype": "fp32", "mixed_precision": "bf16"}, cache_dirs=[]
    )
    assert e.breakdown["weights"] == e.params * 6
    assert e.breakdown["optimizer"] == e.params * 8


@pytest.mark.parametrize(
    ("optimizer", "bytes_per_param"),
    [("adamw_bnb_8bit", 2), ("sgd", 0), ("lion", 2), ("adamw_torch", 4)],
)
def test_optimizer_state_sizes(optimizer: str, bytes_per_param: int) -> None:
    e = estimate_from_settings({**BASE, "optimizer": optimizer}, cache_dirs=[])
    assert e.breakdown["optimizer"] == e.params * bytes_per_param


def test_adafactor_is_far_below_adam() -> None:
    e = estimate_from_settings({**BASE, "optimizer": "adafactor"}, cache_dirs=[])
    assert 0 < e.breakdown["optimizer"] < e.params * 0.1


def test_paged_optimizer_only_in_conservative_figure() -> None:
    paged = estimate_from_settings({**BASE, "optimizer": "paged_adamw_8bit"}, cache_dirs=[])
    plain = estimate_from_settings({**BASE, "optimizer": "adamw_bnb_8bit"}, cache_dirs=[])
    assert paged.breakdown["optimizer"] == 0
    assert paged.total_bytes < plain.total_bytes
    assert paged.conservative_bytes >= plain.conservative_bytes


def test_logits_dominate_for_large_vocab() -> None:
    e = estimate_from_settings(
        {
            **BASE,
            "model": "meta-llama/Llama-3.1-8B",
            "adapter": "qlora",
            "load_in_4bit": True,
            "batch_size": 4,
            "seq_len": 4096,
            "grad_checkpointing": True,
        },
        cache_dirs=[],
    )
    biggest = max(e.breakdown, key=lambda k: e.breakdown[k])
    assert biggest == "logits"
    # 16-bit logits held by the output + fp32 log-softmax output, its gradient and the
    # gradient of its input
    assert e.breakdown["logits"] == 4 * 4096 * 128256 * (2 + 12)


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("adamw_torch", "adamw"),
        ("torch.optim.AdamW", "adamw"),
        ("bitsandbytes.optim.PagedAdamW8bit", "paged_adamw_8bit"),
        ("paged_adamw_32bit", "paged_adamw_32bit"),
        ("adamw_8bit", "adamw_8bit"),
        ("Adafactor", "adafactor"),
        ("nonsense", None),
    ],
)
def test_optimizer_spellings(name: str, canonical: str | None) -> None:
    assert normalize_optimizer(name) == canonical


def test_missing_settings_are_recorded_as_assumptions() -> None:
    e = estimate_from_settings({"model": "mistralai/Mistral-7B-v0.1"}, cache_dirs=[])
    text = " | ".join(e.assumptions)
    assert "batch size unknown: assumed 1" in text
    assert "sequence length unknown: assumed 1024" in text
    assert "adapter unknown" in text and "optimizer unknown" in text
    assert e.confidence == "medium"


def test_default_batch_and_seq_are_used() -> None:
    a = estimate_from_settings({"model": "gpt2"}, default_batch=1, default_seq=128, cache_dirs=[])
    b = estimate_from_settings({"model": "gpt2"}, default_batch=8, default_seq=128, cache_dirs=[])
    assert b.breakdown["activations"] > 7 * a.breakdown["activations"]


def test_name_only_model_is_low_confidence() -> None:
    e = estimate_from_settings({**BASE, "model": "bigscience/bloom-30b"}, cache_dirs=[])
    assert e.params_source == "name" and e.confidence == "low"


def test_missing_model_raises() -> None:
    with pytest.raises(UnknownModelError):
        estimate_from_settings({"batch_size": 1}, cache_dirs=[])


def test_string_values_from_configs_are_coerced() -> None:
    typed = estimate_from_settings(
        {**BASE, "batch_size": 4, "grad_checkpointing": True}, cache_dirs=[]
    )
    texty = estimate_from_settings(
        {**BASE, "batch_size": "4", "grad_checkpointing": "true"}, cache_dirs=[]
    )
    assert typed.total_bytes == texty.total_bytes
