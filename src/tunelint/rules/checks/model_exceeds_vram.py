"""TL101: a job's estimated peak training memory against the GPU budget.

The estimate comes from ``tunelint.memory`` (see docs/memory.md for the formula and its
sources). Severity follows the design: the rule's own severity when even the optimistic
figure is over budget, one level lower when only the point or conservative figure is, and
one level lower again when a paged optimizer or CPU offload lets the run spill (slow, but
it may run).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tunelint.findings import Related, Severity
from tunelint.project.jobs import Job
from tunelint.rules.checks import CheckContext, register
from tunelint.rules.match import Hit
from tunelint.rules.model import NotEvaluated

GIB = 1 << 30
# Settings that shape the estimate, shown as related locations when a job sets them.
RELATED = (
    "batch_size",
    "seq_len",
    "adapter",
    "load_in_4bit",
    "load_in_8bit",
    "optimizer",
    "grad_checkpointing",
    "zero_stage",
    "num_gpus",
    "mixed_precision",
    "torch_dtype",
)
# axolotl and LLaMA-Factory load the base model in the dtype of `bf16: true`
FRAMEWORK_BY_DIALECT = {
    "torchtune": "torchtune",
    "litgpt": "litgpt",
    "axolotl": "axolotl",
    "llamafactory": "llamafactory",
}
# What a CLI does when its config leaves a setting out (LLaMA-Factory checkpoints
# activations unless `disable_gradient_checkpointing: true`).
DIALECT_DEFAULTS: dict[str, dict[str, object]] = {"llamafactory": {"grad_checkpointing": True}}


def _gib(value: int) -> str:
    return f"{value / GIB:.1f} GiB"


def _lower(severity: Severity) -> Severity:
    return Severity(max(Severity.INFO, severity - 1))


def _plain_settings(job: Job, context: CheckContext) -> dict[str, Any]:
    settings: dict[str, Any] = {
        name: setting.value.raw for name, setting in job.settings.items() if setting.value.known
    }
    for facts in context.project.member_facts(job):
        for dialect in facts.dialects:
            if dialect in FRAMEWORK_BY_DIALECT:
                settings.setdefault("framework", FRAMEWORK_BY_DIALECT[dialect])
            for name, value in DIALECT_DEFAULTS.get(dialect, {}).items():
                settings.setdefault(name, value)
    return settings


def _spills(settings: dict[str, Any]) -> bool:
    optimizer = str(settings.get("optimizer", "")).lower()
    offload = {
        str(settings.get(k, "")).lower()
        for k in ("offload_optimizer_device", "offload_param_device")
    }
    return "paged" in optimizer or "cpu" in offload


def _budget(context: CheckContext) -> Any:
    from tunelint.memory.gpus import resolve_budget

    request = context.budget or {}
    return resolve_budget(
        cli_vram=request.get("cli_vram"),
        cli_gpu=request.get("cli_gpu"),
        policy_gpus=tuple(context.policy("hardware.gpus", []) or []),
        policy_vram=context.policy("hardware.vram"),
        detect=str(context.policy("hardware.detect", "auto")),
    )


# jobs, their settings and their members' dialects are always read (see extract.prefilter)
@register("model-exceeds-vram", per="job", needles={"any": []})
def check(job: Job, context: CheckContext) -> Iterator[Hit]:
    if not job.trains or not job.raw("model"):
        return
    if "budget" not in context.state:
        context.state["budget"] = _budget(context)
    budget = context.state["budget"]
    if budget.bytes_per_device is None:
        raise NotEvaluated(
            "no GPU budget: pass --gpu or --vram, set hardware.gpus or hardware.vram in the "
            "policy, or run where NVML sees a GPU"
        )
    from tunelint.memory import UnknownModelError, estimate_from_settings

    settings = _plain_settings(job, context)
    try:
        estimate = estimate_from_settings(settings)
    except (UnknownModelError, ValueError):
        return
    limit = budget.bytes_per_device
    if estimate.optimistic_bytes > limit:
        severity = context.rule.severity
        verdict = "does not fit"
    elif max(estimate.total_bytes, estimate.conservative_bytes) > limit:
        severity = _lower(context.rule.severity)
        verdict = "may not fit"
    else:
        return
    if _spills(settings):
        severity = _lower(severity)
    top = sorted(estimate.breakdown.items(), key=lambda item: -item[1])[:3]
    terms = ", ".join(f"{name} {_gib(size)}" for name, size in top)
    model_setting = job.settings["model"]
    related = tuple(
        Related(job.settings[name].span, f"{name} = {job.settings[name].value.raw!r}")
        for name in RELATED
        if name in job.settings and job.settings[name].value.known
    )
    detail = (
        f"{estimate.model_id} {verdict} in {budget.label}: ~{_gib(estimate.total_bytes)} "
        f"estimated per GPU (optimistic {_gib(estimate.optimistic_bytes)}, conservative "
        f"{_gib(estimate.conservative_bytes)}) against a budget of {_gib(limit)}; "
        f"largest terms: {terms}"
    )
    if estimate.assumptions:
        detail += "; assumed: " + "; ".join(estimate.assumptions)
    if estimate.uncertain:
        detail += "; uncertain, range widened: " + "; ".join(estimate.uncertain)
    properties: dict[str, object] = {
        "estimate_bytes": estimate.total_bytes,
        "optimistic_bytes": estimate.optimistic_bytes,
        "conservative_bytes": estimate.conservative_bytes,
        "budget_bytes": limit,
        "budget": budget.label,
        "params": estimate.params,
        "params_source": estimate.params_source,
        "verdict": verdict,
        "job": job.id,
    }
    yield Hit(
        model_setting.span,
        {"detail": detail},
        anchor=f"job:{job.entry}:{model_setting.key}",
        scope=job.entry,
        related=related,
        severity=severity,
        properties=properties,
    )
