"""Ranges of expressions read from the source text, given the leaves the walk listed.

The source is scanned once with a regular expression for its leaf tokens (names, strings,
numbers; comments and keywords skipped) and the k-th leaf the walk met is the k-th token
found. Every pair must have the same text, so a construct the scan reads differently from
libcst is noticed, never trusted. A node's range then follows from the leaves at its left and
right edges and the brackets, commas and operators next to them, each checked to be the one
expected; a node with no leaf at an edge (``[]``, ``...``) is placed from what precedes it
in the node that holds it. Ranges are libcst's (``PositionProvider``): a node's own
parentheses are not part of it. What cannot be placed raises :class:`Unmapped`.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from typing import Any

import libcst as cst

from tunelint.sources.python_walk import Walk

_STRING = (
    r"(?:(?<!\w)(?:[rR][bBfFtT]?|[bBfFtT][rR]?|[uU]))?(?:"
    r"'''[^'\\]*+(?:(?:\\.|'(?!''))[^'\\]*+)*+'''"
    r'|"""[^"\\]*+(?:(?:\\.|"(?!""))[^"\\]*+)*+"""'
    r"|'[^'\\\r\n]*+(?:\\(?:\r\n|.)[^'\\\r\n]*+)*+'"
    r'|"[^"\\\r\n]*+(?:\\(?:\r\n|.)[^"\\\r\n]*+)*+")'
)
_NUMBER = (
    r"(?<!\w)(?:0[xX](?:_?[0-9a-fA-F])+|0[bB](?:_?[01])+|0[oO](?:_?[0-7])+"
    r"|(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][-+]?\d(?:_?\d)*)?[jJ]?)"
)
# Python's hard keywords: names in the text, but never a Name node (True, False and None are).
_KEYWORDS = (
    "and|as|assert|async|await|break|class|continue|def|del|elif|else|except|finally|for|from"
    "|global|if|import|in|is|lambda|nonlocal|not|or|pass|raise|return|try|while|with|yield"
)
_IDENTIFIER = r"[^\W\d]\w*"
# Leaves are the named groups; keywords and comments are matched so as to be passed over. A
# run of blanks is taken in front of what follows it (only from its first blank, so that a
# run before a bracket is not read again from each of its blanks), and a character that
# begins no token of interest fails at once.
_LEAF = re.compile(
    rf"(?:(?<![ \t])[ \t]++)?(?=[\w'\"#.])(?:(?P<leaf>{_STRING}|{_NUMBER})"
    rf"|(?<!\w)(?:(?:{_KEYWORDS})\b|(?P<name>{_IDENTIFIER}))|#[^\r\n]*)",
    re.DOTALL,
)
_OPERATOR = r"\.\.\.|\*\*=?|//=?|>>=?|<<=?|->|:=|[-+*/%&|^@<>=!]=|[-+*/%&|^~@<>=.,:;!()\[\]{}]"
_TRIVIA = r"(?:[ \t\f\r\n]|\\\r?\n|#[^\r\n]*)*+"
_NEXT = re.compile(rf"{_TRIVIA}({_STRING}|{_IDENTIFIER}|{_NUMBER}|{_OPERATOR})", re.DOTALL)

# The child at a node's left edge, and at its right edge: their edges are its edges.
LEFT = {
    cst.Attribute: "value",
    cst.Subscript: "value",
    cst.Call: "func",
    cst.BinaryOperation: "left",
    cst.BooleanOperation: "left",
    cst.Comparison: "left",
    cst.ConcatenatedString: "left",
    cst.IfExp: "body",
    cst.NamedExpr: "target",
    cst.GeneratorExp: "elt",
}
RIGHT = {
    cst.BinaryOperation: "right",
    cst.BooleanOperation: "right",
    cst.ConcatenatedString: "right",
    cst.IfExp: "orelse",
    cst.NamedExpr: "value",
    cst.UnaryOperation: "expression",
    cst.Await: "expression",
    cst.Lambda: "body",
    cst.StarredElement: "value",
}


class Unmapped(Exception):
    """The tokens cannot place a node: libcst's own positions are used for this module."""


class Tokens:
    """The leaf tokens of a text matched to the walk's leaves, and what is next to them.

    Ranges come from the edges of a node (``first``, ``last``); what an edge of each kind of
    node is, and how a node with no leaf at an edge is placed, is ``python_ranges``'s part.
    """

    def __init__(self, text: str, walk: Walk) -> None:
        spans = [m.span(m.lastgroup) for m in _LEAF.finditer(text) if m.lastgroup]
        leaves, texts = walk.leaves, walk.leaf_texts
        if len(spans) != len(leaves):
            raise Unmapped("leaf count")
        for index in walk.fstring_leaves:  # its quotes must be where the token's are
            node: Any = leaves[index]
            start, end = spans[index]
            if not (text.startswith(node.start, start) and text.endswith(node.end, 0, end)):
                raise Unmapped("f-string")
            texts[index] = text[start:end]
        if texts != [text[start:end] for start, end in spans]:
            raise Unmapped("leaf text")
        self.text = text
        starts, ends = zip(*spans, strict=True) if spans else ((), ())
        self.starts: list[int] = list(starts)
        self.ends: list[int] = list(ends)
        self.index = dict(zip(map(id, leaves), range(len(leaves)), strict=True))
        # id of a node -> the node holding it (values of calls and assignments, from the
        # walk; others as ranges are looked up)
        self.owners = walk.owners
        self._first: dict[int, int] = {}
        self._last: dict[int, int] = {}

    # -- tokens next to an offset ------------------------------------------------------
    def next(self, offset: int, *expected: str) -> tuple[int, int]:
        """The token after ``offset`` (comments and whitespace skipped), one of ``expected``."""
        found = _NEXT.match(self.text, offset)
        if found is None or (expected and found.group(1) not in expected):
            raise Unmapped("next token")
        return found.span(1)

    def previous(self, offset: int, *expected: str) -> tuple[int, int]:
        """The token before the token at ``offset``: found between the leaves around it."""
        leaf = bisect_left(self.starts, offset) - 1
        cursor = self.ends[leaf] if leaf >= 0 else 0
        found = (self.starts[leaf], cursor) if leaf >= 0 else None
        while True:
            token = _NEXT.match(self.text, cursor)
            if token is None or token.end(1) > offset:
                break
            found = token.span(1)
            cursor = token.end(1)
        if found is None or (expected and self.text[found[0] : found[1]] not in expected):
            raise Unmapped("previous token")
        return found

    # -- ranges ------------------------------------------------------------------------
    def range(self, node: cst.CSTNode) -> tuple[int, int]:
        """Start and end offsets of the node itself (its own parentheses left out)."""
        index = self.index.get(id(node))
        if index is not None:
            return self.starts[index], self.ends[index]
        return self.first(node), self.last(node)

    def full_range(self, node: cst.CSTNode) -> tuple[int, int]:
        """Offsets of the node with its own parentheses: the text libcst generates for it."""
        return self.full_first(node), self.full_last(node)

    def full_first(self, node: Any) -> int:
        offset = self.first(node)
        for _ in node.lpar:
            offset = self.previous(offset, "(")[0]
        return offset

    def full_last(self, node: Any) -> int:
        offset = self.last(node)
        for _ in node.rpar:
            offset = self.next(offset, ")")[1]
        return offset

    def first(self, node: Any) -> int:
        """Start of a node: down its left edge (a loop: string concatenations nest deep)."""
        index = self.index.get(id(node))
        if index is not None:
            return self.starts[index]
        memo = self._first
        found = memo.get(id(node))
        if found is not None:
            return found
        owners = self.owners
        edge = []
        current = node
        while (child := LEFT.get(current.__class__)) is not None:
            edge.append(current)
            inner = getattr(current, child)
            owners[id(inner)] = current
            current = inner
            if id(current) in memo:
                break
        found = memo.get(id(current))
        if found is None:
            try:
                found = self._first_of(current)
            except Unmapped:
                found = self._placed(current)
                for _ in current.lpar:
                    found = self.next(found, "(")[1]
                found = self.next(found)[0]
            memo[id(current)] = found
        for parent in reversed(edge):
            for _ in getattr(parent, LEFT[parent.__class__]).lpar:
                found = self.previous(found, "(")[0]
            memo[id(parent)] = found
        return found

    def last(self, node: Any) -> int:
        """End of a node: down its right edge, as ``first``."""
        index = self.index.get(id(node))
        if index is not None:
            return self.ends[index]
        memo = self._last
        found = memo.get(id(node))
        if found is not None:
            return found
        owners = self.owners
        edge = []
        current = node
        while (child := RIGHT.get(current.__class__)) is not None:
            edge.append(current)
            inner = getattr(current, child)
            owners[id(inner)] = current
            current = inner
            if id(current) in memo:
                break
        found = memo.get(id(current))
        if found is None:
            found = memo[id(current)] = self._last_of(current)
        for parent in reversed(edge):
            for _ in getattr(parent, RIGHT[parent.__class__]).rpar:
                found = self.next(found, ")")[1]
            memo[id(parent)] = found
        return found

    def _hold(self, owner: Any, child: Any) -> Any:
        """Note what holds ``child``, for placing it if it has no leaf at an edge."""
        self.owners[id(child)] = owner
        return child

    def _inner_first(self, owner: Any, child: Any) -> int:
        return self.full_first(self._hold(owner, child))

    def _inner_last(self, owner: Any, child: Any) -> int:
        return self.full_last(self._hold(owner, child))

    def _first_of(self, node: Any) -> int:
        raise Unmapped(f"start of {node.__class__.__name__}")

    def _last_of(self, node: Any) -> int:
        raise Unmapped(f"end of {node.__class__.__name__}")

    def _placed(self, node: Any) -> int:
        raise Unmapped(f"no leaf at the start of {node.__class__.__name__}")

    def _matching(self, offset: int) -> int:
        """End of the bracket that closes the one ending at ``offset``."""
        depth = 1
        while depth:
            start, offset = self.next(offset)
            token = self.text[start:offset]
            if token in ("(", "[", "{"):
                depth += 1
            elif token in (")", "]", "}"):
                depth -= 1
        return offset
