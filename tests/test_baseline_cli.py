"""The baseline from the command line: record today's findings, then see only new ones.

A baseline stores fingerprints (rule, file, normalised snippet, enclosing scope, occurrence)
with counts per file, never line numbers: moving code neither hides a new finding nor
brings an old one back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tunelint.cli import main

APP = """\
import mlflow
import torch


def load(path):
    return torch.load(path)


mlflow.log_artifact("data/train.jsonl")
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tunelint.yaml").write_text("version: 1\n")
    (tmp_path / "app.py").write_text(APP)
    return tmp_path


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["check", "app.py", "--format", "json", "--no-cache", *args])
    return code, json.loads(capsys.readouterr().out)


def active(report: dict[str, Any]) -> list[tuple[str, int]]:
    return [(f["rule_id"], f["line"]) for f in report["findings"] if not f["suppressed"]]


def write_baseline(project: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["check", "app.py", "--no-cache", "--write-baseline", "b.json"]) == 0
    assert "wrote 2 findings to baseline b.json" in capsys.readouterr().err
    return project / "b.json"


def test_write_baseline_records_every_finding(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, before = check(capsys)
    assert code == 1 and active(before) == [("TL403", 6), ("TL203", 9)]
    baseline = json.loads(write_baseline(project, capsys).read_text())
    assert baseline["tool"] == "tunelint" and baseline["version"] == 1
    assert baseline["files"] == {"app.py": {f["fingerprint"]: 1 for f in before["findings"]}}


def test_baseline_hides_old_findings(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_baseline(project, capsys)
    code, report = check(capsys, "--baseline", "b.json")
    assert code == 0
    assert active(report) == []
    assert [f["suppression_kind"] for f in report["findings"]] == ["external", "external"]
    assert report["summary"]["baselined"] == 2


def test_new_finding_in_the_same_file_still_shows(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_baseline(project, capsys)
    source = APP.replace(
        "    return torch.load(path)\n",
        "    return torch.load(path)\n\n\ndef restore(path):\n    return torch.load(path)\n",
    )
    (project / "app.py").write_text(source)
    code, report = check(capsys, "--baseline", "b.json")
    assert code == 1
    assert active(report) == [("TL403", 10)]  # same call text, new function: a new finding


def test_another_copy_of_a_known_call_still_shows(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The baseline is a multiset: one known copy does not cover two."""
    write_baseline(project, capsys)
    source = APP + 'mlflow.log_artifact("data/train.jsonl")\n'
    (project / "app.py").write_text(source)
    code, report = check(capsys, "--baseline", "b.json")
    assert code == 1
    assert active(report) == [("TL203", 10)]


def test_inserting_lines_above_does_not_resurrect(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_baseline(project, capsys)
    header = '"""Training helpers."""\n\n# Loaded by the trainer.\nimport os\n\nSEED = 1\n'
    (project / "app.py").write_text(header + APP)
    code, report = check(capsys, "--baseline", "b.json")
    assert code == 0, active(report)
    lines = sorted(f["line"] for f in report["findings"])
    assert lines == [12, 15]  # the findings moved down six lines, and stayed known


def test_moving_a_function_does_not_resurrect(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_baseline(project, capsys)
    moved = (
        "import mlflow\nimport torch\n\n"
        'mlflow.log_artifact("data/train.jsonl")\n\n\n'
        "def unrelated():\n    return 1\n\n\n"
        "def load(path):\n    return torch.load(path)\n"
    )
    (project / "app.py").write_text(moved)
    code, report = check(capsys, "--baseline", "b.json")
    assert code == 0, active(report)
    assert sorted((f["rule_id"], f["line"]) for f in report["findings"]) == [
        ("TL203", 4),
        ("TL403", 12),
    ]


def test_fixed_finding_leaves_the_rest_hidden(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_baseline(project, capsys)
    (project / "app.py").write_text(
        APP.replace("torch.load(path)", "torch.load(path, weights_only=True)")
    )
    code, report = check(capsys, "--baseline", "b.json")
    assert code == 0 and active(report) == []
    assert [f["rule_id"] for f in report["findings"]] == ["TL203"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON (line 1, column 2)"),
        ("[]", "expected a JSON object at the top level"),
        ('{"tool": "other", "version": 1, "files": {}}', "not a tunelint baseline"),
        ('{"tool": "tunelint", "version": 99, "files": {}}', "unsupported version 99"),
        ('{"tool": "tunelint", "version": 1, "files": {"app.py": {"ab": 0}}}', "positive integer"),
        (None, "baseline file not found"),
    ],
    ids=["syntax", "array", "tool", "version", "count", "missing"],
)
def test_invalid_baseline_is_a_configuration_error(
    project: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    if content is not None:
        (project / "b.json").write_text(content)
    code = main(["check", "app.py", "--no-cache", "--baseline", "b.json"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""  # no partial report
    assert "tunelint: configuration error:" in captured.err
    assert "b.json" in captured.err and message in captured.err
