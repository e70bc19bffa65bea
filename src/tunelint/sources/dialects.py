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
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import PurePosixPath
from typing import Final

from tunelint.facts import Setting, Span, Value
from tunelint.sources import dialect_values as v
from tunelint.sources.dialect_stacks import STACKS
from tunelint.sources.dialect_tables import (
    ACCELERATE,
    AXOLOTL,
    BNB,
    CANONICAL,
    DEEPSPEED,
    ENV,
    HF_LOADER,
    HUB_DOWNLOAD,
    LITGPT,
    LLAMAFACTORY,
    PEFT,
    TORCHRUN,
    TORCHTUNE,
    TRAINER,
    Entry,
)

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
    "hub-download": HUB_DOWNLOAD,
    **STACKS,
}
DIALECTS: Final[tuple[str, ...]] = tuple(TABLES)

# A Trainer-style config may carry a whole DeepSpeed config inline under `deepspeed:`.
_NESTED: Final[dict[str, dict[str, str]]] = {
    "trainer": {"deepspeed": "deepspeed"},
    "llamafactory": {"deepspeed": "deepspeed"},
    "axolotl": {"deepspeed": "deepspeed"},
    "swift": {"deepspeed": "deepspeed"},
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
    # a template (`your-org/your-model`, `<path>`, `oci://my-bucket`) names no place
    **dict.fromkeys(
        ("model", "helper_model", "output_dir", "offload_dir", "dataset", "tracking_uri"),
        v.place,
    ),
    "hub_model_id": v.place,
    "download_dir": v.place,
}

# Where a dialect gives null a meaning: axolotl `adapter:` left empty is a full fine-tune.
_NULL_MEANS_SOMETHING: Final[frozenset[v.Transform]] = frozenset({v.adapter})


def _null_means_something(transform: v.Transform) -> bool:
    return transform in _NULL_MEANS_SOMETHING or transform in v.NULL_MEANINGFUL


_INDEX = re.compile(r"\[\d+\]")


def lookup_key(key: str) -> str:
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
    lookup = lookup_key(key)
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
        if value.raw is None and not _null_means_something(transform):
            continue  # `key:` with no value (null / None) leaves the setting unset
        mapped = transform(value)
        if mapped is not None:
            mapped = _NORMALISE.get(name, v.same)(mapped)
        if mapped is not None:
            settings.append(Setting(name, mapped, key, dialect, key_span))
    return settings


# --- settings that two keys decide together ------------------------------------------------

_LOCAL_MODES: Final = frozenset({"local", "offline", "disabled", "dryrun"})
_SPACE_KEYS: Final = ("trackio_space_id", "space_id")
Keyed = Mapping[str, tuple[Value, Span]]


def _services(raw: object) -> list[str]:
    items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
    return [str(item).strip().lower() for item in items if str(item).strip()]


def _without(setting: Setting, service: str) -> Setting | None:
    """``report_to`` with one service taken out (None when nothing is left)."""
    raw = setting.value.raw
    if not setting.value.known or service not in _services(raw):
        return setting
    kept = [name for name in _services(raw) if name != service]
    if not kept:
        return None
    value = replace(setting.value, raw=kept if isinstance(raw, list | tuple) else ",".join(kept))
    return replace(setting, value=value)


def _mode(keyed: Keyed, *names: str) -> str:
    for name in names:
        found = keyed.get(name)
        if found is not None and found[0].as_str():
            return (found[0].as_str() or "").strip().lower()
    return ""


def linked_settings(settings: list[Setting], keyed: Keyed) -> list[Setting]:
    """Settings adjusted for what other keys of the same config or launch line say.

    ``keyed`` maps each key (config key path, flag name without dashes, exported
    environment variable) to its value and key span. trackio with a ``trackio_space_id``
    publishes to that Hugging Face Space (a ``tracking_uri``); SwanLab in ``local`` /
    ``offline`` mode and W&B under ``WANDB_MODE=offline`` or ``WANDB_DISABLED=true`` send
    nothing; ``with_tracking`` without ``report_to`` starts every installed tracker
    (accelerate's ``log_with="all"``).
    """
    reports = [s for s in settings if s.name == "report_to"]
    services = {name for s in reports if s.value.known for name in _services(s.value.raw)}
    dropped: list[str] = []
    if "swanlab" in services and _mode(keyed, "swanlab_mode", "SWANLAB_MODE") in _LOCAL_MODES:
        dropped.append("swanlab")
    wandb_off = keyed.get("WANDB_DISABLED")
    if _mode(keyed, "WANDB_MODE") in _LOCAL_MODES or (
        wandb_off is not None and wandb_off[0].as_bool() is True
    ):
        dropped.append("wandb")
    out: list[Setting] = []
    for setting in settings:
        kept: Setting | None = setting
        for service in dropped:
            kept = (
                _without(kept, service) if kept is not None and kept.name == "report_to" else kept
            )
        if kept is not None:
            out.append(kept)
    dialect = reports[0].dialect if reports else "trainer"
    if "trackio" in services:
        for name in _SPACE_KEYS:
            found = keyed.get(name)
            if found is not None:
                space = canonical_settings("env", "TRACKIO_SPACE_ID", found[0], found[1])
                out.extend(
                    replace(found_setting, key=name, dialect=dialect) for found_setting in space
                )
                break
    tracking = keyed.get("with_tracking")
    if not reports and tracking is not None and tracking[0].as_bool() is True:
        value = replace(tracking[0], raw="all")
        out.append(Setting("report_to", value, "with_tracking", "trainer", tracking[1]))
    return out


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
# ms-swift argument files (``swift sft args.yaml``): keys no Trainer config has.
_SWIFT_MARKERS: Final = frozenset(
    {"tuner_type", "train_type", "model_author", "rlhf_type", "attn_impl"}
    | {"split_dataset_ratio", "external_plugins", "use_hf", "swanlab_mode"}
)
_FOUNDRY_MARKERS: Final = frozenset(
    {"global_train_batch_size", "device_train_microbatch_size", "save_folder", "loggers"}
    | {"eval_interval"}
)
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
    if "model" in top and top & _SWIFT_MARKERS:
        return "swift"
    if top & {"max_duration", "train_loader"} and top & _FOUNDRY_MARKERS:
        return "llmfoundry"
    if "llm_backbone" in top and top & {"output_directory", "environment", "architecture"}:
        return "h2o-llmstudio"
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


__all__ = [
    "CANONICAL",
    "DIALECTS",
    "TABLES",
    "canonical_settings",
    "detect_dialects",
    "linked_settings",
    "lookup_key",
]
