"""Value transforms for the alias table in ``tunelint.sources.dialects``.

Each is a small pure function from the value as written to the canonical value (or None:
"this sets nothing"). They never guess: an Unknown input gives an Unknown output, except
where the key alone decides (``r: $R`` still says the adapter is LoRA).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import PurePosixPath
from typing import Final

from tunelint.facts import UNKNOWN, Value
from tunelint.placeholders import is_placeholder

Transform = Callable[[Value], Value | None]


# --- transforms -------------------------------------------------------------------------


def _with(value: Value, raw: object) -> Value:
    return replace(value, raw=raw)


def same(value: Value) -> Value | None:
    """As written; the per-setting normaliser still applies."""
    return value


def const(raw: object) -> Transform:
    """Always ``raw``, whatever was written (``r: 8`` says the adapter is LoRA)."""
    return lambda value: _with(value, raw)


def when_true(raw: object) -> Transform:
    """``raw`` when the flag is on, nothing when off: ``bf16: true`` -> "bf16"."""

    def transform(value: Value) -> Value | None:
        if not value.known:
            return value
        flag = value.as_bool()
        if flag is None:
            return _with(value, UNKNOWN)
        return _with(value, raw) if flag else None

    return transform


def when_true_else(on: object, off: object) -> Transform:
    """A flag whose off state is itself a setting (``use_peft: false`` -> adapter "none")."""

    def transform(value: Value) -> Value | None:
        if not value.known:
            return value
        flag = value.as_bool()
        return _with(value, UNKNOWN if flag is None else on if flag else off)

    return transform


def negate(value: Value) -> Value | None:
    """``disable_gradient_checkpointing: true`` -> ``grad_checkpointing: false``."""
    flag = value.as_bool() if value.known else None
    return _with(value, UNKNOWN if flag is None else not flag)


def skip_auto(value: Value) -> Value | None:
    """DeepSpeed ``"auto"`` defers to the Trainer's own argument: it sets nothing here."""
    return None if value.raw == "auto" else value


def auto_unknown(transform: Transform) -> Transform:
    """axolotl ``bf16: auto`` depends on the hardware: Unknown, not a guess."""
    return lambda value: _with(value, UNKNOWN) if value.raw == "auto" else transform(value)


def non_empty(raw: object) -> Transform:
    """``wandb_project: x`` means W&B reporting; an empty value means none."""

    def transform(value: Value) -> Value | None:
        if not value.known:
            return _with(value, raw)
        return _with(value, raw) if value.raw not in (None, "", False) else None

    return transform


# Transforms for which a null value still says something (see ``present``).
NULL_MEANINGFUL: set[Transform] = set()


def present(raw: object) -> Transform:
    """A block whose presence turns something on (llm-foundry ``loggers: {wandb: {}}``);
    only an explicit false turns it off, and an empty ``wandb:`` (null) is present too."""

    def transform(value: Value) -> Value | None:
        return None if value.raw is False else _with(value, raw)

    NULL_MEANINGFUL.add(transform)
    return transform


def flag_or_text(raw: object) -> Transform:
    """``--use_wandb`` as a switch or carrying an API key: on unless written as false."""

    def transform(value: Value) -> Value | None:
        off = value.known and (value.raw in (None, "") or value.as_bool() is False)
        return None if off else _with(value, raw)

    return transform


def positive(raw: object) -> Transform:
    """``lora_dim: 8`` means LoRA, ``lora_dim: 0`` none (DeepSpeed-Chat, OpenRLHF)."""

    def transform(value: Value) -> Value | None:
        if not value.known:
            return value
        number = value.as_number()
        if number is None:
            return _with(value, UNKNOWN)
        return _with(value, raw) if number > 0 else None

    return transform


def hf_space(value: Value) -> Value | None:
    """A Hugging Face Space id (trackio's dashboard) as the URL it publishes to."""
    text = value.as_str()
    if text is None:
        return value if not value.known else None
    space = text.strip().strip("/")
    if not space or space.lower() in {"none", "null"}:
        return None
    if "://" in space:
        return _with(value, space)
    return _with(value, f"https://huggingface.co/spaces/{space}")


def adapter(value: Value) -> Value | None:
    """Empty, ``full`` or ``freeze`` train without an adapter: "none"; else lowercased."""
    if value.raw in (None, "", False):
        return _with(value, "none")
    if isinstance(value.raw, str):
        lowered = value.raw.lower()
        return _with(value, "none" if lowered in {"full", "freeze"} else lowered)
    return value


def quant_bits(bits: int) -> Transform:
    """LLaMA-Factory ``quantization_bit: 4`` -> ``load_in_4bit: true``."""

    def transform(value: Value) -> Value | None:
        if not value.known:
            return value
        number = value.as_number()
        return _with(value, True) if number == bits else None

    return transform


def lora_linear(value: Value) -> Value | None:
    """axolotl ``lora_target_linear: true`` targets every linear layer, as PEFT spells it."""
    flag = value.as_bool() if value.known else None
    if flag is None:
        return _with(value, UNKNOWN)
    return _with(value, "all-linear") if flag else None


def legacy_cpu_offload(value: Value) -> Value | None:
    """Boolean offload switches (old DeepSpeed ``cpu_offload``, FSDP) name a device."""
    return when_true_else("cpu", "none")(value)


def last_segment_lower(value: Value) -> Value | None:
    """``torchtune.training.metric_logging.WandBLogger`` -> "wandb"."""
    if not isinstance(value.raw, str):
        return value
    name = value.raw.rsplit(".", 1)[-1].lower()
    for prefix, service in _LOGGERS:
        if name.startswith(prefix):
            return _with(value, service)
    return _with(value, name)


_LOGGERS = (
    ("wandb", "wandb"),
    ("tensorboard", "tensorboard"),
    ("mlflow", "mlflow"),
    ("comet", "comet_ml"),
    ("disk", "none"),
    ("stdout", "none"),
    ("csv", "none"),
)


def torchtune_dtype(value: Value) -> Value | None:
    """torchtune trains in the dtype itself (no fp32 master copy): pure, not mixed."""
    return _with(value, "no") if value.known else value


def litgpt_mixed(value: Value) -> Value | None:
    """Lightning precision: ``bf16-mixed`` is mixed bf16, ``bf16-true`` pure ("no")."""
    text = value.as_str()
    if text is None:
        return value if not value.known else None
    if text.endswith("-mixed"):
        return _with(value, "fp16" if text.startswith("16") else text.split("-")[0])
    return _with(value, "no") if text.endswith("-true") else None


def litgpt_dtype(value: Value) -> Value | None:
    """Only a ``-true`` precision fixes the weights' dtype."""
    text = value.as_str()
    if text is None or not text.endswith("-true"):
        return None if value.known else value
    name = {"bf16": "bfloat16", "16": "float16", "32": "float32"}.get(text[:-5])
    return None if name is None else _with(value, name)


def litgpt_bits(bits: int) -> Transform:
    """``quantize: bnb.nf4`` (or fp4, with ``-dq``) is 4-bit; ``bnb.int8`` 8-bit."""

    def transform(value: Value) -> Value | None:
        text = value.as_str()
        if text is None:
            return None if value.known else value
        four = text.startswith(("bnb.nf4", "bnb.fp4"))
        eight = text.startswith("bnb.int8")
        return _with(value, True) if (four and bits == 4) or (eight and bits == 8) else None

    return transform


def litgpt_model(value: Value) -> Value | None:
    """``checkpoints/meta-llama/Llama-2-7b-hf`` (litgpt's download layout) -> the hub id."""
    text = value.as_str()
    if text is None:
        return value
    parts = PurePosixPath(text).parts
    if "checkpoints" in parts and len(parts) >= parts.index("checkpoints") + 3:
        start = parts.index("checkpoints") + 1
        return _with(value, "/".join(parts[start : start + 2]))
    return value


_TORCHTUNE_MODELS: Final[dict[str, str]] = {
    "llama2_7b": "meta-llama/Llama-2-7b-hf",
    "llama2_13b": "meta-llama/Llama-2-13b-hf",
    "llama2_70b": "meta-llama/Llama-2-70b-hf",
    "code_llama2_7b": "codellama/CodeLlama-7b-hf",
    "code_llama2_13b": "codellama/CodeLlama-13b-hf",
    "code_llama2_70b": "codellama/CodeLlama-70b-hf",
    "llama3_8b": "meta-llama/Meta-Llama-3-8B",
    "llama3_70b": "meta-llama/Meta-Llama-3-70B",
    "llama3_1_8b": "meta-llama/Llama-3.1-8B",
    "llama3_1_70b": "meta-llama/Llama-3.1-70B",
    "llama3_1_405b": "meta-llama/Llama-3.1-405B",
    "llama3_2_1b": "meta-llama/Llama-3.2-1B",
    "llama3_2_3b": "meta-llama/Llama-3.2-3B",
    "llama3_2_vision_11b": "meta-llama/Llama-3.2-11B-Vision",
    "llama3_2_vision_90b": "meta-llama/Llama-3.2-90B-Vision",
    "llama3_3_70b": "meta-llama/Llama-3.3-70B-Instruct",
    "mistral_7b": "mistralai/Mistral-7B-v0.1",
    "gemma_2b": "google/gemma-2b",
    "gemma_7b": "google/gemma-7b",
    "gemma2_2b": "google/gemma-2-2b",
    "gemma2_9b": "google/gemma-2-9b",
    "gemma2_27b": "google/gemma-2-27b",
    "phi3_mini": "microsoft/Phi-3-mini-4k-instruct",
    "phi4_14b": "microsoft/phi-4",
}
_QWEN = re.compile(r"qwen2(?:_(5))?_(\d+)(?:_(\d+))?b(?:_(base|instruct))?$")


def _torchtune_builder(value: Value) -> tuple[str, str] | None:
    """(adapter prefix, builder) of ``torchtune.models.llama3_1.lora_llama3_1_8b``."""
    text = value.as_str()
    if text is None:
        return None
    builder = text.rsplit(".", 1)[-1]
    for prefix in ("qlora_", "lora_"):
        if builder.startswith(prefix):
            return prefix[:-1], builder[len(prefix) :]
    return "", builder


def torchtune_model(value: Value) -> Value | None:
    """The hub id a builder stands for; unknown builders keep their name (``..._12b``)."""
    found = _torchtune_builder(value)
    if found is None:
        return value
    builder = found[1]
    qwen = _QWEN.match(builder)
    if builder in _TORCHTUNE_MODELS:
        return _with(value, _TORCHTUNE_MODELS[builder])
    if qwen is not None:
        version, whole, fraction, variant = qwen.groups()
        size = whole + (f".{fraction}" if fraction else "")
        suffix = "-Instruct" if variant == "instruct" else ""
        return _with(value, f"Qwen/Qwen2{'.5' if version else ''}-{size}B{suffix}")
    return _with(value, builder)


def torchtune_adapter(value: Value) -> Value | None:
    """A ``lora_`` / ``qlora_`` builder trains an adapter; a plain one the full model."""
    found = _torchtune_builder(value)
    return value if found is None else _with(value, found[0] or "none")


def torchtune_4bit(value: Value) -> Value | None:
    """torchtune QLoRA builders keep the base weights in NF4."""
    found = _torchtune_builder(value)
    return _with(value, True) if found is not None and found[0] == "qlora" else None


def litgpt_method(value: Value) -> Value | None:
    """``finetune_lora`` / ``finetune lora`` -> "lora"; plain ``finetune`` says nothing."""
    text = (value.as_str() or "").lower()
    for method in ("qlora", "lora", "adapter", "full"):
        if method in text:
            return _with(value, "none" if method == "full" else method)
    return None


# --- normalisers: one type per canonical setting, whatever the source ---------------------


def number(value: Value) -> Value | None:
    """Command-line text "4" -> 4; anything that is not a plain number stays as written."""
    if not isinstance(value.raw, str):
        return value
    text = value.raw.strip()
    if re.fullmatch(r"[+-]?\d+", text):
        return _with(value, int(text))
    try:
        return _with(value, float(text)) if text else value
    except ValueError:
        return value


def count(value: Value) -> Value | None:
    """A process count: a number, or Unknown (torchrun ``--nproc_per_node gpu``)."""
    mapped = number(value)
    if mapped is None or isinstance(mapped.raw, int | float) or not mapped.known:
        return mapped
    return _with(value, UNKNOWN)


def flag(value: Value) -> Value | None:
    """ "True" / "yes" / 1 -> True, as configs and command lines spell booleans."""
    if isinstance(value.raw, bool) or not value.known:
        return value
    parsed = value.as_bool()
    return value if parsed is None else _with(value, parsed)


_DTYPES: Final[dict[str, str]] = {
    "bf16": "bfloat16",
    "bfloat16": "bfloat16",
    "fp16": "float16",
    "float16": "float16",
    "half": "float16",
    "fp32": "float32",
    "float32": "float32",
    "float": "float32",
}


def dtype(value: Value) -> Value | None:
    """``torch.bfloat16`` / ``"bf16"`` -> "bfloat16"; "auto" and others as written."""
    if not isinstance(value.raw, str):
        return value
    name = value.raw.strip().removeprefix("torch.").lower()
    return _with(value, _DTYPES.get(name, value.raw))


def lower(value: Value) -> Value | None:
    """Device and precision names compare case-insensitively ("NVMe", "BF16")."""
    return _with(value, value.raw.strip().lower()) if isinstance(value.raw, str) else value


def place(value: Value) -> Value | None:
    """A model or dataset id, a path or a URI that is a template (``your-org/your-model``,
    ``<model-id>``, ``oci://my-bucket``) names nothing: Unknown, keeping the text."""
    if isinstance(value.raw, str) and is_placeholder(value.raw):
        return _with(value, UNKNOWN)
    return value
