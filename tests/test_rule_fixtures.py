"""Every rule against its annotated fixtures: exact rule ids and lines, both directions.

``tests/fixtures/rules/<RULE_ID>/`` holds files named ``*_risky.*`` (each finding marked with
``# expect:``) and their clean twins ``*_clean.*`` (which must produce nothing), plus an
optional ``tunelint.yaml`` policy for that rule.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from expectations import collect

from tunelint.api import Options, lint
from tunelint.discover import SUFFIX_KINDS
from tunelint.rules.loader import load_rules

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
RULE_DIRS = sorted(p for p in FIXTURES.iterdir() if p.is_dir() and p.name[:2].isupper())


def _fixture_files(directory: Path) -> list[Path]:
    return sorted(
        p
        for p in directory.rglob("*")
        if p.is_file() and p.suffix.lower() in SUFFIX_KINDS and p.name != "tunelint.yaml"
    )


@pytest.mark.parametrize("directory", RULE_DIRS, ids=[p.name for p in RULE_DIRS])
def test_rule_fires_exactly_where_expected(directory: Path) -> None:
    rule_id = directory.name
    policy = directory / "tunelint.yaml"
    options = Options(
        policy_path=policy if policy.exists() else FIXTURES / "tunelint.yaml",
        select=[rule_id],
        cwd=directory,
        use_cache=False,
    )
    report = lint(["."], options)
    assert not [note for note in report.notes if note.code == "rule-error"], report.notes
    found = {
        (f.span.path, f.span.cell, f.span.line, f.rule_id)
        for f in report.active
        if f.rule_id == rule_id
    }
    files = [(p, p.relative_to(directory).as_posix()) for p in _fixture_files(directory)]
    expected, silent = collect(files)
    expected = {e for e in expected if e[3] == rule_id}
    silent = {s for s in silent if s[3] == rule_id}
    assert expected, f"{rule_id} fixtures expect no finding at all"
    assert sorted(found - expected, key=str) == [], "fired where not expected"
    assert sorted(expected - found, key=str) == [], "expected but did not fire"
    assert not (found & silent), "fired on a line marked ok"
    for path, _, _, _ in found:
        assert "_clean" not in path, f"clean twin {path} produced a finding"


def test_every_rule_has_fixtures_and_a_clean_twin() -> None:
    missing = []
    for rule in load_rules():
        if rule.retired:
            continue
        directory = FIXTURES / rule.id
        files = _fixture_files(directory) if directory.exists() else []
        names = [p.name for p in files]
        if rule.category == "meta":
            continue
        if not any("_risky" in n for n in names) or not any("_clean" in n for n in names):
            missing.append(rule.id)
    assert missing == []


def test_a_lazy_object_and_the_call_it_stands_for_are_reported_once() -> None:
    """``dict(type=AutoTokenizer.from_pretrained, trust_remote_code=True)`` is a ``dict``
    call and a ``from_pretrained`` call with the same arguments: one finding per place."""
    directory = FIXTURES / "TL401"
    options = Options(
        policy_path=FIXTURES / "tunelint.yaml", select=["TL401"], cwd=directory, use_cache=False
    )
    report = lint(["mmengine_risky.py"], options)
    assert sorted(f.span.line for f in report.active) == [10, 19]


def test_a_hub_id_set_on_a_config_object_is_related_where_it_is_set() -> None:
    """``train_config.model_name = "org/x"`` in one cell, loaded in the next: the finding is
    at the load, with the assignment (where a reviewer changes the id) related."""
    directory = FIXTURES / "TL402"
    options = Options(
        policy_path=FIXTURES / "tunelint.yaml", select=["TL402"], cwd=directory, use_cache=False
    )
    report = lint(["config_attribute_risky.ipynb"], options)
    (finding,) = report.active
    assert (finding.span.cell, finding.span.line) == (2, 1)
    assert (finding.related[0].span.cell, finding.related[0].span.line) == (1, 6)
