"""Loading rule YAML files: the built-in set shipped in the wheel, and a policy's own."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from tunelint.findings import Severity
from tunelint.rules.model import AutoFix, Example, RuleMeta

MAX_RULE_BYTES = 200_000
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class RuleError(ValueError):
    """A rule file that cannot be used: the run stops with exit code 2."""


def builtin_rules_dir() -> Path:
    """``tunelint/_rules`` inside an installed wheel, else ``rules/`` of a source checkout."""
    packaged = resources.files("tunelint").joinpath("_rules")
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[3] / "rules"


@cache
def rule_schema() -> dict[str, Any]:
    text = resources.files("tunelint").joinpath("schemas/rule.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def validate_rule_data(data: Any, origin: str) -> None:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(rule_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        best = min(errors, key=lambda e: len(list(e.absolute_path)))
        location = "/".join(str(p) for p in best.absolute_path) or "(top level)"
        raise RuleError(f"{origin}: {location}: {best.message}")


def parse_rule(data: Mapping[str, Any], origin: str) -> RuleMeta:
    examples = tuple(
        Example(bad=e["bad"], good=e["good"], language=e.get("language", "python"))
        for e in data.get("examples", [])
    )
    return RuleMeta(
        id=data["id"],
        name=data["name"],
        title=data["title"],
        severity=Severity.parse(data["severity"]),
        confidence=data["confidence"],
        category=data["category"],
        message=data["message"].strip(),
        why=data["why"].strip(),
        fix=data["fix"].strip(),
        description=str(data.get("description", "")).strip(),
        examples=examples,
        tags=tuple(data.get("tags", ())),
        cwe=tuple(data.get("cwe", ())),
        controls=tuple(data.get("controls", ())),
        references=tuple(data.get("references", ())),
        match=data.get("match"),
        check=data.get("check"),
        scope=data.get("scope", "file"),
        accelerators=tuple((data.get("applies_to") or {}).get("accelerators", ())),
        runtimes=tuple((data.get("applies_to") or {}).get("runtimes", ())),
        retired=bool(data.get("retired", False)),
        origin=origin,
        options=dict(data.get("options", {})),
        autofix=_autofix(data.get("autofix")),
    )


def _autofix(data: Any) -> AutoFix | None:
    if not isinstance(data, Mapping):
        return None
    return AutoFix(
        safety=str(data.get("safety", "none")),
        description=" ".join(str(data.get("description", "")).split()),
        note=" ".join(str(data.get("note", "")).split()),
    )


def load_rule_file(path: Path, *, validate: bool = True, origin: str | None = None) -> RuleMeta:
    shown = origin or str(path)
    try:
        if path.stat().st_size > MAX_RULE_BYTES:
            raise RuleError(f"{shown}: rule file larger than {MAX_RULE_BYTES} bytes")
        # libyaml's safe loader where it is built in (a tenth of the time of the pure-Python
        # one, paid on every run for the built-in rules); the same safe constructors either way
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except (OSError, UnicodeDecodeError) as error:
        raise RuleError(f"{shown}: cannot read rule file: {error}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise RuleError(f"{shown}{where}: invalid YAML in rule file") from None
    if not isinstance(data, dict):
        raise RuleError(f"{shown}: a rule file must hold one mapping")
    if validate:
        validate_rule_data(data, shown)
    return parse_rule(data, "builtin" if origin == "builtin" else shown)


def _rule_files(location: Path) -> list[Path]:
    if location.is_file():
        return [location]
    if not location.is_dir():
        raise RuleError(f"{location}: custom rule path does not exist")
    return sorted([*location.glob("*.yaml"), *location.glob("*.yml")])


@cache
def builtin_rules() -> tuple[RuleMeta, ...]:
    """Built-in rules; their schema is checked by the test suite, not on every start."""
    return tuple(
        load_rule_file(path, validate=False, origin="builtin")
        for path in sorted(builtin_rules_dir().glob("*.yaml"))
    )


def load_rules(custom: Iterable[Path] = ()) -> list[RuleMeta]:
    """Built-in rules plus custom ones; a custom id or name may not shadow a built-in."""
    rules = list(builtin_rules())
    taken = {rule.id: rule.origin for rule in rules} | {rule.name: rule.origin for rule in rules}
    for location in custom:
        for path in _rule_files(location):
            rule = load_rule_file(path)
            if rule.autofix is not None and rule.autofix.available:
                raise RuleError(
                    f"{path}: autofix: check --fix has fixers for built-in rules only; "
                    "write `autofix: {safety: none, note: ...}` to say what a person should do"
                )
            for key in (rule.id, rule.name):
                if key in taken:
                    raise RuleError(f"{path}: rule {key!r} is already defined by {taken[key]}")
                taken[key] = str(path)
            rules.append(rule)
    return sorted(rules, key=lambda rule: rule.id)


def lookup(rules: Sequence[RuleMeta], code: str) -> RuleMeta | None:
    """A rule by id (any case) or name."""
    wanted = code.strip()
    for rule in rules:
        if rule.id.lower() == wanted.lower() or rule.name == wanted.lower():
            return rule
    return None
