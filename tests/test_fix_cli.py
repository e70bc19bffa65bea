"""How fixes show: ``[*]`` marks and the fixable count in the text report, the fix column of
``tunelint rules``, the rule pages and SARIF help, the docs; and that every rule with a fixer
says so in its YAML (and the other way round)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from fix_support import CASES, REPO, copy_case, run_cli

from tunelint.cli import main
from tunelint.fix.registry import fixable_rules
from tunelint.rules.loader import RuleError, builtin_rules, validate_rule_data


def test_text_report_marks_what_fix_would_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = copy_case("checkpointing", tmp_path)
    _, out, _ = run_cli(project, monkeypatch, capsys)
    heads = [line for line in out.splitlines() if re.match(r"  \S+:\d+:\d+  TL", line)]
    assert all(("[*]" in line) == ("TL105" in line) for line in heads), heads
    assert "[*] 5 fixes available with --fix (2 more with --unsafe-fixes)" in out
    assert "unsafe fix" in out  # the TL104 fix is described as unsafe
    _, out, _ = run_cli(project, monkeypatch, capsys, "--unsafe-fixes")
    assert "[*] 7 fixes available with --fix --unsafe-fixes" in out
    assert "TL104 no-thermal-guard [low] [*]" in out
    _, out, _ = run_cli(project, monkeypatch, capsys, "--output-format", "concise")
    assert "train.py:6:19: TL105 [medium] [*] " in out
    assert re.search(r"train\.py:8:\d+: TL104 \[low\] `", out)
    _, out, _ = run_cli(project, monkeypatch, capsys, "-q")
    assert "fixable" not in out


def test_only_unsafe_fixes_are_counted_as_such(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = copy_case("torch_load", tmp_path)
    _, out, _ = run_cli(project, monkeypatch, capsys)
    assert "3 fixes available with --fix --unsafe-fixes" in out and "[*]" not in out


def test_fix_says_what_it_fixed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = copy_case("report_to", tmp_path)
    code, out, _ = run_cli(project, monkeypatch, capsys, "--fix", "--unsafe-fixes")
    assert code == 0 and "Fixed 9 findings in 8 files." in out
    assert "TL301" not in out
    project = copy_case("offload_nvme", tmp_path / "json")
    code, out, err = run_cli(
        project, monkeypatch, capsys, "--fix", "--unsafe-fixes", "--output-format", "json"
    )
    assert json.loads(out)["summary"]["findings"] == 0
    assert "tunelint: Fixed 3 findings in 2 files." in err


def test_rules_lists_the_fix_of_each_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "--format", "json"]) == 0
    rows = {row["id"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["TL105"]["fix"] == "safe" and rows["TL403"]["fix"] == "unsafe"
    assert rows["TL402"]["fix"] == "none" and "commit hash" in rows["TL402"]["fix_note"]
    assert "weights_only=True" in rows["TL403"]["fix_description"]
    assert main(["rules"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert " fix " in lines["TL105"] and " unsafe-fix " in lines["TL403"]
    assert " - " in lines["TL401"]


def test_every_fixer_has_its_rule_say_so_and_back() -> None:
    declared = {r.id for r in builtin_rules() if r.autofix is not None and r.autofix.available}
    assert declared == set(fixable_rules())
    for rule in builtin_rules():
        if rule.autofix is not None and rule.autofix.safety == "unsafe":
            assert rule.autofix.note, rule.id


def test_rule_pages_and_sarif_help_say_what_the_fix_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    page = (REPO / "docs" / "rules" / "TL403.md").read_text(encoding="utf-8")
    assert "## Automatic fix" in page and "Why it is unsafe:" in page
    assert "None: " in (REPO / "docs" / "rules" / "TL401.md").read_text(encoding="utf-8")
    project = copy_case("torch_load", tmp_path)
    _, out, _ = run_cli(project, monkeypatch, capsys, "--output-format", "sarif")
    rules = {r["id"]: r for r in json.loads(out)["runs"][0]["tool"]["driver"]["rules"]}
    assert "## Automatic fix\n\nunsafe" in rules["TL403"]["help"]["markdown"]


def test_the_schema_keeps_autofix_consistent() -> None:
    base = yaml.safe_load((REPO / "rules" / "TL403.yaml").read_text(encoding="utf-8"))
    for bad in (
        {"safety": "none", "description": "does something", "note": "why not"},
        {"safety": "unsafe", "description": "does something"},
        {"safety": "safe"},
        {"safety": "maybe", "description": "does something"},
    ):
        with pytest.raises(RuleError):
            validate_rule_data({**base, "autofix": bad}, "TL403.yaml")
    validate_rule_data({**base, "autofix": {"safety": "none", "note": "a person decides"}}, "x")


def test_docs_list_every_fix_and_the_flags() -> None:
    fixes = (REPO / "docs" / "fixes.md").read_text(encoding="utf-8")
    why_unsafe = fixes.split("Why each unsafe fix is unsafe:")[1].split("##")[0]
    for rule in builtin_rules():
        if rule.autofix is None:
            continue
        if rule.autofix.available:
            row = next(line for line in fixes.splitlines() if line.startswith(f"| [{rule.id}]"))
            assert f"| {rule.autofix.safety} |" in row, rule.id
            if not rule.autofix.safe:
                assert f"**{rule.id}**" in why_unsafe, rule.id
        else:
            assert f"**{rule.id}** {rule.name}" in fixes, rule.id
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for flag in ("--fix", "--unsafe-fixes", "--diff"):
        assert f"| `{flag}` |" in readme, flag


def test_a_custom_rule_may_only_say_why_it_has_no_fix(tmp_path: Path) -> None:
    from tunelint.rules.loader import load_rules

    rule = (
        "id: ORG001\nname: no-os-system\ntitle: A custom rule for the tests\nseverity: medium\n"
        "confidence: high\ncategory: custom\nmessage: not here\n"
        "why: Because the organisation decided so.\nfix: Do something else.\n"
        'match: {call: "os.system"}\n'
    )
    path = tmp_path / "ORG001.yaml"
    path.write_text(rule + "autofix: {safety: none, note: ask the platform team}\n")
    (custom,) = [r for r in load_rules([path]) if r.id == "ORG001"]
    assert custom.autofix is not None and custom.autofix.note == "ask the platform team"
    path.write_text(rule + "autofix: {safety: safe, description: removes the call}\n")
    with pytest.raises(RuleError, match="fixers for built-in rules only"):
        load_rules([path])


def test_a_finding_without_an_automatic_fix_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = copy_case("shared_dirs", tmp_path)
    _, out, _ = run_cli(project, monkeypatch, capsys, "--output-format", "json")
    (pin, *_) = [f for f in json.loads(out)["findings"] if f["rule_id"] == "TL402"]
    assert pin["fix"]["description"].startswith("No automatic fix: a pin needs the commit hash")
    assert pin["fix"]["edits"] == [] and pin["fix"]["applicability"] is None
    _, out, _ = run_cli(project, monkeypatch, capsys)
    assert "fix: No automatic fix: a pin needs" in out


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("unsafe", [False, True])
def test_text_marks_the_findings_the_json_report_has_edits_for(
    case: str,
    unsafe: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The text report does not work edits out (it reads the finding's line); the JSON
    report does. Both must mark the same findings, on every fix case."""
    project = copy_case(case, tmp_path)
    extra = ("--unsafe-fixes",) if unsafe else ()
    _, out, _ = run_cli(project, monkeypatch, capsys, "--output-format", "json", *extra)
    with_edits = {
        (f["path"], f["cell"], f["line"], f["column"], f["rule_id"])
        for f in json.loads(out)["findings"]
        if f.get("fix")
        and f["fix"].get("edits")
        and (unsafe or f["fix"].get("applicability") != "unsafe")
    }
    _, out, _ = run_cli(project, monkeypatch, capsys, "--output-format", "concise", *extra)
    marked = set()
    for line in out.splitlines():
        found = re.match(r"(\S+?)(?:\[cell (\d+)\])?:(\d+):(\d+): (TL\d+) \[\w+\] \[\*\]", line)
        if found:
            cell = int(found[2]) if found[2] else None
            marked.add((found[1], cell, int(found[3]), int(found[4]), found[5]))
    assert marked == with_edits
