"""Glob patterns over dotted names (``transformers.*.from_pretrained``), memoised.

Every rule and the destinations table ask whether a call's name matches a few patterns, for
every call of every file: the same few thousand names against the same tuples of patterns.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from functools import lru_cache


@lru_cache(maxsize=65536)
def matches_any(name: str, patterns: tuple[str, ...]) -> bool:
    """Does ``name`` match one of ``patterns`` (case-sensitive shell globs)?"""
    return any(fnmatchcase(name, pattern) for pattern in patterns)
