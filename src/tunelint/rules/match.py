"""The declarative matcher: a small vocabulary over calls, settings and assignments.

Leaves: ``call`` (qualified-name globs, with ``where`` conditions on arguments),
``setting`` (canonical names) and ``assignment`` (variable, env or key names), each with
value conditions. Combinators: ``any`` (union), ``all`` (every part matches in the same
file; hits come from the first part) and ``not`` (the part matches nowhere in the file).
Operands may be ``policy.<dotted.path>`` to read the organisation's policy. Unknown values
never satisfy a value condition: only ``missing`` speaks about absence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from tunelint.facts import Assignment, Call, FileFacts, Setting, Span, Value
from tunelint.findings import Fix, Related, Severity
from tunelint.globs import matches_any

VALUE_OPS = (
    "equals",
    "not_equals",
    "in",
    "not_in",
    "matches",
    "not_matches",
    "gt",
    "lt",
    "path_under",
    "path_not_under",
    "host_not_in",
    "contains",
)


@dataclass(slots=True)
class Hit:
    """Where a rule fired, with the values its message template names."""

    span: Span
    values: dict[str, object] = field(default_factory=dict)
    anchor: str = ""
    scope: str = ""
    related: tuple[Related, ...] = ()
    fix: Fix | None = None
    severity: Severity | None = None
    # Secrets the finding must not repeat: masked in its message, snippet and anchor.
    redact: tuple[str, ...] = ()
    properties: dict[str, object] = field(default_factory=dict)


PolicyLookup = Callable[[str], Any]


@lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def render(raw: object) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return repr(raw)


def path_under(path: str, patterns: Iterable[str]) -> bool:
    """Is ``path`` inside one of the glob patterns (``/mnt/secure/**``, ``/data``)?"""
    normalised = path.rstrip("/") or "/"
    for pattern in patterns:
        prefix = pattern.rstrip("/")
        for tail in ("/**", "/*"):
            if prefix.endswith(tail):
                prefix = prefix[: -len(tail)]
                break
        if normalised == prefix or normalised.startswith(prefix.rstrip("/") + "/"):
            return True
        if fnmatchcase(normalised, pattern):
            return True
    return False


def host_of(url: str) -> str | None:
    """The lower-cased host of a URL, or None when ``url`` is not one (a Windows drive
    letter ``C:`` is no scheme). The one home for the question: rules and checks use it."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if not parts.scheme or len(parts.scheme) == 1:
        return None
    return (parts.hostname or "").lower() or None


@dataclass(slots=True)
class Matcher:
    """Evaluates one rule's ``match`` tree against one file's facts."""

    policy: PolicyLookup
    training_files: frozenset[str] = frozenset()

    def operand(self, raw: Any) -> Any:
        if isinstance(raw, str) and raw.startswith("policy."):
            return self.policy(raw)
        return raw

    def operands(self, raw: Any) -> list[Any]:
        """A flat list; ``policy.`` references inside a list are expanded in place."""
        items = raw if isinstance(raw, list | tuple) else [raw]
        flat: list[Any] = []
        for item in items:
            value = self.operand(item)
            if value is None:
                continue
            flat.extend(value if isinstance(value, list | tuple) else [value])
        return flat

    # -- value conditions ---------------------------------------------------------------
    def value_ok(self, value: Value, conditions: Mapping[str, Any]) -> bool:
        ops = [op for op in VALUE_OPS if op in conditions]
        if not ops:
            return True
        if not value.known:
            return False
        return all(self._op(op, value, conditions[op]) for op in ops)

    def _op(self, op: str, value: Value, raw_operand: Any) -> bool:
        if op in {"equals", "not_equals"}:
            same = _equal(value, self.operand(raw_operand))
            return same if op == "equals" else not same
        if op in {"in", "not_in"}:
            inside = any(_equal(value, item) for item in self.operands(raw_operand))
            return inside if op == "in" else not inside
        if op == "contains":
            return _contains(value.raw, self.operands(raw_operand))
        text = value.as_str()
        if op in {"matches", "not_matches"}:
            if text is None:
                return False
            found = _regex(str(raw_operand)).search(text) is not None
            return found if op == "matches" else not found
        if op in {"gt", "lt"}:
            number = value.as_number()
            bound = _number(self.operand(raw_operand))
            if number is None or bound is None:
                return False
            return number > bound if op == "gt" else number < bound
        if text is None:
            return False
        if op == "path_under":
            return path_under(text, map(str, self.operands(raw_operand)))
        if op == "path_not_under":
            return not path_under(text, map(str, self.operands(raw_operand)))
        if op == "host_not_in":
            host = host_of(text)
            allowed = {str(item).lower() for item in self.operands(raw_operand)}
            return host is not None and host.lower() not in allowed
        return False

    # -- argument conditions -------------------------------------------------------------
    def where(self, call: Call, node: Mapping[str, Any]) -> tuple[bool, Value | None, str]:
        """Whether the call satisfies ``where``, and the argument that decided it."""
        if "all" in node:
            decided: tuple[Value | None, str] = (None, "")
            for part in node["all"]:
                ok, value, name = self.where(call, part)
                if not ok:
                    return False, None, ""
                if value is not None and decided[0] is None:
                    decided = (value, name)
            return True, decided[0], decided[1]
        if "any" in node:
            for part in node["any"]:
                ok, value, name = self.where(call, part)
                if ok:
                    return True, value, name
            return False, None, ""
        if "not" in node:
            ok, _, _ = self.where(call, node["not"])
            return not ok, None, ""
        selector = str(node["arg"])
        value, name = _argument(call, selector)
        if "missing" in node:
            if node["missing"]:  # absent for certain: no ``**kwargs`` that might carry it
                absent = value is None and not call.star_args
                return (True, None, name) if absent else (False, None, "")
            if value is None:  # present: a ``**kwargs`` splat of unknown content is not
                return False, None, ""
        if value is None:
            return False, None, ""
        return self.value_ok(value, node), value, name

    # -- leaves and combinators ------------------------------------------------------------
    def hits(self, facts: FileFacts, node: Mapping[str, Any]) -> list[Hit]:
        if "any" in node:
            return [hit for part in node["any"] for hit in self.hits(facts, part)]
        if "all" in node:
            parts = [self.hits(facts, part) for part in node["all"]]
            return parts[0] if all(parts) else []
        if "not" in node:
            return [] if self.hits(facts, node["not"]) else [Hit(Span(facts.path, 1))]
        when = node.get("when", {})
        if when.get("trains") and facts.path not in self.training_files:
            return []
        if "kinds" in when and facts.kind.value not in when["kinds"]:
            return []
        if "call" in node:
            return self._call_hits(facts, node)
        if "setting" in node:
            return self._setting_hits(facts, node)
        return self._assignment_hits(facts, node)

    def _call_hits(self, facts: FileFacts, node: Mapping[str, Any]) -> list[Hit]:
        patterns = tuple(_as_list(node["call"]))
        found: list[Hit] = []
        for call in facts.calls:
            if not matches_any(call.name, patterns):
                continue
            ok, value, name = self.where(call, node.get("where", {"all": []}))
            if not ok:
                continue
            span = value.span if value is not None else call.span
            values: dict[str, object] = {"callee": call.name, "call": call.text or call.name}
            if value is not None:
                values |= {"arg": name, "key": name, "value": render(value.raw), "text": value.text}
            anchor = f"{call.name}:{name}" if name else call.name
            related = written_at(facts, value) if value is not None else ()
            found.append(Hit(span, values, anchor, call.scope, related=related))
        return found

    def _setting_hits(self, facts: FileFacts, node: Mapping[str, Any]) -> list[Hit]:
        names = set(_as_list(node["setting"]))
        settings: list[Setting] = [s for s in facts.settings if s.name in names]
        if node.get("missing") is True:
            return [] if settings else [Hit(Span(facts.path, 1), {"setting": ",".join(names)})]
        found = []
        for setting in settings:
            if self.value_ok(setting.value, node):
                values: dict[str, object] = {
                    "setting": setting.name,
                    "key": setting.key,
                    "value": render(setting.value.raw),
                    "text": setting.value.text or render(setting.value.raw),
                }
                # a value written once and used elsewhere (``${output_dir}``, ``$MODEL``) is
                # reported where written; the use is a related location
                via = setting.value.via
                related = (Related(via, f"`{setting.key}` uses it here"),) if via else ()
                anchor = f"{setting.dialect}:{setting.key}"
                found.append(Hit(setting.span, values, anchor, related=related))
        return found

    def _assignment_hits(self, facts: FileFacts, node: Mapping[str, Any]) -> list[Hit]:
        patterns = _as_list(node["assignment"])
        kind = node.get("kind")
        found = []
        for assignment in facts.assignments:
            if kind is not None and assignment.kind != kind:
                continue
            if not matches_any(assignment.target, tuple(patterns)):
                continue
            if self.value_ok(assignment.value, node):
                found.append(_assignment_hit(assignment))
        return found


def _assignment_hit(assignment: Assignment) -> Hit:
    values: dict[str, object] = {"key": assignment.target, "value": render(assignment.value.raw)}
    return Hit(assignment.value.span, values, f"{assignment.kind}:{assignment.target}")


_NAMED = re.compile(r"\$?\{?([A-Za-z_]\w*)\}?")


def written_at(facts: FileFacts, value: Value) -> tuple[Related, ...]:
    """Where a value passed through a variable was written: ``MODEL_ID = "org/x"`` above
    ``from_pretrained(MODEL_ID)``, ``MODEL=org/x`` above ``--model_name_or_path $MODEL``;
    each place once."""
    if value.via is not None:  # written at its definition, used here
        return (Related(value.via, f"`{value.raw}` is passed here"),)
    named = _NAMED.fullmatch(value.text.strip().strip("'\""))
    if named is None or value.origin == "literal":
        return ()
    found = {
        assignment.value.span: f"`{assignment.target}` is set to `{value.raw}` here"
        for assignment in facts.assignments
        if assignment.target == named.group(1) and assignment.value.raw == value.raw
    }
    return tuple(Related(span, message) for span, message in found.items())


def _argument(call: Call, selector: str) -> tuple[Value | None, str]:
    """``name``, ``#0`` (first positional) or ``#0|name``."""
    position: int | None = None
    keyword: str | None = None
    for part in selector.split("|"):
        if part.startswith("#") and part[1:].isdigit():
            position = int(part[1:])
        else:
            keyword = part
    if keyword is not None:
        found = call.kwarg(keyword)
        if found is not None:
            return found, keyword
    if position is not None and position < len(call.args):
        return call.args[position], keyword or f"#{position}"
    return None, keyword or selector


def _contains(raw: object, wanted: list[Any]) -> bool:
    """A string holding a wanted substring; a list or dict holding a wanted key or item."""
    lowered = {str(item).lower() for item in wanted}
    if isinstance(raw, str):
        return any(item in raw.lower() for item in lowered)
    if isinstance(raw, dict):
        items = [*raw.keys(), *raw.values()]
    elif isinstance(raw, list | tuple):
        items = list(raw)
    else:
        return False
    return any(isinstance(item, str | int) and str(item).lower() in lowered for item in items)


def _as_list(raw: Any) -> list[str]:
    return [str(item) for item in raw] if isinstance(raw, list | tuple) else [str(raw)]


def _number(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return float(raw)
    try:
        return float(str(raw))
    except ValueError:
        return None


def _equal(value: Value, operand: Any) -> bool:
    if isinstance(operand, bool):
        return value.as_bool() is operand
    if isinstance(operand, int | float):
        return value.as_number() == float(operand)
    if operand is None:
        return value.raw is None
    if isinstance(value.raw, str):
        return value.raw.strip().lower() == str(operand).lower()
    return bool(value.raw == operand)
