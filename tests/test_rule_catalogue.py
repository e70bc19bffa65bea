"""The rule catalogue: every YAML validates, ids are unique and stable, docs are current."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tunelint.docs import rule_markdown
from tunelint.rules.checks import get_check
from tunelint.rules.loader import (
    builtin_rules,
    builtin_rules_dir,
    load_rule_file,
    lookup,
    validate_rule_data,
)

ROOT = Path(__file__).resolve().parents[1]
RULE_FILES = sorted(builtin_rules_dir().glob("*.yaml"))


@pytest.mark.parametrize("path", RULE_FILES, ids=[p.stem for p in RULE_FILES])
def test_rule_file_validates_and_is_named_by_its_id(path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    validate_rule_data(data, str(path))
    assert path.stem == data["id"]


def test_ids_and_names_are_unique() -> None:
    rules = builtin_rules()
    assert len({r.id for r in rules}) == len(rules)
    assert len({r.name for r in rules}) == len(rules)


def test_python_checks_exist_for_check_rules() -> None:
    for rule in builtin_rules():
        if rule.check is not None:
            check = get_check(rule.check)
            assert check.parts and all(callable(part) for _, part in check.parts), rule.id


def test_lookup_by_id_or_name() -> None:
    rules = list(builtin_rules())
    assert lookup(rules, "tl201") is not None
    assert lookup(rules, "unencrypted-offload") is lookup(rules, "TL201")
    assert lookup(rules, "no-such-rule") is None


@pytest.mark.parametrize("path", RULE_FILES, ids=[p.stem for p in RULE_FILES])
def test_docs_page_is_generated_from_the_yaml(path: Path) -> None:
    rule = load_rule_file(path)
    page = ROOT / "docs" / "rules" / f"{rule.id}.md"
    assert page.exists(), f"run `python -m tunelint.docs` to generate {page}"
    assert page.read_text(encoding="utf-8") == rule_markdown(rule), (
        f"{page} is stale: run `python -m tunelint.docs`"
    )


def test_messages_only_name_known_placeholders() -> None:
    known = {"value", "text", "key", "arg", "callee", "call", "setting", "detail"}
    import string

    for rule in builtin_rules():
        fields = {name for _, name, _, _ in string.Formatter().parse(rule.message) if name}
        extra = fields - known
        assert not extra or rule.check is not None, (rule.id, extra)
