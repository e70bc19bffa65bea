"""Turn a job's canonical settings into a `TrainingSetup`, recording every default.

Rules (TL101) and the ``estimate`` command both come through here, so a value that a
job leaves unknown is never guessed silently: the default used is written to
``Estimate.assumptions``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path

from tunelint.memory.estimate import Estimate, estimate
from tunelint.memory.models import ModelInfo, UnknownModelError, resolve_model
from tunelint.memory.releases import (
    BNB_DROPS_INPUT,
    TORCH_ZERO_GRAD_NONE,
    TRANSFORMERS_LOSS_UPCAST,
    older_than,
)
from tunelint.memory.setup import Framework, Method, TrainingSetup

DEFAULT_SEQ = 1024  # TRL SFTConfig.max_length; run_clm block_size
DEFAULT_LORA_R = 8  # peft.LoraConfig default
DEFAULT_LORA_DROPOUT = 0.05

_TARGET_ALIASES: dict[str, tuple[str, ...]] = {
    "q": ("q",),
    "q_proj": ("q",),
    "query": ("q",),
    "wq": ("q",),
    "k": ("k",),
    "k_proj": ("k",),
    "key": ("k",),
    "wk": ("k",),
    "v": ("v",),
    "v_proj": ("v",),
    "value": ("v",),
    "wv": ("v",),
    "o": ("o",),
    "o_proj": ("o",),
    "out_proj": ("o",),
    "output_proj": ("o",),
    "dense": ("o",),
    "attn.c_proj": ("o",),
    "self_attention.dense": ("o",),
    "query_key_value": ("q", "k", "v"),
    "c_attn": ("q", "k", "v"),
    "qkv_proj": ("q", "k", "v"),
    "wqkv": ("q", "k", "v"),
    "qkv": ("q", "k", "v"),
    "attn": ("q", "k", "v"),
    "gate_proj": ("gate",),
    "w1": ("gate",),
    "fc_1": ("gate",),
    "wi_0": ("gate",),
    "up_proj": ("up",),
    "w3": ("up",),
    "fc_2": ("up",),
    "wi_1": ("up",),
    "wi": ("up",),
    "fc1": ("up",),
    "fc_in": ("up",),
    "dense_h_to_4h": ("up",),
    "c_fc": ("up",),
    "gate_up_proj": ("gate", "up"),
    "down_proj": ("down",),
    "w2": ("down",),
    "wo": ("down",),
    "fc2": ("down",),
    "fc_out": ("down",),
    "dense_4h_to_h": ("down",),
    "mlp.c_proj": ("down",),
    "mlp": ("gate", "up", "down"),
    "lm_head": ("lm_head",),
    "output": ("lm_head",),
}
_ALL = frozenset({"q", "k", "v", "o", "gate", "up", "down"})
_FUSED_QKV = {"bloom", "falcon", "gpt_neox", "gpt2", "phi"}

_OPTIMIZERS: dict[str, str] = {
    "adamw": "adamw",
    "adam": "adamw",
    "adamw_torch": "adamw",
    "adamw_hf": "adamw_loop",
    "adamw_apex_fused": "adamw_fused",
    "adamw_torch_fused": "adamw_fused",
    "fusedadam": "adamw_fused",
    "adamw_anyprecision": "adamw",
    "adamw_torch_xla": "adamw",
    "adamw_bnb_8bit": "adamw_8bit",
    "adamw_8bit": "adamw_8bit",
    "adam8bit": "adamw_8bit",
    "adamw8bit": "adamw_8bit",
    "adam_8bit": "adamw_8bit",
    "bnb_adamw_8bit": "adamw_8bit",
    "paged_adamw_8bit": "paged_adamw_8bit",
    "pagedadamw8bit": "paged_adamw_8bit",
    "paged_adamw_32bit": "paged_adamw_32bit",
    "paged_adamw": "paged_adamw_32bit",
    "pagedadamw": "paged_adamw_32bit",
    "pagedadamw32bit": "paged_adamw_32bit",
    "adafactor": "adafactor",
    "sgd": "sgd",
    "lion": "lion",
    "lion_32bit": "lion",
    "lion_8bit": "lion_8bit",
    "paged_lion_8bit": "paged_lion_8bit",
    "adagrad": "one_state",
    "rmsprop": "one_state",
    "rmsprop_bnb_8bit": "lion_8bit",
}


def _bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("true", "yes", "on", "1"):
            return True
        if low in ("false", "no", "off", "0", "none", ""):
            return False
    return None


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return int(number) if number.is_integer() else None
    return None


def _dtype(value: object) -> str | None:
    """bf16 | fp16 | fp32 | auto from the many spellings (torch.bfloat16, "half", ...)."""
    if value is None:
        return None
    low = str(value).strip().lower().removeprefix("torch.")
    if low in ("bfloat16", "bf16", "bf16-true", "bf16-mixed"):
        return "bf16"
    if low in ("float16", "fp16", "half", "16", "16-true", "16-mixed"):
        return "fp16"
    if low in ("float32", "fp32", "float", "32", "32-true", "no"):
        return "fp32"
    return "auto" if low == "auto" else None


def normalize_optimizer(name: object) -> str | None:
    """Canonical optimizer key from HF ``optim``, torchtune ``_component_`` or axolotl names."""
    if name is None:
        return None
    low = str(name).strip().lower()
    for prefix in ("torch.optim.", "bitsandbytes.optim.", "bnb.optim.", "transformers."):
        low = low.removeprefix(prefix)
    return _OPTIMIZERS.get(low) or _OPTIMIZERS.get(low.replace("-", "_"))


def normalize_targets(value: object, family: str) -> frozenset[str] | None:
    """LoRA target module names -> slots (q, k, v, o, gate, up, down, lm_head)."""
    if value is None:
        return None
    names: Iterable[object]
    if isinstance(value, str):
        names = [p for p in value.replace(",", " ").split() if p]
    elif isinstance(value, (list, tuple, set, frozenset)):
        names = value
    else:
        return None
    slots: set[str] = set()
    for raw in names:
        key = str(raw).strip().lower()
        if key in ("all-linear", "all_linear", "all"):
            slots.update(_ALL)
            continue
        found = _TARGET_ALIASES.get(key) or _TARGET_ALIASES.get(key.rsplit(".", 1)[-1])
        if found:
            slots.update(found)
    return frozenset(slots) if slots else None


# Options that change memory in ways the estimate does not follow: their presence widens
# the range and lowers the confidence instead of producing a precise wrong figure.
UNMODELLED = (
    "use_dora",
    "optimizer_in_bwd",
    "enable_activation_offloading",
    "use_liger_kernel",
    "unsloth",
    "compile",
    "sequence_parallel",
    "tensor_parallel",
)
# dtype a checkpoint is stored in (config.json "torch_dtype"), by family; bf16 otherwise.
# transformers >= 5 loads this by default (dtype="auto"); 4.x loaded fp32 unless told.
CHECKPOINT_DTYPE = {"gpt2": "fp32", "bert": "fp32", "t5": "fp32", "t5v11": "fp32", "opt": "fp16"}
# frameworks that load the base model in the dtype of `bf16: true` / `fp16: true`
LOADS_IN_COMPUTE_DTYPE = ("axolotl", "llamafactory")


def _method(
    settings: Mapping[str, object], info: ModelInfo, notes: list[str]
) -> tuple[int | None, Method]:
    """(quantisation bits, method) from the adapter and load_in_* settings."""
    get = settings.get
    quant = 4 if _bool(get("load_in_4bit")) else 8 if _bool(get("load_in_8bit")) else None
    adapter = str(get("adapter") or "").strip().lower() or None
    if quant is None and (adapter == "qlora" or info.quant_bits):
        quant = 4 if adapter == "qlora" else info.quant_bits
        if info.quant_bits and adapter != "qlora":
            notes.append(f"quantised repository: loaded in {quant} bit")
    method: Method
    if adapter in ("lora", "qlora", "dora", "peft"):
        method = "qlora" if quant else "lora"
    elif adapter in ("none", "full", "full_finetune"):
        method = "full"
    elif quant:
        method = "qlora"
        notes.append("adapter unknown with a quantised base: LoRA assumed")
    else:
        method = "full"
        notes.append("adapter unknown: full fine-tuning assumed")
    if method == "full" and quant:
        method = "qlora"
        notes.append("a 4/8-bit base cannot be fully fine-tuned: LoRA assumed")
    return quant, method


def _precision(
    settings: Mapping[str, object],
    framework: str,
    family: str,
    quant: int | None,
    notes: list[str],
) -> tuple[int, bool]:
    """(bytes per weight and activation, autocast over fp32 weights?) as the stack loads it."""
    dtype = _dtype(settings.get("torch_dtype"))
    mixed = _dtype(settings.get("mixed_precision"))
    stored = CHECKPOINT_DTYPE.get(family, "bf16")
    if dtype == "auto":
        dtype = stored
        notes.append(f"torch_dtype auto: the checkpoint's dtype ({stored}) assumed")
    if dtype is None:
        if framework in ("torchtune", "litgpt"):
            dtype = "bf16"
        elif framework in LOADS_IN_COMPUTE_DTYPE and mixed in ("bf16", "fp16"):
            dtype = mixed  # axolotl and LLaMA-Factory load the base in the compute dtype
        else:
            dtype = stored
            notes.append(
                f"torch_dtype unknown: the checkpoint's dtype ({stored}) assumed, the "
                "transformers >= 5 default (4.x loaded fp32: about twice the weights)"
            )
    param_bytes = 2 if dtype in ("bf16", "fp16") else 4
    amp = mixed in ("bf16", "fp16") and param_bytes == 4 and quant is None
    return param_bytes, amp


def setup_from_settings(
    settings: Mapping[str, object],
    *,
    default_batch: int = 1,
    default_seq: int = DEFAULT_SEQ,
    model: ModelInfo | None = None,
    cache_dirs: list[Path] | None = None,
) -> tuple[TrainingSetup, list[str]]:
    """Normalise canonical settings; returns the setup and the assumptions made."""
    notes: list[str] = []
    if model is None:
        name = str(settings.get("model") or "").strip()
        if not name:
            raise UnknownModelError("model unknown: nothing to size")
        model = resolve_model(name, cache_dirs=cache_dirs)
    info = model
    arch = info.arch
    get = settings.get

    quant, method = _method(settings, info, notes)
    framework = str(get("framework") or "transformers").lower()
    if framework == "litgpt" and arch.tied and info.source != "name":
        # LitGPT's GPT has its own lm_head and never ties it to the embedding (litgpt/model.py)
        arch = arch.with_updates(tied=False)
        info = replace(info, arch=arch, params=arch.total_params())
    fw: Framework = framework if framework in ("torchtune", "litgpt") else "transformers"  # type: ignore[assignment]
    param_bytes, amp = _precision(settings, framework, arch.family, quant, notes)

    zero = _int(get("zero_stage")) or 0
    fsdp = bool(_bool(get("fsdp")))
    mixed = _dtype(get("mixed_precision"))
    master = False
    if (zero >= 1 or fsdp) and mixed in ("bf16", "fp16") and param_bytes == 4 and quant is None:
        param_bytes, amp = 2, False  # DeepSpeed / FSDP keep 16-bit weights + fp32 master
        master = True
    if zero >= 1 and not fsdp and param_bytes == 2 and quant is None:
        master = True  # DeepSpeed's bf16/fp16 optimizers always hold fp32 master partitions

    r = _int(get("lora_r"))
    targets = normalize_targets(get("lora_targets"), arch.family)
    dropout_v = get("lora_dropout")
    dropout = float(dropout_v) if isinstance(dropout_v, (int, float)) else DEFAULT_LORA_DROPOUT
    if method != "full":
        if r is None:
            r = DEFAULT_LORA_R
            notes.append(f"lora_r unknown: {r} assumed (PEFT default)")
        if targets is None:
            targets = frozenset({"q", "k", "v"} if arch.family in _FUSED_QKV else {"q", "v"})
            notes.append("lora_targets unknown: PEFT defaults for the family assumed")

    def number(key: str, default: int, label: str) -> int:
        value = _int(get(key))
        if value is None or value <= 0:
            notes.append(f"{label} unknown: assumed {default}")
            return default
        return value

    batch = number("batch_size", default_batch, "batch size")
    seq = number("seq_len", default_seq, "sequence length")
    ckpt = _bool(get("grad_checkpointing"))
    if ckpt is None:
        ckpt = False
        notes.append("gradient checkpointing unknown: assumed off")
    opt_raw = get("optimizer")
    optimizer = normalize_optimizer(opt_raw)
    if optimizer is None:
        optimizer = "adamw"
        what = "unknown" if opt_raw is None else f"{opt_raw!r} not recognised"
        notes.append(f"optimizer {what}: AdamW (torch) assumed")
    old_torch = older_than(settings, "torch_version", TORCH_ZERO_GRAD_NONE)
    if optimizer == "adamw" and old_torch:
        optimizer = "adamw_loop"  # one parameter at a time before foreach became the default
    gpus = _int(get("num_gpus")) or 1
    off_opt = str(get("offload_optimizer_device") or "none").lower() in ("cpu", "nvme")
    off_par = str(get("offload_param_device") or "none").lower() in ("cpu", "nvme")
    if off_par and zero < 3 and not fsdp:
        notes.append("parameter offload needs ZeRO-3 or FSDP: ignored")
        off_par = False
    attn = str(get("attn_implementation") or arch.attention).lower()
    # PEFT keeps adapters in fp32 (autocast_adapter_dtype); torchtune / LitGPT in the model dtype
    adapter_bytes = 4 if fw == "transformers" else param_bytes
    adapter_dtype = _dtype(get("adapter_dtype"))
    if adapter_dtype in ("bf16", "fp16", "fp32"):
        adapter_bytes = 4 if adapter_dtype == "fp32" else 2
    loading = _bool(get("sharded_loading"))
    if loading is None and fw == "litgpt" and fsdp and gpus > 1:
        # LitGPT loads a full checkpoint into the sharded model through Lightning's
        # _load_raw_module_state, which gathers all weights first and writes each shard back
        loading = False
    setup = TrainingSetup(
        model=info,
        method=method,
        param_bytes=param_bytes,
        amp=amp,
        quant_bits=quant,
        double_quant=_bool(get("double_quant")) is not False,
        lora_r=r or DEFAULT_LORA_R,
        lora_targets=targets or frozenset({"q", "v"}),
        lora_dropout=dropout,
        adapter_bytes=adapter_bytes,
        batch=batch,
        seq=seq,
        target_len=_int(get("target_len")) or 0,
        grad_accum=_int(get("grad_accum")) or 1,
        grad_checkpointing=ckpt,
        optimizer=optimizer,
        num_gpus=max(1, gpus),
        zero_stage=max(0, min(3, zero)),
        fsdp=fsdp,
        offload_optimizer=off_opt,
        offload_param=off_par,
        attention="eager" if attn == "eager" else "sdpa",
        framework=fw,
        loss=str(get("loss") or "auto").lower(),
        sharded_loading=loading is not False,
        reduce_bucket=_int(get("reduce_bucket_size")) or 0,
        allgather_bucket=_int(get("allgather_bucket_size")) or 0,
        prefetch_bucket=_int(get("stage3_prefetch_bucket_size")) or 0,
        max_live_params=_int(get("stage3_max_live_parameters")) or 0,
        cuda_context=(_int(get("cuda_context_mib")) or 0) << 20,
        unmodelled=tuple(sorted(k for k in UNMODELLED if _bool(get(k)))),
        master_weights=master and method == "full",
        grads_persist=old_torch,
        bnb_keeps_input=bool(quant)
        and fw != "torchtune"  # torchtune quantises with torchao's NF4 tensor
        and older_than(settings, "bitsandbytes_version", BNB_DROPS_INPUT),
        logits_fp32_kept=fw == "transformers"
        and older_than(settings, "transformers_version", TRANSFORMERS_LOSS_UPCAST),
    )
    return setup, notes


def estimate_from_settings(
    settings: Mapping[str, object],
    *,
    default_batch: int = 1,
    default_seq: int = DEFAULT_SEQ,
    cache_dirs: list[Path] | None = None,
) -> Estimate:
    """Estimate peak memory per GPU from canonical setting names -> plain values.

    Raises `UnknownModelError` when `model` is missing or cannot be sized offline.
    """
    setup, notes = setup_from_settings(
        settings, default_batch=default_batch, default_seq=default_seq, cache_dirs=cache_dirs
    )
    return estimate(setup, notes)
