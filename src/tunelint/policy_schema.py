"""The policy's JSON Schema, and validation errors a person can act on: file, line, the
key, what was expected, and the closest valid name."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from tunelint.hints import did_you_mean

NO_LINES = "(TOML: line numbers are not available)"


class PolicyError(ValueError):
    """An invalid policy: the run stops with exit code 2, never runs half-configured."""


@cache
def policy_schema() -> dict[str, Any]:
    text = resources.files("tunelint").joinpath("schemas/policy.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def is_toml(path: Path) -> bool:
    return path.suffix.lower() == ".toml"


def validate(data: Mapping[str, Any], path: Path, node: yaml.Node | None) -> None:
    """Check against the schema; every error names file, line and what was expected."""
    problems = schema_problems(data, path, node)
    if problems:
        raise PolicyError("\n".join(problems))


def schema_problems(data: Mapping[str, Any], path: Path, node: yaml.Node | None) -> list[str]:
    from tunelint.subset_schema import plainly_valid

    if plainly_valid(data, policy_schema()):
        return []  # the common case, without importing jsonschema
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(policy_schema())
    errors = [leaf for error in validator.iter_errors(data) for leaf in _leaves(error)]
    errors.sort(key=lambda e: [str(p) for p in e.absolute_path])
    lines = []
    for error in errors:
        location = dotted_key(list(error.absolute_path)) or "(top level)"
        extras: list[str | None] = [*_extras(error)] or [None]
        for extra in extras:
            if node is None and is_toml(path):
                where = f"{path} [tool.tunelint] {NO_LINES}"
            else:
                keys = [*error.absolute_path, *([extra] if extra is not None else [])]
                line = line_of(node, keys)
                where = f"{path}:{line}" if line else str(path)
            lines.append(f"{where}: {location}: {_explain(error, extra)}")
    return list(dict.fromkeys(lines))


def _leaves(error: Any) -> list[Any]:
    """For ``oneOf``, the errors of the branch meant for the value's type, not the noise."""
    if error.validator != "oneOf" or not error.context:
        return [error]
    kind = _json_type(error.instance)
    branches: dict[int, list[Any]] = {}
    for sub in error.context:
        branches.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    chosen: int | None = None
    for index, schema in enumerate(error.validator_value):
        declared = schema.get("type")
        if declared == kind or (isinstance(declared, list) and kind in declared):
            chosen = index
            break
    if chosen is None:
        chosen = next(
            (i for i, schema in enumerate(error.validator_value) if "type" not in schema), None
        )
    subs = branches.get(chosen, []) if chosen is not None else []
    if not subs:
        return [error]
    return [leaf for sub in subs for leaf in _leaves(sub)]


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _extras(error: Any) -> list[str]:
    """The unknown keys an ``additionalProperties`` error is about, one message each."""
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        patterns = list(error.schema.get("patternProperties", {}))
        return _extra_keys(error.instance, allowed, patterns)
    return []


def _extra_keys(instance: Mapping[str, Any], allowed: set[str], patterns: list[str]) -> list[str]:
    import re

    return sorted(
        str(key)
        for key in instance
        if key not in allowed and not any(re.search(p, str(key)) for p in patterns)
    )


_TYPE_WORDS = {
    "array": "a list",
    "object": "a mapping",
    "string": "a string",
    "boolean": "true or false",
    "integer": "a whole number",
    "number": "a number",
    "null": "nothing",
}


def _explain(error: Any, extra: str | None = None) -> str:
    validator = error.validator
    if extra is not None:
        allowed = sorted(error.schema.get("properties", {}))
        hint = did_you_mean(extra, allowed)
        expected = ", ".join(allowed)
        if error.schema.get("patternProperties") and "custom" in allowed:
            expected += ", or a rule id or name"
        return f"unknown key {extra!r}{hint}; expected one of: {expected}"
    if validator == "enum":
        options = [_yaml_word(option) for option in error.validator_value]
        hint = did_you_mean(str(error.instance), options)
        return f"{error.instance!r} is not allowed{hint}; expected one of: {', '.join(options)}"
    if validator == "type":
        wanted = error.validator_value
        kinds = [str(t) for t in (wanted if isinstance(wanted, list) else [wanted])]
        words = [_TYPE_WORDS.get(kind, kind) for kind in kinds]
        return f"expected {' or '.join(words)}, got {error.instance!r}"
    if validator == "const":
        return f"expected {error.validator_value!r}, got {error.instance!r}"
    if validator == "pattern" and error.schema.get("description"):
        return f"{error.instance!r} is not valid: {error.schema['description']}"
    return str(error.message)


def _yaml_word(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def dotted_key(parts: Sequence[Any]) -> str:
    """``rules.TL104.severity``; a segment holding a dot or slash is quoted."""
    shown = []
    for part in parts:
        text = str(part)
        if isinstance(part, int):
            shown.append(f"[{part}]")
            continue
        if any(char in text for char in "./*[] ") or not text:
            text = json.dumps(text)
        shown.append(("." if shown else "") + text)
    return "".join(shown)


def line_of(node: yaml.Node | None, path: Sequence[Any]) -> int | None:
    current = node
    for index, part in enumerate(path):
        if isinstance(current, yaml.MappingNode):
            found = None
            for key, value in current.value:
                if getattr(key, "value", None) == str(part):
                    found = key if index == len(path) - 1 else value
                    break
            if found is None:
                break
            current = found
        elif isinstance(current, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(current.value):
                break
            current = current.value[part]
        else:
            break
    return current.start_mark.line + 1 if current is not None else None
