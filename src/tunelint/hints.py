""" "Did you mean ...?" for every name a person types: rule ids and names, GPU profiles,
policy keys, presets, severities and formats. One wording everywhere."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, options: Iterable[str]) -> str | None:
    """The option most like ``word`` (case aside), or None when none is close."""
    by_folded: dict[str, str] = {}
    for option in options:
        by_folded.setdefault(str(option).casefold(), str(option))
    found = difflib.get_close_matches(word.strip().casefold(), list(by_folded), n=1)
    return by_folded[found[0]] if found else None


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest option, or nothing when none is close."""
    found = closest(word, options)
    return f" (did you mean {found!r}?)" if found else ""
