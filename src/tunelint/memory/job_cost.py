"""A job's size, time, energy and cost, from its settings and the policy (docs/cost.md).

A job's size is known statically in two ways:

    tokens = max_steps x batch per device x gradient accumulation x GPUs x sequence length
    tokens = epochs x the dataset's tokens per epoch (policy: cost.datasets, cost.dataset_tokens)

``max_steps`` wins when both are set, as in the Trainer, where a positive ``max_steps``
overrides ``num_train_epochs``. Everything after the token count (FLOPs, time, energy,
money) is ``cost.estimate_cost``: this module only gathers its inputs, so TL106 and the
review checklist price a job with the same formulas as ``tunelint estimate --cost``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from tunelint.memory.cost import (
    DEFAULT_CHECKPOINT_HOURS,
    DEFAULT_DUTY_CYCLE,
    DEFAULT_HOST_WATTS,
    DEFAULT_MFU,
    DEFAULT_SERVICE_LIFE_YEARS,
    TABLE_CURRENCY,
    CostEstimate,
    CostInputs,
    estimate_cost,
    parse_tokens,
)

if TYPE_CHECKING:
    from tunelint.facts import Setting
    from tunelint.memory.gpus import GpuProfile

# What a CLI does when its config leaves gradient checkpointing out: LLaMA-Factory
# checkpoints activations unless `disable_gradient_checkpointing: true` (TL101 reads the same
# default for memory).
CHECKPOINTING_BY_DIALECT = {"llamafactory": True}
METHOD_NAMES = {"full": "full fine-tuning", "lora": "LoRA", "qlora": "QLoRA"}


@dataclass(frozen=True)
class RunSize:
    """How many tokens a job trains on, and from which settings; ``missing`` says why not."""

    tokens: int | None
    gpus: int = 1
    decided_by: str = ""  # the setting that fixes the length: max_steps or num_epochs
    factors: tuple[str, ...] = ()  # the job's other settings the count multiplies
    formula: str = ""
    missing: str = ""
    assumptions: tuple[str, ...] = ()


@dataclass(frozen=True)
class JobCost:
    """A job priced on one GPU profile, or why it could not be."""

    size: RunSize
    gpu: str | None = None
    estimate: CostEstimate | None = None
    missing: str = ""
    mfu: float = DEFAULT_MFU

    @property
    def run_cost(self) -> float | None:
        """Running the job on the policy's own GPUs: electricity plus depreciation."""
        return self.estimate.local["total"] if self.estimate is not None else None

    def cheapest_cloud(self) -> dict[str, Any] | None:
        """The cheapest row of the price table for the same GPU, on demand or spot."""
        if self.estimate is None:
            return None
        offers = [
            {**_offer(row), "tier": tier, "cost": row[tier]}
            for row in self.estimate.cloud
            for tier in ("on_demand", "spot")
            if row[tier] is not None
        ]
        return min(offers, key=lambda offer: (offer["cost"], offer["provider"]), default=None)

    def properties(self) -> dict[str, Any]:
        """The figures as JSON-ready data: a finding's properties, the checklist's input."""
        data: dict[str, Any] = {"tokens": self.size.tokens, "gpu": self.gpu}
        if self.size.tokens is not None:
            data |= {
                "size": self.size.formula,
                "decided_by": self.size.decided_by,
                "gpus": self.size.gpus,
            }
        if self.estimate is None:
            return data | {"not_estimated": self.missing or self.size.missing}
        return data | {
            "mfu": self.mfu,
            "run_cost": self.run_cost,
            "cheapest_cloud": self.cheapest_cloud(),
            "cost": self.estimate.as_json(),
        }


def _offer(row: Mapping[str, Any]) -> dict[str, Any]:
    return {key: row[key] for key in ("provider", "gpu", "currency", "as_of")}


# --------------------------------------------------------------------------- settings


def _plain(settings: Mapping[str, Setting]) -> dict[str, object]:
    """Known values by canonical name, with the defaults of the CLIs the job is written for."""
    plain: dict[str, object] = {
        name: setting.value.raw for name, setting in settings.items() if setting.value.known
    }
    if "grad_checkpointing" not in settings:
        for setting in settings.values():
            if setting.dialect in CHECKPOINTING_BY_DIALECT:
                plain["grad_checkpointing"] = CHECKPOINTING_BY_DIALECT[setting.dialect]
    return plain


def _state(settings: Mapping[str, Setting], name: str) -> tuple[float | None, str]:
    """(a positive number, "") or (None, why not): "not set", "unknown (`text`)", ..."""
    setting = settings.get(name)
    if setting is None:
        return None, "not set"
    if not setting.value.known:
        text = setting.value.text
        return None, f"unknown (`{text}`)" if text else "unknown"
    number = setting.value.as_number()
    if number is None or number <= 0:
        return None, f"{setting.value.raw!r}, not a positive number"
    return number, ""


LABELS = {
    "max_steps": "max_steps",
    "num_epochs": "num_epochs",
    "batch_size": "batch size",
    "grad_accum": "gradient accumulation",
    "num_gpus": "GPU count",
    "seq_len": "sequence length",
}


def _count(n: float) -> str:
    return f"{n:,.0f}" if float(n).is_integer() else f"{n:,g}"


def _factor(
    settings: Mapping[str, Setting], name: str, notes: list[str], *, default: int | None = None
) -> tuple[float | None, str]:
    """A multiplier of the size; ``default`` stands in for one the job does not set."""
    value, why = _state(settings, name)
    if value is None and why == "not set" and default is not None:
        notes.append(f"{LABELS[name]} not set: {default} assumed")
        return float(default), ""
    if value is None:
        return None, f"{LABELS[name]} {why}"
    return value, ""


def _dataset_tokens(
    settings: Mapping[str, Setting], cost_policy: Mapping[str, Any]
) -> tuple[int | None, str]:
    """Tokens per epoch: ``cost.datasets`` by the job's dataset (name or glob), else
    ``cost.dataset_tokens``; the second item names the policy key, or says why none."""
    dataset = settings.get("dataset")
    name = dataset.value.as_str() if dataset is not None else None
    sizes = cost_policy.get("datasets") or {}
    if name and isinstance(sizes, Mapping):
        wanted = name.removeprefix("./")
        for pattern, tokens in sizes.items():
            if fnmatchcase(wanted, str(pattern).removeprefix("./")):
                return _tokens(tokens, f"cost.datasets: {pattern}")
    if cost_policy.get("dataset_tokens") is not None:
        return _tokens(cost_policy["dataset_tokens"], "cost.dataset_tokens")
    shown = f" for `{name}`" if name else ""
    return None, f"no dataset size{shown}: set cost.dataset_tokens or cost.datasets in the policy"


def _tokens(value: object, key: str) -> tuple[int | None, str]:
    try:
        return parse_tokens(value if isinstance(value, int) else str(value)), key
    except ValueError as error:
        return None, f"{key}: {error}"


def run_size(settings: Mapping[str, Setting], cost_policy: Mapping[str, Any]) -> RunSize:
    """The job's token count from its steps or epochs; ``missing`` names what is unknown."""
    notes: list[str] = []
    steps, steps_state = _state(settings, "max_steps")
    if steps is None and steps_state.startswith("unknown"):
        return RunSize(None, missing=f"max_steps {steps_state}")
    gpus, gpus_missing = _factor(settings, "num_gpus", notes, default=1)
    if steps is not None:
        batch, missing = _factor(settings, "batch_size", notes)
        accum, accum_missing = _factor(settings, "grad_accum", notes, default=1)
        seq, seq_missing = _factor(settings, "seq_len", notes)
        missing = missing or accum_missing or gpus_missing or seq_missing
        if missing or batch is None or accum is None or gpus is None or seq is None:
            return RunSize(None, missing=missing)
        formula = (
            f"{_count(steps)} steps x {_count(batch)} per device x {_count(accum)} "
            f"accumulated x {_count(gpus)} GPU{'s' if gpus != 1 else ''} x {_count(seq)} tokens"
        )
        multipliers = ("batch_size", "grad_accum", "num_gpus", "seq_len")
        return RunSize(
            round(steps * batch * accum * gpus * seq),
            int(gpus),
            "max_steps",
            tuple(n for n in multipliers if n in settings),
            formula,
            assumptions=tuple(notes),
        )
    epochs, epochs_state = _state(settings, "num_epochs")
    if epochs is None:
        if epochs_state == "not set":
            return RunSize(None, missing="neither max_steps nor num_epochs is set")
        return RunSize(None, missing=f"num_epochs {epochs_state}")
    per_epoch, source = _dataset_tokens(settings, cost_policy)
    if per_epoch is None:
        return RunSize(None, missing=source)
    if gpus is None:
        return RunSize(None, missing=gpus_missing)
    formula = (
        f"{_count(epochs)} epoch{'s' if epochs != 1 else ''} x {per_epoch:,} tokens per epoch "
        f"({source})"
    )
    factors = tuple(n for n in ("dataset", "num_gpus") if n in settings)
    return RunSize(
        max(1, round(epochs * per_epoch)),
        int(gpus),
        "num_epochs",
        factors,
        formula,
        assumptions=tuple(notes),
    )


# --------------------------------------------------------------------------- cost


def _checkpoint_hours(
    settings: Mapping[str, Setting], size: RunSize, hours: float
) -> tuple[float, str]:
    """Hours between checkpoints, for the work a spot pre-emption undoes, and why."""
    strategy = settings.get("save_strategy")
    how = str(strategy.value.raw).lower() if strategy is not None else "steps"
    if how == "no":
        return hours, "no checkpoint (save_strategy no): a pre-emption restarts the run"
    save, _ = _state(settings, "save_steps")
    steps, _ = _state(settings, "max_steps")
    if how == "steps" and size.decided_by == "max_steps" and save and steps:
        interval = hours * min(save, steps) / steps
        return interval, f"a checkpoint every {_count(save)} steps (save_steps): {interval:.2g} h"
    return DEFAULT_CHECKPOINT_HOURS, ""


def _inputs(
    cost_policy: Mapping[str, Any], plain: Mapping[str, object], size: RunSize, gpu: str
) -> CostInputs:
    from tunelint.memory.settings import setup_from_settings

    setup, _ = setup_from_settings(plain)
    return CostInputs(
        params=setup.model.active_params,
        method=setup.method,
        grad_checkpointing=setup.grad_checkpointing,
        tokens=size.tokens or 1,
        gpus=size.gpus,
        profile=gpu,
        host_watts=float(cost_policy.get("host_watts", DEFAULT_HOST_WATTS)),
        kwh_price=cost_policy.get("electricity_per_kwh"),
        currency=str(cost_policy.get("currency", TABLE_CURRENCY)),
        purchase_price=cost_policy.get("purchase_price"),
        service_life_years=float(cost_policy.get("service_life_years", DEFAULT_SERVICE_LIFE_YEARS)),
        duty_cycle=float(cost_policy.get("duty_cycle", DEFAULT_DUTY_CYCLE)),
    )


def _method_notes(settings: Mapping[str, Setting], inputs: CostInputs) -> list[str]:
    notes = [
        METHOD_NAMES.get(inputs.method, inputs.method)
        + (" with gradient checkpointing" if inputs.grad_checkpointing else "")
        + f": {inputs.params / 1e9:.2f}B parameters in the FLOP count"
    ]
    if not {"adapter", "load_in_4bit", "load_in_8bit"} & set(settings):
        notes.append("adapter not set: full fine-tuning assumed")
    if "grad_checkpointing" not in settings and not inputs.grad_checkpointing:
        notes.append("gradient checkpointing not set: off assumed")
    precision = settings.get("mixed_precision")
    if precision is not None and precision.value.raw == "no":
        notes.append("fp32 without autocast runs far below the BF16 peak used here")
    return notes


def job_cost(
    settings: Mapping[str, Setting],
    cost_policy: Mapping[str, Any],
    gpu: str | None,
    *,
    no_gpu: str = "no GPU to price the run on",
) -> JobCost:
    """Price a job's settings on GPU profile ``gpu`` with the policy's ``cost:`` section.

    Never raises: what is missing (the size, the model, the GPU or its peak) is in ``missing``.
    """
    from tunelint.memory.models import UnknownModelError

    size = run_size(settings, cost_policy)
    if size.tokens is None:
        return JobCost(size, gpu, missing=size.missing)
    if gpu is None:
        return JobCost(size, None, missing=no_gpu)
    model = settings.get("model")
    if model is None or not model.value.known:
        state = "not set" if model is None else f"unknown (`{model.value.text}`)"
        return JobCost(size, gpu, missing=f"model {state}")
    try:
        inputs = _inputs(cost_policy, _plain(settings), size, gpu)
        estimate = estimate_cost(inputs)
    except (UnknownModelError, ValueError) as error:
        return JobCost(size, gpu, missing=str(error).split(": pass ")[0])
    interval, why = _checkpoint_hours(settings, size, estimate.wall_hours)
    if why:
        estimate = estimate_cost(replace(inputs, checkpoint_hours=max(interval, 1e-6)))
        estimate.assumptions.append(why)
    estimate.assumptions[:0] = [*size.assumptions, *_method_notes(settings, inputs)]
    return JobCost(size, gpu, estimate, mfu=inputs.mfu)


def policy_gpu(names: Sequence[object]) -> GpuProfile | None:
    """The profile of ``hardware.gpus`` that TL101 budgets on: the one with least memory."""
    from tunelint.memory.gpus import find_profile

    profiles = [profile for name in names if (profile := find_profile(str(name))) is not None]
    return min(profiles, key=lambda profile: profile.total_bytes, default=None)
