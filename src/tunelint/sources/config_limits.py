"""Bounds on reading one config file, and the reader of valid JSON the composer rejects.

Every bound has a policy key, so a diagnostic says which limit to raise. The fallback
reader takes values from ``json.loads`` and each key's position from a search for its
quoted name in document order (line 1 when not found); it is rare and documented as such.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from dataclasses import dataclass
from typing import Protocol

from tunelint.facts import Assignment, Span, Value


class _Walker(Protocol):
    """What the config walker offers the JSON fallback: spans, limits, where facts go."""

    limits: ConfigLimits
    nodes: int
    entries: list[tuple[str, Value, Span]]
    assignments: list[Assignment]

    def make_span(self, line: int, column: int, end_line: int = 0, end_column: int = 0) -> Span: ...

    def reference(self, key: str, value: Value) -> None: ...


@dataclass(frozen=True, slots=True)
class ConfigLimits:
    """Bounds per config file: bytes read, nesting depth, nodes walked (aliases included)."""

    max_bytes: int = 5_000_000
    max_depth: int = 100
    max_nodes: int = 100_000


# Each bound and the policy key that sets it, so a diagnostic says which limit to raise.
POLICY_KEYS = {
    "max_bytes": "limits.max_file_bytes",
    "max_depth": "limits.max_depth",
    "max_nodes": "limits.max_yaml_nodes",
}


class LimitReached(Exception):
    """A bound was reached; ``name`` is the bound (``max_nodes``...)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{message} ({name}: {POLICY_KEYS[name]} in the policy)")
        self.name = name


class JsonFallback:
    """Valid JSON the composer rejects: values from json.loads, keys found by search."""

    def __init__(self, walker: _Walker, text: str) -> None:
        self.walker = walker
        self.text = text
        self.cursor = 0
        self.newlines = [index for index, char in enumerate(text) if char == "\n"]

    def locate(self, name: str) -> Span:
        index = self.text.find(json.dumps(name), self.cursor)
        if index < 0:
            return self.walker.make_span(1, 1)
        self.cursor = index + 1
        line = bisect_right(self.newlines, index)
        column = index - (self.newlines[line - 1] + 1 if line else 0)
        return self.walker.make_span(line + 1, column + 1, line + 1, column + len(name) + 2)

    def walk(self, data: object, key: str, depth: int, span: Span | None = None) -> None:
        walker = self.walker
        walker.nodes += 1
        if walker.nodes > walker.limits.max_nodes:
            raise LimitReached("max_nodes", f"more than {walker.limits.max_nodes} nodes")
        if depth > walker.limits.max_depth:
            raise LimitReached("max_depth", f"nested deeper than {walker.limits.max_depth}")
        span = span or walker.make_span(1, 1)
        if isinstance(data, dict):
            for name, item in data.items():
                child = f"{key}.{name}" if key else str(name)
                item_span = self.locate(str(name))
                walker.entries.append((child, Value(item, item_span, "config"), item_span))
                self.walk(item, child, depth + 1, item_span)
        elif isinstance(data, list):
            for index, item in enumerate(data):
                self.walk(item, f"{key}[{index}]", depth + 1, span)
        elif key:
            value = Value(data, span, "config", json.dumps(data))
            walker.assignments.append(Assignment(key, value, "key", span))
            walker.reference(key, value)


__all__ = ["POLICY_KEYS", "ConfigLimits", "JsonFallback", "LimitReached"]
