"""Needles: words looked for in a file's raw bytes, and the plan that finds them fast.

The vocabulary of the byte prefilter (``extract.prefilter``): a needle, a group (any of its
needles), a clause (every group), and ``Needles``, the clauses for one file kind compiled
into a plan that looks each needle up at most once per file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

Mode = Literal["substring", "token", "folded", "regex", "random", "suffix"]


@dataclass(frozen=True, slots=True)
class Needle:
    """One thing to look for in a file's bytes.

    ``substring``: anywhere. ``token``: as a whole identifier, not inside a longer one (bytes
    of 128 and above count as identifier characters, so a token next to a non-ASCII letter
    never counts); in notebooks, whose code sits in JSON strings with escapes (``\\nload``),
    a token is looked for as a substring. ``folded``: anywhere, in any case (``text`` is
    lower case). ``regex``: ``text`` is a regular expression. ``random``: a string literal
    that is all key characters, at least ``text`` (a number) of them with a digit, or 40
    without one. ``suffix``: a name
    (an identifier or a dashed flag, lower case, dashes read as underscores) that ends with
    one of the ``|``-separated ``text``.
    """

    text: bytes
    mode: Mode = "substring"

    def describe(self) -> str:
        text = self.text.decode("ascii", "backslashreplace")
        return {
            "substring": text,
            "token": f"<{text}>",
            "folded": f"{text} (any case)",
            "regex": f"/{text}/",
            "random": f"(a string of {text}+ key characters)",
            "suffix": f"(a name ending in {text})",
        }[self.mode]


def sub(text: str) -> Needle:
    return Needle(text.encode())


def token(text: str) -> Needle:
    return Needle(text.encode(), "token")


Group = tuple[Needle, ...]  # satisfied when any needle occurs
Clause = tuple[Group, ...]  # satisfied when every group is

# Every byte that cannot be part of an identifier becomes a space: split() gives the tokens.
_SEPARATORS = bytes(
    c if (c < 128 and (chr(c).isalnum() or c == ord("_"))) or c >= 128 else 32 for c in range(256)
)
_NAME_SEPARATORS = bytes(c if c == ord("-") else _SEPARATORS[c] for c in range(256))
_REGEX_CACHE: dict[bytes, re.Pattern[bytes]] = {}


_MODE_COST: Final = {
    "token": 0,
    "substring": 1,
    "folded": 2,
    "regex": 3,
    "suffix": 4,
    "random": 5,
}


@dataclass(frozen=True, slots=True)
class Needles:
    """When a file of one kind may hold a relevant fact: any clause whose groups all occur."""

    clauses: tuple[Clause, ...] = ()
    parse_all: bool = False
    reasons: tuple[str, ...] = ()
    tokens: bool = True  # False: tokens are looked for as substrings (JSON-escaped code)
    plan: _Plan = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "plan", _Plan(self.clauses, self.tokens))

    def wanted(self, data: bytes) -> bool:
        return True if self.parse_all else self.plan.wanted(data)

    def describe(self) -> list[str]:
        """Every needle, for documentation and the benchmark."""
        return sorted({n.describe() for clause in self.clauses for g in clause for n in g})


class _Plan:
    """The clauses compiled for speed.

    Tokens are looked up all at once, by intersecting the file's identifiers with the token
    needles. Every other needle is looked for only when a clause gets to it (cheap groups
    come first in a clause), at most once per file. Within a group, a needle that contains
    another of the same mode is dropped: the shorter one is found wherever it is.
    """

    __slots__ = ("clauses", "needles", "token_index", "token_words")

    def __init__(self, clauses: Sequence[Clause], tokens: bool) -> None:
        index: dict[Needle, int] = {}
        compiled = []
        for clause in clauses:
            groups = []
            for group in clause:
                kept = sorted(_minimal(group, tokens), key=lambda n: _MODE_COST[n.mode])
                number = {needle: index.setdefault(needle, len(index)) for needle in kept}
                token_part = frozenset(number[n] for n in kept if _is_token(n, tokens))
                rest = tuple(number[n] for n in kept if not _is_token(n, tokens))
                groups.append((token_part, rest))
            groups.sort(key=lambda g: (len(g[1]) > 0, len(g[1])))
            compiled.append(tuple(groups))
        self.needles = {number: needle for needle, number in index.items()}
        self.token_index = {
            needle.text: number for needle, number in index.items() if _is_token(needle, tokens)
        }
        self.token_words = frozenset(self.token_index)
        self.clauses: tuple[tuple[tuple[frozenset[int], tuple[int, ...]], ...], ...] = tuple(
            compiled
        )

    def wanted(self, data: bytes) -> bool:
        present: set[int] = set()
        if self.token_words:
            found = self.token_words.intersection(data.translate(_SEPARATORS).split())
            present.update(self.token_index[word] for word in found)
        probe = _Probe(data)
        for clause in self.clauses:
            for token_part, rest in clause:
                if token_part and not token_part.isdisjoint(present):
                    continue
                if not any(probe.has(number, self.needles[number]) for number in rest):
                    break
            else:
                return True
        return False


def _is_token(needle: Needle, tokens: bool) -> bool:
    return tokens and needle.mode == "token"


def _minimal(group: Group, tokens: bool) -> list[Needle]:
    """The group without needles that contain a shorter one of the same kind (in the
    group's order)."""
    texts: dict[str, list[bytes]] = {}
    for needle in group:
        if needle.mode in {"substring", "folded"} or (needle.mode == "token" and not tokens):
            texts.setdefault(needle.mode, []).append(needle.text)
    shadowed: set[tuple[str, bytes]] = set()
    for mode, found in texts.items():
        shorter: list[bytes] = []
        for text in sorted(set(found), key=len):
            if any(small in text for small in shorter):
                shadowed.add((mode, text))
            else:
                shorter.append(text)
    return [needle for needle in group if (needle.mode, needle.text) not in shadowed]


class _Probe:
    """The non-token needles of one file, each looked for at most once."""

    __slots__ = ("data", "looked", "lowered")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.lowered: bytes | None = None
        self.looked: dict[int, bool] = {}

    def has(self, number: int, needle: Needle) -> bool:
        found = self.looked.get(number)
        if found is None:
            if needle.mode == "folded":
                if self.lowered is None:
                    self.lowered = self.data.lower()
                found = needle.text in self.lowered
            elif needle.mode in {"substring", "token"}:
                found = needle.text in self.data
            else:
                found = _look(needle, self.data)
            self.looked[number] = found
        return found


def _look(needle: Needle, data: bytes) -> bool:
    """An expensive needle: a pattern, a random-looking run, a name suffix."""
    if needle.mode == "random":
        return _random_run(data, int(needle.text))
    if needle.mode == "suffix":
        words = data.translate(_NAME_SEPARATORS).split()
        names = {w.strip(b"-").lower().replace(b"-", b"_") for w in words}
        endings = tuple(needle.text.split(b"|"))
        return any(name.endswith(endings) for name in names)
    pattern = _REGEX_CACHE.get(needle.text)
    if pattern is None:
        pattern = _REGEX_CACHE.setdefault(needle.text, re.compile(needle.text))
    return pattern.search(data) is not None


# A string whose whole content (``Bearer`` and blanks aside) is a run of key characters: a
# quote or the end of an f-string field before it, a quote, an escape (notebook JSON) or a
# field after it.
_QUOTED_RUN = rb"""(?:['"}]|['"]\s*[Bb]earer\s)\s*+([A-Za-z0-9_\-+/=.]{%d,}+)\s*+['"{\\]"""
_DIGIT = re.compile(rb"[0-9]")
_LONG_RUN = 40


def _random_run(data: bytes, shortest: int) -> bool:
    key = b"run:%d" % shortest
    pattern = _REGEX_CACHE.get(key)
    if pattern is None:
        pattern = _REGEX_CACHE.setdefault(key, re.compile(_QUOTED_RUN % shortest))
    for match in pattern.finditer(data):
        run = match.group(1)
        if len(run) >= _LONG_RUN or _DIGIT.search(run) is not None:
            return True
    return False
