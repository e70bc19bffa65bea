"""The alias tables of the frameworks tunelint has always read, and the canonical names.

``CANONICAL`` is the vocabulary rules speak. Each table maps a dialect's key (a dotted key
path for nested config keys, list items as ``[]``; a bare flag name for command lines) to
``(canonical name, transform)`` pairs; ``tunelint.sources.dialects`` looks keys up and
normalises the results, ``tunelint.sources.dialect_stacks`` holds the tables of the
training stacks added later (OpenRLHF, ms-swift, llm-foundry, h2o-llmstudio, OLMo-core).
"""

from __future__ import annotations

from typing import Final

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
        "stage3_max_live_parameters", "helper_model", "download_dir",
    }
)  # fmt: skip
"""``helper_model``: a model the job loads but does not train (a reward, reference or
teacher model); ``model`` is always a model the job trains.
``download_dir``: a folder a hub download command (``huggingface-cli download --local-dir``)
writes the repository's files to, or caches them in."""


def m(name: str, transform: v.Transform = v.same) -> Entry:
    """One canonical target; entries add up with ``+``."""
    assert name in CANONICAL, name
    return ((name, transform),)


PRECISION_FLAGS: Final[dict[str, Entry]] = {
    "bf16": m("mixed_precision", v.when_true("bf16")),
    "fp16": m("mixed_precision", v.when_true("fp16")),
}

RUN_OUTPUTS: Final[dict[str, Entry]] = {
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

# Flags of training scripts that parse their own arguments: DeepSpeed-Chat (``main.py``),
# OpenRLHF's dotted CLI (also read through the ``openrlhf`` table), open-instruct, and the
# checkpoint folders scripts write under names of their own.
_SCRIPT_FLAGS: Final[dict[str, Entry]] = {
    "data_output_path": m("output_dir"),
    "offload": m("offload_optimizer_device", v.legacy_cpu_offload)
    + m("offload_param_device", v.legacy_cpu_offload),
    "zero_stage": m("zero_stage"),
    "actor_model_name_or_path": m("model"),
    "critic_model_name_or_path": m("model"),
    "actor_zero_stage": m("zero_stage"),
    "enable_tensorboard": m("report_to", v.when_true("tensorboard")),
    "lora_dim": m("lora_r") + m("adapter", v.positive("lora")),
    "save_dir": m("output_dir"),
    "save_path": m("output_dir"),
    "save_folder": m("output_dir"),
    "ckpt_dir": m("output_dir"),
    "ckpt_path": m("output_dir"),
    "checkpoint_dir": m("output_dir"),
    "use_wandb": m("report_to", v.flag_or_text("wandb")),
    "ds.zero_stage": m("zero_stage"),
    "ds.adam_offload": m("offload_optimizer_device", v.legacy_cpu_offload),
    "ds.param_dtype": m("mixed_precision", v.lower),
    "ds.attn_implementation": m("attn_implementation"),
    "ds.lora.rank": m("lora_r") + m("adapter", v.positive("lora")),
    "logger.wandb.key": m("report_to", v.non_empty("wandb")),
    "logger.tensorboard_dir": m("report_to", v.non_empty("tensorboard")),
    "actor.model_name_or_path": m("model"),
    "model.model_name_or_path": m("model"),
    "critic.model_name_or_path": m("model"),
    "reward.model_name_or_path": m("helper_model"),
    "ref.model_name_or_path": m("helper_model"),
    "ckpt.output_dir": m("output_dir"),
    "ckpt.path": m("output_dir"),
    "actor.gradient_checkpointing_enable": m("grad_checkpointing"),
    "model.gradient_checkpointing_enable": m("grad_checkpointing"),
    "train.micro_batch_size": m("batch_size"),
    "data.max_len": m("seq_len"),
    "train.max_epochs": m("num_epochs"),
    "data.dataset": m("dataset"),
    "data.prompt_dataset": m("dataset"),
}

TRAINER: Final[dict[str, Entry]] = {
    **PRECISION_FLAGS,
    **RUN_OUTPUTS,
    **_SCRIPT_FLAGS,
    "model_name_or_path": m("model"),
    "model_name": m("model"),
    "model_revision": m("revision"),
    "revision": m("revision"),  # scripts that take the loader's own keyword as a flag
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
    **RUN_OUTPUTS,
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
    # the base weights are read from here: a folder others can write to is as bad as one
    # they can read (a planted checkpoint is loaded)
    "checkpointer.checkpoint_dir": m("output_dir"),
    "profiler.output_dir": m("output_dir"),
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

# Hub download commands (``tune download --output-dir``, ``huggingface-cli download --local-dir``,
# ``modelscope download --local_dir``), read by ``tunelint.sources.downloads``.
HUB_DOWNLOAD: Final[dict[str, Entry]] = {
    "output_dir": m("download_dir"),
    "local_dir": m("download_dir"),
    "cache_dir": m("download_dir"),
}

ENV: Final[dict[str, Entry]] = {
    "MLFLOW_TRACKING_URI": m("tracking_uri"),
    # trackio deploys its dashboard to this Hugging Face Space
    "TRACKIO_SPACE_ID": m("tracking_uri", v.hf_space),
}
