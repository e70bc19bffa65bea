"""Terms that depend on the framework and release a job runs with."""

from __future__ import annotations

import pytest

from tunelint.memory import activations as act
from tunelint.memory.estimate import TrainingSetup
from tunelint.memory.releases import parse_version
from tunelint.memory.settings import estimate_from_settings, setup_from_settings

LLAMA8 = "meta-llama/Meta-Llama-3-8B"
LORA: dict[str, object] = {
    "model": LLAMA8,
    "torch_dtype": "bf16",
    "adapter": "lora",
    "lora_r": 16,
    "lora_targets": "q_proj,v_proj",
    "batch_size": 2,
    "seq_len": 1024,
    "grad_checkpointing": False,
    "optimizer": "adamw_torch",
}


def setup_of(settings: dict[str, object]) -> TrainingSetup:
    setup, _ = setup_from_settings(settings, cache_dirs=[])
    return setup


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("2.1.0+cu121", (2, 1, 0)),
        ("==0.42.0", (0, 42, 0)),
        ("v4.37", (4, 37)),
        (">=0.43.0", (0, 43, 0)),
        ("4.46.0rc1", (4, 46, 0)),
        ("latest", None),
        (None, None),
    ],
)
def test_versions_are_read_from_pins(text: object, version: tuple[int, ...] | None) -> None:
    assert parse_version(text) == version


def test_zeroed_gradients_stay_allocated_before_torch_2() -> None:
    job = {**LORA, "adapter": "full", "model": "google-bert/bert-large-uncased", "seq_len": 512}
    new = estimate_from_settings(job, cache_dirs=[])
    old = estimate_from_settings({**job, "torch_version": "1.13.1"}, cache_dirs=[])
    full_grads = new.params * 2
    assert old.breakdown["gradients"] == full_grads
    assert old.allocated_bytes > new.allocated_bytes


def test_old_bitsandbytes_keeps_the_input_of_every_4bit_matmul() -> None:
    job = {**LORA, "adapter": "qlora", "load_in_4bit": True}
    new = estimate_from_settings(job, cache_dirs=[])
    old = estimate_from_settings({**job, "bitsandbytes_version": "0.42.0"}, cache_dirs=[])
    assert old.breakdown["activations"] > new.breakdown["activations"]
    # torchtune quantises with torchao, whatever bitsandbytes is installed
    tune = {**job, "framework": "torchtune", "bitsandbytes_version": "0.42.0"}
    assert not setup_of(tune).bnb_keeps_input
    assert setup_of({**job, "bitsandbytes_version": "0.43.2"}).bnb_keeps_input is False


def test_logits_held_in_fp32_before_transformers_4_46() -> None:
    tokens, vocab = 2 * 1024, 128256
    new = estimate_from_settings(LORA, cache_dirs=[])
    old = estimate_from_settings({**LORA, "transformers_version": "4.38.2"}, cache_dirs=[])
    assert new.breakdown["logits"] == tokens * vocab * (2 + 12)
    assert old.breakdown["logits"] == tokens * vocab * (4 + 12)


def test_fp32_masters_only_under_mixed_precision() -> None:
    full = {**LORA, "adapter": "full", "num_gpus": 4}
    params = estimate_from_settings(LORA, cache_dirs=[]).params
    pure_fsdp = estimate_from_settings({**full, "fsdp": True}, cache_dirs=[])
    deepspeed = estimate_from_settings({**full, "zero_stage": 3}, cache_dirs=[])
    mixed_fsdp = estimate_from_settings(
        {**full, "fsdp": True, "torch_dtype": "fp32", "mixed_precision": "bf16"}, cache_dirs=[]
    )
    assert pure_fsdp.breakdown["optimizer"] == params * 4 // 4  # bf16 moments, no master
    assert deepspeed.breakdown["optimizer"] == params * 12 // 4  # fp32 master + moments
    assert mixed_fsdp.breakdown["optimizer"] == params * 12 // 4


def test_litgpt_trains_tied_checkpoints_untied() -> None:
    job = {**LORA, "model": "meta-llama/Llama-3.2-1B", "adapter": "full"}
    hf = setup_of(job)
    lit = setup_of({**job, "framework": "litgpt"})
    arch = hf.model.arch
    assert arch.tied
    assert lit.model.params - hf.model.params == arch.vocab * arch.hidden


def test_litgpt_fsdp_loads_unsharded_unless_told() -> None:
    job = {**LORA, "framework": "litgpt", "fsdp": True, "num_gpus": 2}
    assert setup_of(job).sharded_loading is False
    assert setup_of({**job, "sharded_loading": True}).sharded_loading is True
    assert setup_of({**job, "num_gpus": 1}).sharded_loading is True


def test_fsdp_shards_the_adapters() -> None:
    one = estimate_from_settings(LORA, cache_dirs=[])
    two = estimate_from_settings({**LORA, "fsdp": True, "num_gpus": 2}, cache_dirs=[])
    assert two.breakdown["adapters"] == one.breakdown["adapters"] // 2


def test_gemma2_softcapping_keeps_tanh_outputs() -> None:
    job = {**LORA, "model": "google/gemma-2-2b"}
    e = estimate_from_settings(job, cache_dirs=[])
    assert e.breakdown["logits"] == 2 * 1024 * 256000 * (2 + 12 + 2)
    setup = setup_of(job)
    heads = setup.model.arch.heads
    # fp32 softmax output, its 16-bit cast and tanh's output, per score
    assert act.score_bytes(setup, 1024, 1024) == (4 + 2 + 2) * heads * 1024 * 1024


def test_eager_backward_temporaries_in_the_recomputed_block() -> None:
    job = {**LORA, "model": "TinyLlama/TinyLlama-1.1B-Chat-v1.0", "seq_len": 2048}
    eager = setup_of({**job, "attn_implementation": "eager", "grad_checkpointing": True})
    sdpa = setup_of({**job, "attn_implementation": "sdpa", "grad_checkpointing": True})
    heads = eager.model.arch.heads
    scores = 2 * heads * 2048 * 2048
    _, block_eager = act.activation_parts(eager)
    _, block_sdpa = act.activation_parts(sdpa)
    # kept probabilities (4 + 2) and the softmax backward's gradients (8 + 2) per score
    assert block_eager - block_sdpa == pytest.approx(scores * 16, rel=1e-9)
    assert act.score_backward_bytes(sdpa, 2048, 2048) == 0
