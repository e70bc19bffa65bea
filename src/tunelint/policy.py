"""The organisation's policy: found, validated against the shipped schema, merged.

A policy is data. It can name presets and other policy files to extend, and directories
of extra rule YAML; it can never name code to run.

Merge order (lowest first): the built-in ``recommended`` preset when no layer of the chain
names a preset; then each entry of ``extends`` in the order listed (a parent file brings its
own ``extends`` first); then the file itself. Mappings merge key by key; every other value,
lists included, is replaced whole by a later layer. ``Policy.origins`` records which layer
decided each effective value.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from tunelint.findings import Severity
from tunelint.hints import did_you_mean
from tunelint.policy_schema import NO_LINES, is_toml, line_of, validate

# part of this module's interface, defined with the schema
from tunelint.policy_schema import PolicyError as PolicyError
from tunelint.policy_schema import dotted_key as dotted_key
from tunelint.policy_schema import policy_schema as policy_schema
from tunelint.policy_schema import (
    schema_problems as schema_problems,  # part of this module's interface
)

if TYPE_CHECKING:
    from tunelint.rules.model import RuleMeta

POLICY_FILES = ("tunelint.yaml", ".tunelint.yaml", "tunelint.yml", ".tunelint.yml")
MAX_POLICY_BYTES = 1_000_000
PRESETS = ("recommended", "strict")
DEFAULT_PRESET = "recommended"
RULE_LISTS = ("custom", "select", "ignore")
_SEVERITIES = tuple(severity.label for severity in Severity)


@dataclass(frozen=True, slots=True)
class Layer:
    """One source of policy values, in merge order: a preset or a policy file."""

    origin: str  # "preset:strict" or the file's path
    data: dict[str, Any]
    path: Path | None = None


@dataclass(slots=True)
class Policy:
    """The effective policy. ``data`` keeps the merged tree for ``policy.a.b`` references.

    ``origins`` maps every effective value's dotted key (``rules.TL104.severity``) to the
    layer that set it: ``preset:<name>`` or a policy file's path. ``layers`` lists the
    layers in merge order.
    """

    data: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    root: Path = field(default_factory=Path.cwd)
    origins: dict[str, str] = field(default_factory=dict)
    layers: list[str] = field(default_factory=list)

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
        """Per-rule override as ``{enabled, severity, options}``, by id or name.

        Built-in rule names are turned into ids when the policy is loaded; an entry by name
        that remains (a custom rule's) applies first and the entry by id on top of it.
        """
        rules = self.data.get("rules", {}) or {}
        merged: dict[str, Any] = {}
        for key in (rule_name, rule_id):
            if key in rules:
                merged.update(normalise_rule_entry(rules[key]))
        return merged

    @property
    def custom_rule_paths(self) -> list[Path]:
        entries = (self.data.get("rules", {}) or {}).get("custom", []) or []
        base = self.path.parent if self.path else self.root
        return [(base / entry).resolve() for entry in entries]

    def rule_keys(self) -> list[str]:
        """The rule ids and names the ``rules:`` section configures."""
        rules = self.data.get("rules", {}) or {}
        return [key for key in rules if key not in RULE_LISTS]

    def unknown_rules(self, known: Iterable[tuple[str, str]]) -> list[str]:
        """Messages for ``rules:`` entries and selectors that name no rule (typos).

        ``known`` holds ``(id, name)`` pairs of every loaded rule, custom ones included.
        Selectors (``rules.select``, ``rules.ignore``, the codes of ``paths.per_file_ignores``)
        are read as ``--select`` reads them (``tunelint.rules.select``).
        """
        from tunelint.rules.select import unknown

        pairs = list(known)
        names = {rule_id for rule_id, _ in pairs} | {name for _, name in pairs}
        problems = []
        for key in self.rule_keys():
            if key not in names:
                problems.append(self._unknown(f"rules.{key}", key, names))
        for listed in ("select", "ignore"):
            codes = [str(code) for code in self.get(f"rules.{listed}", []) or []]
            problems.extend(unknown(codes, pairs, self._where(f"rules.{listed}")))
        for glob, codes in self.per_file_ignores.items():
            where = self._where(dotted_key(["paths", "per_file_ignores", glob]))
            problems.extend(unknown([str(code) for code in codes or []], pairs, where))
        return problems

    def _origin(self, key: str) -> str:
        """The layer (preset or file) that set ``key`` or anything under it."""
        origin = self.origins.get(key) or self.origins.get(key.rsplit(".", 1)[0], "")
        for dotted, where in self.origins.items():
            if dotted.startswith(key + "."):
                origin = where
                break
        return _shown_origin(origin)

    def _where(self, key: str) -> str:
        origin = self._origin(key)
        return f"{origin}: {key}" if origin else key

    def _unknown(self, key: str, code: str, names: set[str]) -> str:
        hint = did_you_mean(code, sorted(names))
        return f"{self._where(key)}: no rule named {code!r}{hint}; see `tunelint rules`"


# --- reading and validating one file ----------------------------------------------------


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
    if is_toml(path):
        try:
            tool = tomllib.loads(text).get("tool", {})
        except tomllib.TOMLDecodeError as error:
            raise PolicyError(f"{path}: invalid TOML: {error}") from None
        section = tool.get("tunelint") if isinstance(tool, dict) else None
        if section is None:
            raise PolicyError(f"{path}: no [tool.tunelint] table")
        if not isinstance(section, dict):
            raise PolicyError(f"{path}: [tool.tunelint] must be a table")
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
    duplicates = list(_duplicate_keys(node, ""))
    if duplicates:
        raise PolicyError("\n".join(f"{path}:{message}" for message in duplicates))
    return data, node


def _duplicate_keys(node: yaml.Node | None, prefix: str) -> Iterable[str]:
    """A key written twice in one mapping: YAML keeps the last silently, a policy must not."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            name = str(getattr(key, "value", ""))
            line = key.start_mark.line + 1
            dotted = f"{prefix}.{name}" if prefix else name
            if name in seen:
                yield f"{line}: {dotted}: duplicate key (first written on line {seen[name]})"
            else:
                seen[name] = line
            yield from _duplicate_keys(value, dotted)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicate_keys(item, f"{prefix}[{index}]")


# --- merging ------------------------------------------------------------------------------


def merge(base: dict[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge: mappings merge key by key, everything else (lists too) is replaced."""
    result = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def merge_layers(layers: Sequence[Layer]) -> tuple[dict[str, Any], dict[str, str]]:
    """The merged tree and, for every leaf, the layer that set it."""
    data: dict[str, Any] = {}
    origins: dict[tuple[str, ...], str] = {}
    for layer in layers:
        _merge_into(data, layer.data, (), layer.origin, origins)
    return data, {dotted_key(list(key)): origin for key, origin in sorted(origins.items())}


def _merge_into(
    target: dict[str, Any],
    overlay: Mapping[str, Any],
    prefix: tuple[str, ...],
    origin: str,
    origins: dict[tuple[str, ...], str],
) -> None:
    for key, value in overlay.items():
        here = (*prefix, str(key))
        if isinstance(value, Mapping) and value:
            if not isinstance(target.get(key), dict):
                _forget(origins, here)
                target[key] = {}
            _merge_into(target[key], value, here, origin, origins)
        else:
            _forget(origins, here)
            target[key] = copy.deepcopy(value)
            origins[here] = origin


def _forget(origins: dict[tuple[str, ...], str], prefix: tuple[str, ...]) -> None:
    for key in [k for k in origins if k[: len(prefix)] == prefix]:
        del origins[key]


def normalise_rule_entry(raw: Any) -> dict[str, Any]:
    """``off``/``on``/a severity/``false`` (YAML reads a bare ``off`` so) -> the mapping form."""
    if isinstance(raw, bool):
        return {"enabled": raw}
    if isinstance(raw, str):
        if raw == "off":
            return {"enabled": False}
        if raw == "on":
            return {"enabled": True}
        return {"severity": raw}
    return dict(raw) if isinstance(raw, Mapping) else {}


@cache
def _builtin_rule_names() -> dict[str, str]:
    from tunelint.rules.loader import builtin_rules

    return {rule.name: rule.id for rule in builtin_rules()}


def normalise_layer(data: Mapping[str, Any], base: Path | None) -> dict[str, Any]:
    """One layer in canonical form, so layers merge value by value.

    ``extends`` is dropped (it has been followed); rule entries become mappings and built-in
    rule names become ids; ``rules.custom`` directories become absolute, relative to the file
    that names them; ``hardware.detect`` read by YAML as a boolean becomes ``on``/``off``.
    """
    result = {key: copy.deepcopy(value) for key, value in data.items() if key != "extends"}
    rules = result.get("rules")
    if isinstance(rules, dict):
        names = _builtin_rule_names()
        normalised: dict[str, Any] = {}
        for key, value in rules.items():
            if key in RULE_LISTS:
                normalised[key] = value
                continue
            rule_key = names.get(str(key), str(key))
            entry = normalise_rule_entry(value)
            normalised[rule_key] = {**normalised.get(rule_key, {}), **entry}
        custom = normalised.get("custom")
        if base is not None and isinstance(custom, list):
            normalised["custom"] = [str((base / str(entry)).resolve()) for entry in custom]
        result["rules"] = normalised
    hardware = result.get("hardware")
    if isinstance(hardware, dict) and isinstance(hardware.get("detect"), bool):
        hardware["detect"] = "on" if hardware["detect"] else "off"
    return result


# --- loading ------------------------------------------------------------------------------


def preset_data(name: str) -> dict[str, Any]:
    resource = resources.files("tunelint").joinpath(f"presets/{name}.yaml")
    if name not in PRESETS or not resource.is_file():
        raise PolicyError(f"unknown preset {name!r}")
    loaded = yaml.safe_load(resource.read_text("utf-8")) or {}
    return dict(loaded)


def preset_layer(name: str) -> Layer:
    return Layer(f"preset:{name}", normalise_layer(preset_data(name), None))


def load_policy(explicit: Path | None, start: Path) -> Policy:
    """The effective policy: presets and ``extends`` first, then the file itself."""
    path = explicit if explicit is not None else find_policy(start)
    if path is None:
        layers = [preset_layer(DEFAULT_PRESET)]
        data, origins = merge_layers(layers)
        root = start.resolve() if start.is_dir() else Path.cwd()
        return Policy(data, None, root, origins, [layer.origin for layer in layers])
    if not path.is_file():
        raise PolicyError(f"{path}: policy file not found")
    layers = policy_layers(path)
    data, origins = merge_layers(layers)
    root = path.resolve().parent
    policy = Policy(data, path, root, origins, [layer.origin for layer in layers])
    check_rule_references(policy)
    return policy


def check_rule_references(policy: Policy) -> None:
    """Custom rules load, every rule the policy configures or selects exists, and the
    hardware it names is known: everything ``check`` would refuse, refused at load."""
    from tunelint.rules.loader import RuleError, load_rules

    try:
        rules = load_rules(policy.custom_rule_paths)
    except RuleError as error:
        origin = _shown_origin(policy.origins.get("rules.custom", ""))
        where = f"{origin}: rules.custom: " if origin else ""
        raise PolicyError(f"{where}{error}") from None
    problems = policy.unknown_rules((rule.id, rule.name) for rule in rules)
    problems += hardware_problems(policy)
    if problems:
        raise PolicyError("\n".join(problems))


def hardware_problems(policy: Policy) -> list[str]:
    """GPU names and memory sizes of ``hardware:``, read as the memory rule reads them."""
    gpus = policy.get("hardware.gpus", []) or []
    if not gpus and policy.get("hardware.vram") is None:
        return []
    from tunelint.memory.gpus import budget_problems

    sizes = [(policy.get("hardware.vram"), policy._where("hardware.vram"))]
    return budget_problems(sizes, [(name, policy._where("hardware.gpus")) for name in gpus])


def rules_for_policy(policy_path: Path | None, start: Path) -> list[RuleMeta]:
    """Built-in rules plus the custom rules of the policy in force at ``start``.

    Raises ``PolicyError`` for a bad policy or rule file (commands turn it into exit code 2).
    """
    from tunelint.rules.loader import RuleError, load_rules

    policy = load_policy(policy_path, start)
    try:
        return load_rules(policy.custom_rule_paths)
    except RuleError as error:
        raise PolicyError(str(error)) from None


def policy_layers(path: Path) -> list[Layer]:
    """Every layer of ``path``'s chain in merge order, ``recommended`` first if none is a preset."""
    layers = _file_layers(path.resolve(), seen=(), shown=path)
    if not any(layer.origin.startswith("preset:") for layer in layers):
        layers.insert(0, preset_layer(DEFAULT_PRESET))
    return layers


def _file_layers(path: Path, seen: tuple[Path, ...], shown: Path) -> list[Layer]:
    if path in seen:
        chain = " -> ".join(str(p) for p in (*seen, path))
        raise PolicyError(f"{path}: policy extends itself ({chain})")
    data, node = read_policy_file(path)
    validate(data, shown, node)
    layers: list[Layer] = []
    for index, parent in enumerate(data.get("extends", []) or []):
        line = line_of(node, ["extends", index])
        where = f"{shown}:{line}" if line else f"{shown} [tool.tunelint] {NO_LINES}"
        layers.extend(_parent_layers(str(parent), path, (*seen, path), where))
    layers.append(Layer(str(shown), normalise_layer(data, path.parent), path))
    return layers


def _is_path(name: str) -> bool:
    return "/" in name or "\\" in name or name.endswith((".yaml", ".yml", ".toml"))


def _parent_layers(name: str, child: Path, seen: tuple[Path, ...], where: str) -> list[Layer]:
    if not _is_path(name):
        if name not in PRESETS:
            hint = did_you_mean(name, PRESETS)
            raise PolicyError(
                f"{where}: extends: unknown preset {name!r}{hint}; presets: "
                f"{', '.join(PRESETS)}; a policy file is named by a path ending in .yaml"
            )
        return [preset_layer(name)]
    target = (child.parent / name).resolve()
    if not target.is_file():
        raise PolicyError(f"{where}: extends: policy file {name!r} not found ({target})")
    return _file_layers(target, seen, Path(_display(target)))


def _shown_origin(origin: str) -> str:
    return origin if origin.startswith("preset:") or not origin else _display(Path(origin))


def _display(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        return str(path)


def validate_file(path: Path) -> list[str]:
    """All problems of a policy file and its chain (empty when valid), for ``policy validate``."""
    try:
        load_policy(path, path.parent)
    except PolicyError as error:
        return str(error).splitlines()
    return []
