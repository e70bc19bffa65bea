"""Alias tables of training stacks whose launch line or config is the whole job.

* **OpenRLHF** (``openrlhf.cli.*``): the dotted CLI of current releases and the flat flags of
  older ones (``--pretrain``, ``--save_path``, ``--adam_offload``, ``--use_wandb KEY``).
  The actor and the critic are trained (``model``); reward and reference models are frozen
  (``helper_model``).
* **ms-swift** (``swift sft|pt|rlhf ...``, ``megatron sft ...`` and their YAML/JSON argument
  files): ``--model`` is a ModelScope (or, with ``--use_hf``, Hugging Face) id;
  ``--model_name`` / ``--model_author`` only name the model in self-cognition data and set
  nothing; ``--deepspeed zero3_offload`` names a built-in config.
* **llm-foundry** YAML: ``model.pretrained_model_name_or_path``, ``loggers.<service>``,
  ``save_folder``, ``precision: amp_bf16``.
* **h2o-llmstudio** experiment YAML: ``llm_backbone``, ``output_directory``,
  ``logging.logger``, ``architecture.backbone_dtype``, ``environment.huggingface_branch``.
* **OLMo-core** launch overrides (``--trainer.callbacks.wandb.enabled=True``);
  ``--model_name=olmo3-7b`` there is a preset of the training script, not a hub id.
"""

from __future__ import annotations

from typing import Final

from tunelint.facts import Value
from tunelint.sources import dialect_values as v
from tunelint.sources.dialect_tables import PRECISION_FLAGS, RUN_OUTPUTS, TRAINER, Entry, m

# --- transforms ---------------------------------------------------------------------------

# ms-swift's built-in DeepSpeed configs: name -> (stage, optimizer device, parameter device)
SWIFT_DEEPSPEED: Final[dict[str, tuple[int, str, str]]] = {
    "zero0": (0, "none", "none"),
    "zero1": (1, "none", "none"),
    "zero2": (2, "none", "none"),
    "zero3": (3, "none", "none"),
    "zero2_offload": (2, "cpu", "none"),
    "zero3_offload": (3, "cpu", "cpu"),
}


def _swift_builtin(value: Value) -> tuple[int, str, str] | None:
    text = value.as_str()
    return SWIFT_DEEPSPEED.get(text.strip().lower()) if text is not None else None


def _swift_part(index: int) -> v.Transform:
    """One part of a built-in ``--deepspeed`` name; a path to a JSON file sets nothing here
    (the config is read as a file of its own)."""

    def transform(value: Value) -> Value | None:
        if not value.known:
            return value
        found = _swift_builtin(value)
        return None if found is None else Value(found[index], value.span, value.origin, value.text)

    return transform


def foundry_precision(value: Value) -> Value | None:
    """Composer precision: ``amp_bf16`` / ``amp_fp16`` mixed, ``fp32`` none."""
    text = (value.as_str() or "").strip().lower()
    if not value.known:
        return value
    if text.startswith("amp_"):
        return Value(text[4:], value.span, value.origin, value.text)
    return Value("no", value.span, value.origin, value.text) if text == "fp32" else None


def h2o_logger(value: Value) -> Value | None:
    """``Neptune`` / ``W&B`` / ``None`` as the service names other dialects use."""
    text = value.as_str()
    if text is None:
        return value if not value.known else None
    name = {"w&b": "wandb", "wandb": "wandb", "neptune": "neptune"}.get(text.strip().lower())
    return Value(name or "none", value.span, value.origin, value.text)


def _h2o_bits(bits: int) -> v.Transform:
    def transform(value: Value) -> Value | None:
        if not value.known:
            return value
        text = (value.as_str() or "").strip().lower()
        return Value(True, value.span, value.origin, value.text) if text == f"int{bits}" else None

    return transform


def h2o_dtype(value: Value) -> Value | None:
    """The backbone dtype when it is a float type (int4/int8 load quantised instead)."""
    text = (value.as_str() or "").strip().lower()
    if not value.known:
        return value
    return value if text in {"bfloat16", "float16", "float32"} else None


# --- tables -------------------------------------------------------------------------------

OPENRLHF: Final[dict[str, Entry]] = {
    **TRAINER,
    "pretrain": m("model"),
    "critic_pretrain": m("model"),
    "reward_pretrain": m("helper_model"),
    "ref_pretrain": m("helper_model"),
    "micro_train_batch_size": m("batch_size"),
    "max_len": m("seq_len"),
    "max_epochs": m("num_epochs"),
    "adam_offload": m("offload_optimizer_device", v.legacy_cpu_offload),
    "use_tensorboard": m("report_to", v.non_empty("tensorboard")),
    "flash_attn": m("attn_implementation", v.when_true("flash_attention_2")),
    "lora_rank": m("lora_r") + m("adapter", v.positive("lora")),
    "prompt_data": m("dataset"),
}

SWIFT: Final[dict[str, Entry]] = {
    **PRECISION_FLAGS,
    **RUN_OUTPUTS,
    "model": m("model"),
    "model_id_or_path": m("model"),
    "model_revision": m("revision"),
    "ref_model": m("helper_model"),
    "reward_model": m("helper_model"),
    "teacher_model": m("helper_model"),
    "train_type": m("adapter", v.adapter),
    "tuner_type": m("adapter", v.adapter),
    "quant_bits": m("load_in_4bit", v.quant_bits(4)) + m("load_in_8bit", v.quant_bits(8)),
    "lora_rank": m("lora_r"),
    "target_modules": m("lora_targets"),
    "torch_dtype": m("torch_dtype"),
    "attn_impl": m("attn_implementation"),
    "device_map": m("device_map"),
    "per_device_train_batch_size": m("batch_size"),
    "gradient_accumulation_steps": m("grad_accum"),
    "max_length": m("seq_len"),
    "num_train_epochs": m("num_epochs"),
    "gradient_checkpointing": m("grad_checkpointing"),
    "dataset": m("dataset"),
    "deepspeed": m("zero_stage", _swift_part(0))
    + m("offload_optimizer_device", _swift_part(1))
    + m("offload_param_device", _swift_part(2)),
    # Megatron-SWIFT (`megatron sft`) spellings
    "micro_batch_size": m("batch_size"),
    "optimizer_cpu_offload": m("offload_optimizer_device", v.legacy_cpu_offload),
}
# What a swift command that does not train (infer, export, deploy, eval) still decides.
SWIFT_NOT_TRAINING: Final[frozenset[str]] = frozenset(
    {"push_to_hub", "hub_model_id", "hub_private_repo", "trust_remote_code", "report_to"}
)

LLMFOUNDRY: Final[dict[str, Entry]] = {
    "model.pretrained_model_name_or_path": m("model"),
    "model.peft_config.r": m("lora_r") + m("adapter", v.const("lora")),
    "model.peft_config.target_modules": m("lora_targets"),
    "save_folder": m("output_dir"),
    "precision": m("mixed_precision", foundry_precision),
    "device_train_microbatch_size": m("batch_size"),
    "max_seq_len": m("seq_len"),
    "fsdp_config": m("fsdp", v.non_empty(True)),
    "fsdp_config.activation_checkpointing": m("grad_checkpointing"),
    "loggers.wandb": m("report_to", v.present("wandb")),
    "loggers.mlflow": m("report_to", v.present("mlflow")),
    "loggers.mlflow.tracking_uri": m("tracking_uri"),
    "loggers.comet_ml": m("report_to", v.present("comet_ml")),
    "loggers.neptune": m("report_to", v.present("neptune")),
    "loggers.tensorboard": m("report_to", v.present("tensorboard")),
}

H2O_LLMSTUDIO: Final[dict[str, Entry]] = {
    "llm_backbone": m("model"),
    "output_directory": m("output_dir"),
    "environment.huggingface_branch": m("revision"),
    "logging.logger": m("report_to", h2o_logger),
    "architecture.backbone_dtype": m("load_in_4bit", _h2o_bits(4))
    + m("load_in_8bit", _h2o_bits(8))
    + m("torch_dtype", h2o_dtype),
    "architecture.gradient_checkpointing": m("grad_checkpointing"),
    "training.lora": m("adapter", v.when_true_else("lora", "none")),
    "training.lora_r": m("lora_r"),
    "training.lora_target_modules": m("lora_targets"),
    "training.batch_size": m("batch_size"),
    "training.epochs": m("num_epochs"),
    "tokenizer.max_length": m("seq_len"),
}

OLMO_CORE: Final[dict[str, Entry]] = {
    **{key: entry for key, entry in TRAINER.items() if key != "model_name"},
    "trainer.callbacks.wandb.enabled": m("report_to", v.when_true("wandb")),
    "trainer.callbacks.comet.enabled": m("report_to", v.when_true("comet_ml")),
    "trainer.save_folder": m("output_dir"),
    "seq_len": m("seq_len"),
    "launch.num_gpus": m("num_gpus"),
}
# Override prefixes that mark an OLMo-core launch (its own config tree on the command line).
OLMO_PREFIXES: Final = ("trainer.", "train_module.", "launch.", "dataset.", "data_loader.")

STACKS: Final[dict[str, dict[str, Entry]]] = {
    "openrlhf": OPENRLHF,
    "swift": SWIFT,
    "llmfoundry": LLMFOUNDRY,
    "h2o-llmstudio": H2O_LLMSTUDIO,
    "olmo-core": OLMO_CORE,
}
__all__ = ["OLMO_PREFIXES", "STACKS", "SWIFT_DEEPSPEED", "SWIFT_NOT_TRAINING"]
