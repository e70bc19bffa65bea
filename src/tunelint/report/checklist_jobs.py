"""The checklist's Jobs section: each training job, its memory verdict and its run's cost.

Decisions come from findings (TL101 for memory, TL106 for the cost budget), figures from
their properties. A job TL106 did not report is priced here from the job's settings and the
policy the report carries, with the same function TL106 uses (``memory.job_cost``), on the
GPU TL106 priced on when it reported a job, else the policy's; nothing here compares a
figure with a budget.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tunelint.facts import Value
from tunelint.findings import Finding, Report
from tunelint.project.jobs import Job
from tunelint.report._common import rule_index
from tunelint.report._markdown import code as _code
from tunelint.report._markdown import table as _table
from tunelint.rules.model import RuleMeta

MEMORY_RULE = "TL101"
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


def jobs_section(report: Report, findings: list[Finding]) -> list[str]:
    rules = rule_index(report)
    jobs = report_jobs(report)
    lines = ["## Jobs", ""]
    if not jobs:
        return [*lines, "No training job found in the checked files."]
    rows = []
    for job in jobs:
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
            )
        )
    header = ("Job", "Model", "Method", "Batch per device", "Seq len", "GPUs", "Memory vs budget")
    return [*lines, *_table(header, rows)]
