"""The security review checklist: golden files over the examples, and what each section says.

Regenerate the golden files with ``TUNELINT_UPDATE_GOLDEN=1 pytest tests/test_checklist.py``
and review the diff. Rules added to the catalogue change the goldens; the explicit
assertions below pin what must not change whatever the catalogue holds.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from report_samples import assert_golden, sample_report

import tunelint
from tunelint.api import Options, lint
from tunelint.cli import main
from tunelint.facts import Setting, Span, Value
from tunelint.findings import Finding, Report, Severity
from tunelint.jobs import Job
from tunelint.report import render
from tunelint.report.checklist import render_checklist
from tunelint.rules.model import RuleMeta

REPO = Path(__file__).resolve().parents[1]
SECTIONS = [
    "## Jobs",
    "## Where data goes",
    "## Where data rests",
    "## What runs remote code",
    "## Rules",
    "## Suppressed",
]


@pytest.fixture(autouse=True)
def _pinned_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tunelint, "__version__", "0.0.0-test")


def example(path: str) -> Report:
    return lint([path], Options(cwd=REPO, use_cache=False, jobs=1))


def section(text: str, title: str) -> str:
    """The body of one ``## title`` section."""
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def row(text: str, title: str, needle: str) -> list[str]:
    """The cells of the only table row of a section that contains ``needle``."""
    rows = [line for line in section(text, title).splitlines() if needle in line]
    assert len(rows) == 1, f"{needle!r} in {len(rows)} rows of {title}"
    cells = re.split(r"(?<!\\)\|", rows[0])
    return [cell.strip() for cell in cells[1:-1]]


# --------------------------------------------------------------------------- goldens


@pytest.mark.parametrize("name", ["risky", "fixed"])
def test_golden_examples(name: str) -> None:
    assert_golden(f"checklist_{name}.md", render_checklist(example(f"examples/{name}")))


def test_golden_sample_report() -> None:
    """The hand-built report: suppressions of both kinds, notebooks, diagnostics."""
    assert_golden("checklist_sample.md", render_checklist(sample_report()))


def test_same_input_gives_the_same_bytes() -> None:
    first = render_checklist(example("examples/"))
    assert render_checklist(example("examples/")) == first
    report = sample_report()
    assert render_checklist(report) == render_checklist(report)


# --------------------------------------------------------------------------- examples


def test_risky_example() -> None:
    text = render_checklist(example("examples/risky"))
    assert text.startswith("# Security review checklist: `examples/risky`\n")
    assert "**Verdict: FAIL.**" in text
    assert [line for line in text.splitlines() if line.startswith("## ")][:6] == SECTIONS

    job = row(text, "Jobs", "examples/risky/launch.sh:5")
    assert job[1] == "`bigscience/bloom-30b`"
    assert job[2] == "full fine-tune"
    assert job[3] == "1, gradient accumulation 8"
    if "- [ ] **TL101**" in text:  # the estimator judges a 30B model on a 24 GiB card
        assert job[6].startswith("does not fit: ~") and " vs 24.0 GiB " in job[6]

    artifact = row(text, "Where data goes", "`examples/risky/track.py:10`")
    assert artifact[0] == "`https://mlflow.example.com`"  # the server track.py points at
    assert "`data/train.jsonl`" in artifact[2]
    assert "TL203 high" in artifact[5]
    server = row(text, "Where data goes", "`examples/risky/track.py:5`")
    assert server[0] == "`https://mlflow.example.com`"
    assert server[4] == "**not approved** host `mlflow.example.com`"

    offload = row(text, "Where data rests", "`./offload`")
    assert offload[2] == "`examples/risky/train.py:28`"
    assert offload[3].startswith("**no**")
    assert "TL201 high" in offload[4]

    rules = section(text, "Rules")
    assert "- [ ] **TL203** raw-data-artifact (high)" in rules
    assert "  - `examples/risky/track.py:10` `mlflow.log_artifact` uploads" in rules
    assert "GDPR Art. 44" in rules and "CWE-359" in rules
    assert "- [x] **TL401** trust-remote-code" in rules
    assert "Nothing suppressed." in section(text, "Suppressed")


def test_fixed_example() -> None:
    text = render_checklist(example("examples/fixed"))
    assert "**Verdict: PASS.** No active finding at or above `medium`." in text
    job = row(text, "Jobs", "examples/fixed/launch.sh:5")
    assert job[1] == "`bigscience/bloom-7b1`"
    assert job[2] == "QLoRA r=16 on a 4-bit base"
    server = row(text, "Where data goes", "`examples/fixed/track.py:8`")
    assert server[0] == "`https://mlflow.internal.example.eu`"
    assert server[4] == "approved host"
    assert "TL203" not in section(text, "Where data goes")
    assert "- [ ]" not in section(text, "Rules")
    assert "Nothing found: no `trust_remote_code`" in section(text, "What runs remote code")


def test_cli_format_checklist(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)
    assert main(["check", "examples/risky", "--format", "checklist", "--no-cache"]) == 1
    out = capsys.readouterr().out
    assert out == render(example("examples/risky"), "checklist")


# --------------------------------------------------------------------------- destinations

DESTINATIONS = """\
import os

import boto3
import mlflow
import wandb
from huggingface_hub import HfApi
from transformers import TrainingArguments

os.environ["MLFLOW_TRACKING_URI"] = "https://mlflow.us.example.com"
mlflow.set_tracking_uri("http://localhost:5000")
mlflow.set_tracking_uri("file:./mlruns")
mlflow.set_tracking_uri(os.environ["TRACKING"])
wandb.init(project="ft")
client = boto3.client("s3", region_name="us-east-1")
BUCKET = "s3://never-used/bucket"
args = TrainingArguments(
    output_dir="s3://team-ckpts/run1",
    report_to=["wandb", "tensorboard"],
    push_to_hub=True,
    hub_model_id="acme/secret-model",
)
HfApi().upload_folder(repo_id="acme/weights", folder_path="out")
"""


@pytest.fixture
def destinations(tmp_path: Path) -> str:
    (tmp_path / "tunelint.yaml").write_text(
        "version: 1\n"
        "residency:\n"
        "  allowed_hosts: [mlflow.eu.example.com]\n"
        "  allowed_services: [tensorboard]\n"
        "  allowed_regions: [eu-west-1]\n"
        "  allowed_buckets: [team-ckpts]\n"
    )
    (tmp_path / "send.py").write_text(DESTINATIONS)
    return render_checklist(lint(["send.py"], Options(cwd=tmp_path, use_cache=False, jobs=1)))


def test_every_destination_is_listed_with_its_line(destinations: str) -> None:
    env = row(destinations, "Where data goes", "`send.py:9`")
    assert env[0] == "`https://mlflow.us.example.com`"
    assert env[4] == "**not approved** host `mlflow.us.example.com`"
    unresolved = row(destinations, "Where data goes", "`send.py:12`")
    assert unresolved[0] == """unresolved: `os.environ["TRACKING"]`"""
    assert unresolved[4] == "not resolved statically: review by hand"
    wandb = row(destinations, "Where data goes", "`send.py:13`")
    assert wandb[0] == "`wandb`" and wandb[4] == "**not approved** service `wandb`"
    region = row(destinations, "Where data goes", "`send.py:14`")
    assert region[0] == "`us-east-1`" and region[4] == "**not approved** region `us-east-1`"
    bucket = row(destinations, "Where data goes", "`s3://team-ckpts/run1`")
    assert bucket[3] == "`send.py:17`" and bucket[4] == "approved bucket"
    assert "(via `output_dir`)" in bucket[2]  # the setting names it, not the call
    services = [
        line
        for line in section(destinations, "Where data goes").splitlines()
        if "(via `report_to`)" in line
    ]
    assert len(services) == 2  # one row per service of report_to=[...]
    assert "`send.py:18`" in services[0] and "`send.py:18`" in services[1]
    assert "| approved service |" in services[0] and "`tensorboard`" in services[0]
    assert "**not approved** service `wandb`" in services[1]
    hub = row(destinations, "Where data goes", "`acme/secret-model`")
    assert hub[3] == "`send.py:19`" and hub[1] == "hub upload"
    upload = row(destinations, "Where data goes", "`acme/weights`")
    assert upload[3] == "`send.py:22`"


def test_local_and_unused_places_are_not_destinations(destinations: str) -> None:
    goes = section(destinations, "Where data goes")
    assert "localhost" not in goes and "mlruns" not in goes
    assert "never-used" in goes  # a URI only bound to a name is still listed, once
    assert len([line for line in goes.splitlines() if "never-used" in line]) == 1


def test_remote_output_dir_rests_remotely(destinations: str) -> None:
    rests = row(destinations, "Where data rests", "`s3://team-ckpts/run1`")
    assert rests[3] == "remote: see Where data goes"


# --------------------------------------------------------------------------- unit cases


def meta(rule_id: str, name: str, **extra: object) -> RuleMeta:
    fields: dict[str, object] = {
        "id": rule_id,
        "name": name,
        "title": f"{name} title",
        "severity": Severity.HIGH,
        "confidence": "high",
        "category": "fit",
        "message": "m",
        "why": "w",
        "fix": "f",
        **extra,
    }
    return RuleMeta(**fields)  # type: ignore[arg-type]


def setting(name: str, raw: object, path: str = "job.py", line: int = 1) -> Setting:
    span = Span(path, line, 1)
    return Setting(name, Value(raw, span, text=repr(raw)), name, "trainer", span)


def job_report(*findings: Finding, rules: tuple[RuleMeta, ...] = ()) -> Report:
    job = Job(
        "job.py",
        ("job.py",),
        {
            "model": setting("model", "meta-llama/Llama-3.1-8B"),
            "adapter": setting("adapter", "lora"),
            "lora_r": setting("lora_r", 8),
            "load_in_8bit": setting("load_in_8bit", True),
            "seq_len": setting("seq_len", 4096),
            "num_gpus": setting("num_gpus", 2),
            "zero_stage": setting("zero_stage", 3),
            "output_dir": setting("output_dir", "/mnt/secure/out", line=7),
        },
    )
    return Report(
        findings=list(findings),
        diagnostics=[],
        files_checked=["job.py"],
        jobs=[job],
        rules=list(rules),
        paths=["job.py"],
        policy={"data_protection": {"encrypted_paths": ["/mnt/secure/**"]}},
    )


def memory_finding(**properties: object) -> Finding:
    return Finding(
        "TL101",
        "model-exceeds-vram",
        Severity.HIGH,
        "estimated peak 41.2 GiB per GPU exceeds the 24.0 GiB budget",
        Span("job.py", 1, 1),
        properties=dict(properties),
    )


def test_job_row_reads_every_setting() -> None:
    text = render_checklist(job_report())
    job = row(text, "Jobs", "`job.py`")
    assert job[1:6] == [
        "`meta-llama/Llama-3.1-8B`",
        "LoRA r=8 on a 8-bit base, ZeRO stage 3",
        "not set",
        "4096",
        "2",
    ]
    assert job[6] == "not estimated (TL101 is not enabled)"
    rests = row(text, "Where data rests", "`/mnt/secure/out`")
    assert rests[3] == "yes"


def test_memory_comes_from_tl101_when_it_ran() -> None:
    tl101 = meta("TL101", "model-exceeds-vram")
    quiet = render_checklist(job_report(rules=(tl101,)))
    assert (
        row(quiet, "Jobs", "`job.py`")[6]
        == "no TL101 finding: fits, or the model could not be sized"
    )
    from_message = render_checklist(job_report(memory_finding(), rules=(tl101,)))
    assert row(from_message, "Jobs", "`job.py`")[6] == (
        "estimated peak 41.2 GiB per GPU exceeds the 24.0 GiB budget (TL101 high)"
    )
    figures = memory_finding(
        estimate_bytes=44 << 30,
        optimistic_bytes=40 << 30,
        conservative_bytes=50 << 30,
        budget_bytes=24 << 30,
        budget="NVIDIA GeForce RTX 4090 (policy)",
        verdict="does not fit",
        job="job.py",
    )
    from_properties = render_checklist(job_report(figures, rules=(tl101,)))
    assert row(from_properties, "Jobs", "`job.py`")[6] == (
        "does not fit: ~44.0 GiB per GPU (40.0 GiB to 50.0 GiB) vs 24.0 GiB "
        "(NVIDIA GeForce RTX 4090 (policy)) (TL101 high)"
    )
    other_job = memory_finding(estimate_bytes=9 << 30, budget_bytes=8 << 30, job="other.sh:3")
    assert "9.0 GiB" not in render_checklist(job_report(other_job, rules=(tl101,)))


def test_suppressed_findings_say_why() -> None:
    text = section(render_checklist(sample_report()), "Suppressed")
    assert "- **TL204** `src/train.py:20` Hugging Face token in HF_TOKEN\n" in text
    assert "  - reason (inline): mock hub" in text
    assert "  - reason (baseline): recorded as a known finding in the baseline file" in text
    finding = memory_finding()
    finding.suppressed, finding.suppression_kind = True, "inSource"
    bare = render_checklist(Report(findings=[finding], diagnostics=[], files_checked=[]))
    assert "  - reason (inline): **none given**" in bare
    assert "- [x] **TL101**" not in bare  # a rule the run does not describe is not invented


def test_remote_code_and_diagnostics() -> None:
    text = render_checklist(sample_report())
    remote = section(text, "What runs remote code")
    assert "- **TL401** (high) `notebooks/explore.ipynb[cell 3]:2`" in remote
    assert "Not checked: TL403 not enabled by the policy." in remote
    assert "2 files could not be checked" in text
    assert "- `src/broken.py:3` (parse-error): invalid syntax" in section(text, "Not checked")


def test_markdown_stays_intact_with_pipes_backticks_and_newlines() -> None:
    finding = Finding(
        "TL205",
        "cleartext-endpoint",
        Severity.MEDIUM,
        "endpoint `http://a|b`\nsecond line",
        Span("we`ird|dir/x.py", 3, 1),
        snippet='url = "http://a|b"',
    )
    text = render_checklist(Report(findings=[finding], diagnostics=[], files_checked=["x"]))
    goes = section(text, "Where data goes")
    table_rows = [line for line in goes.splitlines() if line.startswith("|")]
    assert len(table_rows) == 3  # header, rule, one row: no line break leaked into the table
    cells = re.split(r"(?<!\\)\|", table_rows[2])[1:-1]
    assert len(cells) == 6
    assert "``we`ird\\|dir/x.py:3``" in table_rows[2]
    assert "endpoint `http://a\\|b` second line" in table_rows[2]
