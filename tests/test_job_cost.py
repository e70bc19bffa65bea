"""A job's run cost: its size from settings and policy, TL106 against cost.max_run, the
checklist's Run cost column and the JSON report's figures (docs/cost.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tunelint.api import Options, lint
from tunelint.facts import UNKNOWN, Setting, Span, Value
from tunelint.findings import Report
from tunelint.memory.cost import gpu_specs
from tunelint.memory.job_cost import job_cost, run_size
from tunelint.memory.models import resolve_model
from tunelint.report.checklist import render_checklist
from tunelint.report.json_report import report_data

# The RTX 4090 row of the GPU table, as docs/cost.md describes it.
PEAK_TFLOPS, BOARD_W, HOST_W, LAUNCH_USD = 165.2, 450.0, 237.0, 1599.0
MFU = 0.40
LLAMA_7B = "meta-llama/Llama-2-7b-hf"


def setting(name: str, raw: object, line: int = 1, dialect: str = "trainer") -> Setting:
    span = Span("train.py", line)
    text = str(raw) if raw is not UNKNOWN else "args.value"
    return Setting(name, Value(raw, span, "literal", text), name, dialect, span)


def settings(**values: object) -> dict[str, Setting]:
    return {name: setting(name, raw, line) for line, (name, raw) in enumerate(values.items(), 1)}


def documented_cost(
    tokens: int, params: int, per_token: float, gpus: int, kwh: float
) -> dict[str, float]:
    """docs/cost.md's formulas, written out: time, energy, electricity and depreciation."""
    flops = per_token * params * tokens
    gpu_hours = flops / (PEAK_TFLOPS * 1e12 * MFU) / 3600
    energy = (BOARD_W + HOST_W) * gpu_hours / 1000
    depreciation = LAUNCH_USD / (4 * 8760 * 0.5) * gpu_hours
    return {
        "flops": flops,
        "gpu_hours": gpu_hours,
        "wall_hours": gpu_hours / gpus,
        "energy_kwh": energy,
        "total": energy * kwh + depreciation,
    }


def test_the_table_row_the_documented_figures_use() -> None:
    spec = gpu_specs()["rtx-4090"]
    assert (spec.bf16_tflops, spec.board_watts, spec.purchase_usd) == (
        PEAK_TFLOPS,
        BOARD_W,
        LAUNCH_USD,
    )


# --------------------------------------------------------------------------- size


def test_size_from_steps_batch_accumulation_gpus_and_sequence() -> None:
    size = run_size(
        settings(max_steps=1000, batch_size=4, grad_accum=8, num_gpus=2, seq_len=2048), {}
    )
    assert size.tokens == 1000 * 4 * 8 * 2 * 2048
    assert size.decided_by == "max_steps" and size.gpus == 2
    assert size.factors == ("batch_size", "grad_accum", "num_gpus", "seq_len")
    assert size.formula == "1,000 steps x 4 per device x 8 accumulated x 2 GPUs x 2,048 tokens"
    assert size.assumptions == ()


def test_accumulation_and_gpus_default_to_one_and_say_so() -> None:
    size = run_size(settings(max_steps=10, batch_size=2, seq_len=512), {})
    assert size.tokens == 10 * 2 * 512
    assert size.assumptions == (
        "GPU count not set: 1 assumed",
        "gradient accumulation not set: 1 assumed",
    )


def test_steps_win_over_epochs_and_a_non_positive_max_steps_means_epochs() -> None:
    both = settings(max_steps=10, num_epochs=3, batch_size=1, seq_len=100)
    assert run_size(both, {"dataset_tokens": "1M"}).tokens == 1000
    trainer_default = settings(max_steps=-1, num_epochs=2)
    size = run_size(trainer_default, {"dataset_tokens": "1M"})
    assert (size.tokens, size.decided_by) == (2_000_000, "num_epochs")


def test_size_from_epochs_and_the_policys_dataset_sizes() -> None:
    policy = {
        "datasets": {"data/*.jsonl": "20M", "tatsu-lab/alpaca": 6_500_000},
        "dataset_tokens": 1,
    }
    local = run_size(settings(num_epochs=3, dataset="./data/train.jsonl"), policy)
    assert local.tokens == 60_000_000
    assert local.formula == "3 epochs x 20,000,000 tokens per epoch (cost.datasets: data/*.jsonl)"
    assert local.factors == ("dataset",)
    hub = run_size(settings(num_epochs=1.5, dataset="tatsu-lab/alpaca"), policy)
    assert hub.tokens == 9_750_000
    fallback = run_size(settings(num_epochs=2, dataset="other"), policy)
    assert fallback.tokens == 2 and "(cost.dataset_tokens)" in fallback.formula


@pytest.mark.parametrize(
    ("values", "policy", "missing"),
    [
        ({"max_steps": 100, "batch_size": 8}, {}, "sequence length not set"),
        ({"max_steps": 100, "seq_len": 512}, {}, "batch size not set"),
        ({"max_steps": UNKNOWN, "seq_len": 512, "batch_size": 1}, {}, "max_steps unknown"),
        ({"max_steps": 9, "seq_len": 8, "batch_size": 1, "num_gpus": UNKNOWN}, {}, "GPU count"),
        ({"batch_size": 8, "seq_len": 512}, {}, "neither max_steps nor num_epochs is set"),
        ({"num_epochs": UNKNOWN}, {"dataset_tokens": 5}, "num_epochs unknown"),
        ({"num_epochs": 3, "dataset": "d.jsonl"}, {}, "no dataset size for `d.jsonl`"),
        ({"num_epochs": 3}, {"dataset_tokens": "lots"}, "cost.dataset_tokens: not a token"),
    ],
)
def test_an_unknown_size_says_what_is_missing(
    values: dict[str, object], policy: dict[str, Any], missing: str
) -> None:
    size = run_size(settings(**values), policy)
    assert size.tokens is None
    assert size.missing.startswith(missing)


# --------------------------------------------------------------------------- cost


def test_job_cost_is_the_documented_formula() -> None:
    job = settings(
        model=LLAMA_7B, adapter="lora", max_steps=1000, batch_size=4, grad_accum=4, seq_len=2048
    )
    priced = job_cost(job, {"electricity_per_kwh": 0.30}, "rtx-4090")
    assert priced.estimate is not None and priced.missing == ""
    params = resolve_model(LLAMA_7B).active_params
    expected = documented_cost(1000 * 4 * 4 * 2048, params, 4.0, 1, 0.30)  # LoRA: 4N
    cost = priced.estimate
    assert cost.flops == pytest.approx(expected["flops"])
    assert cost.gpu_hours == pytest.approx(expected["gpu_hours"])
    assert cost.wall_hours == pytest.approx(expected["wall_hours"])
    assert cost.energy_kwh == pytest.approx(expected["energy_kwh"])
    assert priced.run_cost == pytest.approx(expected["total"])
    assert priced.run_cost == pytest.approx(1.104, abs=0.001)  # the figure docs/cost.md shows
    cheapest = priced.cheapest_cloud()
    assert cheapest is not None and (cheapest["provider"], cheapest["tier"]) == ("RunPod", "spot")
    assert cheapest["cost"] == min(row["spot"] or row["on_demand"] for row in cost.cloud)
    assert "GPU count not set: 1 assumed" in cost.assumptions
    assert "gradient checkpointing not set: off assumed" in cost.assumptions


def test_recomputation_and_gpus_change_what_the_formula_says() -> None:
    job = settings(
        model=LLAMA_7B,
        max_steps=100,
        batch_size=2,
        seq_len=1024,
        num_gpus=4,
        grad_checkpointing=True,
    )
    priced = job_cost(job, {}, "rtx-4090")
    assert priced.estimate is not None
    params = resolve_model(LLAMA_7B).active_params
    expected = documented_cost(100 * 2 * 4 * 1024, params, 8.0, 4, 0.0)  # full + recompute
    assert priced.estimate.gpu_hours == pytest.approx(expected["gpu_hours"])
    assert priced.estimate.wall_hours == pytest.approx(expected["gpu_hours"] / 4)
    # no electricity price: the local cost is the depreciation alone, and says so
    assert priced.run_cost == pytest.approx(expected["total"])
    assert any("no electricity price" in note for note in priced.estimate.assumptions)


def test_llamafactory_checkpoints_activations_unless_told_not_to() -> None:
    job = {
        name: setting(name, raw, line, dialect="llamafactory")
        for line, (name, raw) in enumerate(
            {"model": LLAMA_7B, "adapter": "lora", "max_steps": 10, "batch_size": 1}.items(), 1
        )
    }
    job["seq_len"] = setting("seq_len", 512, 9, dialect="llamafactory")
    priced = job_cost(job, {}, "rtx-4090")
    assert priced.estimate is not None
    params = resolve_model(LLAMA_7B).active_params
    assert priced.estimate.flops == pytest.approx(6.0 * params * 10 * 512)


def test_the_checkpoint_interval_follows_save_steps() -> None:
    base = {"model": LLAMA_7B, "max_steps": 1000, "batch_size": 4, "seq_len": 2048}
    hourly = job_cost(settings(**base), {}, "rtx-4090")
    often = job_cost(settings(**base, save_steps=100), {}, "rtx-4090")
    never = job_cost(settings(**base, save_strategy="no"), {}, "rtx-4090")
    assert hourly.estimate and often.estimate and never.estimate
    spot = [p.cheapest_cloud()["cost"] for p in (often, hourly, never)]  # type: ignore[index]
    assert spot[0] < spot[1] < spot[2]  # more work redone after a pre-emption
    assert any("every 100 steps (save_steps)" in n for n in often.estimate.assumptions)
    assert any("a pre-emption restarts the run" in n for n in never.estimate.assumptions)


@pytest.mark.parametrize(
    ("values", "gpu", "missing"),
    [
        ({"max_steps": 10, "batch_size": 1, "seq_len": 8}, "rtx-4090", "model not set"),
        ({"model": "gpt2", "max_steps": 10, "batch_size": 1, "seq_len": 8}, None, "no GPU here"),
        ({"model": "gpt2", "max_steps": 10, "batch_size": 1, "seq_len": 8}, "t4", "no dense"),
        ({"model": "acme/mystery", "max_steps": 1, "batch_size": 1, "seq_len": 8}, "l4", "cannot"),
        ({"model": "gpt2", "max_steps": 10}, None, "batch size not set"),
    ],
)
def test_not_estimated_says_why(values: dict[str, object], gpu: str | None, missing: str) -> None:
    priced = job_cost(settings(**values), {}, gpu, no_gpu="no GPU here")
    assert priced.estimate is None and priced.run_cost is None
    assert priced.missing.startswith(missing)
    assert priced.properties()["not_estimated"] == priced.missing


# --------------------------------------------------------------------------- TL106

SCRIPT = """\
from transformers import AutoModelForCausalLM
from trl import SFTConfig, SFTTrainer

model = AutoModelForCausalLM.from_pretrained("{model}")
args = SFTConfig(
    output_dir="out",
    max_steps={steps},
    per_device_train_batch_size=4,
    gradient_accumulation_steps=4,
    max_length={seq},
    use_peft=True,
)
SFTTrainer(model=model, args=args).train()
"""
POLICY = 'version: 1\nhardware: {{gpus: [rtx-4090], detect: "off"}}\ncost: {{{cost}}}\n'


def project(
    tmp_path: Path,
    *,
    steps: int = 1000,
    seq: str = "2048",
    cost: str = "electricity_per_kwh: 0.30, max_run: 1",
    policy: str | None = None,
    **options: Any,
) -> Report:
    (tmp_path / "tunelint.yaml").write_text(policy or POLICY.format(cost=cost))
    (tmp_path / "train.py").write_text(SCRIPT.format(model=LLAMA_7B, steps=steps, seq=seq))
    return lint(["."], Options(cwd=tmp_path, use_cache=False, jobs=1, **options))


def cost_findings(report: Report) -> list[Any]:
    return [f for f in report.findings if f.rule_id == "TL106"]


def test_tl106_fires_above_the_budget_at_the_setting_that_decides(tmp_path: Path) -> None:
    report = project(tmp_path)
    [finding] = cost_findings(report)
    assert (finding.span.path, finding.span.line) == ("train.py", 7)  # max_steps=1000
    assert finding.severity.label == "medium"
    props = finding.properties
    assert props["run_cost"] == pytest.approx(1.104, abs=0.001)
    assert (props["budget"], props["currency"], props["verdict"]) == (1.0, "USD", "over budget")
    assert props["gpu_label"] == "NVIDIA GeForce RTX 4090 (policy)"
    message = finding.message
    assert message.startswith(f"`{LLAMA_7B}`: ~1.10 USD for the run (electricity 0.77 USD")
    assert "above the policy's budget of 1.00 USD (cost.max_run)" in message
    assert "32,768,000 tokens = 1,000 steps x 4 per device x 4 accumulated x 1 GPU" in message
    assert re.search(r"cheapest cloud alternative in the price table: RunPod .* spot", message)
    assert "(prices as of 2026-03-10)" in message
    related = {r.message.split(" = ")[0]: r.span.line for r in finding.related}
    assert related == {"batch_size": 8, "grad_accum": 9, "seq_len": 10, "model": 4, "adapter": 11}


def test_tl106_is_silent_below_the_budget(tmp_path: Path) -> None:
    report = project(tmp_path, cost="electricity_per_kwh: 0.30, max_run: 1.2")
    assert cost_findings(report) == [] and "TL106" not in report.not_evaluated()


def test_tl106_is_silent_without_a_budget(tmp_path: Path) -> None:
    report = project(tmp_path, cost="electricity_per_kwh: 0.30", steps=10**7)
    assert cost_findings(report) == [] and "TL106" not in report.not_evaluated()


def test_tl106_is_silent_when_the_size_is_unknown(tmp_path: Path) -> None:
    report = project(tmp_path, seq="args.seq", steps=10**7)
    assert cost_findings(report) == [] and "TL106" not in report.not_evaluated()


def test_tl106_prices_on_the_gpu_given_on_the_command_line(tmp_path: Path) -> None:
    report = project(tmp_path, cost="electricity_per_kwh: 0.30, max_run: 0", gpu="rtx-3090")
    [finding] = cost_findings(report)
    assert finding.properties["gpu"] == "rtx-3090"
    assert "NVIDIA GeForce RTX 3090 (--gpu)" in finding.message


def test_tl106_not_evaluated_without_a_gpu_or_a_price(tmp_path: Path) -> None:
    no_gpu = 'version: 1\nhardware: {detect: "off"}\ncost: {max_run: 1}\n'
    report = project(tmp_path, policy=no_gpu)
    assert report.not_evaluated()["TL106"].reason.startswith("no GPU to price runs on")
    no_price = 'version: 1\nhardware: {gpus: [h100], detect: "off"}\ncost: {max_run: 1}\n'
    report = project(tmp_path, policy=no_price)
    assert report.not_evaluated()["TL106"].reason.startswith("no price for running on")
    assert cost_findings(report) == []


def test_json_report_carries_the_figures(tmp_path: Path) -> None:
    report = project(tmp_path)
    data = json.loads(json.dumps(report_data(report), default=str))
    [finding] = [f for f in data["findings"] if f["rule_id"] == "TL106"]
    props = finding["properties"]
    assert props["tokens"] == 32_768_000 and props["decided_by"] == "max_steps"
    assert props["cost"]["gpu_hours"] == pytest.approx(
        documented_cost(32_768_000, resolve_model(LLAMA_7B).active_params, 4.0, 1, 0.3)["gpu_hours"]
    )
    assert set(props["cost"]) >= {"energy_kwh", "local", "cloud", "prices_as_of", "assumptions"}
    assert props["cheapest_cloud"]["tier"] == "spot" and props["mfu"] == MFU


# --------------------------------------------------------------------------- checklist


def cost_cell(text: str) -> str:
    rows = [line for line in text.splitlines() if line.startswith("| `train.py`")]
    assert len(rows) == 1
    return rows[0].rstrip(" |").rsplit(" | ", 1)[1]


def test_checklist_cost_line_for_a_known_size(tmp_path: Path) -> None:
    text = render_checklist(project(tmp_path, cost="electricity_per_kwh: 0.30, max_run: 2"))
    expected = documented_cost(32_768_000, resolve_model(LLAMA_7B).active_params, 4.0, 1, 0.3)
    cell = cost_cell(text)
    assert cell.startswith(
        f"~{expected['wall_hours']:.1f} h on 1 x NVIDIA GeForce RTX 4090 (policy), "
        f"{expected['energy_kwh']:.2g} kWh, {expected['total']:.2f} USD local; cloud from "
    )
    assert cell.endswith("; no TL106 finding (budget 2.00 USD)")
    notes = text.split("## Where data goes")[0]
    assert "- `train.py`: 32,768,000 tokens = 1,000 steps x 4 per device" in notes
    assert "MFU 40%; cloud prices as of 2026-03-10;" in notes


def test_checklist_over_budget_reads_tl106(tmp_path: Path) -> None:
    cell = cost_cell(render_checklist(project(tmp_path)))
    assert cell.startswith("**over budget**: ~")
    assert cell.endswith("; budget 1.00 USD (TL106 medium)")


def test_checklist_not_estimated_names_what_is_missing(tmp_path: Path) -> None:
    text = render_checklist(project(tmp_path, seq="args.seq"))
    assert cost_cell(text) == "not estimated: sequence length unknown (`args.seq`)"
    assert "Run cost (docs/cost.md)" not in text


def test_checklist_without_a_budget_or_the_rule(tmp_path: Path) -> None:
    text = render_checklist(project(tmp_path, cost="electricity_per_kwh: 0.30"))
    assert cost_cell(text).endswith(
        " USD local; cloud from 1.31 USD (RunPod spot); no budget set (cost.max_run)"
    )
    text = render_checklist(project(tmp_path, ignore=["TL106"]))
    assert cost_cell(text).endswith("; TL106 not enabled")


# --------------------------------------------------------------------------- policy


@pytest.mark.parametrize(
    ("cost", "problem"),
    [
        ({"dataset_tokens": "20M", "datasets": {"data/*.jsonl": "6.5M", "a/b": 10}}, None),
        ({"dataset_tokens": "lots"}, "cost.dataset_tokens"),
        ({"datasets": {"data/x.jsonl": 0}}, 'cost.datasets."data/x.jsonl"'),
        ({"datasets": ["data/x.jsonl"]}, "cost.datasets"),
    ],
)
def test_policy_schema_takes_token_counts(cost: dict[str, Any], problem: str | None) -> None:
    from tunelint.policy import schema_problems

    problems = schema_problems({"version": 1, "cost": cost}, Path("tunelint.yaml"), None)
    if problem is None:
        assert problems == []
    else:
        assert problems and all(f": {problem}: " in line for line in problems), problems


def test_tl106_not_evaluated_on_a_gpu_without_a_peak(tmp_path: Path) -> None:
    policy = 'version: 1\nhardware: {gpus: [t4], detect: "off"}\ncost: {max_run: 1}\n'
    report = project(tmp_path, policy=policy)
    reason = report.not_evaluated()["TL106"].reason
    assert reason == (
        "the GPU table has no dense BF16 peak for Tesla T4 (policy), so no run can be timed on it"
    )


def test_tl106_prices_on_the_gpu_nvml_sees(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tunelint.memory import gpus

    h200 = gpus.GpuDevice(0, "NVIDIA H200", 143771 << 20, 143771 << 20, 0)
    monkeypatch.setattr(gpus, "detect_gpus", lambda nvml=None: gpus.NvmlState(True, (h200,)))
    (tmp_path / "small.py").write_text(SCRIPT.format(model="gpt2", steps=10, seq=128))
    policy = (
        "version: 1\nhardware: {gpus: [rtx-4090]}\ncost: {electricity_per_kwh: 0.3, max_run: 0.1}\n"
    )
    report = project(tmp_path, policy=policy)
    [finding] = cost_findings(report)
    assert finding.span.path == "train.py"
    assert (finding.properties["gpu"], finding.properties["gpu_label"]) == (
        "h200",
        "NVIDIA H200 (detected)",
    )
    # a job TL106 did not report is priced on the same GPU, not on the policy's
    small = [
        line for line in render_checklist(report).splitlines() if line.startswith("| `small.py`")
    ]
    assert len(small) == 1
    assert " | ~<1 min on 1 x NVIDIA H200 (detected), " not in small[0]
    assert "<1 min on 1 x NVIDIA H200 (detected), " in small[0]
    assert small[0].endswith("; no TL106 finding (budget 0.10 USD) |")
