"""The alias table: every dialect's own keys mapped onto tunelint's canonical settings.

Rules speak canonical names only (``batch_size``, ``offload_dir``, ...). Each training stack
spells them its own way: a Trainer writes ``per_device_train_batch_size``, DeepSpeed
``train_micro_batch_size_per_gpu``, axolotl ``micro_batch_size``. This module is the one
place that knows those spellings, so a new framework is one new dict here.

A table maps a dialect key (a dotted key path for nested config keys, list items as ``[]``;
a bare flag name for command lines) to one or more ``(canonical name, transform)`` pairs. A
transform turns the written value into the canonical one and may return None to say "this
value sets nothing" (``bf16: false`` leaves ``mixed_precision`` to other keys); transforms
live in ``tunelint.sources.dialect_values``. Afterwards a
per-setting normaliser gives every source the same types: numbers from command-line text
become ints, "True" becomes True, ``torch.bfloat16`` / ``bf16`` become ``bfloat16``.
Unknown values stay Unknown: transforms never guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Final

from tunelint.facts import Setting, Span, Value
from tunelint.sources import dialect_values as v

Entry = tuple[tuple[str, v.Transform], ...]

CANONICAL: Final[frozenset[str]] = frozenset(
    {
        "model", "torch_dtype", "mixed_precision", "load_in_4bit", "load_in_8bit", "adapter",
        "lora_r", "lora_targets", "batch_size", "grad_accum", "seq_len", "grad_checkpointing",
        "optimizer", "num_gpus", "zero_stage", "offload_optimizer_device",
        "offload_param_device", "offload_dir", "device_map", "max_memory", "output_dir",
        "save_strategy", "save_steps", "max_steps", "num_epochs", "report_to",
        "tracking_uri", "push_to_hub", "hub_private", "hub_model_id", "trust_remote_code",
        "revision", "save_safetensors", "dataset", "fsdp", "attn_implementation",
        "reduce_bucket_size", "allgather_bucket_size", "stage3_prefetch_bucket_size",
        "stage3_max_live_parameters",
    }
)  # fmt: skip

# --- the table --------------------------------------------------------------------------


def m(name: str, transform: v.Transform = v.same) -> Entry:
    """One canonical target; entries add up with ``+``."""
    assert name in CANONICAL, name
    return ((name, transform),)


_PRECISION_FLAGS: Final[dict[str, Entry]] = {
    "bf16": m("mixed_precision", v.when_true("bf16")),
    "fp16": m("mixed_precision", v.when_true("fp16")),
}

_RUN_OUTPUTS: Final[dict[str, Entry]] = {
    "output_dir": m("output_dir"),
    "save_strategy": m("save_strategy"),
    "save_steps": m("save_steps"),
    "max_steps": m("max_steps"),
    "report_to": m("report_to"),
    "push_to_hub": m("push_to_hub"),
    "hub_model_id": m("hub_model_id"),
    "hub_private_repo": m("hub_private"),
    "save_safetensors": m("save_safetensors"),
    "trust_remote_code": m("trust_remote_code"),
}

TRAINER: Final[dict[str, Entry]] = {
    **_PRECISION_FLAGS,
    **_RUN_OUTPUTS,
    "model_name_or_path": m("model"),
    "model_name": m("model"),
    "model_revision": m("revision"),
    "torch_dtype": m("torch_dtype"),
    "dtype": m("torch_dtype"),
    "load_in_4bit": m("load_in_4bit"),
    "load_in_8bit": m("load_in_8bit"),
    "use_peft": m("adapter", v.when_true_else("lora", "none")),
    "lora_r": m("lora_r"),
    "lora_target_modules": m("lora_targets"),
    "per_device_train_batch_size": m("batch_size"),
    "per_gpu_train_batch_size": m("batch_size"),
    "gradient_accumulation_steps": m("grad_accum"),
    "max_seq_length": m("seq_len"),
    "max_length": m("seq_len"),
    "block_size": m("seq_len"),
    "model_max_length": m("seq_len"),
    "gradient_checkpointing": m("grad_checkpointing"),
    "optim": m("optimizer"),
    "fsdp": m("fsdp", v.non_empty(True)),
    "attn_implementation": m("attn_implementation"),
    "num_train_epochs": m("num_epochs"),
    "dataset_name": m("dataset"),
    "train_file": m("dataset"),
}

HF_LOADER: Final[dict[str, Entry]] = {
    "pretrained_model_name_or_path": m("model"),
    "model_name_or_path": m("model"),
    "device_map": m("device_map"),
    "max_memory": m("max_memory"),
    "offload_folder": m("offload_dir"),
    "torch_dtype": m("torch_dtype"),
    "dtype": m("torch_dtype"),
    "trust_remote_code": m("trust_remote_code"),
    "revision": m("revision"),
    "load_in_4bit": m("load_in_4bit"),
    "load_in_8bit": m("load_in_8bit"),
    "attn_implementation": m("attn_implementation"),
}

PEFT: Final[dict[str, Entry]] = {
    "r": m("lora_r") + m("adapter", v.const("lora")),
    "target_modules": m("lora_targets"),
}

BNB: Final[dict[str, Entry]] = {
    "load_in_4bit": m("load_in_4bit"),
    "load_in_8bit": m("load_in_8bit"),
}

_ZERO = "zero_optimization"
DEEPSPEED: Final[dict[str, Entry]] = {
    f"{_ZERO}.stage": m("zero_stage"),
    f"{_ZERO}.offload_optimizer.device": m("offload_optimizer_device"),
    f"{_ZERO}.offload_param.device": m("offload_param_device"),
    f"{_ZERO}.offload_optimizer.nvme_path": m("offload_dir"),
    f"{_ZERO}.offload_param.nvme_path": m("offload_dir"),
    f"{_ZERO}.cpu_offload": m("offload_optimizer_device", v.legacy_cpu_offload),
    f"{_ZERO}.cpu_offload_params": m("offload_param_device", v.legacy_cpu_offload),
    f"{_ZERO}.reduce_bucket_size": m("reduce_bucket_size"),
    f"{_ZERO}.allgather_bucket_size": m("allgather_bucket_size"),
    f"{_ZERO}.stage3_prefetch_bucket_size": m("stage3_prefetch_bucket_size"),
    f"{_ZERO}.stage3_max_live_parameters": m("stage3_max_live_parameters"),
    "train_micro_batch_size_per_gpu": m("batch_size"),
    "gradient_accumulation_steps": m("grad_accum"),
    "fp16.enabled": m("mixed_precision", v.when_true("fp16")),
    "bf16.enabled": m("mixed_precision", v.when_true("bf16")),
    "bfloat16.enabled": m("mixed_precision", v.when_true("bf16")),
    "optimizer.type": m("optimizer"),
    "wandb.enabled": m("report_to", v.when_true("wandb")),
    "tensorboard.enabled": m("report_to", v.when_true("tensorboard")),
    "comet.enabled": m("report_to", v.when_true("comet_ml")),
    # the `deepspeed` launcher's own option
    "num_gpus": m("num_gpus"),
}

_ACCELERATE_FLAT: Final[dict[str, Entry]] = {
    "zero_stage": m("zero_stage"),
    "offload_optimizer_device": m("offload_optimizer_device"),
    "offload_param_device": m("offload_param_device"),
    "offload_optimizer_nvme_path": m("offload_dir"),
    "offload_param_nvme_path": m("offload_dir"),
    "gradient_accumulation_steps": m("grad_accum"),
}
ACCELERATE: Final[dict[str, Entry]] = {
    "mixed_precision": m("mixed_precision"),
    "num_processes": m("num_gpus"),
    "gradient_accumulation_steps": m("grad_accum"),
    "log_with": m("report_to"),
    **{f"deepspeed_config.{key}": entry for key, entry in _ACCELERATE_FLAT.items()},
    # `accelerate launch` spells the same options as bare flags
    **_ACCELERATE_FLAT,
    "fsdp_config.fsdp_offload_params": m("offload_param_device", v.legacy_cpu_offload),
    "fsdp_offload_params": m("offload_param_device", v.legacy_cpu_offload),
    "fsdp_config.fsdp_activation_checkpointing": m("grad_checkpointing"),
    "fsdp_activation_checkpointing": m("grad_checkpointing"),
}

TORCHRUN: Final[dict[str, Entry]] = {
    "nproc_per_node": m("num_gpus", v.count),
}

AXOLOTL: Final[dict[str, Entry]] = {
    **_RUN_OUTPUTS,
    "bf16": m("mixed_precision", v.auto_unknown(v.when_true("bf16"))),
    "fp16": m("mixed_precision", v.auto_unknown(v.when_true("fp16"))),
    "base_model": m("model"),
    "revision_of_model": m("revision"),
    "adapter": m("adapter", v.adapter),
    "load_in_4bit": m("load_in_4bit"),
    "load_in_8bit": m("load_in_8bit"),
    "lora_r": m("lora_r"),
    "lora_target_modules": m("lora_targets"),
    "lora_target_linear": m("lora_targets", v.lora_linear),
    "micro_batch_size": m("batch_size"),
    "gradient_accumulation_steps": m("grad_accum"),
    "sequence_len": m("seq_len"),
    "gradient_checkpointing": m("grad_checkpointing"),
    "flash_attention": m("attn_implementation", v.when_true("flash_attention_2")),
    "optimizer": m("optimizer"),
    "num_epochs": m("num_epochs"),
    "wandb_project": m("report_to", v.non_empty("wandb")),
    "mlflow_tracking_uri": m("tracking_uri") + m("report_to", v.non_empty("mlflow")),
    "use_tensorboard": m("report_to", v.when_true("tensorboard")),
    # axolotl turns hub_model_id into push_to_hub with a private repo
    "hub_model_id": m("hub_model_id")
    + m("push_to_hub", v.non_empty(True))
    + m("hub_private", v.non_empty(True)),
    "datasets[].path": m("dataset"),
}

LLAMAFACTORY: Final[dict[str, Entry]] = {
    **TRAINER,
    "finetuning_type": m("adapter", v.adapter),
    "quantization_bit": m("load_in_4bit", v.quant_bits(4)) + m("load_in_8bit", v.quant_bits(8)),
    "lora_rank": m("lora_r"),
    "lora_target": m("lora_targets"),
    "cutoff_len": m("seq_len"),
    "disable_gradient_checkpointing": m("grad_checkpointing", v.negate),
    "dataset": m("dataset"),
}

TORCHTUNE: Final[dict[str, Entry]] = {
    "model._component_": m("model", v.torchtune_model)
    + m("adapter", v.torchtune_adapter)
    + m("load_in_4bit", v.torchtune_4bit),
    "model.lora_rank": m("lora_r"),
    "model.lora_attn_modules": m("lora_targets"),
    "dtype": m("torch_dtype") + m("mixed_precision", v.torchtune_dtype),
    "batch_size": m("batch_size"),
    "gradient_accumulation_steps": m("grad_accum"),
    "tokenizer.max_seq_len": m("seq_len"),
    "enable_activation_checkpointing": m("grad_checkpointing"),
    "optimizer._component_": m("optimizer"),
    "epochs": m("num_epochs"),
    "output_dir": m("output_dir"),
    "checkpointer.output_dir": m("output_dir"),
    "metric_logger._component_": m("report_to", v.last_segment_lower),
    "metric_logger.tracking_uri": m("tracking_uri"),
    "dataset.source": m("dataset"),
}

LITGPT: Final[dict[str, Entry]] = {
    "checkpoint_dir": m("model", v.litgpt_model),
    "out_dir": m("output_dir"),
    "precision": m("mixed_precision", v.litgpt_mixed) + m("torch_dtype", v.litgpt_dtype),
    "quantize": m("load_in_4bit", v.litgpt_bits(4)) + m("load_in_8bit", v.litgpt_bits(8)),
    "devices": m("num_gpus"),
    "lora_r": m("lora_r") + m("adapter", v.const("lora")),
    "train.micro_batch_size": m("batch_size"),
    "train.max_seq_length": m("seq_len"),
    "train.epochs": m("num_epochs"),
    "train.max_steps": m("max_steps"),
    "train.save_interval": m("save_steps"),
    "optimizer": m("optimizer"),
    "optimizer.class_path": m("optimizer"),
    "logger_name": m("report_to"),
    # the finetune subcommand (`finetune_lora`, `finetune lora`), passed by the shell source
    "method": m("adapter", v.litgpt_method),
}

ENV: Final[dict[str, Entry]] = {
    "MLFLOW_TRACKING_URI": m("tracking_uri"),
}

TABLES: Final[dict[str, dict[str, Entry]]] = {
    "trainer": TRAINER,
    "hf-loader": HF_LOADER,
    "peft": PEFT,
    "bnb": BNB,
    "deepspeed": DEEPSPEED,
    "accelerate": ACCELERATE,
    "torchrun": TORCHRUN,
    "axolotl": AXOLOTL,
    "llamafactory": LLAMAFACTORY,
    "torchtune": TORCHTUNE,
    "litgpt": LITGPT,
    "env": ENV,
}
DIALECTS: Final[tuple[str, ...]] = tuple(TABLES)

# A Trainer-style config may carry a whole DeepSpeed config inline under `deepspeed:`.
_NESTED: Final[dict[str, dict[str, str]]] = {
    "trainer": {"deepspeed": "deepspeed"},
    "llamafactory": {"deepspeed": "deepspeed"},
    "axolotl": {"deepspeed": "deepspeed"},
}


_NUMBERS = ("lora_r", "batch_size", "grad_accum", "seq_len", "num_gpus", "zero_stage",
            "save_steps", "max_steps", "num_epochs", "reduce_bucket_size",
            "allgather_bucket_size", "stage3_prefetch_bucket_size",
            "stage3_max_live_parameters")  # fmt: skip
_FLAGS = ("load_in_4bit", "load_in_8bit", "grad_checkpointing", "push_to_hub", "hub_private",
          "trust_remote_code", "save_safetensors")  # fmt: skip
_NORMALISE: Final[dict[str, v.Transform]] = {
    **dict.fromkeys(_NUMBERS, v.number),
    **dict.fromkeys(_FLAGS, v.flag),
    "torch_dtype": v.dtype,
    "mixed_precision": v.lower,
    "offload_optimizer_device": v.lower,
    "offload_param_device": v.lower,
    "adapter": v.lower,
}

# Where a dialect gives null a meaning: axolotl `adapter:` left empty is a full fine-tune.
_NULL_MEANS_SOMETHING: Final[frozenset[v.Transform]] = frozenset({v.adapter})

_INDEX = re.compile(r"\[\d+\]")


def _lookup_key(key: str) -> str:
    """``--per-device-train-batch-size`` / ``datasets[0].path`` -> the table's spelling."""
    key = _INDEX.sub("[]", key.lstrip("-"))
    return key if "." in key or key.isupper() else key.replace("-", "_")


def canonical_settings(dialect: str, key: str, value: Value, key_span: Span) -> list[Setting]:
    """The canonical settings one dialect key sets (often none, sometimes several).

    ``key`` is a dotted key path for nested config keys (``zero_optimization.stage``), list
    items as ``[0]``, or a bare command-line flag name. Raises ValueError for a dialect
    this table does not know, so a misspelt dialect fails loudly in tests.
    """
    table = TABLES.get(dialect)
    if table is None:
        raise ValueError(f"unknown dialect {dialect!r}; known: {', '.join(DIALECTS)}")
    lookup = _lookup_key(key)
    entry = table.get(lookup)
    if entry is None:
        head, _, rest = lookup.partition(".")
        nested = _NESTED.get(dialect, {}).get(head)
        if nested is None or not rest:
            return []
        dialect, entry = nested, TABLES[nested].get(rest)
        if entry is None:
            return []
    if dialect == "deepspeed" and v.skip_auto(value) is None:
        return []
    settings: list[Setting] = []
    for name, transform in entry:
        if value.raw is None and transform not in _NULL_MEANS_SOMETHING:
            continue  # `key:` with no value (null / None) leaves the setting unset
        mapped = transform(value)
        if mapped is not None:
            mapped = _NORMALISE.get(name, v.same)(mapped)
        if mapped is not None:
            settings.append(Setting(name, mapped, key, dialect, key_span))
    return settings


# --- recognising a config file's dialect --------------------------------------------------

_MARKERS: Final[dict[str, frozenset[str]]] = {
    "deepspeed": frozenset(
        {
            "zero_optimization",
            "train_micro_batch_size_per_gpu",
            "zero_allow_untested_optimizer",
            "zero_force_ds_cpu_optimizer",
        }
    ),
    "accelerate": frozenset({"compute_environment", "distributed_type"}),
    "trainer": frozenset(
        {
            "per_device_train_batch_size",
            "per_device_eval_batch_size",
            "num_train_epochs",
            "save_strategy",
            "eval_strategy",
            "evaluation_strategy",
            "logging_steps",
            "learning_rate",
            "lr_scheduler_type",
            "warmup_ratio",
            "optim",
            "model_name_or_path",
        }
    ),
}
_PATH_HINTS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("deepspeed", ("ds_", "deepspeed", "zero")),
    ("accelerate", ("accelerate",)),
)


def _framework(top: set[str], component: bool) -> str | None:
    if "base_model" in top and top & {"datasets", "micro_batch_size", "sequence_len", "adapter"}:
        return "axolotl"
    if "finetuning_type" in top and top & {"stage", "template", "model_name_or_path"}:
        return "llamafactory"
    if component and top & {"model", "tokenizer", "checkpointer", "optimizer", "loss"}:
        return "torchtune"
    if "checkpoint_dir" in top and top & {"out_dir", "precision", "devices", "train"}:
        return "litgpt"
    return None


def detect_dialects(top_level_keys: Iterable[str], path: str) -> tuple[str, ...]:
    """The dialects a config file is written in, from its keys (and, weakly, its name).

    ``top_level_keys`` may also hold dotted key paths: only their first segment counts,
    except that any ``..._component_`` path marks torchtune. The file name is consulted
    only when no key marker decides and the file has a key that dialect knows
    (``ds_zero3.json`` holding just ``fp16`` and ``optimizer``).
    """
    keys = list(top_level_keys)
    top = {key.split(".", 1)[0].split("[", 1)[0] for key in keys}
    component = any(key.endswith("_component_") for key in keys)
    found: list[str] = []
    framework = _framework(top, component)
    for dialect in ("deepspeed", "accelerate"):
        if top & _MARKERS[dialect]:
            found.append(dialect)
    if framework is not None:
        found.append(framework)
    elif top & _MARKERS["trainer"]:
        found.append("trainer")
    if not found:
        name = PurePosixPath(path.replace("\\", "/")).name.lower()
        for dialect, hints in _PATH_HINTS:
            known = {key.split(".", 1)[0] for key in TABLES[dialect]}
            if any(hint in name for hint in hints) and top & known:
                found.append(dialect)
    return tuple(found)


__all__ = ["CANONICAL", "DIALECTS", "TABLES", "canonical_settings", "detect_dialects"]
