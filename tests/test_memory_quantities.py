"""Three quantities, monotonicity, the job reader against `estimate`, sharding buffers."""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import pytest

from tunelint.api import Options, lint
from tunelint.commands import estimate as estimate_cmd
from tunelint.memory.advice import alternatives
from tunelint.memory.settings import estimate_from_settings, setup_from_settings

GiB = 1 << 30
LLAMA8 = "meta-llama/Meta-Llama-3-8B"
BASE: dict[str, object] = {
    "model": LLAMA8,
    "torch_dtype": "bf16",
    "adapter": "lora",
    "lora_r": 16,
    "lora_targets": "q_proj,k_proj,v_proj,o_proj",
    "batch_size": 2,
    "seq_len": 2048,
    "grad_checkpointing": True,
    "optimizer": "adamw_torch",
}


def est(**changes: object) -> object:
    return estimate_from_settings({**BASE, **changes}, cache_dirs=[])


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"adapter": "full", "grad_checkpointing": False},
        {"load_in_4bit": True, "adapter": "qlora"},
        {"num_gpus": 4, "zero_stage": 3, "adapter": "full", "mixed_precision": "bf16"},
        {"num_gpus": 2, "fsdp": True, "sharded_loading": False},
        {"attn_implementation": "eager", "grad_checkpointing": False},
        {"model": "org/some-13b-model"},
    ],
)
def test_breakdown_names_every_term_and_adds_up(changes: dict[str, object]) -> None:
    e = estimate_from_settings({**BASE, **changes}, cache_dirs=[])
    assert sum(e.breakdown.values()) == e.total_bytes
    for name in ("cuda_context", "weights", "activations", "logits", "gradients", "optimizer"):
        assert name in e.breakdown
    assert "allocator_fragmentation" in e.breakdown
    allocated, reserved, device = (e.quantities[q] for q in ("allocated", "reserved", "device"))
    assert allocated[1] < reserved[1] < device[1] == e.total_bytes
    for low, point, high in (allocated, reserved, device):
        assert low <= point <= high


def test_device_minus_reserved_is_the_cuda_context() -> None:
    e = estimate_from_settings({**BASE, "cuda_context_mib": 1343}, cache_dirs=[])
    assert e.total_bytes - e.reserved_bytes == 1343 << 20 == e.breakdown["cuda_context"]


@pytest.mark.parametrize(
    ("seq", "batch", "ckpt", "attn"),
    list(itertools.product([256, 4096], [1, 8], [False, True], ["sdpa", "eager"])),
)
def test_four_bit_base_never_needs_more_than_sixteen_bit(
    seq: int, batch: int, ckpt: bool, attn: str
) -> None:
    common = {"seq_len": seq, "batch_size": batch, "grad_checkpointing": ckpt}
    common["attn_implementation"] = attn
    lora = est(**common)
    qlora = est(**common, adapter="qlora", load_in_4bit=True)
    assert all(
        q <= lo for q, lo in zip(qlora.quantities["device"], lora.quantities["device"], strict=True)
    )
    assert qlora.allocated_bytes < lora.allocated_bytes


def test_issue_example_qlora_is_smaller_and_advice_never_larger() -> None:
    settings = {
        "model": LLAMA8,
        "adapter": "lora",
        "torch_dtype": "bf16",
        "seq_len": 4096,
        "batch_size": 8,
        "grad_checkpointing": False,
    }
    lora = estimate_from_settings(settings, cache_dirs=[])
    qlora = estimate_from_settings(
        {**settings, "adapter": "qlora", "load_in_4bit": True}, cache_dirs=[]
    )
    assert qlora.total_bytes < lora.total_bytes
    alts = alternatives(settings)
    assert alts and all(a.estimate.total_bytes < lora.total_bytes for a in alts)
    assert any("QLoRA" in a.label for a in alts)


def test_unmodelled_option_widens_the_range_and_says_so() -> None:
    plain = est()
    odd = est(use_dora=True)
    assert odd.uncertain == ["not modelled: use_dora"] and odd.confidence == "low"
    assert odd.conservative_bytes > plain.conservative_bytes * 1.2
    assert odd.optimistic_bytes < plain.optimistic_bytes * 0.8
    generic = est(model="org/some-13b-model")
    assert any("architecture unknown" in u for u in generic.uncertain)


def test_zero3_gathers_layers_and_reads_deepspeed_buckets() -> None:
    sharded = est(adapter="full", mixed_precision="bf16", num_gpus=8, zero_stage=3)
    assert sharded.breakdown["gathered_params"] > 0
    bigger = est(
        adapter="full",
        mixed_precision="bf16",
        num_gpus=8,
        zero_stage=3,
        stage3_prefetch_bucket_size=300_000_000,
        reduce_bucket_size=100_000_000,
    )
    extra = bigger.breakdown["gathered_params"] - sharded.breakdown["gathered_params"]
    assert extra == pytest.approx(2 * (300_000_000 - 50_000_000), rel=0.01)
    capped = est(
        adapter="full",
        mixed_precision="bf16",
        num_gpus=8,
        zero_stage=3,
        stage3_prefetch_bucket_size=300_000_000,
        stage3_max_live_parameters=100_000_000,
    )  # never less than the biggest unit (the 525M-parameter embedding), never more than live
    assert capped.breakdown["gathered_params"] < bigger.breakdown["gathered_params"]
    # a job's reduce bucket replaces DeepSpeed's default of 5e8 elements
    assert bigger.breakdown["comm_buffers"] == 100_000_000 * 2 < sharded.breakdown["comm_buffers"]
    # ZeRO-2 keeps default 5e8-element reduce and all-gather buckets of 16-bit gradients
    z2 = est(adapter="full", mixed_precision="bf16", num_gpus=8, zero_stage=2)
    assert z2.breakdown["comm_buffers"] == 2 * 500_000_000 * 2


def test_sharded_lora_counts_the_unsharded_load() -> None:
    sharded = est(num_gpus=2, fsdp=True)
    whole_load = est(num_gpus=2, fsdp=True, sharded_loading=False)
    assert whole_load.allocated_bytes > sharded.allocated_bytes
    assert whole_load.breakdown.get("loading_peak", 0) > 0
    assert whole_load.allocated_bytes >= 1.5 * 2 * whole_load.params


def test_dtype_read_as_each_framework_loads_it() -> None:
    bare = {k: v for k, v in BASE.items() if k != "torch_dtype"}
    axolotl, notes = setup_from_settings(
        {**bare, "framework": "axolotl", "mixed_precision": "bf16"}, cache_dirs=[]
    )
    assert axolotl.param_bytes == 2 and not axolotl.amp and not notes
    hf, notes = setup_from_settings(bare, cache_dirs=[])
    assert hf.param_bytes == 2 and any("transformers >= 5" in n for n in notes)
    gpt2, _ = setup_from_settings({**bare, "model": "gpt2"}, cache_dirs=[])
    assert gpt2.param_bytes == 4  # stored in fp32
    fp32, _ = setup_from_settings({**bare, "torch_dtype": "fp32", "mixed_precision": "bf16"})
    assert fp32.param_bytes == 4 and fp32.amp


AXOLOTL = """\
base_model: meta-llama/Meta-Llama-3-8B
adapter: lora
lora_r: 16
lora_target_modules: [q_proj, k_proj, v_proj, o_proj]
bf16: true
gradient_checkpointing: true
sequence_len: 2048
micro_batch_size: 2
optimizer: adamw_torch
datasets:
  - path: tatsu-lab/alpaca
    type: alpaca
"""


def _job_estimate(tmp_path: Path, name: str, text: str) -> int:
    (tmp_path / name).write_text(text, encoding="utf-8")
    report = lint([name], Options(cwd=tmp_path, jobs=1, use_cache=False, vram="1GiB"))
    hits = [f for f in report.findings if f.rule_id == "TL101"]
    assert hits, [f.rule_id for f in report.findings]
    value = hits[0].properties["estimate_bytes"]
    assert isinstance(value, int)
    return value


def _cli_estimate(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tunelint")
    estimate_cmd.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["estimate", *argv])
    return estimate_from_settings(estimate_cmd.settings_from_args(args)).total_bytes


def test_job_reader_and_estimate_agree(tmp_path: Path) -> None:
    job = _job_estimate(tmp_path, "axolotl.yml", AXOLOTL)
    flags = ["--method", "lora", "--precision", "bf16", "--seq", "2048", "--batch", "2"]
    flags += ["--grad-checkpointing", "--lora-r", "16"]
    cli = _cli_estimate([LLAMA8, *flags, "--lora-targets", "q_proj,k_proj,v_proj,o_proj"])
    assert job == cli
    # read as a bf16 load (about 15 GiB of weights), not fp32 (30 GiB): under 30 GiB in all
    assert job < 30 * GiB


@pytest.mark.parametrize(
    ("dialect", "key"),
    [
        ("trainer", "max_length"),
        ("trainer", "max_seq_length"),
        ("trainer", "model_max_length"),
        ("axolotl", "sequence_len"),
        ("llamafactory", "cutoff_len"),
        ("torchtune", "tokenizer.max_seq_len"),
        ("litgpt", "train.max_seq_length"),
    ],
)
def test_each_framework_sequence_key_is_the_sequence_length(dialect: str, key: str) -> None:
    from tunelint.facts import Span, Value
    from tunelint.sources.dialects import canonical_settings

    span = Span("job.yaml", 1, 1, 1, 10)
    found = canonical_settings(dialect, key, Value(4096, span), span)
    assert [(s.name, s.value.raw) for s in found] == [("seq_len", 4096)]
