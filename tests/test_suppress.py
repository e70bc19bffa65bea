"""Inline suppressions, fingerprints and the baseline, on findings built by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tunelint.facts import Span, Suppression
from tunelint.findings import Finding, Severity
from tunelint.fingerprints import FINGERPRINT_LENGTH, assign_fingerprints, fingerprint
from tunelint.suppress import (
    BaselineError,
    apply_baseline,
    apply_inline,
    write_baseline,
)

KNOWN = {
    "TL201": "TL201",
    "unencrypted-offload": "TL201",
    "TL401": "TL401",
    "trust-remote-code": "TL401",
}
RISKY = "torch.load(path)"


def finding(
    line: int,
    *,
    rule: str = "TL403",
    path: str = "src/train.py",
    anchor: str = RISKY,
    scope: str = "main",
    cell: int | None = None,
) -> Finding:
    return Finding(
        rule,
        "unsafe-deserialization" if rule == "TL403" else "rule",
        Severity.HIGH,
        "torch.load without weights_only=True",
        Span(path, line, 5, line, 20, cell=cell),
        anchor=anchor,
        scope=scope,
        snippet=f"    {anchor}",
    )


def fingerprinted(findings: list[Finding]) -> list[str]:
    findings.sort(key=Finding.sort_key)
    assign_fingerprints(findings)
    return [f.fingerprint for f in findings]


def suppression(
    codes: tuple[str, ...], first: int, last: int | None = None, reason: str = "reviewed"
) -> Suppression:
    return Suppression(
        codes, reason, Span("src/train.py", first, 10), first, last or first, cell=None
    )


# --------------------------------------------------------------------------- fingerprints


def test_fingerprint_is_hex_of_fixed_length_and_ignores_lines() -> None:
    one = fingerprint(finding(10), 0)
    assert len(one) == FINGERPRINT_LENGTH
    int(one, 16)
    assert fingerprint(finding(99), 0) == one


def test_fingerprint_changes_with_rule_path_anchor_scope_and_occurrence() -> None:
    base = fingerprint(finding(10), 0)
    assert fingerprint(finding(10, rule="TL401"), 0) != base
    assert fingerprint(finding(10, path="src/other.py"), 0) != base
    assert fingerprint(finding(10, anchor="pickle.load(f)"), 0) != base
    assert fingerprint(finding(10, scope="other"), 0) != base
    assert fingerprint(finding(10), 1) != base


def test_fingerprint_normalises_whitespace_path_and_trailing_ignore_comment() -> None:
    base = fingerprint(finding(10), 0)
    assert fingerprint(finding(10, anchor="torch.load(path)\n"), 0) == base
    assert fingerprint(finding(10, path="./src/train.py"), 0) == base
    assert fingerprint(finding(10, path="src\\train.py"), 0) == base

    def bare(snippet: str) -> Finding:
        f = finding(10, anchor="")
        f.snippet = snippet
        return f

    plain = fingerprint(bare("x = torch.load(path)"), 0)
    assert fingerprint(bare("x  =   torch.load(path)"), 0) == plain
    assert fingerprint(bare("x = torch.load(path)  # tunelint: ignore[TL403] -- ok"), 0) == plain


def test_inserting_lines_above_keeps_fingerprints() -> None:
    before = fingerprinted([finding(10), finding(20, anchor="pickle.load(f)")])
    after = fingerprinted([finding(14), finding(24, anchor="pickle.load(f)")])
    assert before == after


def test_moving_a_function_keeps_fingerprints() -> None:
    """The function holding the pickle call moves above the torch.load one."""
    before = [finding(10), finding(40, anchor="pickle.load(f)", scope="load_cache")]
    after = [finding(30), finding(5, anchor="pickle.load(f)", scope="load_cache")]
    fingerprinted(before)
    fingerprinted(after)
    by_anchor = {f.anchor: f.fingerprint for f in before}
    assert {f.anchor: f.fingerprint for f in after} == by_anchor


def test_duplicated_call_gets_a_new_occurrence_index() -> None:
    one, two = fingerprinted([finding(10), finding(12)])
    assert one != two
    assert one == fingerprint(finding(10), 0)
    assert two == fingerprint(finding(12), 1)


# --------------------------------------------------------------------------- inline


def test_inline_suppression_by_id_and_by_name_marks_findings() -> None:
    by_id = finding(4, rule="TL201")
    by_name = finding(9, rule="TL401")
    meta = apply_inline(
        [by_id, by_name],
        {"src/train.py": [suppression(("tl201",), 3, 5), suppression(("trust-remote-code",), 9)]},
        KNOWN,
        require_reason=False,
    )
    assert meta == []
    for f in (by_id, by_name):
        assert f.suppressed
        assert f.suppression_kind == "inSource"
        assert f.suppression_reason == "reviewed"


def test_suppression_outside_statement_or_other_rule_does_not_apply() -> None:
    outside = finding(7, rule="TL201")
    other_rule = finding(4, rule="TL401")
    meta = apply_inline(
        [outside, other_rule],
        {"src/train.py": [suppression(("TL201",), 3, 5)]},
        KNOWN,
        require_reason=False,
    )
    assert not outside.suppressed and not other_rule.suppressed
    assert [(m.rule_id, m.rule_name, m.severity) for m in meta] == [
        ("TL001", "unused-suppression", Severity.LOW)
    ]
    assert meta[0].message == "unused suppression for TL201: nothing to ignore on lines 3-5"
    assert meta[0].span.line == 3


def test_suppression_in_another_file_or_cell_does_not_apply() -> None:
    elsewhere = finding(4, rule="TL201", path="src/other.py")
    in_cell = finding(4, rule="TL201", path="nb.ipynb", cell=2)
    cell_one = Suppression(("TL201",), "", Span("nb.ipynb", 4, 1, cell=1), 4, 4, cell=1)
    cell_two = Suppression(("TL201",), "", Span("nb.ipynb", 4, 1, cell=2), 4, 4, cell=2)
    meta = apply_inline(
        [elsewhere, in_cell],
        {"src/train.py": [suppression(("TL201",), 4)], "nb.ipynb": [cell_one, cell_two]},
        KNOWN,
        require_reason=False,
    )
    assert not elsewhere.suppressed
    assert in_cell.suppressed and in_cell.suppression_reason is None
    assert sorted((m.rule_id, m.span.path, m.span.cell) for m in meta) == [
        ("TL001", "nb.ipynb", 1),
        ("TL001", "src/train.py", None),
    ]


def test_unknown_codes_and_empty_lists_are_reported() -> None:
    target = finding(4, rule="TL201")
    meta = apply_inline(
        [target],
        {"src/train.py": [suppression(("TL201", "TL999"), 4), suppression((), 8)]},
        KNOWN,
        require_reason=False,
    )
    assert target.suppressed
    assert [(m.rule_id, m.rule_name) for m in meta] == [
        ("TL002", "unknown-rule-in-suppression"),
        ("TL002", "unknown-rule-in-suppression"),
    ]
    assert "'TL999'" in meta[0].message
    assert "names no rule" in meta[1].message


def test_an_unknown_code_names_the_rule_meant() -> None:
    """A typo in a suppression stays a TL002 finding (not a usage error), with a hint."""
    meta = apply_inline(
        [],
        {"src/train.py": [suppression(("TL2O1", "trust-remote-cod"), 4)]},
        KNOWN,
        require_reason=False,
    )
    fixes = [m.fix.description for m in meta if m.fix is not None]
    assert [m.rule_id for m in meta] == ["TL002", "TL002"]
    assert fixes[0].startswith("did you mean 'TL201'?")
    assert fixes[1].startswith("did you mean 'trust-remote-code'?")


def test_partially_used_suppression_reports_only_the_unused_code() -> None:
    target = finding(4, rule="TL201")
    meta = apply_inline(
        [target],
        {"src/train.py": [suppression(("TL201", "trust-remote-code"), 4)]},
        KNOWN,
        require_reason=False,
    )
    assert target.suppressed
    assert [m.message for m in meta] == [
        "unused suppression for TL401 (trust-remote-code): nothing to ignore on line 4"
    ]


def test_rules_that_did_not_run_are_not_reported_as_unused() -> None:
    meta = apply_inline(
        [],
        {"src/train.py": [suppression(("TL401",), 4)]},
        KNOWN,
        require_reason=False,
        enabled={"TL201"},
    )
    assert meta == []


def test_require_reason_reports_suppressions_without_one() -> None:
    target = finding(4, rule="TL201")
    suppressions = {"src/train.py": [suppression(("TL201",), 4, reason="")]}
    assert apply_inline([target], suppressions, KNOWN, require_reason=False) == []
    meta = apply_inline([finding(4, rule="TL201")], suppressions, KNOWN, require_reason=True)
    assert [(m.rule_id, m.rule_name) for m in meta] == [("TL003", "suppression-without-reason")]


# --------------------------------------------------------------------------- baseline


def test_write_baseline_shape(tmp_path: Path) -> None:
    findings = [finding(10), finding(12), finding(3, path="a.py"), finding(5, rule="TL201")]
    findings[3].suppressed, findings[3].suppression_kind = True, "inSource"
    fingerprinted(findings)
    target = tmp_path / "baseline.json"
    write_baseline(target, findings)
    text = target.read_text(encoding="utf-8")
    data = json.loads(text)
    assert text.endswith("\n")
    assert data["version"] == 1 and data["tool"] == "tunelint"
    assert list(data["files"]) == ["a.py", "src/train.py"]
    assert all(count == 1 for counts in data["files"].values() for count in counts.values())
    assert sum(len(counts) for counts in data["files"].values()) == 3  # inline one left out
    assert list(data["files"]["src/train.py"]) == sorted(data["files"]["src/train.py"])


def _baseline(tmp_path: Path, findings: list[Finding]) -> Path:
    fingerprinted(findings)
    target = tmp_path / "baseline.json"
    write_baseline(target, findings)
    return target


def test_baseline_survives_lines_inserted_above(tmp_path: Path) -> None:
    target = _baseline(tmp_path, [finding(10), finding(20, anchor="pickle.load(f)")])
    moved = [finding(13), finding(23, anchor="pickle.load(f)")]
    fingerprinted(moved)
    assert apply_baseline(moved, target) == 2
    assert all(f.suppressed and f.suppression_kind == "external" for f in moved)
    assert all(f.suppression_reason == "baseline" for f in moved)


def test_baseline_survives_a_moved_function(tmp_path: Path) -> None:
    target = _baseline(
        tmp_path, [finding(10), finding(40, anchor="pickle.load(f)", scope="load_cache")]
    )
    moved = [finding(30), finding(5, anchor="pickle.load(f)", scope="load_cache")]
    fingerprinted(moved)
    assert apply_baseline(moved, target) == 2


def test_duplicated_risky_call_still_shows(tmp_path: Path) -> None:
    target = _baseline(tmp_path, [finding(10)])
    duplicated = [finding(10), finding(11)]
    fingerprinted(duplicated)
    assert apply_baseline(duplicated, target) == 1
    assert [f.suppressed for f in duplicated] == [True, False]


def test_baseline_counts_are_a_multiset(tmp_path: Path) -> None:
    target = tmp_path / "baseline.json"
    one = finding(10)
    fingerprinted([one])
    data = {"version": 1, "tool": "tunelint", "files": {"src/train.py": {one.fingerprint: 2}}}
    target.write_text(json.dumps(data), encoding="utf-8")
    same = [finding(10), finding(30), finding(50)]
    for f in same:
        f.fingerprint = one.fingerprint  # three findings claiming the same fingerprint
    assert apply_baseline(same, target) == 2
    assert [f.suppressed for f in same] == [True, True, False]


def test_baseline_skips_inline_suppressed_and_assigns_missing_fingerprints(
    tmp_path: Path,
) -> None:
    target = _baseline(tmp_path, [finding(10)])
    inline = finding(10)
    inline.suppressed, inline.suppression_kind = True, "inSource"
    fresh = finding(10)
    assert apply_baseline([inline], target) == 0
    assert inline.suppression_kind == "inSource"
    assert apply_baseline([fresh], target) == 1  # fingerprint computed on the way


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (None, "not found"),
        ("{not json", "not valid JSON"),
        ("[]", "JSON object"),
        ('{"version": 1, "tool": "other", "files": {}}', "not a tunelint baseline"),
        ('{"version": 2, "tool": "tunelint", "files": {}}', "unsupported version"),
        ('{"version": 1, "tool": "tunelint", "files": []}', "'files' must be an object"),
        ('{"version": 1, "tool": "tunelint", "files": {"a.py": 3}}', "must be an object"),
        ('{"version": 1, "tool": "tunelint", "files": {"a.py": {"ab": 0}}}', "positive"),
        ('{"version": 1, "tool": "tunelint", "files": {"a.py": {"ab": true}}}', "positive"),
    ],
)
def test_invalid_baseline_raises_baseline_error(
    tmp_path: Path, content: str | None, needle: str
) -> None:
    target = tmp_path / "baseline.json"
    if content is not None:
        target.write_text(content, encoding="utf-8")
    with pytest.raises(BaselineError, match=needle) as raised:
        apply_baseline([finding(10)], target)
    assert isinstance(raised.value, ValueError)
    assert str(target) in str(raised.value)
