"""What each policy key does to a run, end to end through the command line and ``lint``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tunelint.api import Options, lint
from tunelint.cli import main

TRUST = (
    "from transformers import AutoModelForCausalLM\n"
    'm = AutoModelForCausalLM.from_pretrained("org/model-x", trust_remote_code=True)\n'
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for relative in ("train.py", "notebooks/explore.py", "third_party/vendored.py"):
        target = tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(TRUST)
    return tmp_path


def check_json(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = main(["check", "--format", "json", "--no-cache", *args])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def active(report: dict[str, Any], rule: str = "TL401") -> list[str]:
    return sorted(
        f["path"] for f in report["findings"] if f["rule_id"] == rule and not f["suppressed"]
    )


def policy(root: Path, text: str) -> None:
    (root / "tunelint.yaml").write_text(text)


ALL = ["notebooks/explore.py", "third_party/vendored.py", "train.py"]


def test_without_policy_every_file_reports(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = check_json(".", capsys=capsys)
    assert active(report) == ALL
    assert code == 1


def test_exclude_skips_files_also_when_named(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy(project, 'paths:\n  exclude: ["third_party/**"]\n')
    _, report = check_json(".", capsys=capsys)
    assert active(report) == ["notebooks/explore.py", "train.py"]
    assert "third_party/vendored.py" not in report["files_checked"]
    code, report = check_json("third_party/vendored.py", "--allow-empty", capsys=capsys)
    assert report["findings"] == [] and code == 0


def test_per_file_ignores_by_id_name_and_directory(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy(
        project,
        "paths:\n  per_file_ignores:\n"
        '    "notebooks/": [TL401]\n'
        '    "third_party/*.py": [trust-remote-code]\n',
    )
    _, report = check_json(".", capsys=capsys)
    assert active(report) == ["train.py"]
    # other rules still report in the ignored files
    (project / "notebooks" / "explore.py").write_text(
        TRUST + 'import torch\nstate = torch.load("ckpt.pt", weights_only=False)\n'
    )
    _, report = check_json(".", capsys=capsys)
    assert active(report, "TL403") == ["notebooks/explore.py"]


def test_per_file_ignores_do_not_depend_on_where_tunelint_runs(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    policy(project, 'paths:\n  per_file_ignores:\n    "notebooks/": [TL401]\n')
    monkeypatch.chdir(project / "notebooks")
    _, report = check_json(".", capsys=capsys)
    assert active(report) == []
    _, report = check_json("..", capsys=capsys)
    assert active(report) == ["../third_party/vendored.py", "../train.py"]


def test_fail_on_from_the_policy_and_the_flag(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy(project, "fail_on: critical\n")
    code, _ = check_json("train.py", capsys=capsys)
    assert code == 0  # TL401 is high, below critical
    code, _ = check_json("train.py", "--fail-on", "high", capsys=capsys)
    assert code == 1
    policy(project, "extends: [strict]\n")  # strict: TL401 critical, fail_on low
    code, report = check_json("train.py", capsys=capsys)
    assert code == 1
    assert {f["severity"] for f in report["findings"] if f["rule_id"] == "TL401"} == {"critical"}


def test_require_reason_reports_bare_suppressions(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "train.py").write_text(
        "from transformers import AutoModelForCausalLM\n"
        'a = AutoModelForCausalLM.from_pretrained("org/x", trust_remote_code=True)  '
        "# tunelint: ignore[TL401]\n"
        'b = AutoModelForCausalLM.from_pretrained("org/x", trust_remote_code=True)  '
        "# tunelint: ignore[TL401] -- reviewed in SEC-12\n"
    )
    policy(project, "suppressions:\n  require_reason: false\n")
    _, report = check_json("train.py", "--ignore", "TL402", capsys=capsys)
    assert [f["rule_id"] for f in report["findings"] if not f["suppressed"]] == []
    policy(project, "suppressions:\n  require_reason: true\n")
    _, report = check_json("train.py", "--ignore", "TL402", capsys=capsys)
    unsuppressed = [(f["rule_id"], f["line"]) for f in report["findings"] if not f["suppressed"]]
    assert unsuppressed == [("TL003", 2)]


def test_rules_switches_and_selection_in_the_policy(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy(project, "rules:\n  trust-remote-code: off\n")
    code, report = check_json("train.py", capsys=capsys)
    assert active(report) == [] and code == 0
    policy(project, "rules:\n  TL401: low\n")
    code, report = check_json("train.py", capsys=capsys)
    assert {f["severity"] for f in report["findings"]} == {"low"} and code == 0
    policy(project, "rules:\n  ignore: [TL4]\n")
    _, report = check_json("train.py", capsys=capsys)
    assert report["findings"] == []
    policy(project, "rules:\n  select: [TL2]\n")
    _, report = check_json("train.py", capsys=capsys)
    assert report["findings"] == []


def test_an_invalid_policy_stops_the_run(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy(project, "rules:\n  TL401: sometimes\n")
    assert main(["check", "."]) == 2
    assert "tunelint.yaml:2: rules.TL401" in capsys.readouterr().err


# --------------------------------------------------------------------------- residency

TRACKING = (
    "import mlflow\n"
    "from transformers import TrainingArguments\n"
    'mlflow.set_tracking_uri("https://mlflow.vendor.example.com")\n'
    'args = TrainingArguments(output_dir="s3://acme-raw-us/run", report_to="wandb")\n'
)


def findings_of(root: Path) -> set[tuple[str, str, int]]:
    report = lint(["."], Options(cwd=root, use_cache=False))
    return {(f.rule_id, f.severity.label, f.span.line) for f in report.active}


def test_without_allow_lists_destinations_are_listed_at_info(tmp_path: Path) -> None:
    (tmp_path / "track.py").write_text(TRACKING)
    (tmp_path / "tunelint.yaml").write_text("version: 1\n")
    assert findings_of(tmp_path) == {
        ("TL301", "info", 3),
        ("TL301", "info", 4),
        ("TL302", "info", 4),
    }
    code = main(["check", str(tmp_path / "track.py"), "--no-cache"])
    assert code == 0  # info never fails a run with fail_on: medium


def test_with_allow_lists_unapproved_destinations_are_findings(tmp_path: Path) -> None:
    (tmp_path / "track.py").write_text(TRACKING)
    (tmp_path / "tunelint.yaml").write_text(
        "residency:\n  allowed_hosts: [mlflow.internal.example.eu]\n"
        "  allowed_services: [mlflow]\n  allowed_buckets: [acme-training-eu]\n"
    )
    assert findings_of(tmp_path) == {
        ("TL301", "medium", 3),
        ("TL301", "medium", 4),
        ("TL302", "medium", 4),
    }
    (tmp_path / "tunelint.yaml").write_text(
        "residency:\n  allowed_hosts: ['*.vendor.example.com']\n"
        "  allowed_services: [wandb]\n  allowed_buckets: ['acme-*']\n"
    )
    assert findings_of(tmp_path) == set()


def test_an_empty_allow_list_approves_nothing(tmp_path: Path) -> None:
    (tmp_path / "track.py").write_text(TRACKING)
    (tmp_path / "tunelint.yaml").write_text("residency:\n  allowed_services: []\n")
    assert ("TL301", "medium", 4) in findings_of(tmp_path)
    assert ("TL301", "info", 3) in findings_of(tmp_path)  # no host list: still info
