"""TL106: a job whose estimated cost is above the policy's budget for one run.

The job's size comes from its settings (``max_steps`` x batch x accumulation x GPUs x
sequence length, or epochs x the dataset size the policy gives) and its cost from the cost
model of ``tunelint estimate --cost`` (``tunelint.memory.job_cost``, docs/cost.md), on the
GPU chosen as TL101 chooses its budget: ``--gpu``, the GPUs NVML sees, ``hardware.gpus``.
A job whose size is unknown is not judged; the review checklist says why.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tunelint.findings import Related
from tunelint.memory.job_cost import JobCost, job_cost, policy_gpu
from tunelint.project.jobs import Job
from tunelint.rules.checks import CheckContext, register
from tunelint.rules.match import Hit
from tunelint.rules.model import NotEvaluated

NO_GPU = (
    "no GPU to price runs on: pass --gpu, set hardware.gpus in the policy, or run where NVML "
    "sees a GPU"
)
# Settings that shape the cost besides the size, shown as related locations when set.
SHAPING = ("model", "adapter", "load_in_4bit", "grad_checkpointing")


def _gpu(context: CheckContext) -> tuple[str | None, str]:
    """(GPU profile, label), by TL101's precedence; a memory size names no GPU, so
    ``--vram`` and ``hardware.vram`` are passed over."""
    from tunelint.memory.gpus import detect_gpus, find_profile

    cli = (context.budget or {}).get("cli_gpu")
    if cli:
        profile = find_profile(str(cli))
        if profile is not None:
            return profile.key, f"{profile.name} (--gpu)"
    detect = context.policy("hardware.detect", "auto")
    if detect in ("auto", "on", True):
        devices = detect_gpus().devices
        if devices:
            smallest = min(devices, key=lambda device: device.total_bytes)
            found = find_profile(smallest.name)
            if found is not None:
                return found.key, f"{found.name} (detected)"
    chosen = policy_gpu(context.policy("hardware.gpus", []) or [])
    if chosen is not None:
        return chosen.key, f"{chosen.name} (policy)"
    return None, NO_GPU


def _money(value: float, currency: str) -> str:
    return f"{value:,.2f} {currency}"


def _hours(value: float) -> str:
    return f"{value:,.1f} h" if value >= 1 else f"{value * 60:,.0f} min"


def _detail(job: Job, priced: JobCost, label: str, budget: float) -> str:
    estimate = priced.estimate
    assert estimate is not None and priced.run_cost is not None
    currency = estimate.currency
    local = estimate.local
    if local["electricity"] is not None and local["depreciation"] is not None:
        parts = (
            f"electricity {_money(local['electricity'], currency)} + depreciation "
            f"{_money(local['depreciation'], currency)}"
        )
    elif local["electricity"] is None:
        parts = "depreciation only: the policy gives no cost.electricity_per_kwh"
    else:
        parts = "electricity only: no purchase price in the policy (cost.purchase_price)"
    size = priced.size
    energy = f", {estimate.energy_kwh:,.1f} kWh" if estimate.energy_kwh is not None else ""
    text = (
        f"`{job.raw('model')}`: ~{_money(priced.run_cost, currency)} for the run ({parts}), "
        f"above the policy's budget of {_money(budget, currency)} (cost.max_run); "
        f"{size.tokens:,} tokens = {size.formula}; ~{_hours(estimate.wall_hours)} on "
        f"{size.gpus} x {label}{energy}, at {priced.mfu:.0%} of the BF16 peak (MFU)"
    )
    cheapest = priced.cheapest_cloud()
    if cheapest is not None:
        tier = "spot" if cheapest["tier"] == "spot" else "on demand"
        text += (
            f"; cheapest cloud alternative in the price table: {cheapest['provider']} "
            f"{cheapest['gpu']} {tier}, ~{_money(cheapest['cost'], cheapest['currency'])} "
            f"(prices as of {cheapest['as_of']})"
        )
    else:
        text += f"; the price table has no cloud row for {label}"
    assumed = [note for note in estimate.assumptions if "assumed" in note]
    if assumed:
        text += "; assumed: " + "; ".join(assumed)
    return text


# jobs and their settings are always read (see extract.prefilter)
@register("run-cost-over-budget", per="job", needles={"any": []})
def check(job: Job, context: CheckContext) -> Iterator[Hit]:
    budget = context.policy("cost.max_run")
    if not job.trains or budget is None:
        return
    if "gpu" not in context.state:
        context.state["gpu"] = _gpu(context)
    gpu, label = context.state["gpu"]
    cost_policy: dict[str, Any] = dict(context.policy("cost", {}) or {})
    priced = job_cost(job.settings, cost_policy, gpu, no_gpu=label)
    if priced.size.tokens is None:
        return  # size unknown: nothing to judge (the checklist says why)
    if gpu is None:
        raise NotEvaluated(label)
    from tunelint.memory.cost import gpu_specs

    spec = gpu_specs().get(gpu)
    if spec is None or not spec.bf16_tflops:
        raise NotEvaluated(
            f"the GPU table has no dense BF16 peak for {label}, so no run can be timed on it"
        )
    if priced.estimate is None:
        return  # the model cannot be sized offline (the checklist says so)
    if priced.run_cost is None:
        raise NotEvaluated(
            f"no price for running on {label} in {priced.estimate.currency}: set "
            "cost.electricity_per_kwh or cost.purchase_price in the policy"
        )
    if priced.run_cost <= float(budget):
        return
    decided = job.settings[priced.size.decided_by]
    related = tuple(
        Related(job.settings[name].span, f"{name} = {job.settings[name].value.raw!r}")
        for name in (*priced.size.factors, *SHAPING)
        if name in job.settings and job.settings[name].value.known
    )
    properties: dict[str, object] = {
        **priced.properties(),
        "gpu_label": label,
        "budget": float(budget),
        "currency": priced.estimate.currency,
        "verdict": "over budget",
        "job": job.id,
    }
    yield Hit(
        decided.span,
        {"detail": _detail(job, priced, label, float(budget))},
        anchor=f"job:{job.entry}:{decided.key}",
        scope=job.entry,
        related=related,
        properties=properties,
    )
