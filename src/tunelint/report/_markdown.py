"""Markdown pieces the review checklist's sections share."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from tunelint.facts import Span

_BACKTICKS = re.compile(r"`+")


def code(text: str) -> str:
    """``text`` as an inline code span, whatever backticks it holds."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def inline(text: str) -> str:
    """One line of Markdown: no line breaks, no stray table pipes."""
    return " ".join(text.split()).replace("|", "\\|")


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines.extend("| " + " | ".join(inline(cell) for cell in row) + " |" for row in rows)
    return lines


def where(span: Span) -> str:
    """``path:line``; a notebook cell as ``path[cell N]:line``."""
    cell = f"[cell {span.cell}]" if span.cell is not None else ""
    return f"{span.path}{cell}:{span.line}"
