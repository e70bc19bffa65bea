"""Glob patterns over dotted names (``transformers.*.from_pretrained``).

Every rule and the destinations table ask whether a call's name matches a few patterns, for
every call of every file. Each tuple of patterns is compiled once into one regular
expression, so a question is one match in C rather than a loop of ``fnmatch`` calls.
"""

from __future__ import annotations

import re
from fnmatch import translate
from functools import lru_cache


@lru_cache(maxsize=1024)
def _compiled(patterns: tuple[str, ...]) -> re.Pattern[str]:
    if not patterns:
        return re.compile(r"(?!)")  # matches nothing
    return re.compile("|".join(f"(?:{translate(pattern)})" for pattern in patterns))


def matches_any(name: str, patterns: tuple[str, ...]) -> bool:
    """Does ``name`` match one of ``patterns`` (case-sensitive shell globs, as
    ``fnmatch.fnmatchcase``)?"""
    return _compiled(patterns).match(name) is not None
