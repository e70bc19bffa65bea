"""Launch lines built somewhere else in the script: variables, arrays and here-documents.

Real launch scripts rarely write the command where it runs. They build it first::

    read -r -d '' training_commands <<EOF        ARGS=(
    openrlhf.cli.train_sft \\                       --model.model_name_or_path ${MODEL}
       --model.model_name_or_path Org/Model         # --ds.adam_offload
    EOF                                           )
    deepspeed --module $training_commands         python3 -m openrlhf.cli.train ${ARGS[@]}

    export CMD="python train.py --lr 1e-5"; srun bash -c "$LAUNCHER $CMD"

The reader keeps, for each variable assigned a literal, the text it was assigned (with the
position of every character), and splices its words in where the variable is expanded
unquoted (``$CMD``, ``${ARGS[@]}``, ``"${ARGS[@]}"``) or run by ``bash -c``. Spliced words
keep their own positions, so a flag written in a heredoc is reported in the heredoc. Comment
lines inside an array are gone before this (they never reach the command). Splicing is
bounded in depth and in words, so a script cannot make the reader loop or blow up.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tunelint.facts import UNKNOWN, Span, Value
from tunelint.sources.launchers import LaunchReader
from tunelint.sources.shellwords import (
    Heredoc,
    LogicalLine,
    Word,
    commands,
    fragment,
    words_of,
)

MAX_DEPTH = 4  # nested expansions and `bash -c` strings
MAX_WORDS = 20_000  # words one command may grow to by splicing
# `$X`, `${X}`, `${X[@]}`, `"${X[@]}"`: a whole word that is one expansion
_EXPANSION = re.compile(r'("?)\$(\{?)([A-Za-z_][A-Za-z0-9_]*)(\[[@*]\])?(\}?)("?)')
# options of `read` that take the next word as their value
_READ_VALUE_OPTIONS = frozenset("adinNptu")
SHELLS = frozenset({"bash", "sh", "zsh", "dash"})


class SpliceReader(LaunchReader):
    """A launch reader that remembers where each variable's text was written."""

    def __init__(self, path: str, cell: int | None, line_map: Sequence[int] | None) -> None:
        super().__init__(path, cell, line_map)
        # variable -> the logical lines holding the text it was assigned
        self.sources: dict[str, list[LogicalLine]] = {}
        self.lists: set[str] = set()  # arrays and heredoc bodies: spliced even as one word
        self.depth = 0  # splices and `bash -c` strings being read, nested

    # --- remembering --------------------------------------------------------------------

    def remember(self, name: str, word: Word, offset: int) -> Value | None:
        """Keep where ``name=...`` (in ``word`` from ``offset``) was written; an array's
        value (a list of its items) is returned, None for any other value."""
        text = word.raw[offset:]
        home = word.home or self.logical
        start, end = word.start + offset, word.end
        quoted = len(text) >= 2 and text[0] == text[-1] and text[0] in "'\""
        array = text.startswith("(") and text.endswith(")")
        if array or quoted:
            start, end = start + 1, end - 1
        self.written_here.add(name)
        if "$(" in text or "`" in text:
            self.forget(name)
            return None
        body = fragment(home, start, end)
        self.sources[name] = [body]
        self.written_here.add(name)
        if not array:
            self.lists.discard(name)
            return None
        self.lists.add(name)
        items = [self.value(item) for item in words_of(body)]
        span = self.word_span(word, offset)
        raw = [item.raw for item in items]
        return Value(raw, span, "env", text)

    def remember_heredoc(self, words: list[Word], heredoc: Heredoc) -> None:
        """``read [-r] [-d ''] NAME <<EOF``: NAME holds the body, words and positions."""
        names: list[str] = []
        skip = False
        for word in words[1:]:
            literal = self.literal(word) or ""
            if skip:
                skip = False
            elif literal.startswith("-"):
                skip = literal[-1:] in _READ_VALUE_OPTIONS
            elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", literal):
                names.append(literal)
        if not names or not heredoc.lines:
            return
        name = names[0]
        self.sources[name] = list(heredoc.lines)
        self.lists.add(name)
        self.written_here.add(name)
        first, last = heredoc.lines[0], heredoc.lines[-1]
        text = "\n".join(line.code for line in heredoc.lines)
        raw: object = UNKNOWN if "$" in text or heredoc.quoted else " ".join(text.split())
        start = self.span(0, 1, first)
        end = self.span(max(len(last.code) - 1, 0), len(last.code), last)
        span = Span(self.path, start.line, start.column, end.end_line, end.end_column,
                    self.cell, start.file_line)  # fmt: skip
        self.variables[name] = Value(raw, span, "env", text)

    def forget(self, name: str) -> None:
        self.sources.pop(name, None)
        self.lists.discard(name)

    # --- splicing -----------------------------------------------------------------------

    def splice(self, words: list[Word]) -> list[Word]:
        """``words`` with every unquoted expansion of a remembered variable replaced by the
        words of its text (an array's items, a heredoc's words)."""
        out: list[Word] = []
        for word in words:
            found = self._expanded(word)
            if found is None or self.depth >= MAX_DEPTH:
                out.append(word)
            else:
                self.depth += 1
                try:
                    out.extend(self.splice(found))
                finally:
                    self.depth -= 1
            if len(out) > MAX_WORDS:
                return out[:MAX_WORDS]
        return out

    def _expanded(self, word: Word) -> list[Word] | None:
        match = _EXPANSION.fullmatch(word.raw)
        if match is None:
            return None
        quote, brace, name, index, close, end_quote = match.groups()
        if quote != end_quote or bool(brace) != bool(close) or (index and not brace):
            return None
        if quote and not index:
            return None  # "$CMD" is one word, whatever it holds
        lines = self.sources.get(name)
        if lines is None:
            return None
        found = [item for line in lines for item in words_of(line)]
        if len(found) == 1 and name not in self.lists:
            return None  # one word: the variable's value, read as such
        via = self.word_span(word)
        return [Word(item.raw, item.start, item.end, item.home, via) for item in found]

    def command_string(self, word: Word) -> list[list[Word]]:
        """The commands of a ``bash -c`` string: a literal, or a remembered variable's text."""
        text = word.raw
        home = word.home or self.logical
        match = _EXPANSION.fullmatch(text)
        if match is not None and match.group(3) in self.sources:
            lines = self.sources[match.group(3)]
        elif len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
            lines = [fragment(home, word.start + 1, word.end - 1)]
        else:
            lines = [fragment(home, word.start, word.end)]
        found: list[list[Word]] = []
        for line in lines:
            found.extend(
                [Word(w.raw, w.start, w.end, line) for w in command]
                for command in commands(line.code)
            )
        return found


def extent(reader: LaunchReader, words: list[Word]) -> tuple[Span, str]:
    """Span and text of a command: its words that share the first word's line."""
    first = words[0]
    same = [word for word in words if word.home is first.home]
    home = first.home or reader.logical
    last = same[-1]
    return reader.span(first.start, last.end, first.home), home.code[first.start : last.end]


__all__ = ["SHELLS", "SpliceReader", "extent"]
