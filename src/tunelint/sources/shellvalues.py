"""Shell word values: unquoting, ``$VAR`` expansion and where each value was written.

``shlex`` unquotes words without ``$``; words holding ``$`` are unquoted here, so ``$VAR``
resolves to a value assigned earlier in the same file. A word that is one variable
(``$MODEL``, ``${SAVE_PATH}/ckpt``) takes the span of the variable's definition, the place
a reviewer changes, and keeps its own place in ``Value.via``. Nothing is ever executed.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import PurePosixPath

from tunelint.facts import UNKNOWN, Span, Value
from tunelint.placeholders import is_placeholder_uri
from tunelint.sources.shellwords import LogicalLine, Word, skip_group

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPECIAL = set("0123456789@*#?$!-")
# A word's value after expansion: ``B="$A$A"``, ``C="$B$B"``... doubles at each line, and 40
# such lines would need a terabyte. Longer values are Unknown.
MAX_VALUE_CHARS = 100_000

# A variable's value and origin, or None when the file never assigned it.
Lookup = Callable[[str], tuple[object, str] | None]


def unquote(raw: str, lookup: Lookup) -> tuple[object, str]:
    """The word's value and how it was decided: ``cli`` (as written), ``env``, ``env-default``.

    ``lookup`` gives a variable's value and origin, or None when the file never assigned
    it; a word built from a defaulted variable is ``env-default`` too. Command
    substitutions, positional parameters and unassigned variables make the word Unknown.
    """
    if "$" not in raw and "`" not in raw:
        return _as_written(raw), "cli"
    out: list[str] = []
    origin = "env"
    quote, index, expanded = "", 0, 0
    while index < len(raw):
        char = raw[index]
        if quote == "'":
            if char == "'":
                quote = ""
            else:
                out.append(char)
            index += 1
        elif char == "\\":
            following = raw[index + 1 : index + 2]
            if quote == '"' and following not in {"$", "`", '"', "\\"}:
                out.append(char)
            else:
                out.append(following)
                index += 1
            index += 1
        elif char == '"':
            quote = "" if quote else '"'
            index += 1
        elif char == "'" and not quote:
            quote = "'"
            index += 1
        elif char == "`":
            return UNKNOWN, "env"
        elif char == "$":
            value, index, used_default = _expand(raw, index, lookup)
            if value is None:
                return UNKNOWN, "env"
            origin = "env-default" if used_default else origin
            out.append(value)
            expanded += len(value)
            if expanded > MAX_VALUE_CHARS:
                return UNKNOWN, "env"
        else:
            out.append(char)
            index += 1
    return "".join(out), origin


_QUOTING = frozenset("'\"\\ \t\n")


@lru_cache(maxsize=8192)
def _as_written(raw: str) -> object:
    """A word with no expansion in it, unquoted (the same word recurs across a script's
    launch lines, and shlex costs more than the rest of reading a word)."""
    if _QUOTING.isdisjoint(raw):
        return raw
    try:
        parts = shlex.split(raw)
    except ValueError:
        return UNKNOWN
    return parts[0] if len(parts) == 1 else " ".join(parts)


def _expand(raw: str, index: int, lookup: Lookup) -> tuple[str | None, int, bool]:
    """One ``$...`` at ``index``: (text or None when unknown, index after it, default used)."""
    following = raw[index + 1 : index + 2]
    if following == "(":
        return None, skip_group(raw, index + 1, "(", ")"), False
    if following in _SPECIAL:
        return None, index + 2, False
    if following == "{":
        end = skip_group(raw, index + 1, "{", "}")
        inner = raw[index + 2 : end - 1]
        name = _NAME.match(inner)
        if name is None:
            return None, end, False
        rest = inner[name.end() :]
        known = lookup(name.group())
        if not rest:
            return _known(known, end)
        for operator in (":-", "-", ":=", "="):
            if rest.startswith(operator):
                if known is not None:
                    return _known(known, end)
                default, _ = unquote(rest[len(operator) :], lookup)
                return _text(default), end, True
        return None, end, False
    name = _NAME.match(raw, index + 1)
    if name is None:
        return "$", index + 1, False
    return _known(lookup(name.group()), name.end())


def _known(found: tuple[object, str] | None, end: int) -> tuple[str | None, int, bool]:
    if found is None:
        return None, end, False
    return _text(found[0]), end, found[1] == "env-default"


def _text(value: object) -> str | None:
    if value is None or value is UNKNOWN:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class WordReader:
    """Values and positions of words, ``$VAR`` resolved from the variables assigned so far.

    Words belong to the logical line being read (``logical``) unless they were spliced in
    from elsewhere (``Word.home``).
    """

    def __init__(self, path: str, cell: int | None, line_map: Sequence[int] | None) -> None:
        self.path = path
        self.cell = cell
        self.line_map = line_map
        self.variables: dict[str, Value] = {}
        self.logical: LogicalLine = LogicalLine(1)
        self._used: list[str] = []
        # variables this text assigned (not the environment it starts with): a value taken
        # from one of them is placed where it is written
        self.written_here: set[str] = set()

    def span(self, start: int, end: int, home: LogicalLine | None = None) -> Span:
        line, column, end_line, end_column = (home or self.logical).where(start, end)
        file_line = None
        if self.line_map is not None and 0 < line <= len(self.line_map):
            file_line = self.line_map[line - 1]
        return Span(self.path, line, column, end_line, end_column, self.cell, file_line)

    def word_span(self, word: Word, offset: int = 0, end: int | None = None) -> Span:
        """Span of ``word.raw[offset:end]`` where the word is written."""
        stop = word.end if end is None else word.start + end
        return self.span(word.start + offset, stop, word.home)

    def lookup(self, name: str) -> tuple[object, str] | None:
        value = self.variables.get(name)
        if value is not None:
            self._used.append(name)
        return None if value is None else (value.raw, value.origin)

    def value(self, word: Word, offset: int = 0) -> Value:
        """The word's value; one variable's value is placed where that variable is written."""
        text = word.raw[offset:]
        self._used = []
        raw, origin = unquote(text, self.lookup)
        if isinstance(raw, str) and is_placeholder_uri(raw):
            raw = UNKNOWN  # `s3://my-bucket/runs` names no bucket
        here = self.word_span(word, offset)
        used = set(self._used)
        if raw is UNKNOWN or len(used) != 1 or not used <= self.written_here:
            return Value(raw, here, origin, text, word.via)
        source = self.variables[used.pop()]
        if source.raw == raw and _whole_reference(text):
            return replace(source, via=source.via or here)
        return Value(raw, source.span, origin, text, source.via or here)

    def literal(self, word: Word) -> str | None:
        if "$" not in word.raw and "`" not in word.raw:  # no variable: no span to work out
            text = _as_written(word.raw)
            return None if not isinstance(text, str) or is_placeholder_uri(text) else text
        return self.value(word).as_str()

    def name_of(self, word: Word) -> str:
        text = self.literal(word) or ""
        return PurePosixPath(text).name if "/" in text else text


def _whole_reference(text: str) -> bool:
    """``$X``, ``${X}``, ``"$X"`` or ``"${X}"``: the variable's value and nothing else."""
    core = text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text
    if core.startswith("${") and core.endswith("}"):
        core = "$" + core[2:-1]
    return core.startswith("$") and _NAME.fullmatch(core[1:]) is not None


__all__ = ["MAX_VALUE_CHARS", "WordReader", "unquote"]
