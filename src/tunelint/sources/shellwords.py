"""Shell lexing with positions: logical lines, comments, commands and words.

``shlex`` knows how to unquote a word but not where it was written, so this module finds
the words (respecting quotes, escapes, ``$(...)``, backslash continuations, arrays written
over several lines and here-documents) and keeps the physical line and column of every
character; ``tunelint.sources.shellvalues`` turns words into values. Nothing is ever
executed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from tunelint.facts import Span

_HEREDOC = re.compile(r"(?<!<)<<(-?)\s*(['\"]?)([A-Za-z_][\w.-]*)\2")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ARRAY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\+?")  # `NAME=(` / `NAME+=(`
_OPERATORS = ("&&", "||", "|&", ";;", ";", "|", "&", "(", ")")
_OPERATOR_STARTS = frozenset("&|;()")
# Runs of characters that cannot end a word, start a quote, an expansion or an operator: the
# scanner passes over them at once.
_PLAIN = re.compile(r"[^ \t\n&|;()\\'\"$=`]+")
_IN_DOUBLE = re.compile(r'[^"\\]+')
_IN_SINGLE = re.compile(r"[^']+")
# A logical line keeps at most this many characters (and their positions, about 100 bytes
# each); past that the scanner only looks for the line's end, and the shell source reports
# the line instead of reading it.
MAX_LOGICAL_CHARS = 100_000


@dataclass(frozen=True, slots=True)
class Comment:
    line: int
    column: int
    text: str  # after the '#'
    alone: bool  # nothing but the comment on its physical line


@dataclass(slots=True)
class LogicalLine:
    """One command line after joining backslash continuations, comments removed.

    A bash array assignment written over several lines (``ARGS=(`` ... ``)``) is one
    logical line, its comment lines dropped. ``heredocs`` are the bodies of the
    here-documents the line opens, in order, each as the logical lines it holds.
    """

    first_line: int
    last_line: int = 0
    code: str = ""
    positions: list[tuple[int, int]] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    heredocs: list[Heredoc] = field(default_factory=list)

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


@dataclass(slots=True)
class Heredoc:
    """A here-document body: its logical lines; ``quoted`` when ``<<'EOF'`` (no expansion)."""

    delimiter: str
    quoted: bool
    lines: list[LogicalLine] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Word:
    """A word of a logical line: ``code[start:end]`` of ``home`` (the line being read when
    None; another line when the word was spliced in from a variable, array or heredoc, at
    ``via``)."""

    raw: str
    start: int
    end: int
    home: LogicalLine | None = field(default=None, compare=False)
    via: Span | None = field(default=None, compare=False)  # where it was spliced in


def fragment(line: LogicalLine, start: int, end: int) -> LogicalLine:
    """``line.code[start:end]`` as a logical line of its own, positions kept."""
    positions = line.positions[start:end]
    first = positions[0][0] if positions else line.first_line
    last = positions[-1][0] if positions else first
    return LogicalLine(first, last, line.code[start:end], positions)


def words_of(line: LogicalLine) -> list[Word]:
    """Every word of ``line`` (operators dropped: a heredoc or array body is one list)."""
    return [
        Word(word.raw, word.start, word.end, line)
        for found in commands(line.code)
        for word in found
    ]


class _Scanner:
    """Character loop shared by the line splitter: tracks quotes and escapes."""

    def __init__(self, lines: list[str], start: int = 0, end: int | None = None) -> None:
        self.lines = lines
        self.index = start
        self.end = len(lines) if end is None else end

    def logical(self) -> LogicalLine:
        logical = LogicalLine(self.index + 1)
        chars: list[str] = []
        quote = ""
        array = 0  # open `NAME=(` groups: the assignment goes on over newlines
        while self.index < self.end:
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
                elif char == "(" and (array or (chars and chars[-1] == "=")):
                    array += 1
                elif char == ")" and array:
                    array -= 1
                elif char == "#" and (not chars or chars[-1] in " \t\n;&|()"):
                    alone = not line[:column].strip() and not "".join(chars).strip()
                    logical.comments.append(Comment(number, column + 1, line[column + 1 :], alone))
                    break
                chars.append(char)
                logical.positions.append((number, column + 1))
                column += 1
            logical.last_line = number
            if continued:
                continue
            if quote or array:  # a quoted string or an array running over the line end
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
    """Every logical line; here-document bodies are not lines of their own (they are data,
    or a command a variable holds) but are attached to the line that opens them."""
    scanner = _Scanner(split_lines(text))
    while scanner.index < len(scanner.lines):
        logical = scanner.logical()
        for heredoc in _HEREDOC.finditer(logical.code):
            start = end = scanner.index
            while end < len(scanner.lines) and scanner.lines[end].strip() != heredoc.group(3):
                end += 1  # `<<-` allows tabs; any indent is accepted
            body = _Scanner(scanner.lines, start, end)
            lines = []
            while body.index < body.end:
                lines.append(body.logical())
            logical.heredocs.append(Heredoc(heredoc.group(3), bool(heredoc.group(2)), lines))
            scanner.index = min(end + 1, len(scanner.lines))
        yield logical


def skip_group(code: str, index: int, opening: str, closing: str) -> int:
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
                index += 2
            elif char == quote:
                quote = ""
                index += 1
            else:  # up to the next character that may end the quote
                found_end = (_IN_DOUBLE if quote == '"' else _IN_SINGLE).match(code, index)
                index = found_end.end() if found_end else index + 1
            continue
        if char in " \t\n":
            close_word(index)
            index += 1
            continue
        operator = (
            next((op for op in _OPERATORS if code.startswith(op, index)), "")
            if char in _OPERATOR_STARTS
            else ""
        )
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
            index = skip_group(code, index + 1, opening, ")" if opening == "(" else "}")
        elif (
            char == "="
            and code[index + 1 : index + 2] == "("
            and _ARRAY.fullmatch(code[start:index])
        ):
            index = skip_group(code, index + 1, "(", ")")  # `ARGS=( ... )`: one word
        elif char == "`":
            end = code.find("`", index + 1)
            index = len(code) if end < 0 else end + 1
        else:  # a plain character: up to the next one that means something
            plain = _PLAIN.match(code, index + 1)
            index = plain.end() if plain else index + 1
    close_word(len(code))
    if words:
        found.append(words)
    return found


__all__ = [
    "Comment",
    "Heredoc",
    "LogicalLine",
    "Word",
    "commands",
    "fragment",
    "logical_lines",
    "split_lines",
    "words_of",
]
