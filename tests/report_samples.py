"""A hand-built report that exercises every reporter feature, and the golden-file check.

Covers: a Python file, a YAML config, notebook cells (one in a file whose name has a space
and parentheses), a non-ASCII path, an inline-suppressed and a baselined finding, a fix
with an edit, related locations, a rule the run does not describe (a meta rule), three
diagnostics (a file not checked for an error, one for a limit, and one read in part), a
rule not evaluated and a skipped virtual environment. Regenerate golden files with
``TUNELINT_UPDATE_GOLDEN=1 pytest``.
"""

from __future__ import annotations

import os
from pathlib import Path

from tunelint.discover import SkippedDirectory
from tunelint.facts import Diagnostic, Span
from tunelint.findings import Edit, Finding, Fix, Note, Related, Report, Severity
from tunelint.fingerprints import assign_fingerprints
from tunelint.rules.model import Example, RuleMeta

GOLDEN = Path(__file__).parent / "golden"
ROOT = "/home/ci/project"
NOTEBOOK = "notebooks/my (copy) notebook.ipynb"


def rules() -> list[RuleMeta]:
    return [
        RuleMeta(
            id="TL201",
            name="unencrypted-offload",
            title="Offload directory not on an encrypted path",
            severity=Severity.HIGH,
            confidence="high",
            category="data-protection",
            message="{key} {value!r} is not under an encrypted path",
            why="Optimizer states and weights offloaded to disk hold training data "
            "derivatives; on an unencrypted volume they outlive the run.",
            fix="Point the offload directory at a path listed in data_protection.encrypted_paths.",
            examples=(
                Example(
                    bad='model = load(name, offload_folder="/tmp/offload")',
                    good='model = load(name, offload_folder="/mnt/secure/offload")',
                ),
            ),
            tags=("offload", "storage", "data-protection"),
            cwe=(311,),
            controls=("ISO/IEC 27001:2022 A.8.24",),
            references=("https://www.deepspeed.ai/docs/config-json/",),
        ),
        RuleMeta(
            id="TL204",
            name="hardcoded-credential",
            title="Credential written in code or config",
            severity=Severity.CRITICAL,
            confidence="medium",
            category="secrets",
            message="{kind} token in {key}",
            why="Tokens in files end up in git history, notebooks outputs and logs.",
            fix="Read the token from the environment or a secret store.",
            cwe=(798,),
        ),
        RuleMeta(
            id="TL402",
            name="unpinned-hub-revision",
            title="Hub model without a pinned revision",
            severity=Severity.MEDIUM,
            confidence="medium",
            category="supply-chain",
            message="{repo} is loaded without a pinned revision",
            why="A moving branch can change the weights or code under the same name.",
            fix="Pass revision= with a commit hash.",
            examples=(
                Example(
                    bad="base_model: org/model\n", good="revision: 0123abcd\n", language="yaml"
                ),
            ),
            # More tags than GitHub keeps, to check the cap.
            tags=tuple(f"tag-{n:02d}" for n in range(25)),
            cwe=(494, 829),
        ),
        RuleMeta(
            id="TL401",
            name="trust-remote-code",
            title="Remote code trusted at load time",
            severity=Severity.HIGH,
            confidence="high",
            category="supply-chain",
            message="trust_remote_code=True runs code from the hub",
            why="The repository's Python runs with your credentials.",
            fix="Drop trust_remote_code or pin a reviewed revision.",
            cwe=(94,),
        ),
        RuleMeta(
            id="TL105",
            name="no-checkpointing",
            title="Long run without checkpoints",
            severity=Severity.LOW,
            confidence="low",
            category="reliability",
            message="save_strategy is {value!r}",
            why="A crash loses the whole run.",
            fix="Save every few hundred steps.",
        ),
        RuleMeta(
            id="TL302",
            name="storage-region-not-allowed",
            title="Storage outside approved regions",
            severity=Severity.INFO,
            confidence="high",
            category="residency",
            message="bucket in {region}",
            why="Data residency commitments name regions.",
            fix="Use a bucket in an approved region.",
        ),
    ]


TRAIN_14 = '    model = AutoModelForCausalLM.from_pretrained(name, offload_folder="/tmp/offload")'


def findings() -> list[Finding]:
    offload = Span("src/train.py", 14, 71, 14, 84)
    return [
        Finding(
            "TL201",
            "unencrypted-offload",
            Severity.HIGH,
            "offload_folder '/tmp/offload' is not under an encrypted path",
            offload,
            anchor='offload_folder="/tmp/offload"',
            scope="main",
            snippet=TRAIN_14,
            related=(
                Related(
                    Span("configs/ds_config.json", 9, 7, 9, 22), "offload_param.device is set here"
                ),
            ),
            fix=Fix(
                "move the offload directory under /mnt/secure",
                (Edit(Span("src/train.py", 14, 72, 14, 83), "/mnt/secure/offload"),),
            ),
        ),
        Finding(
            "TL402",
            "unpinned-hub-revision",
            Severity.MEDIUM,
            "meta-llama/Llama-2-7b-hf is loaded without a pinned revision",
            Span("src/train.py", 9, 11, 11, 5),
            scope="main",
            snippet="    tok = AutoTokenizer.from_pretrained(\n"
            '        "meta-llama/Llama-2-7b-hf",\n'
            "    )",
        ),
        Finding(
            "TL204",
            "hardcoded-credential",
            Severity.CRITICAL,
            "Hugging Face token in HF_TOKEN",
            Span("src/train.py", 20, 12, 20, 35),
            anchor="HF_TOKEN",
            scope="<module>",
            snippet='HF_TOKEN = "hf_example_not_a_token"  # tunelint: ignore[TL204] -- mock hub',
            suppressed=True,
            suppression_kind="inSource",
            suppression_reason="mock hub",
        ),
        Finding(
            "TL001",
            "unused-suppression",
            Severity.LOW,
            "unused suppression for TL402: nothing to ignore on line 30",
            Span("src/train.py", 30, 5, 30, 40),
            anchor="ignore:TL402",
            snippet="    x = 1  # tunelint: ignore[TL402] -- old",
        ),
        Finding(
            "TL105",
            "no-checkpointing",
            Severity.LOW,
            "save_strategy is 'no' on a run of 20000 steps",
            Span("configs/train.yaml", 3, 16, 3, 19),
            anchor="save_strategy",
            snippet='save_strategy: "no"',
        ),
        Finding(
            "TL402",
            "unpinned-hub-revision",
            Severity.MEDIUM,
            "org/base is loaded without a pinned revision",
            Span("configs/train.yaml", 7, 13, 7, 20),
            anchor="base_model",
            snippet="base_model: org/base",
            suppressed=True,
            suppression_kind="external",
            suppression_reason="baseline",
        ),
        Finding(
            "TL302",
            "storage-region-not-allowed",
            Severity.INFO,
            "bucket s3://données-paris is in eu-west-3",
            Span("configs/région.yaml", 2, 13, 2, 34),
            anchor="output_dir",
            snippet="output_dir: s3://données-paris/run",
        ),
        Finding(
            "TL401",
            "trust-remote-code",
            Severity.HIGH,
            "trust_remote_code=True runs code from the hub",
            Span("notebooks/explore.ipynb", 2, 41, 2, 62, cell=3, file_line=41),
            anchor="trust_remote_code=True",
            snippet="model = AutoModel.from_pretrained(name, trust_remote_code=True)",
        ),
        Finding(
            "TL204",
            "hardcoded-credential",
            Severity.CRITICAL,
            "Weights & Biases key in WANDB_API_KEY",
            Span(NOTEBOOK, 1, 31, 1, 49, cell=2, file_line=30),
            anchor="WANDB_API_KEY",
            snippet='os.environ["WANDB_API_KEY"] = "example-key-00000"',
            related=(Related(Span(NOTEBOOK, 4, 1, 4, 12, cell=5, file_line=61), "used here"),),
        ),
    ]


def diagnostics() -> list[Diagnostic]:
    return [
        Diagnostic("src/broken.py", "parse-error", "invalid syntax: unexpected indent", 3),
        Diagnostic("data/blob.bin", "binary", "binary file, not read"),
        Diagnostic("configs/train.yaml", "limit", "stopped reading: more than 10 aliases", 40),
    ]


def notes() -> list[Note]:
    return [
        Note("TL101", "model-exceeds-vram", "not-evaluated", "no GPU budget: pass --gpu"),
    ]


def sample_report() -> Report:
    found = findings()
    assign_fingerprints(found)
    report = Report(
        findings=found,
        diagnostics=diagnostics(),
        files_checked=[
            "configs/région.yaml",
            "configs/train.yaml",
            NOTEBOOK,
            "notebooks/explore.ipynb",
            "src/train.py",
            "src/utils.py",
        ],
        files_skipped=["third_party/vendored.py"],
        rules=list(rules()),
        fail_on=Severity.MEDIUM,
        root=ROOT,
        notes=notes(),
        skipped_directories=[SkippedDirectory("venv2", "virtual-environment")],
    )
    report.sort()
    return report


def assert_golden(name: str, actual: str) -> None:
    """Compare with ``tests/golden/<name>``; rewrite it when TUNELINT_UPDATE_GOLDEN=1."""
    path = GOLDEN / name
    if os.environ.get("TUNELINT_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual.encode("utf-8"))
        return
    assert path.exists(), f"missing golden file {path}; run with TUNELINT_UPDATE_GOLDEN=1"
    expected = path.read_bytes().decode("utf-8")
    assert actual == expected, (
        f"{name} differs from its golden file; if the change is intended, regenerate with "
        "TUNELINT_UPDATE_GOLDEN=1 and review the diff"
    )
