"""YAML/JSON source: exact positions, dialect settings, references, limits and bad input."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tunelint.facts import UNKNOWN, FileFacts, FileKind, Setting
from tunelint.sources import config
from tunelint.sources.config import ConfigLimits, extract_json, extract_yaml

FIXTURES = Path(__file__).parent / "fixtures" / "sources"


def load(name: str) -> FileFacts:
    text = (FIXTURES / name).read_text()
    return extract_json(text, name) if name.endswith(".json") else extract_yaml(text, name)


def yaml_of(text: str) -> FileFacts:
    return extract_yaml(textwrap.dedent(text).lstrip("\n"), "cfg.yaml")


def values(facts: FileFacts) -> dict[str, object]:
    """Canonical name -> value; later settings win, as in a merge."""
    return {setting.name: setting.value.raw for setting in facts.settings}


def setting(facts: FileFacts, name: str) -> Setting:
    found = facts.setting(name)
    assert found is not None, name
    return found


def where(found: Setting) -> tuple[int, int, int, int]:
    """Key line, key column, value line, value column."""
    return (found.key_span.line, found.key_span.column, found.span.line, found.span.column)


def test_deepspeed_zero3_nvme_json() -> None:
    facts = load("ds_zero3_nvme.json")
    assert facts.kind is FileKind.JSON
    assert facts.dialects == ("deepspeed",)
    assert values(facts) == {
        "batch_size": 4,
        "mixed_precision": "bf16",
        "optimizer": "AdamW",
        "zero_stage": 3,
        "offload_optimizer_device": "nvme",
        "offload_dir": "/local_nvme",
        "offload_param_device": "cpu",
        "report_to": "wandb",
    }
    # "auto" defers to the Trainer: no grad_accum setting from this file
    assert facts.setting("grad_accum") is None
    assert where(setting(facts, "offload_dir")) == (15, 7, 15, 20)
    assert setting(facts, "offload_dir").span.end_column == 32
    assert setting(facts, "offload_dir").key == "zero_optimization.offload_optimizer.nvme_path"
    assert where(setting(facts, "zero_stage")) == (12, 5, 12, 14)
    assert facts.diagnostics == []
    assert facts.lines[14] == '      "nvme_path": "/local_nvme",'


def test_json_values_follow_json_typing() -> None:
    facts = extract_json('{"a": 1e5, "b": "1", "c": null, "d": [true, 2.5]}', "x.json")
    got = {assignment.target: assignment.value.raw for assignment in facts.assignments}
    assert got == {"a": 100000.0, "b": "1", "c": None, "d[0]": True, "d[1]": 2.5}
    texts = {assignment.target: assignment.value.text for assignment in facts.assignments}
    assert texts["b"] == '"1"'


def test_tab_indented_json_keeps_positions() -> None:
    text = '{\n\t"zero_optimization": {\n\t\t"stage": 2\n\t}\n}\n'
    facts = extract_json(text, "ds_config.json")
    assert where(setting(facts, "zero_stage")) == (3, 3, 3, 12)
    assert setting(facts, "zero_stage").value.raw == 2


def test_json_the_composer_rejects_falls_back_to_key_search() -> None:
    text = '{\n  "note": "a\x80b",\n  "zero_optimization": {\n    "stage": 2\n  }\n}\n'
    facts = extract_json(text, "ds.json")
    assert facts.diagnostics == []
    assert values(facts) == {"zero_stage": 2}
    assert setting(facts, "zero_stage").key_span.line == 4
    assert setting(facts, "zero_stage").key_span.column == 5


def test_accelerate_with_deepspeed_file() -> None:
    facts = load("accelerate_ds.yaml")
    assert facts.dialects == ("accelerate",)
    assert values(facts) == {"mixed_precision": "bf16", "num_gpus": 4}
    assert [(ref.role, ref.target.raw, ref.key) for ref in facts.references] == [
        ("config", "ds_zero3_nvme.json", "deepspeed_config.deepspeed_config_file")
    ]
    assert facts.references[0].target.span.line == 4
    assert facts.references[0].target.span.column == 26


def test_accelerate_inline_deepspeed_options() -> None:
    facts = load("accelerate_inline.yaml")
    assert values(facts) == {
        "grad_accum": 8,
        "offload_optimizer_device": "cpu",
        "offload_param_device": "nvme",
        "offload_dir": "/mnt/nvme/offload",
        "zero_stage": 3,
        "mixed_precision": "fp16",
        "num_gpus": 2,
    }
    assert where(setting(facts, "offload_dir")) == (7, 3, 7, 28)


def test_axolotl_qlora() -> None:
    facts = load("axolotl_qlora.yml")
    assert facts.dialects == ("axolotl",)
    got = values(facts)
    assert got["model"] == "NousResearch/Llama-2-7b-hf"
    assert got["adapter"] == "qlora"
    assert got["load_in_4bit"] is True and got["load_in_8bit"] is False
    assert got["lora_r"] == 32
    # the commented-out `lora_target_linear: true` is not a setting
    assert got["lora_targets"] == ["q_proj", "v_proj"]
    assert [s.key for s in facts.settings if s.name == "lora_targets"] == ["lora_target_modules"]
    assert got["batch_size"] == 2 and got["grad_accum"] == 4 and got["seq_len"] == 4096
    assert got["report_to"] == "wandb"
    assert got["mixed_precision"] is UNKNOWN  # bf16: auto; fp16 left empty sets nothing
    assert [s.key for s in facts.settings if s.name == "mixed_precision"] == ["bf16"]
    assert got["push_to_hub"] is True and got["hub_private"] is True
    assert got["dataset"] == "data/alpaca_clean.jsonl"
    assert where(setting(facts, "dataset")) == (10, 5, 10, 11)
    refs = {(ref.role, ref.target.raw) for ref in facts.references}
    assert refs == {
        ("data", "data/alpaca_clean.jsonl"),
        ("config", "deepspeed_configs/zero2.json"),
    }
    [suppression] = facts.suppressions
    assert suppression.codes == ("TL303",)
    assert suppression.reason == "private org repo"
    assert (suppression.span.line, suppression.first_line, suppression.last_line) == (45, 46, 46)
    assert suppression.covers(setting(facts, "push_to_hub").span)


def test_llamafactory_lora_sft() -> None:
    facts = load("llamafactory_lora_sft.yaml")
    assert facts.dialects == ("llamafactory",)
    assert values(facts) == {
        "model": "meta-llama/Meta-Llama-3-8B-Instruct",
        "trust_remote_code": True,
        "load_in_4bit": True,
        "adapter": "lora",
        "lora_r": 8,
        "lora_targets": "all",
        "dataset": "identity,alpaca_en_demo",
        "seq_len": 2048,
        "output_dir": "saves/llama3-8b/lora/sft",
        "save_steps": 500,
        "report_to": "none",
        "batch_size": 1,
        "grad_accum": 8,
        "num_epochs": 3.0,
        "mixed_precision": "bf16",
        "grad_checkpointing": False,
    }
    # a trailing comment is not part of the value
    assert setting(facts, "report_to").span.end_column == 15


def test_torchtune_lora() -> None:
    facts = load("torchtune_llama3_1_8b_lora.yaml")
    assert facts.dialects == ("torchtune",)
    got = values(facts)
    assert got["model"] == "meta-llama/Llama-3.1-8B"
    assert got["adapter"] == "lora"
    assert got["lora_r"] == 8
    assert got["lora_targets"] == ["q_proj", "v_proj", "output_proj"]
    assert got["batch_size"] == 2 and got["grad_accum"] == 8 and got["num_epochs"] == 1
    assert got["torch_dtype"] == "bfloat16" and got["mixed_precision"] == "no"
    assert got["grad_checkpointing"] is True
    assert got["report_to"] == "wandb"
    assert got["optimizer"] == "torch.optim.AdamW"
    assert "seq_len" not in got  # max_seq_len: null
    # ${output_dir} resolves within the document
    # ${output_dir} resolves within the document (to the definition's place); the base
    # weights' checkpoint_dir is a folder the job reads its checkpoint from
    outputs = [(s.value.raw, s.span.line) for s in facts.settings if s.name == "output_dir"]
    definition = outputs[0]
    assert outputs == [definition, ("/tmp/Meta-Llama-3.1-8B-Instruct/", outputs[1][1]), definition]
    model = setting(facts, "model")
    assert model.value.text == "torchtune.models.llama3_1.lora_llama3_1_8b"
    assert where(model) == (4, 3, 4, 16)
    assert [(ref.role, ref.key) for ref in facts.references] == [
        ("other", "checkpointer.checkpoint_dir")
    ]


def test_torchtune_unresolvable_interpolation_is_unknown() -> None:
    facts = yaml_of(
        """
        model:
          _component_: torchtune.models.llama2.lora_llama2_7b
        output_dir: ${oc.env:HOME}/out
        checkpointer:
          output_dir: ${nowhere}
        """
    )
    assert [s.value.raw for s in facts.settings if s.name == "output_dir"] == [UNKNOWN, UNKNOWN]


def test_trainer_args_yaml() -> None:
    facts = load("trainer_sft.yaml")
    assert facts.dialects == ("trainer",)
    got = values(facts)
    assert got == {
        "model": "Qwen/Qwen2.5-0.5B",
        "revision": "main",
        "dataset": "trl-lib/Capybara",
        "torch_dtype": "bfloat16",
        "batch_size": 8,
        "grad_accum": 2,
        "grad_checkpointing": True,
        "seq_len": 1024,
        "num_epochs": 1,
        "mixed_precision": "bf16",
        "save_strategy": "no",
        "output_dir": "/dev/shm/qwen-sft",
        "report_to": ["wandb", "mlflow"],
        "push_to_hub": True,
        "hub_private": False,
        "save_safetensors": False,
        "adapter": "lora",
        "lora_r": 16,
        "lora_targets": "all-linear",
        "load_in_4bit": True,
    }
    strategy = setting(facts, "save_strategy")
    assert strategy.value.text == '"no"'
    assert where(strategy) == (14, 1, 14, 16)


def test_litgpt_lora() -> None:
    facts = load("litgpt_lora.yaml")
    assert facts.dialects == ("litgpt",)
    got = values(facts)
    assert got["model"] == "meta-llama/Llama-2-7b-hf"
    assert got["load_in_4bit"] is True
    assert got["torch_dtype"] == "bfloat16" and got["mixed_precision"] == "no"
    assert got["batch_size"] == 2 and got["seq_len"] == 512 and got["save_steps"] == 200
    assert ("data", "data/train.json") in {(r.role, r.target.raw) for r in facts.references}


def test_every_scalar_leaf_is_an_assignment_with_its_position() -> None:
    facts = yaml_of(
        """
        tracking:
          uri: "http://mlflow.example.com"   # quoted, with a comment
          tags: [a, 'b c']
        token: hf_abcdefghijklmnopqrstuvwxyz012345
        """
    )
    got = {
        a.target: (a.value.raw, a.value.span.line, a.value.span.column) for a in facts.assignments
    }
    assert got == {
        "tracking.uri": ("http://mlflow.example.com", 2, 8),
        "tracking.tags[0]": ("a", 3, 10),
        "tracking.tags[1]": ("b c", 3, 13),
        "token": ("hf_abcdefghijklmnopqrstuvwxyz012345", 4, 8),
    }
    uri = facts.assignments[0]
    assert uri.kind == "key"
    assert uri.value.text == '"http://mlflow.example.com"'
    assert uri.value.origin == "config"
    assert (uri.span.line, uri.span.column) == (2, 3)
    assert facts.dialects == () and facts.settings == []


def test_commented_out_lines_are_never_facts() -> None:
    facts = yaml_of(
        """
        per_device_train_batch_size: 4
        # per_device_train_batch_size: 64
        #bf16: true
        """
    )
    assert [(s.name, s.value.raw) for s in facts.settings] == [("batch_size", 4)]
    assert [a.target for a in facts.assignments] == ["per_device_train_batch_size"]


def test_suppression_covers_the_whole_entry() -> None:
    facts = yaml_of(
        """
        zero_optimization:  # tunelint: ignore[TL103, disk-offload-during-training] -- lab box
          stage: 3
          offload_param:
            device: nvme

        other: 1
        """
    )
    [suppression] = facts.suppressions
    assert suppression.codes == ("TL103", "disk-offload-during-training")
    assert suppression.reason == "lab box"
    assert (suppression.first_line, suppression.last_line) == (1, 4)
    assert (suppression.span.line, suppression.span.column) == (1, 21)


def test_suppression_alone_above_skips_other_comments() -> None:
    facts = yaml_of(
        """
        # tunelint: ignore[TL401]
        # why: vendor model
        trust_remote_code: true
        other: 2
        """
    )
    [suppression] = facts.suppressions
    assert (suppression.first_line, suppression.last_line) == (3, 3)
    assert suppression.reason == ""


def test_hash_inside_quotes_or_block_scalars_is_not_a_comment() -> None:
    facts = yaml_of(
        """
        a: "x # tunelint: ignore[TL1]"
        b: |
          # tunelint: ignore[TL2]
        c: 'it''s # tunelint: ignore[TL3]'
        d: http://host/#tunelint:ignore[TL4]
        """
    )
    assert facts.suppressions == []
    assert facts.assignments[0].value.raw == "x # tunelint: ignore[TL1]"


def test_unknown_tags_are_never_constructed() -> None:
    facts = yaml_of(
        """
        evil: !!python/object/apply:builtins.exec ["raise SystemExit(3)"]
        other: !!python/name:os.system
        custom: !ENV ${HOME}
        binary: !!binary aGVsbG8=
        per_device_train_batch_size: !!int "8"
        """
    )
    got = {a.target: a.value.raw for a in facts.assignments}
    assert got["evil"] is UNKNOWN
    assert got["other"] is UNKNOWN
    assert got["custom"] is UNKNOWN
    assert got["binary"] is UNKNOWN
    assert got["per_device_train_batch_size"] == 8
    assert facts.diagnostics == []


def test_multi_document_yaml_reads_every_document() -> None:
    facts = yaml_of(
        """
        compute_environment: LOCAL_MACHINE
        distributed_type: MULTI_GPU
        num_processes: 2
        ---
        base_model: mistralai/Mistral-7B-v0.1
        micro_batch_size: 1
        """
    )
    assert facts.dialects == ("accelerate", "axolotl")
    assert values(facts) == {
        "num_gpus": 2,
        "model": "mistralai/Mistral-7B-v0.1",
        "batch_size": 1,
    }
    assert setting(facts, "batch_size").key_span.line == 6


def test_merge_keys_and_aliases() -> None:
    facts = yaml_of(
        """
        base: &base
          per_device_train_batch_size: 2
          bf16: true
        run:
          <<: *base
          per_device_train_batch_size: 8
        """
    )
    got = {a.target: a.value.raw for a in facts.assignments}
    assert got["run.per_device_train_batch_size"] == 8
    assert got["run.bf16"] is True
    assert got["base.per_device_train_batch_size"] == 2


def test_broken_yaml_is_a_diagnostic() -> None:
    facts = yaml_of(
        """
        a: 1
        b: [1, 2
        c: 3
        """
    )
    [diagnostic] = facts.diagnostics
    assert diagnostic.code == "parse-error"
    assert diagnostic.line == 3
    assert "invalid YAML" in diagnostic.message and "line 3" in diagnostic.message


def test_broken_json_is_a_diagnostic_with_line_and_column() -> None:
    facts = extract_json('{\n  "stage": 3,\n  "x": [1, 2,]\n}\n', "ds.json")
    [diagnostic] = facts.diagnostics
    assert (diagnostic.code, diagnostic.line) == ("parse-error", 3)
    assert "column 14" in diagnostic.message
    assert facts.settings == [] and facts.assignments == []


def billion_laughs(levels: int = 9) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        items = ", ".join([f"*l{level - 1}"] * 9)
        lines.append(f"l{level}: &l{level} [{items}]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_bounded() -> None:
    started = time.monotonic()
    facts = extract_yaml(billion_laughs(), "laughs.yaml")
    assert time.monotonic() - started < 10
    [diagnostic] = facts.diagnostics
    assert diagnostic.code == "limit"
    assert "max_nodes" in diagnostic.message
    assert len(facts.assignments) <= ConfigLimits().max_nodes


def test_recursive_alias_is_bounded() -> None:
    facts = extract_yaml("a: &a [*a, 1]\n", "loop.yaml")
    [diagnostic] = facts.diagnostics
    assert diagnostic.code == "limit" and "max_depth" in diagnostic.message


@pytest.mark.parametrize("depth", [150, 5000])
def test_deep_nesting_is_bounded(depth: int) -> None:
    yaml_facts = extract_yaml("[" * depth + "]" * depth, "deep.yaml")
    json_facts = extract_json("[" * depth + "]" * depth, "deep.json")
    for facts in (yaml_facts, json_facts):
        assert [d.code for d in facts.diagnostics] == ["limit"]
        assert "max_depth" in facts.diagnostics[0].message


def test_limits_are_configurable() -> None:
    limits = ConfigLimits(max_bytes=10)
    facts = extract_yaml("a: 1\nb: 2\nc: 3\n", "big.yaml", limits=limits)
    assert [d.code for d in facts.diagnostics] == ["limit"]
    assert "max_bytes" in facts.diagnostics[0].message
    assert extract_json('{"a": [1, 2, 3]}', "n.json", limits=ConfigLimits(max_nodes=3)).diagnostics


def test_notebook_placement_sets_cell_and_file_line() -> None:
    facts = extract_yaml(
        "\nnum_processes: 2\ndistributed_type: MULTI_GPU\n",
        "nb.ipynb",
        cell=4,
        line_map=[30, 31, 32],
    )
    found = setting(facts, "num_gpus")
    assert (found.span.cell, found.span.line, found.span.file_line) == (4, 2, 31)
    assert found.key_span.file_line == 31


def test_data_file_references() -> None:
    facts = yaml_of(
        """
        dataset:
          data_files: [train.parquet, s3://bucket/eval.parquet]
          path: json
        train_file: data/train.csv
        """
    )
    refs = [(ref.role, ref.target.raw, ref.key) for ref in facts.references]
    assert refs == [
        ("data", "train.parquet", "dataset.data_files[0]"),
        ("data", "data/train.csv", "train_file"),
    ]


_YAML_TOKENS = [
    "a", ":", " ", "\n", "  ", "- ", "&x", "*x", "<<", "!!python/object:x", "!t", "'", '"',
    "#", "# tunelint: ignore[A]", "|", ">", "[", "]", "{", "}", ",", "---", "stage", "3",
    "base_model", "_component_", "${a}", "null", "?", "\t",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_YAML_TOKENS), max_size=40))
def test_any_input_gives_facts_not_exceptions(tokens: list[str]) -> None:
    text = "".join(tokens)
    for facts in (extract_yaml(text, "fuzz.yaml"), extract_json(text, "fuzz.json")):
        assert all(d.code in {"parse-error", "limit"} for d in facts.diagnostics)


def test_pure_python_composer_gives_the_same_facts(monkeypatch: pytest.MonkeyPatch) -> None:
    names = sorted(path.name for path in FIXTURES.iterdir() if path.suffix in {".yml", ".yaml"})
    names.append("ds_zero3_nvme.json")
    fast = {name: load(name) for name in names}
    monkeypatch.setattr(config, "_loader", lambda: yaml.SafeLoader)
    for name in names:
        slow = load(name)
        assert slow.settings == fast[name].settings, name
        assert slow.assignments == fast[name].assignments, name
        assert slow.suppressions == fast[name].suppressions, name
    for depth in (150, 5000):
        facts = extract_yaml("[" * depth + "]" * depth, "deep.yaml")
        assert [d.code for d in facts.diagnostics] == ["limit"]
    [broken] = extract_yaml("a: [1, 2\nb: 3\n", "bad.yaml").diagnostics
    assert (broken.code, broken.line) == ("parse-error", 2)


def test_json_with_a_byte_order_mark() -> None:
    facts = extract_json('\ufeff{"zero_optimization": {"stage": 1}}', "ds.json")
    assert facts.diagnostics == []
    assert values(facts) == {"zero_stage": 1}


def test_interpolation_takes_the_definition_span_and_keeps_the_reference() -> None:
    facts = load("omegaconf_refs.yaml")
    assert facts.dialects == ("torchtune",)
    outputs = [
        (s.key, s.value.raw, s.span.line, s.key_span.line, s.value.via and s.value.via.line)
        for s in facts.settings
        if s.name == "output_dir"
    ]
    assert outputs == [
        ("output_dir", "/tmp/tt-runs/guard-8b", 2, 2, None),
        ("checkpointer.checkpoint_dir", "/srv/models/base", 3, 11, 11),
        ("checkpointer.output_dir", "/tmp/tt-runs/guard-8b", 2, 12, 12),
    ]  # profiler.output_dir is under `enabled: False`: no setting
    # the value filled in is the definition's: same span, same text
    first, _, last = (s for s in facts.settings if s.name == "output_dir")
    assert (last.value.span, last.value.text) == (first.value.span, first.value.text)
    seq_len = setting(facts, "seq_len")  # `${oc.env:MAX_LEN,2048}`: the default, in place
    assert (seq_len.value.raw, seq_len.span.line, seq_len.value.via) == (2048, 26, None)
    assert setting(facts, "batch_size").value.raw is UNKNOWN  # no default: the environment


def test_partial_interpolation_points_at_the_definition() -> None:
    facts = yaml_of(
        """
        model:
          _component_: torchtune.models.llama2.lora_llama2_7b
        base: /tmp/work
        profiler:
          _component_: torchtune.training.setup_torch_profiler
          enabled: true
          output_dir: ${base}/profiling
        """
    )
    found = setting(facts, "output_dir")
    assert found.value.raw == "/tmp/work/profiling"
    assert (found.span.line, found.key_span.line, found.value.via.line) == (3, 7, 7)  # type: ignore[union-attr]
    assert found.value.text == "${base}/profiling"


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("${a.b}", "deep"),  # nested key path
        ("${list.1}", "second"),  # OmegaConf list index
        ("${list[0]}", "first"),
        ("${.sibling}", "near"),  # relative to the key's own mapping
        ("${chain}", "deep"),  # a reference whose definition is a reference
        ("${loop}", UNKNOWN),  # a cycle
        ("${oc.env:X,'quoted'}", "quoted"),
        ("${oc.env:X,${a.b}}", "deep"),
        ("${oc.decode:x}", UNKNOWN),  # other resolvers are not evaluated
        ("pre-${a.b}-${list.0}", "pre-deep-first"),
        ("${a}", {"b": "deep"}),  # a whole reference copies the node, even a mapping
        ("x-${a}", UNKNOWN),  # but a mapping cannot go into a string
        ("\\\\${a.b}", UNKNOWN),  # escaped: the literal text `${a.b}`, which is no place
    ],
)
def test_interpolation_forms(written: str, expected: object) -> None:
    facts = yaml_of(
        f"""
        a:
          b: deep
        list: [first, second]
        chain: ${{a.b}}
        loop: ${{loop}}
        model:
          _component_: torchtune.models.llama2.lora_llama2_7b
        checkpointer:
          sibling: near
          output_dir: "{written}"
        """
    )
    found = [s for s in facts.settings if s.key == "checkpointer.output_dir"]
    assert [s.value.raw for s in found] == [expected]


def test_interpolation_lookalike_is_not_resolved_and_lists_split_by_line() -> None:
    facts = load("omegaconf_lookalike.yaml")
    assert facts.dialects == ("trainer",)
    assert setting(facts, "model").value.raw is UNKNOWN  # ${MODEL_ID}: no such key here
    assert setting(facts, "output_dir").value.raw is UNKNOWN
    reports = [(s.value.raw, s.span.line, s.key_span.line) for s in facts.settings]
    assert [r for r in reports if r[0] in {"tensorboard", "wandb"}] == [
        ("tensorboard", 8, 7),
        ("wandb", 9, 7),
    ]
    assert [s.name for s in facts.settings].count("output_dir") == 1  # tracing.* sets nothing


def test_report_to_on_one_line_stays_one_setting() -> None:
    facts = yaml_of("per_device_train_batch_size: 1\nreport_to: [wandb, mlflow]\n")
    assert [s.value.raw for s in facts.settings if s.name == "report_to"] == [["wandb", "mlflow"]]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("tokenizer:\n  name: x\n  kwargs:\n    trust_remote_code: true\n", "tokenizer.kwargs"),
        ("environment:\n  trust_remote_code: true\n", "environment"),
        ("model:\n  name: hf_causal_lm\n  trust_remote_code: true\n", "model"),
        ("model_kwargs:\n  trust_remote_code: true\n", "model_kwargs"),
    ],
)
def test_nested_trust_remote_code_in_any_config(text: str, key: str) -> None:
    facts = extract_yaml(text, "anything.yaml")
    found = [(s.name, s.value.raw, s.key) for s in facts.settings]
    assert found == [("trust_remote_code", True, f"{key}.trust_remote_code")]


def test_trust_remote_code_false_or_dialect_key_is_not_doubled() -> None:
    assert values(extract_yaml("env:\n  trust_remote_code: false\n", "a.yaml")) == {
        "trust_remote_code": False
    }
    facts = extract_yaml("model_name_or_path: x/y\ntrust_remote_code: true\n", "b.yaml")
    assert [s.name for s in facts.settings].count("trust_remote_code") == 1


def test_conf_file_holding_a_json_object_is_a_json_config(tmp_path: Path) -> None:
    from tunelint.discover import discover, kind_of

    for name in ("ds_offload_stage3.conf", "nginx_like.conf"):
        (tmp_path / name).write_bytes((FIXTURES / name).read_bytes())
    (tmp_path / "list.conf").write_text("[1, 2]\n")  # JSON, but no object: not a config
    (tmp_path / "broken.conf").write_text('{"zero_optimization": \n')
    (tmp_path / "settings.conf").write_text('\ufeff\n  {"a": 1}\n')  # BOM and blanks first
    found = discover(["."], root=tmp_path, cwd=tmp_path)
    assert [(f.path, f.kind) for f in found.files] == [
        ("ds_offload_stage3.conf", FileKind.JSON),
        ("settings.conf", FileKind.JSON),
    ]
    assert found.diagnostics == []  # the others stay unchecked, silently, as before
    assert kind_of(tmp_path / "nginx_like.conf") is None
    facts = extract_json((tmp_path / "ds_offload_stage3.conf").read_text(), "ds.conf")
    assert values(facts)["offload_optimizer_device"] == "cpu"
    assert setting(facts, "offload_param_device").span.line == 6


def test_swift_argument_file_is_not_a_trainer_config() -> None:
    facts = load("swift_args.yaml")
    assert facts.dialects == ("swift",)
    assert [(s.name, s.value.raw) for s in facts.settings if s.name != "dataset"] == [
        ("model", "Acme/Chat-7B"),
        ("adapter", "lora"),
        ("lora_r", 8),
        ("batch_size", 1),
        ("zero_stage", 2),
        ("offload_optimizer_device", "none"),
        ("offload_param_device", "none"),
        ("output_dir", "output"),
    ]  # model_name: acme-bot is a display name, not a model


def test_launch_lines_in_job_spec_strings_keep_yaml_positions() -> None:
    facts = load("beaker_job.yaml")
    accelerate, evaluation, torchrun = facts.launches
    assert (accelerate.launcher, accelerate.span.line, accelerate.span.end_line) == (
        "accelerate",
        5,
        12,
    )
    assert [c.raw for c in accelerate.configs] == ["configs/ds_stage3_offload.conf"]
    assert [(s.name, s.value.raw, s.span.line, s.span.column) for s in accelerate.settings] == [
        ("num_gpus", 4, 6, 23),
        ("model", "/models/base", 9, 28),
        ("output_dir", "/output/", 10, 20),
    ]  # `--report_to wandb` under WANDB_DISABLED=true in the task's env: no tracker
    assert [(name, value.raw) for name, value in accelerate.env][:2] == [
        ("WANDB_DISABLED", True),
        ("HF_HOME", "/tmp/hf"),
    ]
    assert [name for name, _ in evaluation.env] == ["WANDB_MODE"]  # its own task's env
    assert (torchrun.span.line, [(s.name, s.value.raw) for s in torchrun.settings]) == (
        26,
        [("num_gpus", 2), ("report_to", "mlflow")],
    )  # `run: |` is a script: one command per line
    assert ("config", "configs/ds_stage3_offload.conf") in [
        (ref.role, ref.target.raw) for ref in facts.references
    ]


def test_job_spec_lookalikes_launch_nothing() -> None:
    facts = load("beaker_lookalike.yaml")
    assert facts.launches == [] and facts.settings == [] and facts.diagnostics == []


def test_template_uris_are_unknown_wherever_read() -> None:
    facts = yaml_of("save_folder: oci://my-bucket/ckpt\nbucket: s3://acme-ml/ckpt\n")
    got = {a.target: (a.value.raw, a.value.text) for a in facts.assignments}
    assert got == {
        "save_folder": (UNKNOWN, "oci://my-bucket/ckpt"),
        "bucket": ("s3://acme-ml/ckpt", "s3://acme-ml/ckpt"),
    }


def test_interpolation_that_doubles_is_bounded() -> None:
    def chain(seed: int) -> FileFacts:
        lines = ["k0: " + "a" * seed] + [f"k{i}: ${{k{i - 1}}}${{k{i - 1}}}" for i in range(1, 7)]
        lines += ["model:", "  _component_: torchtune.models.llama2.lora_llama2_7b"]
        lines += ["checkpointer:", "  output_dir: ${k6}/x"]
        return extract_yaml("\n".join(lines) + "\n", "big.yaml")

    assert setting(chain(10), "output_dir").value.raw == "a" * 640 + "/x"
    start = time.perf_counter()
    assert setting(chain(2000), "output_dir").value.raw is UNKNOWN  # 128,000 characters
    assert time.perf_counter() - start < 5
