"""Where each kind of expression begins and ends in the text, given its leaves' tokens.

A node's start is the start of the leaf at its left edge, or of the bracket, operator or
keyword in front of it; its end, that of the leaf or bracket at its right edge. A node with
no leaf at an edge (``[]``, ``()``, ``...``, ``lambda: []``) is placed from what precedes it
inside the node that holds it: after the call's "(" or the previous argument's ",", after
the "=" of an assignment, after an operator. Every bracket, comma and keyword stepped over
is checked to be the one expected; anything else raises :class:`Unmapped`.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from tunelint.sources.python_tokens import LEFT, RIGHT, Tokens, Unmapped

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


def _element(element: Any) -> Any:
    """The expression an element of a list, tuple, set or dict stands for."""
    return element if isinstance(element, cst.StarredElement) else element.value


def _lambda_parameters(node: cst.Lambda) -> list[cst.Param]:
    """A lambda's parameters in source order."""
    params = node.params
    every = [*params.posonly_params, *params.params, params.star_arg, *params.kwonly_params]
    return [param for param in (*every, params.star_kwarg) if isinstance(param, cst.Param)]


class TokenPositions(Tokens):
    """Ranges of expressions of one module, read from its text."""

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
        left = LEFT.get(cls)
        if left is not None and getattr(owner, left) is node:
            return self._inside(owner)
        if cls is cst.BinaryOperation:
            return self.next(self._inner_last(owner, owner.left))[1]
        between = _BETWEEN.get(cls)
        if between is not None and getattr(owner, RIGHT[cls]) is node:
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
        if cls is cst.Lambda:
            if owner.body is node:
                return self.next(self._lambda_parameters_end(owner), ":")[1]
            for param in _lambda_parameters(owner):
                if param.default is node:
                    return self.next(self.ends[self.index[id(param.name)]], "=")[1]
        if cls is cst.CompFor:
            if owner.iter is node:
                return self.next(self._inner_last(owner, owner.target), "in")[1]
            previous = owner.iter
            for clause in owner.ifs:
                if clause.test is node:
                    return self.next(self._inner_last(owner, previous), "if")[1]
                previous = clause.test
        if cls is cst.Subscript:
            return self._index_start(owner, node)
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
        named = _lambda_parameters(owner)
        if not named:
            return self.next(self._inside(owner), "lambda")[1]
        last = named[-1]
        if last.default is not None:
            offset = self._inner_last(owner, last.default)
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
                return self.next(self._inner_last(owner, element.key), ":")[1]
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
            return self._closing(self._inner_last(node, last.value), "]")
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
            return self._inner_last(clause, clause.ifs[-1].test)
        return self._inner_last(clause, clause.iter)

    def _index_start(self, owner: cst.Subscript, node: Any) -> int:
        """Offset just before an index of a subscript (``x[...]``, ``x[a, ()]``)."""
        for number, element in enumerate(owner.slice):
            index = element.slice
            if not isinstance(index, cst.Index) or index.value is not node:
                continue
            if number == 0:
                offset = self.next(self._inner_last(owner, owner.value), "[")[1]
            else:
                before = owner.slice[number - 1].slice
                if not isinstance(before, cst.Index):
                    break
                offset = self.next(self._inner_last(owner, before.value), ",")[1]
            return self.next(offset, index.star)[1] if index.star else offset
        raise Unmapped("subscript")
