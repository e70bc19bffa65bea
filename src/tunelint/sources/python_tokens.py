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

# The child at a node's left edge, and at its right edge.
_LEFT = {
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
_RIGHT = {
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
# Tokens in front of the child, for nodes that begin with a keyword or an operator.
_PREFIX = {
    cst.UnaryOperation: ("expression", ("-", "+", "~", "not")),
    cst.Await: ("expression", ("await",)),
    cst.StarredElement: ("value", ("*",)),
    cst.ListComp: ("elt", ("[",)),
    cst.SetComp: ("elt", ("{",)),
    cst.DictComp: ("key", ("{",)),
}
_OPENING = {cst.List: "[", cst.Set: "{", cst.Dict: "{", cst.Tuple: ""}
_CLOSING = {cst.List: "]", cst.ListComp: "]", cst.Set: "}", cst.SetComp: "}", cst.Dict: "}"}
_CLOSING[cst.DictComp] = "}"
# The child before a node's right child, and the tokens between them.
_BETWEEN = {
    cst.BooleanOperation: ("left", ("and", "or")),
    cst.IfExp: ("test", ("else",)),
    cst.NamedExpr: ("target", (":=",)),
}


class Unmapped(Exception):
    """The tokens cannot place a node: libcst's own positions are used for this module."""


def _element(element: Any) -> Any:
    """The expression an element of a list, tuple, set or dict stands for."""
    return element if isinstance(element, cst.StarredElement) else element.value


class TokenPositions:
    """Ranges (start and end offsets) of expressions, from the leaves the walk listed."""

    def __init__(self, text: str, walk: Walk) -> None:
        if walk.soft_keywords:
            raise Unmapped("soft keywords")
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
        self.starts = [start for start, _ in spans]
        self.ends = [end for _, end in spans]
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
        memo = self._first
        found = memo.get(id(node))
        if found is not None:
            return found
        edge = []
        current = node
        while (child := _LEFT.get(current.__class__)) is not None:
            edge.append(current)
            current = self._hold(current, getattr(current, child))
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
            for _ in getattr(parent, _LEFT[parent.__class__]).lpar:
                found = self.previous(found, "(")[0]
            memo[id(parent)] = found
        return found

    def last(self, node: Any) -> int:
        """End of a node: down its right edge, as ``first``."""
        memo = self._last
        found = memo.get(id(node))
        if found is not None:
            return found
        edge = []
        current = node
        while (child := _RIGHT.get(current.__class__)) is not None:
            edge.append(current)
            current = self._hold(current, getattr(current, child))
            if id(current) in memo:
                break
        found = memo.get(id(current))
        if found is None:
            found = memo[id(current)] = self._last_of(current)
        for parent in reversed(edge):
            for _ in getattr(parent, _RIGHT[parent.__class__]).rpar:
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
        index = self.index.get(id(node))
        if index is not None:
            return self.starts[index]
        cls = node.__class__
        prefix = _PREFIX.get(cls)
        if prefix is not None:
            return self.previous(self._inner_first(node, getattr(node, prefix[0])), *prefix[1])[0]
        opening = _OPENING.get(cls)
        if opening is not None and node.elements:
            element = node.elements[0]
            if isinstance(element, cst.DictElement):
                offset = self._inner_first(node, element.key)
            else:
                offset = self._inner_first(node, _element(element))
                if isinstance(element, cst.StarredDictElement):
                    offset = self.previous(offset, "**")[0]
            return self.previous(offset, opening)[0] if opening else offset
        if cls is cst.Tuple and not node.elements and node.lpar:
            # "()": an empty range just inside the parentheses, after the blanks they own
            after = node.lpar[-1].whitespace_after
            if not isinstance(after, cst.SimpleWhitespace):
                raise Unmapped("empty tuple")
            offset = self._placed(node)
            for _ in node.lpar:
                offset = self.next(offset, "(")[1]
            return offset + len(after.value)
        if isinstance(node, cst.Yield) and node.value is not None:
            if isinstance(node.value, cst.From):
                offset = self.previous(self._inner_first(node, node.value.item), "from")[0]
            else:
                offset = self._inner_first(node, node.value)
            return self.previous(offset, "yield")[0]
        raise Unmapped(f"start of {cls.__name__}")

    def _placed(self, node: Any) -> int:
        """Offset just before a node's text (its parentheses included), from what holds it."""
        owner: Any = self.owners.get(id(node))
        cls = owner.__class__
        if cls is cst.Call:
            for index, argument in enumerate(owner.args):
                if argument.value is node:
                    return self._argument_start(owner, index)
        elif cls is cst.Assign:
            return self.next(self.full_last(owner.targets[-1].target), "=")[1]
        elif cls is cst.AnnAssign:
            return self.next(self.full_last(owner.annotation.annotation), "=")[1]
        left = _LEFT.get(cls)
        if left is not None and getattr(owner, left) is node:
            return self._inside(owner)
        if cls is cst.BinaryOperation:
            return self.next(self._inner_last(owner, owner.left))[1]
        between = _BETWEEN.get(cls)
        if between is not None and getattr(owner, _RIGHT[cls]) is node:
            before = getattr(owner, between[0])
            return self.next(self._inner_last(owner, before), *between[1])[1]
        if cls is cst.IfExp and owner.test is node:
            return self.next(self._inner_last(owner, owner.body), "if")[1]
        if cls is cst.Comparison:
            return self._comparator_start(owner, node)
        prefix = _PREFIX.get(cls)
        if prefix is not None and getattr(owner, prefix[0]) is node:
            return self.next(self._inside(owner), *prefix[1])[1]
        if cls in _OPENING:
            return self._element_start(owner, node)
        if cls is cst.Lambda and owner.body is node:
            return self.next(self._lambda_parameters_end(owner), ":")[1]
        raise Unmapped(f"no leaf at the start of {node.__class__.__name__}")

    def _inside(self, owner: Any) -> int:
        """Offset just before the first token of ``owner`` itself (inside its parentheses)."""
        offset = self._placed(owner)
        for _ in owner.lpar:
            offset = self.next(offset, "(")[1]
        return offset

    def _lambda_parameters_end(self, owner: cst.Lambda) -> int:
        params = owner.params
        if isinstance(params.star_arg, cst.ParamStar) or isinstance(
            params.posonly_ind, cst.ParamSlash
        ):
            raise Unmapped("lambda parameters")
        every = [*params.posonly_params, *params.params, params.star_arg, *params.kwonly_params]
        named = [param for param in (*every, params.star_kwarg) if isinstance(param, cst.Param)]
        if not named:
            return self.next(self._inside(owner), "lambda")[1]
        last = named[-1]
        if last.default is not None:
            offset = self.full_last(last.default)
        else:
            offset = self.ends[self.index[id(last.name)]]
        start, end = self.next(offset)
        return end if self.text[start] == "," else offset

    def _comparator_start(self, owner: cst.Comparison, node: Any) -> int:
        previous: Any = owner.left
        for target in owner.comparisons:
            if target.comparator is node:
                offset = self._inner_last(owner, previous)
                operator = target.operator
                words = (
                    ("not", "in")
                    if isinstance(operator, cst.NotIn)
                    else ("is", "not")
                    if isinstance(operator, cst.IsNot)
                    else ("",)
                )
                for word in words:
                    offset = self.next(offset, word)[1] if word else self.next(offset)[1]
                return offset
            previous = target.comparator
        raise Unmapped("comparator")

    def _element_start(self, owner: Any, node: Any) -> int:
        for index, element in enumerate(owner.elements):
            if isinstance(element, cst.DictElement) and element.value is node:
                return self.next(self.full_last(element.key), ":")[1]
            key = element.key if isinstance(element, cst.DictElement) else _element(element)
            if key is not node:
                continue
            if index:
                before = _element(owner.elements[index - 1])
                offset = self.next(self._inner_last(owner, before), ",")[1]
            else:
                offset = self._inside(owner)
                if _OPENING[owner.__class__]:
                    offset = self.next(offset, _OPENING[owner.__class__])[1]
            if isinstance(element, cst.StarredDictElement):
                offset = self.next(offset, "**")[1]
            return offset
        raise Unmapped("element")

    def _argument_start(self, call: cst.Call, index: int) -> int:
        """Offset just before the value of argument ``index`` (its parentheses included)."""
        argument = call.args[index]
        if argument.keyword is not None:
            return self.next(self.ends[self.index[id(argument.keyword)]], "=")[1]
        if index == 0:
            offset = self._open_paren(call)
        else:
            offset = self.next(self.full_last(call.args[index - 1].value), ",")[1]
        if argument.star:
            offset = self.next(offset, argument.star)[1]
        return offset

    def _open_paren(self, call: cst.Call) -> int:
        return self.next(self._inner_last(call, call.func), "(")[1]

    def _closing(self, offset: int, closing: str) -> int:
        """End of the bracket that closes a sequence whose last item ends at ``offset``."""
        start, end = self.next(offset, closing, ",")
        if self.text[start] == ",":
            end = self.next(end, closing)[1]
        return end

    def _last_of(self, node: Any) -> int:
        index = self.index.get(id(node))
        if index is not None:
            return self.ends[index]
        cls = node.__class__
        if cls is cst.Attribute:
            return self.ends[self.index[id(node.attr)]]
        if cls is cst.Call:
            if not node.args:
                return self.next(self._open_paren(node), ")")[1]
            return self._closing(self._inner_last(node, node.args[-1].value), ")")
        if cls is cst.Comparison:
            return self._inner_last(node, node.comparisons[-1].comparator)
        if cls is cst.Subscript:
            opened = self.next(self._inner_last(node, node.value), "[")[1]
            last = node.slice[-1].slice
            if not all(isinstance(element.slice, cst.Index) for element in node.slice):
                return self._matching(opened)
            return self._closing(self.full_last(last.value), "]")
        closing = _CLOSING.get(cls)
        if closing is not None:
            return self._bracketed_end(node, closing)
        if cls is cst.GeneratorExp:
            return self._comprehension_end(node.for_in)
        if cls is cst.Yield:
            if node.value is None:
                return self.next(self.first(node), "yield")[1]
            item = node.value.item if isinstance(node.value, cst.From) else node.value
            return self._inner_last(node, item)
        if cls is cst.Tuple and not node.elements:
            return self.first(node)
        if cls is cst.Tuple:
            element = node.elements[-1]
            offset = self._inner_last(node, _element(element))
            if isinstance(element.comma, cst.Comma):
                after = element.comma.whitespace_after
                if not isinstance(after, cst.SimpleWhitespace):
                    raise Unmapped("tuple comma")
                offset = self.next(offset, ",")[1] + len(after.value)
            return offset
        if cls is cst.Ellipsis:
            return self.next(self.first(node), "...")[1]
        raise Unmapped(f"end of {cls.__name__}")

    def _bracketed_end(self, node: Any, closing: str) -> int:
        if isinstance(node, cst.ListComp | cst.SetComp | cst.DictComp):
            return self.next(self._comprehension_end(node.for_in), closing)[1]
        if not node.elements:
            return self.next(self.next(self.first(node))[1], closing)[1]
        element = node.elements[-1]
        if isinstance(element, cst.DictElement | cst.StarredDictElement):
            return self._closing(self._inner_last(node, element.value), closing)
        return self._closing(self._inner_last(node, _element(element)), closing)

    def _comprehension_end(self, clause: cst.CompFor) -> int:
        while clause.inner_for_in is not None:
            clause = clause.inner_for_in
        if clause.ifs:
            return self.full_last(clause.ifs[-1].test)
        return self.full_last(clause.iter)

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
