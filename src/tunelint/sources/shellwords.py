"""Shell lexing with positions: logical lines, comments, commands and words.

``shlex`` knows how to unquote a word but not where it was written, so this module finds
the words (respecting quotes, escapes, ``$(...)`` and backslash continuations) and keeps
the physical line and column of every character; ``shlex`` then unquotes each word. Words
holding ``$`` are unquoted here instead, so ``$VAR`` can resolve to a value assigned
earlier in the same file. Nothing is ever executed.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from tunelint.facts import UNKNOWN, Span, Value

_HEREDOC = re.compile(r"(?<!<)<<(-?)\s*(['\"]?)([A-Za-z_][\w.-]*)\2")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPECIAL = set("0123456789@*#?$!-")
_OPERATORS = ("&&", "||", "|&", ";;", ";", "|", "&", "(", ")")
# A logical line keeps at most this many characters (and their positions, about 100 bytes
# each); past that the scanner only looks for the line's end, and the shell source reports
# the line instead of reading it.
MAX_LOGICAL_CHARS = 100_000
# A word's value after expansion: ``B="$A$A"``, ``C="$B$B"``... doubles at each line, and 40
# such lines would need a terabyte. Longer values are Unknown.
MAX_VALUE_CHARS = 100_000


@dataclass(frozen=True, slots=True)
class Comment:
    line: int
    column: int
    text: str  # after the '#'
    alone: bool  # nothing but the comment on its physical line


@dataclass(slots=True)
class LogicalLine:
    """One command line after joining backslash continuations, comments removed."""

    first_line: int
    last_line: int = 0
    code: str = ""
    positions: list[tuple[int, int]] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)

    def where(self, start: int, end: int) -> tuple[int, int, int, int]:
        """Line, column, end line, end column (1-based, inclusive) of ``code[start:end]``."""
        if not self.positions:
            return self.first_line, 1, self.first_line, 0
        last = len(self.positions) - 1
        if start > last:  # empty text at the very end: just after the last character
            line, column = self.positions[last]
            return line, column + 1, line, column
        line, column = self.positions[start]
        if end <= start:  # empty text (`X=`): zero width where it would start
            return line, column, line, column - 1
        end_line, end_column = self.positions[min(end - 1, last)]
        return line, column, end_line, end_column


@dataclass(frozen=True, slots=True)
class Word:
    raw: str
    start: int
    end: int


class _Scanner:
    """Character loop shared by the line splitter: tracks quotes and escapes."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.index = 0

    def logical(self) -> LogicalLine:
        logical = LogicalLine(self.index + 1)
        chars: list[str] = []
        quote = ""
        while self.index < len(self.lines):
            line = self.lines[self.index]
            number = self.index + 1
            self.index += 1
            column, continued = 0, False
            while column < len(line):
                if len(chars) > MAX_LOGICAL_CHARS:  # reported, not read: find the end fast
                    continued, quote = line.endswith("\\"), ""
                    break
                char = line[column]
                if quote == "'":
                    quote = "" if char == "'" else quote
                elif char == "\\":
                    if column == len(line) - 1:
                        continued = True
                        break
                    chars.append(char)
                    logical.positions.append((number, column + 1))
                    column += 1
                    char = line[column]
                elif quote == '"':
                    quote = "" if char == '"' else quote
                elif char in "'\"":
                    quote = char
                elif char == "#" and (not chars or chars[-1] in " \t;&|()"):
                    alone = not line[:column].strip() and not "".join(chars).strip()
                    logical.comments.append(Comment(number, column + 1, line[column + 1 :], alone))
                    break
                chars.append(char)
                logical.positions.append((number, column + 1))
                column += 1
            logical.last_line = number
            if continued:
                continue
            if quote:  # a quoted string running over the line end
                chars.append("\n")
                logical.positions.append((number, len(line) + 1))
                continue
            break
        logical.code = "".join(chars)
        return logical


def split_lines(text: str) -> list[str]:
    """Physical lines split at ``\\n`` only, so notebook cell line numbers hold."""
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def logical_lines(text: str) -> Iterator[LogicalLine]:
    """Every logical line, here-document bodies skipped (they are data, not commands)."""
    scanner = _Scanner(split_lines(text))
    while scanner.index < len(scanner.lines):
        logical = scanner.logical()
        yield logical
        for heredoc in _HEREDOC.finditer(logical.code):
            delimiter = heredoc.group(3)
            while scanner.index < len(scanner.lines):
                body = scanner.lines[scanner.index]
                scanner.index += 1
                if body.strip() == delimiter:  # `<<-` allows tabs; accept any indent
                    break


def _skip_group(code: str, index: int, opening: str, closing: str) -> int:
    """Index after the ``closing`` that matches ``code[index] == opening``, quotes aware."""
    depth, quote = 0, ""
    while index < len(code):
        char = code[index]
        if quote:
            if char == "\\" and quote == '"':
                index += 1
            elif char == quote:
                quote = ""
        elif char == "\\":
            index += 1
        elif char in "'\"":
            quote = char
        elif char == opening:
            depth += 1
        elif char == closing:
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    return index


def commands(code: str) -> list[list[Word]]:
    """Split a logical line into simple commands (at ``;`` ``&&`` ``||`` ``|`` ``&``)."""
    found: list[list[Word]] = []
    words: list[Word] = []
    start, index, quote = -1, 0, ""

    def close_word(end: int) -> None:
        nonlocal start
        if start >= 0:
            words.append(Word(code[start:end], start, end))
            start = -1

    while index < len(code):
        char = code[index]
        if quote:
            if char == "\\" and quote == '"':
                index += 1
            elif char == quote:
                quote = ""
            index += 1
            continue
        if char in " \t\n":
            close_word(index)
            index += 1
            continue
        operator = next((op for op in _OPERATORS if code.startswith(op, index)), "")
        redirect = operator in {"&", "|&"} and (
            code[index - 1 : index] in {">", "<"} or code[index + 1 : index + 2] == ">"
        )
        if operator and not redirect and not (operator == "(" and code[index - 1 : index] == "$"):
            close_word(index)
            if words:
                found.append(words)
                words = []
            index += len(operator)
            continue
        if start < 0:
            start = index
        if char == "\\":
            index += 2
        elif char in "'\"":
            quote = char
            index += 1
        elif char == "$" and code[index + 1 : index + 2] in {"(", "{"}:
            opening = code[index + 1]
            index = _skip_group(code, index + 1, opening, ")" if opening == "(" else "}")
        elif char == "`":
            end = code.find("`", index + 1)
            index = len(code) if end < 0 else end + 1
        else:
            index += 1
    close_word(len(code))
    if words:
        found.append(words)
    return found


# A variable's value and origin, or None when the file never assigned it.
Lookup = Callable[[str], tuple[object, str] | None]


def unquote(raw: str, lookup: Lookup) -> tuple[object, str]:
    """The word's value and how it was decided: ``cli`` (as written), ``env``, ``env-default``.

    ``lookup`` gives a variable's value and origin, or None when the file never assigned
    it; a word built from a defaulted variable is ``env-default`` too. Command
    substitutions, positional parameters and unassigned variables make the word Unknown.
    """
    if "$" not in raw and "`" not in raw:
        try:
            parts = shlex.split(raw)
        except ValueError:
            return UNKNOWN, "cli"
        return (parts[0] if len(parts) == 1 else " ".join(parts)), "cli"
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


def _expand(raw: str, index: int, lookup: Lookup) -> tuple[str | None, int, bool]:
    """One ``$...`` at ``index``: (text or None when unknown, index after it, default used)."""
    following = raw[index + 1 : index + 2]
    if following == "(":
        return None, _skip_group(raw, index + 1, "(", ")"), False
    if following in _SPECIAL:
        return None, index + 2, False
    if following == "{":
        end = _skip_group(raw, index + 1, "{", "}")
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
    """Values and positions of words in the current logical line, ``$VAR`` resolved from
    the variables assigned so far."""

    def __init__(self, path: str, cell: int | None, line_map: Sequence[int] | None) -> None:
        self.path = path
        self.cell = cell
        self.line_map = line_map
        self.variables: dict[str, Value] = {}
        self.logical: LogicalLine = LogicalLine(1)

    def span(self, start: int, end: int) -> Span:
        line, column, end_line, end_column = self.logical.where(start, end)
        file_line = None
        if self.line_map is not None and 0 < line <= len(self.line_map):
            file_line = self.line_map[line - 1]
        return Span(self.path, line, column, end_line, end_column, self.cell, file_line)

    def lookup(self, name: str) -> tuple[object, str] | None:
        value = self.variables.get(name)
        return None if value is None else (value.raw, value.origin)

    def value(self, word: Word, offset: int = 0) -> Value:
        raw, origin = unquote(word.raw[offset:], self.lookup)
        return Value(raw, self.span(word.start + offset, word.end), origin, word.raw[offset:])

    def literal(self, word: Word) -> str | None:
        return self.value(word).as_str()

    def name_of(self, word: Word) -> str:
        text = self.literal(word) or ""
        return PurePosixPath(text).name if "/" in text else text


__all__ = [
    "Comment",
    "LogicalLine",
    "Word",
    "WordReader",
    "commands",
    "logical_lines",
    "split_lines",
    "unquote",
]
