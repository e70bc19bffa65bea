"""The organisation's policy: found, validated against the shipped schema, merged.

A policy is data. It can name presets and other policy files to extend, and directories
of extra rule YAML; it can never name code to run.
"""

from __future__ import annotations

import copy
import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from tunelint.findings import Severity

POLICY_FILES = ("tunelint.yaml", ".tunelint.yaml", "tunelint.yml", ".tunelint.yml")
MAX_POLICY_BYTES = 1_000_000


class PolicyError(ValueError):
    """An invalid policy: the run stops with exit code 2, never runs half-configured."""


@dataclass(slots=True)
class Policy:
    """The effective policy. ``data`` keeps the merged tree for ``policy.a.b`` references."""

    data: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    root: Path = field(default_factory=Path.cwd)
    origins: dict[str, str] = field(default_factory=dict)

    def get(self, dotted: str, default: Any = None) -> Any:
        node: Any = self.data
        for part in dotted.removeprefix("policy.").split("."):
            if not isinstance(node, Mapping) or part not in node:
                return default
            node = node[part]
        return node

    @property
    def fail_on(self) -> Severity:
        return Severity.parse(str(self.data.get("fail_on", "medium")))

    @property
    def excludes(self) -> list[str]:
        return list(self.get("paths.exclude", []) or [])

    @property
    def per_file_ignores(self) -> dict[str, list[str]]:
        return dict(self.get("paths.per_file_ignores", {}) or {})

    @property
    def respect_gitignore(self) -> bool:
        return bool(self.get("paths.respect_gitignore", True))

    @property
    def require_reason(self) -> bool:
        return bool(self.get("suppressions.require_reason", False))

    def rule_setting(self, rule_id: str, rule_name: str) -> dict[str, Any]:
        """Per-rule override as ``{enabled, severity, options}``, by id or name."""
        rules = self.data.get("rules", {}) or {}
        raw = rules.get(rule_id, rules.get(rule_name))
        if raw is None:
            return {}
        if isinstance(raw, str):
            if raw == "off":
                return {"enabled": False}
            if raw == "on":
                return {"enabled": True}
            return {"severity": raw}
        return dict(raw)

    @property
    def custom_rule_paths(self) -> list[Path]:
        entries = (self.data.get("rules", {}) or {}).get("custom", []) or []
        base = self.path.parent if self.path else self.root
        return [(base / entry).resolve() for entry in entries]


@cache
def policy_schema() -> dict[str, Any]:
    text = resources.files("tunelint").joinpath("schemas/policy.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def find_policy(start: Path) -> Path | None:
    """The nearest policy walking up from ``start``: a tunelint.yaml or [tool.tunelint]."""
    current = start if start.is_dir() else start.parent
    current = current.resolve()
    for directory in [current, *current.parents]:
        for name in POLICY_FILES:
            if (directory / name).is_file():
                return directory / name
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and _has_tool_section(pyproject):
            return pyproject
    return None


def _has_tool_section(pyproject: Path) -> bool:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return isinstance(data.get("tool"), dict) and "tunelint" in data["tool"]


def read_policy_file(path: Path) -> tuple[dict[str, Any], yaml.Node | None]:
    """Raw mapping and (for YAML) the node tree that gives line numbers for errors."""
    try:
        if path.stat().st_size > MAX_POLICY_BYTES:
            raise PolicyError(f"{path}: policy file larger than {MAX_POLICY_BYTES} bytes")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyError(f"{path}: cannot read policy: {error}") from None
    if path.name == "pyproject.toml":
        try:
            section = tomllib.loads(text).get("tool", {}).get("tunelint", {})
        except tomllib.TOMLDecodeError as error:
            raise PolicyError(f"{path}: invalid TOML: {error}") from None
        return dict(section), None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise PolicyError(f"{path}{where}: invalid YAML: {problem}") from None
    if data is None:
        return {}, node
    if not isinstance(data, dict):
        raise PolicyError(
            f"{path}:1: a policy must be a mapping of keys, not {type(data).__name__}"
        )
    return data, node


def validate(data: Mapping[str, Any], path: Path, node: yaml.Node | None) -> None:
    """Check against the schema; every error names file, line and what was expected."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(policy_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.path])
    if not errors:
        return
    lines = []
    for error in errors:
        location = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        keys = list(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
            allowed = error.schema.get("properties", {})
            unknown = sorted(str(k) for k in error.instance if k not in allowed)
            keys = [*keys, unknown[0]] if unknown else keys
        line = _line_of(node, keys)
        where = f"{path}:{line}" if line else str(path)
        lines.append(f"{where}: {location}: {_explain(error)}")
    raise PolicyError("\n".join(lines))


def _explain(error: Any) -> str:
    if error.validator == "additionalProperties":
        import difflib

        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        hints = []
        for key in extra:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            hints.append(f"unknown key {key!r}{hint}")
        if hints:
            return "; ".join(hints) + f"; expected one of: {', '.join(allowed)}"
    return str(error.message)


def _line_of(node: yaml.Node | None, path: Sequence[Any]) -> int | None:
    current = node
    for part in path:
        if isinstance(current, yaml.MappingNode):
            found = None
            for key, value in current.value:
                if getattr(key, "value", None) == str(part):
                    found = value if part != path[-1] else key
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


def merge(base: dict[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge: mappings merge key by key, everything else (lists too) is replaced."""
    result = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def load_policy(explicit: Path | None, start: Path) -> Policy:
    """The effective policy: presets and ``extends`` first, then the file itself."""
    path = explicit if explicit is not None else find_policy(start)
    if path is None:
        return Policy(data={}, path=None, root=start.resolve() if start.is_dir() else Path.cwd())
    if not path.is_file():
        raise PolicyError(f"{path}: policy file not found")
    data = _load_with_extends(path.resolve(), seen=())
    return Policy(data=data, path=path, root=path.resolve().parent)


def _load_with_extends(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    if path in seen:
        chain = " -> ".join(str(p) for p in (*seen, path))
        raise PolicyError(f"{path}: policy extends itself ({chain})")
    data, node = read_policy_file(path)
    validate(data, path, node)
    merged: dict[str, Any] = {}
    for parent in data.get("extends", []) or []:
        merged = merge(merged, _load_parent(parent, path, (*seen, path)))
    own = {key: value for key, value in data.items() if key != "extends"}
    return merge(merged, own)


def _load_parent(name: str, child: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    preset = resources.files("tunelint").joinpath(f"presets/{name}.yaml")
    if "/" not in name and not name.endswith((".yaml", ".yml")):
        if not preset.is_file():
            raise PolicyError(f"{child}: unknown preset {name!r} in extends")
        loaded = yaml.safe_load(preset.read_text("utf-8")) or {}
        return dict(loaded)
    return _load_with_extends((child.parent / name).resolve(), seen)
