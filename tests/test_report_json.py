"""The JSON report: versioned shape, every documented field present, stable bytes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from report_samples import NOTEBOOK, ROOT, sample_report

import tunelint
from tunelint.findings import Report
from tunelint.report.json_report import JSON_VERSION, render_json

DOC = Path(__file__).resolve().parents[1] / "docs" / "json-format.md"
FINDING_KEYS = {
    "rule_id",
    "name",
    "severity",
    "path",
    "line",
    "column",
    "end_line",
    "end_column",
    "cell",
    "file_line",
    "message",
    "snippet",
    "scope",
    "suppressed",
    "suppression_kind",
    "suppression_reason",
    "fingerprint",
    "related",
    "fix",
    "properties",
}


def data(report: Report | None = None) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(render_json(report or sample_report()))
    return loaded


def test_top_level_shape() -> None:
    doc = data()
    assert set(doc) == {
        "version",
        "tool",
        "summary",
        "findings",
        "diagnostics",
        "notes",
        "files_checked",
        "files_partly_checked",
        "files_not_checked",
        "files_skipped",
        "skipped_directories",
    }
    assert doc["version"] == JSON_VERSION == 2
    assert doc["tool"] == {"name": "tunelint", "version": tunelint.__version__}
    assert doc["files_skipped"] == ["third_party/vendored.py"]
    assert NOTEBOOK in doc["files_checked"]
    assert doc["files_partly_checked"] == ["configs/train.yaml"]
    assert doc["files_not_checked"] == ["data/blob.bin", "src/broken.py"]
    assert doc["skipped_directories"] == [{"path": "venv2", "reason": "virtual-environment"}]
    assert doc["notes"] == [
        {
            "rule_id": "TL101",
            "name": "model-exceeds-vram",
            "code": "not-evaluated",
            "level": "warning",
            "message": "TL101 model-exceeds-vram not evaluated: no GPU budget: pass --gpu",
            "reason": "no GPU budget: pass --gpu",
        }
    ]
    counted = [
        path
        for key in ("files_checked", "files_partly_checked", "files_not_checked", "files_skipped")
        for path in doc[key]
    ]
    assert len(counted) == len(set(counted)) == 9  # each file once


def test_summary_counts() -> None:
    assert data()["summary"] == {
        "findings": 7,
        "by_severity": {"critical": 1, "high": 2, "medium": 1, "low": 2, "info": 1},
        "suppressed": 2,
        "baselined": 1,
        "failing": 4,
        "fail_on": "medium",
        "files_checked": 5,
        "files_partly_checked": 1,
        "files_with_findings": 5,
        "files_not_checked": 2,
        "files_skipped": 1,
        "errors": 1,
        "rules_not_evaluated": 1,
    }


def test_findings_carry_every_field_including_suppressed_ones() -> None:
    findings = data()["findings"]
    assert len(findings) == 9
    for finding in findings:
        assert set(finding) == FINDING_KEYS
        assert len(finding["fingerprint"]) == 32
    suppressed = {f["rule_id"]: f for f in findings if f["suppressed"]}
    assert suppressed["TL204"]["suppression_kind"] == "inSource"
    assert suppressed["TL204"]["suppression_reason"] == "mock hub"
    assert suppressed["TL402"]["suppression_reason"] == "baseline"
    active = [f for f in findings if not f["suppressed"]]
    assert all(f["suppression_kind"] is None for f in active)


def test_notebook_positions_fix_and_related() -> None:
    findings = data()["findings"]
    notebook = next(f for f in findings if f["path"] == "notebooks/explore.ipynb")
    assert (notebook["cell"], notebook["line"], notebook["file_line"]) == (3, 2, 41)
    offload = next(f for f in findings if f["rule_id"] == "TL201")
    assert offload["fix"] == {
        "applicability": "safe",
        "description": "move the offload directory under /mnt/secure",
        "edits": [
            {
                "path": "src/train.py",
                "line": 14,
                "column": 72,
                "end_line": 14,
                "end_column": 83,
                "cell": None,
                "file_line": None,
                "replacement": "/mnt/secure/offload",
            }
        ],
    }
    assert offload["related"][0]["message"] == "offload_param.device is set here"
    assert offload["related"][0]["path"] == "configs/ds_config.json"


def test_diagnostics() -> None:
    assert data()["diagnostics"] == [
        {
            "path": "configs/train.yaml",
            "code": "limit",
            "level": "warning",
            "message": "stopped reading: more than 10 aliases",
            "line": 40,
        },
        {
            "path": "data/blob.bin",
            "code": "binary",
            "level": "warning",
            "message": "binary file, not read",
            "line": None,
        },
        {
            "path": "src/broken.py",
            "code": "parse-error",
            "level": "error",
            "message": "invalid syntax: unexpected indent",
            "line": 3,
        },
    ]


def test_formatting_sorted_keys_two_space_indent_trailing_newline() -> None:
    text = render_json(sample_report())
    assert text.endswith("}\n")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_empty_report() -> None:
    doc = data(Report(findings=[], diagnostics=[], files_checked=[], root=ROOT))
    assert doc["findings"] == [] and doc["summary"]["findings"] == 0


def test_every_field_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+)`", text, flags=re.MULTILINE))
    doc = data()
    fields = set(doc) | set(doc["tool"]) | set(doc["summary"]) | FINDING_KEYS
    related = next(f["related"][0] for f in doc["findings"] if f["related"])
    fields |= set(doc["diagnostics"][0]) | set(related) | set(doc["notes"][0])
    fields |= set(doc["skipped_directories"][0])
    fields |= {"description", "edits", "replacement"}
    assert fields - documented == set()
