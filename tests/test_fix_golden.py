"""Each fix against its golden files: ``--fix --unsafe-fixes`` writes exactly ``after/``,
``--diff`` shows exactly that change (``git apply`` of it gives the same files), a second run
has nothing left to fix, and the edits the SARIF and JSON reports carry for each finding
reproduce that finding's fix."""

from __future__ import annotations

import difflib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from fix_support import CASES, FIX_FIXTURES, copy_case, files_of, run_cli, still_reads
from test_report_sarif import validate

from tunelint.fix.text import Lines, TextEdit, apply_edits, decode


def expected_files(case: str, before: dict[str, bytes]) -> dict[str, bytes]:
    after = FIX_FIXTURES / case / "after"
    expected = dict(before)
    for path in sorted(after.rglob("*")):
        if path.is_file():
            expected[path.relative_to(after).as_posix()] = path.read_bytes()
    return expected


@pytest.mark.parametrize("case", CASES)
def test_fix_writes_the_golden_files(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = copy_case(case, tmp_path)
    before = files_of(project)
    run_cli(project, monkeypatch, capsys, "--fix", "--unsafe-fixes")
    fixed = files_of(project)
    expected = expected_files(case, before)
    assert sorted(fixed) == sorted(expected), "a file appeared or disappeared"
    for name in expected:
        assert fixed[name] == expected[name], f"{case}/{name} differs from its golden file"
        if fixed[name] != before[name]:
            still_reads(name, fixed[name])
    assert any(fixed[name] != before[name] for name in fixed), "the case fixes nothing"


@pytest.mark.parametrize("case", CASES)
def test_diff_shows_what_fix_writes_and_changes_nothing(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = copy_case(case, tmp_path / "diff")
    before = files_of(project)
    code, diff, err = run_cli(project, monkeypatch, capsys, "--diff", "--unsafe-fixes")
    assert code == 1 and diff.startswith("--- a/"), err
    assert files_of(project) == before, "--diff wrote to a file"
    assert "Would fix" in err
    expected = expected_files(case, before)
    changed = [name for name in sorted(expected) if expected[name] != before[name]]
    assert diff == "".join(_diff(name, before[name], expected[name]) for name in changed)
    if any(not _plain_utf8(before[name]) for name in changed):
        return  # git applies byte diffs: a BOM or UTF-16 is compared as text above only
    # the diff, applied by git, gives exactly what --fix writes
    (tmp_path / "fix.patch").write_bytes(diff.encode("utf-8"))
    applied = subprocess.run(
        ["git", "apply", "--whitespace=nowarn", str(tmp_path / "fix.patch")],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert applied.returncode == 0, applied.stderr
    assert files_of(project) == expected


def _plain_utf8(data: bytes) -> bool:
    return not data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"))


def _diff(name: str, before: bytes, after: bytes) -> str:
    """The unified diff of the decoded texts, as ``diff -u`` writes it."""
    lines = difflib.unified_diff(
        _text(before).splitlines(keepends=True),
        _text(after).splitlines(keepends=True),
        f"a/{name}",
        f"b/{name}",
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


@pytest.mark.parametrize("case", CASES)
def test_a_second_fix_finds_nothing_to_fix(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = copy_case(case, tmp_path)
    run_cli(project, monkeypatch, capsys, "--fix", "--unsafe-fixes")
    fixed = files_of(project)
    code, diff, err = run_cli(project, monkeypatch, capsys, "--diff", "--unsafe-fixes")
    assert (code, diff) == (0, ""), diff
    assert "No fixes to apply" in err
    _, out, _ = run_cli(project, monkeypatch, capsys, "--fix", "--unsafe-fixes")
    assert files_of(project) == fixed and "Fixed" not in out


def _sarif_apply(text: str, replacements: list[dict[str, object]]) -> str:
    lines = Lines(text)
    edits = []
    for replacement in replacements:
        region = replacement["deletedRegion"]
        assert isinstance(region, dict)
        start = lines.offset(region["startLine"], region["startColumn"] - 1)
        end = lines.offset(region["endLine"], region["endColumn"] - 1)
        assert start is not None and end is not None
        inserted = replacement["insertedContent"]
        assert isinstance(inserted, dict)
        edits.append(TextEdit(start, end, str(inserted["text"])))
    return apply_edits(text, edits)


def _json_apply(text: str, edits: list[dict[str, object]]) -> str:
    lines = Lines(text)
    found = []
    for edit in edits:
        assert edit["cell"] is None
        start = lines.offset(int(edit["line"]), int(edit["column"]) - 1)  # type: ignore[call-overload]
        last = lines.offset(int(edit["end_line"]), int(edit["end_column"]) - 1)  # type: ignore[call-overload]
        assert start is not None and last is not None
        found.append(TextEdit(start, last + 1, str(edit["replacement"])))
    return apply_edits(text, found)


@pytest.mark.parametrize("case", CASES)
def test_report_edits_reproduce_each_fix(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every fixable finding carries SARIF ``fixes`` and JSON ``fix.edits``, worked out on
    the file as it is: applied alone, each gives a file that still reads; where a file has
    one fix, it gives the golden file."""
    project = copy_case(case, tmp_path)
    before = files_of(project)
    expected = expected_files(case, before)
    _, sarif_text, _ = run_cli(project, monkeypatch, capsys, "--output-format", "sarif")
    log = json.loads(sarif_text)
    validate(log)
    _, json_text, _ = run_cli(project, monkeypatch, capsys, "--output-format", "json")
    findings = [f for f in json.loads(json_text)["findings"] if f["fix"] and f["fix"]["edits"]]
    by_file: dict[str, list[str]] = {}
    for result in log["runs"][0]["results"]:
        for fix in result.get("fixes", []):
            (change,) = fix["artifactChanges"]
            name = change["artifactLocation"]["uri"]
            assert fix["properties"]["applicability"] in {"safe", "unsafe"}
            by_file.setdefault(name, []).append(
                _sarif_apply(_text(before[name]), change["replacements"])
            )
    assert sum(len(v) for v in by_file.values()) == len(findings) > 0
    for finding in findings:
        applied = _json_apply(_text(before[finding["path"]]), finding["fix"]["edits"])
        assert applied in by_file[finding["path"]], "JSON and SARIF edits differ"
    for name, results in by_file.items():
        for applied in results:
            still_reads(name, applied.encode("utf-8"))
        if len(results) == 1 and name in expected:
            assert applied == _text(expected[name]), name


def _text(data: bytes) -> str:
    decoded = decode(data)
    assert decoded is not None
    return decoded[0]


def test_fix_alone_applies_only_the_safe_fixes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = copy_case("checkpointing", tmp_path)
    code, out, _ = run_cli(project, monkeypatch, capsys, "--fix")
    assert code == 0  # what remains is below the policy's fail_on
    train = (project / "train.py").read_text(encoding="utf-8")
    assert 'save_strategy="steps",  # disk is small' in train and "save_steps=400" in train
    assert "ThermalGuardCallback" not in train, "an unsafe fix applied without --unsafe-fixes"
    assert "Fixed 5 findings in 5 files." in out
    assert "[*]" not in out and "2 fixes available with --fix --unsafe-fixes" in out
    golden = FIX_FIXTURES / "checkpointing" / "after"
    for name in ("axolotl.yaml", "llamafactory.yaml", "args.json"):
        assert (project / name).read_bytes() == (golden / name).read_bytes()


def test_notebook_fix_leaves_outputs_and_metadata_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = copy_case("notebook", tmp_path)
    before = json.loads((project / "finetune.ipynb").read_text(encoding="utf-8"))
    run_cli(project, monkeypatch, capsys, "--fix", "--unsafe-fixes")
    after = json.loads((project / "finetune.ipynb").read_text(encoding="utf-8"))

    def without_sources(notebook: dict[str, object]) -> object:
        cells = notebook["cells"]
        assert isinstance(cells, list)
        return {**notebook, "cells": [{k: v for k, v in c.items() if k != "source"} for c in cells]}

    assert without_sources(after) == without_sources(before)
    sources = ["".join(cell["source"]) for cell in after["cells"]]
    assert sources[1].startswith("%pip install -q transformers\n")  # the magic is kept
    assert sources[1].endswith("\nfrom tunelint.guard.hf import ThermalGuardCallback")
    assert sources[3].startswith("%%time\n")
    assert after["cells"][0]["source"] == before["cells"][0]["source"]


def test_cases_have_golden_files() -> None:
    assert len(CASES) >= 9
    for case in CASES:
        assert (FIX_FIXTURES / case / "after").is_dir(), f"{case} has no after/ folder"
    shutil.which("git") or pytest.skip("git is needed to apply the diff")
