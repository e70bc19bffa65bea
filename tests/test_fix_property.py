"""``--fix --unsafe-fixes`` over every fixture, the generated bench corpus and the risky
example: every fixed file still parses or loads (configs to the same data but for the fixed
settings), and a second run has nothing left to fix."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
import yaml
from fix_support import REPO, files_of, leaves, run_cli, still_reads

from tunelint.api import Options, lint
from tunelint.fix import plan_fixes

sys.path.insert(0, str(REPO / "bench"))
from gen_corpus import generate

FIXTURES = REPO / "tests" / "fixtures"
# Settings a fix may change in a config; any other difference is a broken fix.
FIXED_KEYS = frozenset(
    {"report_to", "enabled", "save_strategy", "save_steps", "save_interval", "device"}
    | {"offload_optimizer_device", "offload_param_device", "output_dir", "out_dir"}
    | {"offload_folder", "offload_dir", "nvme_path", "cache_dir"}
)


def _config_data(name: str, data: bytes) -> list[object] | None:
    from tunelint.fix.text import decode

    decoded = decode(data)
    assert decoded is not None
    text = decoded[0]
    try:
        if name.endswith(".json"):
            return [json.loads(text)]
        return list(yaml.safe_load_all(text))
    except (ValueError, yaml.YAMLError):
        return None  # custom tags: composing it (in still_reads) is what can be checked


def assert_fixed_well(before: dict[str, bytes], after: dict[str, bytes]) -> list[str]:
    """Every changed file still reads; configs load to the same data but for fixed keys."""
    assert sorted(before) == sorted(after)
    changed = [name for name in before if before[name] != after[name]]
    for name in changed:
        still_reads(name, after[name])
        if not name.endswith((".json", ".yaml", ".yml")):
            continue
        old, new = _config_data(name, before[name]), _config_data(name, after[name])
        if old is None:
            continue
        assert new is not None and len(old) == len(new), name
        for old_doc, new_doc in zip(old, new, strict=True):
            old_leaves, new_leaves = leaves(old_doc), leaves(new_doc)
            assert old_leaves.keys() - new_leaves.keys() <= _fixed(old_leaves), name
            differing = {
                path for path in old_leaves.keys() | new_leaves.keys()
                if old_leaves.get(path) != new_leaves.get(path)
            }  # fmt: skip
            assert differing <= _fixed(old_leaves) | _fixed(new_leaves), (name, differing)
    return changed


def _fixed(found: dict[tuple[object, ...], object]) -> set[tuple[object, ...]]:
    return {path for path in found if any(part in FIXED_KEYS for part in path[-2:])}


def fix_twice(
    root: Path, path: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> list[str]:
    before = files_of(root)
    code, _, err = run_cli(
        root, monkeypatch, capsys, "-q", "--fix", "--unsafe-fixes", paths=(path,)
    )
    assert code in (0, 1), err
    assert "internal error" not in err, err
    changed = assert_fixed_well(before, files_of(root))
    code, diff, err = run_cli(
        root, monkeypatch, capsys, "-q", "--diff", "--unsafe-fixes", paths=(path,)
    )
    assert (code, diff) == (0, ""), f"a second run still fixes:\n{diff}"
    return changed


@pytest.mark.parametrize("folder", sorted(p.name for p in FIXTURES.iterdir() if p.is_dir()))
def test_every_fixture_fixes_cleanly_and_once(
    folder: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, root)
    (root / ".git").mkdir()
    if folder == "fix":  # each case with the policy it is written for
        for case in sorted(p for p in (root / "fix").iterdir() if (p / "before").is_dir()):
            shutil.copy(root / "fix" / "tunelint.yaml", case / "before" / "tunelint.yaml")
            fix_twice(root, f"fix/{case.name}/before", monkeypatch, capsys)
        return
    changed = fix_twice(root, folder, monkeypatch, capsys)
    if folder in {"rules", "projects", "sources"}:
        assert changed, f"nothing in {folder} was fixed"


def test_the_bench_corpus_fixes_cleanly_and_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "corpus"
    generate(root, projects=10, seed=7)
    shutil.copy(FIXTURES / "rules" / "tunelint.yaml", root / "tunelint.yaml")
    (root / ".git").mkdir()
    changed = fix_twice(root, ".", monkeypatch, capsys)
    assert changed, "the corpus's risky projects give the fixes something to do"


def test_the_risky_example_loses_every_finding_that_has_a_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    examples = tmp_path / "examples"
    shutil.copytree(REPO / "examples", examples)
    (tmp_path / ".git").mkdir()
    options = Options(cwd=examples, use_cache=False)
    before = lint(["risky"], options)
    plan_fixes(before, unsafe=True)
    fixable = {(f.rule_id, f.span.path) for f in before.active if f.fix and f.fix.edits}
    assert {rule for rule, _ in fixable} >= {"TL102", "TL104", "TL201"}
    changed = fix_twice(examples, "risky", monkeypatch, capsys)
    assert changed == ["risky/train.py"]
    after = lint(["risky"], options)
    plan_fixes(after, unsafe=True)
    assert not [f for f in after.active if f.fix and f.fix.edits], "a fixable finding remains"
    remaining = {f.rule_id for f in after.active}
    assert not remaining & {"TL102", "TL104", "TL201"}
    assert len(after.active) == len(before.active) - len(fixable)
