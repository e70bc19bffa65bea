"""Suppression comments in YAML: ``# tunelint: ignore[...]`` and what it covers.

A comment on a key's line, or alone above it, covers the key's whole node. A ``#`` inside a
quoted or block scalar is text, not a comment (the walker remembers where those are).
"""

from __future__ import annotations

from typing import Protocol

from tunelint.facts import Span, Suppression
from tunelint.sources.comments import parse_ignore


class _Walker(Protocol):
    """What the config walker knows that placing a comment needs."""

    lines: tuple[str, ...]
    ranges: dict[int, int]
    cell: int | None

    def make_span(self, line: int, column: int, end_line: int = 0, end_column: int = 0) -> Span: ...

    def is_protected(self, line: int, column: int) -> bool: ...


def suppressions(walker: _Walker) -> list[Suppression]:
    """``# tunelint: ignore[...]`` on a key's line, or alone above it: covers its whole node."""
    found: list[Suppression] = []
    lines = walker.lines
    for index, line in enumerate(lines):
        if "tunelint" not in line.lower():
            continue
        column = _comment_column(walker, index, line)
        if column is None:
            continue
        parsed = parse_ignore(line[column + 1 :])
        if parsed is None:
            continue
        target = index
        if not line[:column].strip():
            target = index + 1
            while target < len(lines) and _comment_only(walker, target):
                target += 1
        first = target + 1
        last = max(first, walker.ranges.get(first, first))
        span = walker.make_span(index + 1, column + 1, index + 1, len(line.rstrip()))
        found.append(Suppression(parsed[0], parsed[1], span, first, last, walker.cell))
    return found


def _comment_column(walker: _Walker, index: int, line: str) -> int | None:
    column = line.find("#")
    while column >= 0:
        starts = column == 0 or line[column - 1] in " \t"
        if starts and not walker.is_protected(index, column):
            return column
        column = line.find("#", column + 1)
    return None


def _comment_only(walker: _Walker, index: int) -> bool:
    line = walker.lines[index]
    stripped = line.lstrip()
    if not stripped:
        return True
    return stripped.startswith("#") and _comment_column(walker, index, line) is not None


__all__ = ["suppressions"]
