"""The inline suppression comment, shared by every file kind that has ``#`` comments.

Form: ``tunelint: ignore[TL201, trust-remote-code] -- reason``. Codes are rule ids or
names; the reason after ``--`` is optional unless the policy requires one.
"""

from __future__ import annotations

import re

# The reason is taken greedily and stripped after: a lazy ``.*?`` before ``\s*$`` is quadratic
# in a long run of spaces (a megabyte of them in one comment never finished).
_IGNORE = re.compile(
    r"tunelint\s*:\s*ignore\s*\[(?P<codes>[^\]]*)\]\s*+(?:--(?P<reason>.*))?$",
    re.IGNORECASE,
)
_SPLIT = re.compile(r"[\s,]+")


def parse_ignore(comment: str) -> tuple[tuple[str, ...], str] | None:
    """Codes and reason of a suppression comment, or None when it is not one.

    ``comment`` is the text after ``#``. ``ignore[]`` with no code returns an empty tuple,
    which callers report as a malformed suppression rather than a blanket one.
    """
    match = _IGNORE.search(comment)
    if match is None:
        return None
    codes = tuple(code for code in _SPLIT.split(match.group("codes").strip()) if code)
    return codes, (match.group("reason") or "").strip()
