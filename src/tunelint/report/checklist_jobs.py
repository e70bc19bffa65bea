"""The checklist's Jobs section: each training job, its memory verdict and its run's cost.

Decisions come from findings (TL101 for memory, TL106 for the cost budget), figures from
their properties. A job TL106 did not report is priced here from the job's settings and the
policy the report carries, with the same function TL106 uses (``memory.job_cost``), on the
GPU TL106 priced on when it reported a job, else the policy's; nothing here compares a
figure with a budget.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tunelint.facts import Value
from tunelint.findings import Finding, Report
from tunelint.project.jobs import Job
from tunelint.report._common import rule_index
from tunelint.report._markdown import code as _code
from tunelint.report._markdown import table as _table
from tunelint.rules.model import RuleMeta

MEMORY_RULE = "TL101"
COST_RULE = "TL106"
GIB = 1 << 30


def report_jobs(report: Report) -> list[Job]:
    """The report's jobs, in a stable order."""
    return sorted((j for j in report.jobs if isinstance(j, Job)), key=lambda job: job.id)


def _show(value: Value | None) -> str:
    """A setting's value as the reviewer should read it: never a guess."""
    if value is None:
        return "not set"
    if not value.known:
        return f"unknown ({_code(value.text)})" if value.text else "unknown"
    raw = value.raw
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, int | float):
        return str(raw)
    return _code(str(raw))


def _flag(job: Job, name: str) -> bool:
    value = job.value(name)
    return bool(value is not None and value.known and value.as_bool())


def _method(job: Job) -> str:
    if not job.trains:
        return "no training found"
    adapter_value = job.value("adapter")
    adapter = str(adapter_value.raw).lower() if adapter_value and adapter_value.known else ""
    quantised = (
        "4-bit" if _flag(job, "load_in_4bit") else "8-bit" if _flag(job, "load_in_8bit") else ""
    )
    if adapter_value is not None and not adapter_value.known:
        method = "adapter unknown"
    elif adapter in {"lora", "qlora"}:
        rank = job.value("lora_r")
        method = "QLoRA" if adapter == "qlora" or quantised == "4-bit" else "LoRA"
        if rank is not None and rank.known:
            method += f" r={_show(rank)}"
        if quantised:
            method += f" on a {quantised} base"
    elif adapter and adapter not in {"none", "full"}:
        method = f"adapter {_code(adapter)}"
    else:
        method = f"full fine-tune, {quantised} base" if quantised else "full fine-tune"
    stage = job.value("zero_stage")
    if stage is not None:
        method += f", ZeRO stage {_show(stage)}"
    for name, what in (
        ("offload_optimizer_device", "optimizer"),
        ("offload_param_device", "params"),
    ):
        device = job.value(name)
        if device is not None and str(device.raw).lower() not in {"none", ""}:
            method += f", {what} offload {_show(device)}"
    return method


def _batch(job: Job) -> str:
    batch, accum = job.value("batch_size"), job.value("grad_accum")
    text = _show(batch)
    if accum is not None:
        text += f", gradient accumulation {_show(accum)}"
    return text


def _gib(size: object) -> str | None:
    if isinstance(size, bool) or not isinstance(size, int | float):
        return None
    return f"{size / GIB:.1f} GiB"


def _estimate(finding: Finding) -> str:
    """TL101's figures when it gives them (bytes in its properties), else its message."""
    props = finding.properties
    estimate, budget = _gib(props.get("estimate_bytes")), _gib(props.get("budget_bytes"))
    if estimate is None or budget is None:
        return finding.message
    text = f"~{estimate} per GPU"
    low, high = _gib(props.get("optimistic_bytes")), _gib(props.get("conservative_bytes"))
    if low is not None and high is not None:
        text += f" ({low} to {high})"
    text += f" vs {budget}"
    if isinstance(props.get("budget"), str):
        text += f" ({props['budget']})"
    verdict = props.get("verdict")
    return f"{verdict}: {text}" if isinstance(verdict, str) and verdict else text


def _memory(
    job: Job, findings: Sequence[Finding], rules: Mapping[str, RuleMeta], report: Report
) -> str:
    hits = [f for f in findings if f.rule_id == MEMORY_RULE and _in_job(f, job)]
    if not hits:
        if MEMORY_RULE not in rules:
            return f"not estimated ({MEMORY_RULE} is not enabled)"
        note = report.not_evaluated().get(MEMORY_RULE)
        if note is not None:
            return f"**not evaluated**: {note.reason}"
        return f"no {MEMORY_RULE} finding: fits, or the model could not be sized"
    texts = []
    for finding in hits:
        state = ", suppressed" if finding.suppressed else ""
        texts.append(f"{_estimate(finding)} ({finding.rule_id} {finding.severity.label}{state})")
    return "; ".join(texts)


def _in_job(finding: Finding, job: Job) -> bool:
    owner = finding.properties.get("job")
    if isinstance(owner, str):
        return owner == job.id
    return finding.span.path in job.members


# --------------------------------------------------------------------------- run cost


def _cost_policy(report: Report) -> dict[str, Any]:
    section = report.policy.get("cost")
    return dict(section) if isinstance(section, Mapping) else {}


def _priced_on(report: Report, findings: Sequence[Finding]) -> tuple[str | None, str]:
    """(GPU profile, label) to price jobs on: the one TL106 priced on when it reported a
    job (it follows --gpu and NVML, which the report does not record), else the GPU TL101
    budgets on in the policy; with none, why."""
    from tunelint.memory.job_cost import policy_gpu

    for finding in findings:
        gpu, label = finding.properties.get("gpu"), finding.properties.get("gpu_label")
        if finding.rule_id == COST_RULE and isinstance(gpu, str) and isinstance(label, str):
            return gpu, label
    hardware = report.policy.get("hardware")
    names = hardware.get("gpus") if isinstance(hardware, Mapping) else None
    profile = policy_gpu(names if isinstance(names, list | tuple) else [])
    if profile is not None:
        return profile.key, f"{profile.name} (policy)"
    note = report.not_evaluated().get(COST_RULE)
    return None, note.reason if note is not None else "no GPU named in the policy (hardware.gpus)"


def _hours(value: float) -> str:
    if value >= 1:
        return f"{value:,.1f} h"
    return f"{value * 60:,.0f} min" if value * 60 >= 1 else "<1 min"


def _money(value: object, currency: object) -> str:
    if not isinstance(value, int | float):
        return "?"
    return f"{value:,.2f} {currency}" if value >= 0.01 or value == 0 else f"<0.01 {currency}"


def _kwh(value: float) -> str:
    return f"{value:,.1f} kWh" if value >= 10 else f"{value:.2g} kWh"


def _figures(props: Mapping[str, Any], label: str) -> str:
    """Time, energy and money from a priced job's properties (``JobCost.properties``)."""
    cost = props.get("cost")
    if not isinstance(cost, Mapping):
        return f"not estimated: {props.get('not_estimated') or 'no figures'}"
    hours = _hours(float(cost["wall_hours"]))
    text = f"{'' if hours.startswith('<') else '~'}{hours} on {props.get('gpus', 1)} x {label}"
    if isinstance(cost.get("energy_kwh"), int | float):
        text += f", {_kwh(float(cost['energy_kwh']))}"
    run_cost = props.get("run_cost")
    if isinstance(run_cost, int | float):
        text += f", {_money(run_cost, cost['currency'])} local"
    else:
        text += ", local cost unknown (no electricity or purchase price)"
    cheapest = props.get("cheapest_cloud")
    if isinstance(cheapest, Mapping):
        tier = "spot" if cheapest.get("tier") == "spot" else "on demand"
        text += (
            f"; cloud from {_money(cheapest.get('cost'), cheapest.get('currency'))} "
            f"({cheapest.get('provider')} {tier})"
        )
    return text


def _budget_state(report: Report, rules: Mapping[str, RuleMeta]) -> str:
    """What TL106 said about a job it did not report, as the report records it."""
    if COST_RULE not in rules:
        return f"{COST_RULE} not enabled"
    note = report.not_evaluated().get(COST_RULE)
    if note is not None:
        return f"{COST_RULE} **not evaluated**: {note.reason}"
    budget = _cost_policy(report).get("max_run")
    if budget is None:
        return "no budget set (cost.max_run)"
    currency = _cost_policy(report).get("currency", "USD")
    return f"no {COST_RULE} finding (budget {_money(budget, currency)})"


def _job_cost(
    job: Job, findings: Sequence[Finding], report: Report, gpu: tuple[str | None, str]
) -> tuple[dict[str, Any], str, Finding | None]:
    """(the job's cost properties, the GPU's label, TL106's finding on it if any)."""
    from tunelint.memory.job_cost import job_cost

    for finding in findings:
        if finding.rule_id == COST_RULE and _in_job(finding, job):
            label = finding.properties.get("gpu_label")
            return dict(finding.properties), str(label or gpu[1]), finding
    priced = job_cost(job.settings, _cost_policy(report), gpu[0], no_gpu=gpu[1])
    return priced.properties(), gpu[1], None


def _cost_cell(
    props: Mapping[str, Any],
    label: str,
    finding: Finding | None,
    report: Report,
    rules: Mapping[str, RuleMeta],
) -> str:
    text = _figures(props, label)
    if finding is not None:
        state = ", suppressed" if finding.suppressed else ""
        budget = _money(props.get("budget"), props.get("currency"))
        return (
            f"**over budget**: {text}; budget {budget} "
            f"({finding.rule_id} {finding.severity.label}{state})"
        )
    if "cost" not in props:
        return text
    return f"{text}; {_budget_state(report, rules)}"


def _cost_notes(priced: Sequence[tuple[Job, Mapping[str, Any]]]) -> list[str]:
    """Per priced job: its size, utilisation, prices' date and every assumption."""
    lines = []
    for job, props in priced:
        cost = props.get("cost")
        if not isinstance(cost, Mapping):
            continue
        parts = [f"{props['tokens']:,} tokens = {props.get('size', '')}"]
        if isinstance(props.get("mfu"), int | float):
            parts.append(f"MFU {props['mfu']:.0%}")
        if cost.get("prices_as_of"):
            parts.append(f"cloud prices as of {cost['prices_as_of']}")
        parts.extend(str(note) for note in cost.get("assumptions", []))
        lines.append(f"- {_code(job.id)}: " + "; ".join(parts))
    if not lines:
        return []
    intro = (
        "Run cost (docs/cost.md): local is electricity plus depreciation on the policy's "
        "GPU; cloud is the cheapest offer for the same GPU in the shipped price table."
    )
    return ["", intro, "", *lines]


def jobs_section(report: Report, findings: list[Finding]) -> list[str]:
    rules = rule_index(report)
    jobs = report_jobs(report)
    lines = ["## Jobs", ""]
    if not jobs:
        return [*lines, "No training job found in the checked files."]
    rows = []
    gpu = _priced_on(report, findings)
    priced: list[tuple[Job, dict[str, Any]]] = []
    for job in jobs:
        props, label, over = _job_cost(job, findings, report, gpu)
        priced.append((job, props))
        name = _code(job.id)
        others = [member for member in job.members if member != job.entry]
        if others:
            name += " with " + ", ".join(_code(member) for member in others)
        rows.append(
            (
                name,
                _show(job.value("model")),
                _method(job),
                _batch(job),
                _show(job.value("seq_len")),
                _show(job.value("num_gpus")),
                _memory(job, findings, rules, report),
                _cost_cell(props, label, over, report, rules),
            )
        )
    header = (
        "Job",
        "Model",
        "Method",
        "Batch per device",
        "Seq len",
        "GPUs",
        "Memory vs budget",
        "Run cost",
    )
    return [*lines, *_table(header, rows), *_cost_notes(priced)]
