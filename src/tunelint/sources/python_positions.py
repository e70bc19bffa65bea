"""Spans of the nodes that become facts, without generating code for the whole module.

libcst computes positions by regenerating all of a module's code, which costs more than
parsing it. Ranges come from the source text instead (``python_tokens``); the insides of an
f-string that holds a call come from libcst's code generation of that one string; a module
the tokens cannot place (:class:`Unmapped`) gets libcst's ``PositionProvider`` for all of it,
so a span never depends on a guess.
"""

from __future__ import annotations

import contextlib
import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from tunelint.facts import Span
from tunelint.sources.python_ranges import TokenPositions
from tunelint.sources.python_tokens import Unmapped
from tunelint.sources.python_walk import Walk

_NEWLINE = re.compile(r"\r\n?|\n")
MAX_CODE = 300  # characters of source text a fact keeps (``Call.text``, ``Value.text``)

# (cell, line within the cell, physical line in the file) of one line of parsed text.
LineCell = tuple[int | None, int, int | None]


class Spans:
    """Spans of nodes for one parsed text, mapped to notebook cells where there are some."""

    def __init__(
        self,
        path: str,
        module: cst.Module,
        text: str,
        cell: int | None,
        line_map: Sequence[int] | None,
        line_cells: Sequence[LineCell] | None,
    ) -> None:
        self.path = path
        self.module = module
        self.text = text
        self.cell = cell
        self.line_map = line_map
        self.line_cells = line_cells
        self.tokens: TokenPositions | None = None
        self.ranges: dict[cst.CSTNode, CodeRange] = {}
        self._line_starts: list[int] | None = None
        self.block_indents: dict[int, str] = {}

    def use_tokens(self, walk: Walk) -> None:
        self.tokens = TokenPositions(self.text, walk)
        self.block_indents = walk.block_indents

    def use_libcst(self) -> None:
        """Positions from libcst for the whole module (it regenerates all of its code)."""
        self.tokens = None
        wrapper = MetadataWrapper(self.module, unsafe_skip_copy=True)
        self.ranges = dict(wrapper.resolve(PositionProvider))

    def add_fstring(self, node: cst.CSTNode, indents: Sequence[str]) -> None:
        """Ranges inside one f-string, from libcst's code generation of that string alone."""
        if self.tokens is None:
            return
        from libcst.metadata.position_provider import PositionProvidingCodegenState

        line, column = self.position(self.tokens.first(node))
        provider = PositionProvider()
        state = PositionProvidingCodegenState(
            default_indent=self.module.default_indent,
            default_newline=self.module.default_newline,
            provider=provider,
        )
        state.line, state.column = line, column
        state.indent_tokens = list(indents)
        state.add_token(node.start)  # type: ignore[attr-defined]
        for part in node.parts:  # type: ignore[attr-defined]
            part._codegen(state)
        self.ranges.update(provider._computed)  # type: ignore[arg-type]
        self.ranges.pop(node, None)  # the string itself is a token

    # -- lines -------------------------------------------------------------------------
    def position(self, offset: int) -> tuple[int, int]:
        """(line, 0-based column) of an offset, lines broken as libcst breaks them."""
        starts = self._line_starts
        if starts is None:
            starts = self._line_starts = [0, *(m.end() for m in _NEWLINE.finditer(self.text))]
        line = bisect_right(starts, offset)
        return line, offset - starts[line - 1]

    def locate(self, line: int) -> LineCell:
        """(cell, line in that cell, physical line) of a line of the parsed text."""
        if self.line_cells is not None and 0 < line <= len(self.line_cells):
            return self.line_cells[line - 1]
        file_line = None
        if self.line_map is not None and 0 < line <= len(self.line_map):
            file_line = self.line_map[line - 1]
        return self.cell, line, file_line

    def make(self, line: int, column: int, end_line: int = 0, end_column: int = 0) -> Span:
        cell, local, file_line = self.locate(line)
        local_end = self.locate(end_line)[1] if end_line else 0
        return Span(self.path, local, column, local_end, end_column, cell, file_line)

    # -- what the resolver asks ----------------------------------------------------------
    def span(self, node: cst.CSTNode) -> Span:
        found = self.ranges.get(node) if self.ranges else None
        if found is not None:
            start, end = found.start, found.end
            return self.make(start.line, start.column + 1, end.line, max(end.column, 1))
        if self.tokens is None:
            return Span(self.path, 1, 1, cell=self.cell)
        first, last = self.tokens.range(node)
        line, column = self.position(first)
        starts = self._line_starts
        assert starts is not None
        if line == len(starts) or last < starts[line]:  # ends on the line it starts on
            end_line, end_column = line, last - starts[line - 1]
        else:
            end_line, end_column = self.position(last)
        if self.line_cells is None and self.line_map is None:
            return Span(self.path, line, column + 1, end_line, max(end_column, 1), self.cell)
        return self.make(line, column + 1, end_line, max(end_column, 1))

    def lines(self, node: cst.CSTNode) -> tuple[int, int]:
        """First and last line of a node in the parsed text (not mapped to cells)."""
        found = self.ranges.get(node)
        return (found.start.line, found.end.line) if found is not None else (1, 1)

    def code(self, node: cst.CSTNode) -> str:
        """The node's code as libcst generates it, cut at MAX_CODE characters."""
        tokens = self.tokens
        text = self.text
        if tokens is not None and not (self.ranges and node in self.ranges):
            leaf = tokens.index.get(id(node))
            if leaf is not None and not node.lpar:  # type: ignore[attr-defined]
                start, end = tokens.starts[leaf], tokens.ends[leaf]  # a token: its own text
                if end - start <= MAX_CODE:
                    return text[start:end]
                return text[start : start + MAX_CODE - 3] + "..."
            start, end = tokens.full_range(node)
            if text.find("\n", start, end) < 0 and text.find("\r", start, end) < 0:
                code: str | None = text[start:end]  # on one line, the source is the code
            else:
                code = self._dedented(node, start, end)
            if code is not None:
                return code if len(code) <= MAX_CODE else code[: MAX_CODE - 3] + "..."
        return bounded_code(self.module, node)

    def _dedented(self, node: cst.CSTNode, start: int, end: int) -> str | None:
        """Code over several lines, as libcst generates it for the node alone: without the
        block's indentation at the start of each line that continues it inside brackets
        (where the line starts with it). None where a comment, a continuation or an unknown
        block could make that differ: libcst then generates the code."""
        assert self.tokens is not None
        owner = self.tokens.owners.get(id(node))
        indent = self.block_indents.get(id(owner)) if owner is not None else None
        text = self.text
        if not indent:
            return text[start:end] if indent == "" else None
        if text.find("#", start, end) >= 0 or text.find("\\", start, end) >= 0:
            return None
        starts, ends = self.tokens.starts, self.tokens.ends
        pieces = []
        cursor = start
        for newline in _NEWLINE.finditer(text, start, end):
            line = newline.end()
            leaf = bisect_right(starts, newline.start()) - 1
            if leaf >= 0 and ends[leaf] > line:  # inside a string
                continue
            if text.startswith(indent, line):
                pieces.append(text[cursor:line])
                cursor = line + len(indent)
        pieces.append(text[cursor:end])
        return "".join(pieces)


class _Enough(Exception):
    """More code than a fact keeps has been generated."""


class _BoundedTokens(list[str]):
    """Code generation's output, which stops it once it holds more than MAX_CODE characters."""

    size = 0

    def append(self, token: str) -> None:
        super().append(token)
        self.size += len(token)
        if self.size > MAX_CODE:
            raise _Enough

    def extend(self, tokens: Iterable[str]) -> None:
        for token in tokens:
            self.append(token)


def bounded_code(module: cst.Module, node: cst.CSTNode) -> str:
    """``module.code_for_node(node)`` cut at MAX_CODE characters, without generating more."""
    tokens = _BoundedTokens()
    try:
        from libcst._nodes.internal import CodegenState

        state = CodegenState(module.default_indent, module.default_newline, tokens=tokens)
    except (ImportError, TypeError):  # another libcst: generate all of it
        code = module.code_for_node(node)
    else:
        with contextlib.suppress(_Enough):
            node._codegen(state)
        code = "".join(tokens)
    return code if len(code) <= MAX_CODE else code[: MAX_CODE - 3] + "..."


__all__ = ["MAX_CODE", "LineCell", "Spans", "Unmapped", "bounded_code"]
