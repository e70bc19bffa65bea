"""Model sizing: the table against published counts, name parsing, local configs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tunelint.memory.models import (
    UnknownModelError,
    lookup_table,
    parse_name_size,
    quant_bits_from_name,
    resolve_model,
    table_ids,
)

DATA = Path(__file__).parent / "data"
ROWS = list(csv.DictReader((DATA / "model-params.csv").open(encoding="utf-8")))


@pytest.mark.parametrize("row", ROWS, ids=[r["model_id"] for r in ROWS])
def test_table_params_match_published_counts(row: dict[str, str]) -> None:
    info = resolve_model(row["model_id"], cache_dirs=[])
    assert info.source == "table"
    expected = int(row["params"])
    assert abs(info.params - expected) / expected < 0.01
    assert info.arch.hidden == int(row["hidden"])
    assert info.arch.vocab == int(row["vocab"])


@pytest.mark.parametrize("row", [r for r in ROWS if r["moe"] == "yes"], ids=lambda r: r["model_id"])
def test_moe_active_params(row: dict[str, str]) -> None:
    info = resolve_model(row["model_id"], cache_dirs=[])
    expected = int(row["active_params"])
    assert abs(info.active_params - expected) / expected < 0.03
    assert info.active_params < info.params


def test_every_csv_model_is_a_table_entry_or_alias() -> None:
    assert len(table_ids()) >= 100
    for row in ROWS:
        assert lookup_table(row["model_id"]) is not None, row["model_id"]


@pytest.mark.parametrize(
    ("name", "billions"),
    [
        ("7b", 7.0),
        ("some-org/model-1.3B", 1.3),
        ("bigscience/bloom-560m", 0.56),
        ("bloom-7b1", 7.1),
        ("Qwen-1_8B", 1.8),
        ("acme/llama-3.1-8b-4bit", 8.0),
        ("acme/mistral-7b-v0.1-32k", 7.0),
        ("acme/gpt-2048-13b", 13.0),
    ],
)
def test_parse_name_size(name: str, billions: float) -> None:
    size = parse_name_size(name)
    assert size is not None
    assert size.params == pytest.approx(billions * 1e9)


def test_parse_name_moe_and_active() -> None:
    moe = parse_name_size("acme/mixtral-like-8x7b")
    assert moe is not None and moe.experts == 8
    assert 40e9 < moe.params < 50e9 and moe.active < moe.params
    a3b = parse_name_size("acme/Thing-30B-A3B")
    assert a3b is not None and a3b.params == pytest.approx(30e9) and a3b.active == 3e9


@pytest.mark.parametrize("name", ["4bit", "v0.1", "model-3.1", "ctx-32k", "x-2048"])
def test_names_without_size(name: str) -> None:
    assert parse_name_size(name) is None


def test_bloom_30b_goes_through_name_parsing() -> None:
    info = resolve_model("bigscience/bloom-30b", cache_dirs=[])
    assert info.source == "name"
    assert info.confidence == "low"
    assert abs(info.params - 30e9) / 30e9 < 0.02


def test_case_insensitive_and_bare_names() -> None:
    a = resolve_model("META-LLAMA/LLAMA-2-7B-HF", cache_dirs=[])
    b = resolve_model("Llama-2-7b-hf", cache_dirs=[])
    assert a.matched == b.matched == "meta-llama/Llama-2-7b-hf"


@pytest.mark.parametrize(
    ("name", "bits"),
    [
        ("TheBloke/Llama-2-7B-GPTQ", 4),
        ("TheBloke/Mistral-7B-v0.1-AWQ", 4),
        ("unsloth/llama-3-8b-bnb-4bit", 4),
        ("acme/model-4bit", 4),
        ("acme/model-8bit", 8),
        ("google/gemma-3-4b-pt", None),
    ],
)
def test_quantised_repos(name: str, bits: int | None) -> None:
    assert quant_bits_from_name(name) == bits


def test_quantised_repo_resolves_to_its_base() -> None:
    info = resolve_model("TheBloke/Llama-2-7B-GPTQ", cache_dirs=[])
    assert info.matched == "meta-llama/Llama-2-7b-hf" and info.quant_bits == 4


def test_unknown_model_raises() -> None:
    with pytest.raises(UnknownModelError):
        resolve_model("acme/mystery-model", cache_dirs=[])


def _write_config(folder: Path, **extra: object) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    config = {
        "model_type": "llama",
        "hidden_size": 512,
        "num_hidden_layers": 4,
        "num_attention_heads": 8,
        "num_key_value_heads": 2,
        "intermediate_size": 1376,
        "vocab_size": 1000,
        "tie_word_embeddings": False,
        **extra,
    }
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")


def test_local_directory_config_wins(tmp_path: Path) -> None:
    _write_config(tmp_path / "tiny")
    info = resolve_model(str(tmp_path / "tiny"), cache_dirs=[])
    assert info.source == "config"
    # 2 x emb (512k each) + 4 layers x (attn 655,360 + mlp 2,113,536 + norms 1024) + norm
    assert info.params == 2 * 512_000 + 4 * (655_360 + 2_113_536 + 1024) + 512


def test_hub_cache_snapshot_is_used_before_the_table(tmp_path: Path) -> None:
    repo = tmp_path / "models--meta-llama--Llama-2-7b-hf"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("abc123", encoding="utf-8")
    _write_config(repo / "snapshots" / "abc123", quantization_config={"load_in_4bit": True})
    info = resolve_model("meta-llama/Llama-2-7b-hf", cache_dirs=[tmp_path])
    assert info.source == "config"
    assert info.arch.hidden == 512
    assert info.quant_bits == 4


def test_adapter_directory_sizes_its_base(tmp_path: Path) -> None:
    folder = tmp_path / "adapter"
    folder.mkdir()
    (folder / "adapter_config.json").write_text(
        json.dumps({"base_model_name_or_path": "mistralai/Mistral-7B-v0.1"}), encoding="utf-8"
    )
    info = resolve_model(str(folder), cache_dirs=[])
    assert info.matched == "mistralai/Mistral-7B-v0.1"
    assert any("adapter" in note for note in info.notes)
