"""The alias table: each dialect key lands on the right canonical setting and value."""

from __future__ import annotations

import pytest

from tunelint.facts import UNKNOWN, Span, Value
from tunelint.sources.dialects import (
    CANONICAL,
    DIALECTS,
    TABLES,
    canonical_settings,
    detect_dialects,
)

SPAN = Span("cfg.yaml", 3, 5, 3, 9)
KEY_SPAN = Span("cfg.yaml", 3, 1, 3, 3)


def mapped(dialect: str, key: str, raw: object, origin: str = "config") -> dict[str, object]:
    """Canonical name -> value for one key; also checks spans and keys are carried through."""
    value = Value(raw, SPAN, origin, str(raw))
    settings = canonical_settings(dialect, key, value, KEY_SPAN)
    for setting in settings:
        assert setting.key == key
        assert setting.key_span == KEY_SPAN
        assert setting.span == SPAN
        assert setting.value.text == str(raw)
        assert setting.value.origin == origin
    return {setting.name: setting.value.raw for setting in settings}


def test_every_table_target_is_canonical() -> None:
    targets = {name for table in TABLES.values() for entry in table.values() for name, _ in entry}
    assert targets <= CANONICAL
    assert {"model", "offload_dir", "report_to", "num_gpus", "dataset"} <= targets


def test_canonical_set_matches_the_design() -> None:
    assert len(CANONICAL) == 42
    assert "helper_model" in CANONICAL  # reward, reference and teacher models: not trained
    assert "download_dir" in CANONICAL  # where a hub download command puts the repository
    assert "hub_model_id" in CANONICAL and "save_safetensors" in CANONICAL
    # read by the memory estimate: sharding, attention kernel and DeepSpeed buckets
    assert {"fsdp", "attn_implementation", "stage3_prefetch_bucket_size"} <= CANONICAL


@pytest.mark.parametrize(
    ("dialect", "key", "raw", "expected"),
    [
        ("trainer", "bf16", True, {"mixed_precision": "bf16"}),
        ("trainer", "bf16", False, {}),
        ("trainer", "fp16", "True", {"mixed_precision": "fp16"}),
        ("trainer", "per_device_train_batch_size", "8", {"batch_size": 8}),
        ("trainer", "per-device-train-batch-size", 8, {"batch_size": 8}),
        ("trainer", "--gradient_accumulation_steps", "4", {"grad_accum": 4}),
        ("trainer", "max_seq_length", 2048, {"seq_len": 2048}),
        ("trainer", "optim", "paged_adamw_8bit", {"optimizer": "paged_adamw_8bit"}),
        ("trainer", "gradient_checkpointing", "false", {"grad_checkpointing": False}),
        ("trainer", "hub_private_repo", True, {"hub_private": True}),
        ("trainer", "model_revision", "abc123", {"revision": "abc123"}),
        ("trainer", "num_train_epochs", "3.5", {"num_epochs": 3.5}),
        ("trainer", "use_peft", True, {"adapter": "lora"}),
        ("trainer", "learning_rate", 1e-4, {}),
        ("trainer", "deepspeed.zero_optimization.stage", 3, {"zero_stage": 3}),
        ("hf-loader", "pretrained_model_name_or_path", "gpt2", {"model": "gpt2"}),
        ("hf-loader", "offload_folder", "/tmp/off", {"offload_dir": "/tmp/off"}),
        ("hf-loader", "torch_dtype", "torch.float16", {"torch_dtype": "float16"}),
        ("hf-loader", "dtype", "bf16", {"torch_dtype": "bfloat16"}),
        ("hf-loader", "device_map", "auto", {"device_map": "auto"}),
        (
            "hf-loader",
            "max_memory",
            {0: "20GiB", "cpu": "60GiB"},
            {"max_memory": {0: "20GiB", "cpu": "60GiB"}},
        ),
        ("hf-loader", "offload_state_dict", True, {}),
        ("peft", "r", 16, {"lora_r": 16, "adapter": "lora"}),
        ("peft", "target_modules", ["q_proj"], {"lora_targets": ["q_proj"]}),
        ("bnb", "load_in_4bit", True, {"load_in_4bit": True}),
        (
            "deepspeed",
            "zero_optimization.offload_optimizer.device",
            "NVMe",
            {"offload_optimizer_device": "nvme"},
        ),
        (
            "deepspeed",
            "zero_optimization.offload_param.nvme_path",
            "/nvme",
            {"offload_dir": "/nvme"},
        ),
        ("deepspeed", "zero_optimization.cpu_offload", True, {"offload_optimizer_device": "cpu"}),
        ("deepspeed", "train_micro_batch_size_per_gpu", "auto", {}),
        ("deepspeed", "fp16.enabled", "auto", {}),
        ("deepspeed", "bf16.enabled", True, {"mixed_precision": "bf16"}),
        ("deepspeed", "num_gpus", "4", {"num_gpus": 4}),
        ("accelerate", "num_processes", 8, {"num_gpus": 8}),
        ("accelerate", "mixed_precision", "BF16", {"mixed_precision": "bf16"}),
        ("accelerate", "deepspeed_config.zero_stage", 2, {"zero_stage": 2}),
        ("accelerate", "zero_stage", "3", {"zero_stage": 3}),
        (
            "accelerate",
            "deepspeed_config.offload_optimizer_device",
            "cpu",
            {"offload_optimizer_device": "cpu"},
        ),
        ("accelerate", "fsdp_config.fsdp_offload_params", True, {"offload_param_device": "cpu"}),
        ("accelerate", "fsdp_config.fsdp_offload_params", False, {"offload_param_device": "none"}),
        ("accelerate", "log_with", "wandb", {"report_to": "wandb"}),
        ("torchrun", "nproc_per_node", "4", {"num_gpus": 4}),
        ("torchrun", "nproc-per-node", "gpu", {"num_gpus": UNKNOWN}),
        (
            "axolotl",
            "base_model",
            "mistralai/Mistral-7B-v0.1",
            {"model": "mistralai/Mistral-7B-v0.1"},
        ),
        ("axolotl", "adapter", "qlora", {"adapter": "qlora"}),
        ("axolotl", "adapter", None, {"adapter": "none"}),
        ("axolotl", "micro_batch_size", 2, {"batch_size": 2}),
        ("axolotl", "sequence_len", 4096, {"seq_len": 4096}),
        ("axolotl", "wandb_project", "proj", {"report_to": "wandb"}),
        ("axolotl", "wandb_project", "", {}),
        ("axolotl", "bf16", "auto", {"mixed_precision": UNKNOWN}),
        ("axolotl", "fp16", None, {}),
        ("axolotl", "lora_target_linear", True, {"lora_targets": "all-linear"}),
        (
            "axolotl",
            "hub_model_id",
            "org/m",
            {"hub_model_id": "org/m", "push_to_hub": True, "hub_private": True},
        ),
        ("axolotl", "datasets[3].path", "d.jsonl", {"dataset": "d.jsonl"}),
        (
            "axolotl",
            "mlflow_tracking_uri",
            "http://h",
            {"tracking_uri": "http://h", "report_to": "mlflow"},
        ),
        ("llamafactory", "quantization_bit", 4, {"load_in_4bit": True}),
        ("llamafactory", "quantization_bit", 8, {"load_in_8bit": True}),
        ("llamafactory", "finetuning_type", "lora", {"adapter": "lora"}),
        ("llamafactory", "finetuning_type", "full", {"adapter": "none"}),
        ("llamafactory", "cutoff_len", 1024, {"seq_len": 1024}),
        ("llamafactory", "lora_rank", 8, {"lora_r": 8}),
        ("llamafactory", "lora_target", "all", {"lora_targets": "all"}),
        ("llamafactory", "report_to", "wandb", {"report_to": "wandb"}),
        ("llamafactory", "per_device_train_batch_size", 2, {"batch_size": 2}),
        ("llamafactory", "disable_gradient_checkpointing", True, {"grad_checkpointing": False}),
        ("torchtune", "enable_activation_checkpointing", "True", {"grad_checkpointing": True}),
        ("torchtune", "dtype", "bf16", {"torch_dtype": "bfloat16", "mixed_precision": "no"}),
        (
            "torchtune",
            "metric_logger._component_",
            "torchtune.training.metric_logging.WandBLogger",
            {"report_to": "wandb"},
        ),
        ("torchtune", "model.lora_rank", 8, {"lora_r": 8}),
        ("litgpt", "precision", "bf16-mixed", {"mixed_precision": "bf16"}),
        ("litgpt", "precision", "16-mixed", {"mixed_precision": "fp16"}),
        ("litgpt", "precision", "32-true", {"mixed_precision": "no", "torch_dtype": "float32"}),
        ("litgpt", "quantize", "bnb.int8", {"load_in_8bit": True}),
        ("litgpt", "checkpoint_dir", "checkpoints/microsoft/phi-2", {"model": "microsoft/phi-2"}),
        ("litgpt", "checkpoint_dir", "/models/phi", {"model": "/models/phi"}),
        ("litgpt", "method", "finetune_lora", {"adapter": "lora"}),
        ("litgpt", "method", "finetune", {}),
        (
            "env",
            "MLFLOW_TRACKING_URI",
            "http://mlflow:5000",
            {"tracking_uri": "http://mlflow:5000"},
        ),
    ],
)
def test_mapping(dialect: str, key: str, raw: object, expected: dict[str, object]) -> None:
    assert mapped(dialect, key, raw) == expected


@pytest.mark.parametrize(
    ("component", "model", "adapter", "four_bit"),
    [
        ("torchtune.models.llama3_1.lora_llama3_1_8b", "meta-llama/Llama-3.1-8B", "lora", None),
        ("torchtune.models.llama3_2.llama3_2_1b", "meta-llama/Llama-3.2-1B", "none", None),
        ("torchtune.models.llama2.qlora_llama2_7b", "meta-llama/Llama-2-7b-hf", "qlora", True),
        (
            "torchtune.models.qwen2_5.lora_qwen2_5_7b_instruct",
            "Qwen/Qwen2.5-7B-Instruct",
            "lora",
            None,
        ),
        ("torchtune.models.qwen2_5.qwen2_5_0_5b", "Qwen/Qwen2.5-0.5B", "none", None),
        ("torchtune.models.mistral.lora_mistral_nemo_12b", "mistral_nemo_12b", "lora", None),
    ],
)
def test_torchtune_model_component(
    component: str, model: str, adapter: str, four_bit: bool | None
) -> None:
    result = mapped("torchtune", "model._component_", component)
    assert result["model"] == model
    assert result["adapter"] == adapter
    assert result.get("load_in_4bit") == four_bit


def test_unknown_values_stay_unknown() -> None:
    assert mapped("trainer", "bf16", UNKNOWN, "env") == {"mixed_precision": UNKNOWN}
    assert mapped("trainer", "per_device_train_batch_size", UNKNOWN) == {"batch_size": UNKNOWN}
    assert mapped("llamafactory", "quantization_bit", UNKNOWN) == {
        "load_in_4bit": UNKNOWN,
        "load_in_8bit": UNKNOWN,
    }
    # the key alone decides the adapter, even when the rank is unknown
    assert mapped("peft", "r", UNKNOWN) == {"lora_r": UNKNOWN, "adapter": "lora"}


def test_null_leaves_a_setting_unset() -> None:
    assert mapped("trainer", "output_dir", None) == {}
    assert mapped("torchtune", "tokenizer.max_seq_len", None) == {}


def test_unparsable_flag_text_is_not_guessed() -> None:
    assert mapped("trainer", "bf16", "maybe") == {"mixed_precision": UNKNOWN}
    assert mapped("trainer", "per_device_train_batch_size", "$BS") == {"batch_size": "$BS"}


def test_unknown_dialect_fails_loudly() -> None:
    with pytest.raises(ValueError, match="unknown dialect 'trl'"):
        canonical_settings("trl", "bf16", Value(True, SPAN), KEY_SPAN)


def test_dialect_names() -> None:
    assert set(DIALECTS) >= {
        "trainer",
        "hf-loader",
        "peft",
        "bnb",
        "deepspeed",
        "accelerate",
        "axolotl",
        "llamafactory",
        "torchtune",
        "litgpt",
    }


@pytest.mark.parametrize(
    ("keys", "path", "expected"),
    [
        (["zero_optimization", "fp16"], "any.json", ("deepspeed",)),
        (["train_micro_batch_size_per_gpu"], "x.json", ("deepspeed",)),
        (["fp16", "optimizer"], "configs/ds_config.json", ("deepspeed",)),
        (["fp16", "optimizer"], "configs/settings.json", ()),
        (["compute_environment", "distributed_type", "mixed_precision"], "a.yaml", ("accelerate",)),
        (["base_model", "datasets", "micro_batch_size", "output_dir"], "a.yml", ("axolotl",)),
        (["stage", "finetuning_type", "per_device_train_batch_size"], "a.yaml", ("llamafactory",)),
        (["model._component_", "tokenizer._component_", "batch_size"], "a.yaml", ("torchtune",)),
        (["checkpoint_dir", "out_dir", "train.micro_batch_size"], "a.yaml", ("litgpt",)),
        (["per_device_train_batch_size", "learning_rate"], "sft.yaml", ("trainer",)),
        (["name", "on", "jobs"], ".github/workflows/ci.yml", ()),
    ],
)
def test_detect_dialects(keys: list[str], path: str, expected: tuple[str, ...]) -> None:
    assert detect_dialects(keys, path) == expected


@pytest.mark.parametrize(
    "text",
    [
        "my-bucket", "oci://my-bucket/ckpt", "<model-id>", "<sdk-token>", "<path>",
        "<OPENRLHF_ROOT_PATH>", "{wandb_token}", "{ partition }", "REPLACE_ME", "REPLACEME",
        "your-org/your-model", "YOUR_HF_TOKEN", "PATH/to/Model", "/path/to/data",
        "path_to_data", "xxx.xxx.xxx.xxx", "output/vx-xxx/checkpoint-xxx", "...", "hf_xxx",
        "${VAR}", "$HOME/x", "s3://<bucket>/runs", "yourname/model", "***",
    ],
)  # fmt: skip
def test_placeholders(text: str) -> None:
    from tunelint.placeholders import is_placeholder

    assert is_placeholder(text)


@pytest.mark.parametrize(
    "text",
    [
        "", "Qwen/Qwen2.5-7B-Instruct", "<image>", "<|im_end|>", "<tool_call>", "<s>",
        "<think>", "0.0.0.0", "mistralai/Mixtral-8x7B-v0.1", "/tmp/run", "gs://ai2-llm/ckpt",
        "my-model", "my org/data", "swift-bot", "roberta-base", "http://127.0.0.1:8265",
        "AI-ModelScope/alpaca-gpt4-data-zh#500", '{"answer": "solution"}', "xx-large",
        "https://mlflow.vendor.example.com", "replacement-data/v2", "yourtts",
    ],
)  # fmt: skip
def test_not_placeholders(text: str) -> None:
    from tunelint.placeholders import is_placeholder

    assert not is_placeholder(text)


@pytest.mark.parametrize(
    ("dialect", "key", "raw"),
    [
        ("trainer", "model_name_or_path", "your-org/your-model"),
        ("trainer", "output_dir", "<output-dir>"),
        ("axolotl", "base_model", "PATH/to/Model"),
        ("trainer", "hub_model_id", "REPLACE_ME/model"),
        ("env", "MLFLOW_TRACKING_URI", "http://xxx.xxx.xxx.xxx:5000"),
    ],
)
def test_placeholder_places_become_unknown_keeping_the_text(
    dialect: str, key: str, raw: str
) -> None:
    (found,) = canonical_settings(dialect, key, Value(raw, SPAN, "config", raw), KEY_SPAN)
    assert found.value.raw is UNKNOWN
    assert found.value.text == raw


def test_placeholders_only_touch_places() -> None:
    # a logger name is no place: it stays as written
    assert mapped("trainer", "report_to", "<none-here>") == {"report_to": "<none-here>"}


PARAM_CPU = {"offload_param_device": "cpu"}
OPTIMIZER_CPU_ONLY = {"offload_optimizer_device": "cpu", "offload_param_device": "none"}


def config_rows(name: str) -> list[tuple[str, object, str, int]]:
    from pathlib import Path

    from tunelint.sources.config import extract_yaml

    path = Path(__file__).parent / "fixtures" / "sources" / name
    facts = extract_yaml(path.read_text(), name)
    return [(s.name, s.value.raw, s.key, s.span.line) for s in facts.settings]


def test_llm_foundry_yaml() -> None:
    assert detect_dialects(["max_duration", "model", "loggers", "save_folder"], "x.yaml") == (
        "llmfoundry",
    )
    assert config_rows("llmfoundry_finetune.yaml") == [
        ("seq_len", 2048, "max_seq_len", 1),
        ("model", "acme/base-7b", "model.pretrained_model_name_or_path", 6),
        ("lora_r", 16, "model.peft_config.r", 10),
        ("adapter", "lora", "model.peft_config.r", 10),
        ("trust_remote_code", True, "tokenizer.kwargs.trust_remote_code", 15),
        ("batch_size", 4, "device_train_microbatch_size", 18),
        ("mixed_precision", "bf16", "precision", 20),
        ("report_to", "wandb", "loggers.wandb", 23),  # `wandb: {}` turns the logger on
        ("tracking_uri", "databricks", "loggers.mlflow.tracking_uri", 25),
        ("report_to", "mlflow", "loggers.mlflow", 25),
        ("output_dir", "/tmp/foundry-ckpt", "save_folder", 26),
    ]


def test_h2o_llmstudio_yaml() -> None:
    assert config_rows("h2o_experiment.yaml") == [
        ("model", "acme/base-7b", "llm_backbone", 2),
        ("output_dir", "/tmp/h2o/output/acme-chat", "output_directory", 3),
        ("load_in_4bit", True, "architecture.backbone_dtype", 5),  # int4
        ("grad_checkpointing", True, "architecture.gradient_checkpointing", 6),
        ("revision", "main", "environment.huggingface_branch", 8),
        ("trust_remote_code", True, "environment.trust_remote_code", 9),
        ("report_to", "neptune", "logging.logger", 11),
        ("adapter", "lora", "training.lora", 13),
        ("lora_r", 8, "training.lora_r", 14),
        ("batch_size", 2, "training.batch_size", 15),
        ("num_epochs", 1, "training.epochs", 16),
        ("seq_len", 1024, "tokenizer.max_length", 18),
    ]


def test_trackio_space_and_swanlab_cloud_are_remote() -> None:
    assert config_rows("trackers_linked.yaml")[2:] == [
        ("report_to", "trackio", "report_to", 4),
        ("report_to", "swanlab", "report_to", 5),  # swanlab_mode: cloud
        (
            "tracking_uri",
            "https://huggingface.co/spaces/acme/training-dash",
            "trackio_space_id",
            6,
        ),  # trackio publishes its dashboard to that Hugging Face Space
    ]


def test_trackio_without_space_and_local_swanlab_send_nothing() -> None:
    assert config_rows("trackers_lookalike.yaml")[2:] == [
        ("report_to", ["trackio"], "report_to", 3)  # trackio logs locally; swanlab local
    ]  # with_tracking next to report_to adds nothing: report_to names the trackers


@pytest.mark.parametrize(
    ("dialect", "key", "raw", "expected"),
    [
        ("trainer", "data_output_path", "/tmp/data_files", {"output_dir": "/tmp/data_files"}),
        ("trainer", "offload", True, {"offload_optimizer_device": "cpu", **PARAM_CPU}),
        ("trainer", "zero_stage", "3", {"zero_stage": 3}),
        ("trainer", "--ds.adam_offload", True, {"offload_optimizer_device": "cpu"}),
        ("trainer", "--ds.zero_stage", "2", {"zero_stage": 2}),
        ("trainer", "--logger.wandb.key", "{wandb_token}", {"report_to": "wandb"}),
        ("trainer", "--actor.model_name_or_path", "acme/p", {"model": "acme/p"}),
        ("trainer", "--critic.model_name_or_path", "acme/c", {"model": "acme/c"}),
        ("trainer", "--reward.model_name_or_path", "acme/r", {"helper_model": "acme/r"}),
        ("trainer", "checkpoint_dir", "/tmp/ck", {"output_dir": "/tmp/ck"}),
        ("trainer", "ckpt_dir", "/tmp/ck", {"output_dir": "/tmp/ck"}),
        ("trainer", "save_dir", "/tmp/ck", {"output_dir": "/tmp/ck"}),
        ("trainer", "use_wandb", "false", {}),
        ("trainer", "use_wandb", "abc123key", {"report_to": "wandb"}),
        ("trainer", "lora_dim", 0, {"lora_r": 0}),
        ("trainer", "lora_dim", 8, {"lora_r": 8, "adapter": "lora"}),
        ("openrlhf", "pretrain", "acme/sft", {"model": "acme/sft"}),
        ("openrlhf", "reward_pretrain", "acme/rm", {"helper_model": "acme/rm"}),
        ("openrlhf", "save_path", "/tmp/rl", {"output_dir": "/tmp/rl"}),
        ("openrlhf", "adam_offload", True, {"offload_optimizer_device": "cpu"}),
        ("swift", "model_name", "acme-bot", {}),  # a display name, not a model
        ("swift", "model_author", "acme", {}),
        ("swift", "deepspeed", "zero2_offload", {"zero_stage": 2, **OPTIMIZER_CPU_ONLY}),
        ("swift", "deepspeed", "ds_config.json", {}),  # a file: read as a config of its own
        ("swift", "train_type", "full", {"adapter": "none"}),
        ("olmo-core", "model_name", "olmo3-7b", {}),  # a preset of the training script
        ("olmo-core", "--trainer.callbacks.wandb.enabled", "True", {"report_to": "wandb"}),
        ("llmfoundry", "loggers.wandb", None, {"report_to": "wandb"}),  # `wandb:` alone
        ("llmfoundry", "loggers.wandb", False, {}),
        ("h2o-llmstudio", "logging.logger", "W&B", {"report_to": "wandb"}),
        ("h2o-llmstudio", "logging.logger", "None", {"report_to": "none"}),
        ("env", "TRACKIO_SPACE_ID", "acme/dash", {"tracking_uri": "https://huggingface.co/spaces/acme/dash"}),
    ],
)  # fmt: skip
def test_stack_keys(dialect: str, key: str, raw: object, expected: dict[str, object]) -> None:
    assert mapped(dialect, key, raw) == expected


def test_linked_settings_wandb_off_by_environment() -> None:
    from tunelint.facts import Setting
    from tunelint.sources.dialects import linked_settings

    report = Setting(
        "report_to", Value(["wandb", "tensorboard"], SPAN), "report_to", "trainer", KEY_SPAN
    )
    offline = {"WANDB_MODE": (Value("offline", SPAN), SPAN)}
    disabled = {"WANDB_DISABLED": (Value("true", SPAN), SPAN)}
    online = {"WANDB_MODE": (Value("online", SPAN), SPAN)}
    assert [s.value.raw for s in linked_settings([report], offline)] == [["tensorboard"]]
    assert [s.value.raw for s in linked_settings([report], disabled)] == [["tensorboard"]]
    assert [s.value.raw for s in linked_settings([report], online)] == [["wandb", "tensorboard"]]
    tracking = {"with_tracking": (Value(True, SPAN), KEY_SPAN)}
    (added,) = linked_settings([], tracking)  # accelerate's log_with="all"
    assert (added.name, added.value.raw, added.key, added.key_span) == (
        "report_to", "all", "with_tracking", KEY_SPAN,
    )  # fmt: skip
    assert linked_settings([], {"with_tracking": (Value(False, SPAN), KEY_SPAN)}) == []
