"""Python fixes as libcst codemods: parse the file being fixed, find the node at the
finding's span, rebuild that node only, and let libcst print the module back unchanged
everywhere else (comments, blank lines, quotes and line breaks included).

The fix stage parses the file itself, after the findings are made: rules never see a syntax
tree. Positions come from libcst's ``PositionProvider`` on this parse, which is the parse the
Python source made (same text, same parser), so a finding's line and column name the same
node here. Names are resolved through the module's import statements only (no scope
analysis: it cost more than the rest of the parse, and a fix is applied where the source
already resolved the call).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TypeVar, cast

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from tunelint.facts import Span

_Node = TypeVar("_Node", bound=cst.CSTNode)


@dataclass(slots=True)
class PyDoc:
    """One parsed module with the metadata fixers need, nodes indexed by start position."""

    module: cst.Module
    ranges: dict[cst.CSTNode, CodeRange] = field(default_factory=dict)
    parents: dict[cst.CSTNode, cst.CSTNode] = field(default_factory=dict)
    # local name -> what it imports (``np`` -> ``numpy``, ``load`` -> ``torch.load``)
    imported: dict[str, str] = field(default_factory=dict)
    starts: dict[tuple[int, int], list[cst.CSTNode]] = field(default_factory=dict)

    def at(self, span: Span) -> list[cst.CSTNode]:
        """Nodes that start where the span starts, outermost first; those that also end
        where it ends come first when the span has an end."""
        found = self.starts.get((span.line, span.column - 1), [])
        if not span.end_column:
            return list(found)
        exact = [node for node in found if self._ends(node, span)]
        return exact + [node for node in found if node not in exact]

    def _ends(self, node: cst.CSTNode, span: Span) -> bool:
        end = self.ranges[node].end
        return (end.line, end.column) == (span.end_line, span.end_column)

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.parents.get(node)

    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        current = self.parents.get(node)
        while current is not None:
            yield current
            current = self.parents.get(current)

    def line_of(self, node: cst.CSTNode) -> int:
        return self.ranges[node].start.line

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def replaced(self, old: cst.CSTNode, new: cst.CSTNode) -> cst.Module:
        """The module with ``old`` swapped for ``new`` (found by identity). Only the nodes
        on the way down to ``old`` are rebuilt, not the whole tree."""
        path = {id(node) for node in self.ancestors(old)}
        result = self.module.visit(_PathReplacer(old, new, path))
        assert isinstance(result, cst.Module)
        return result


class _PathReplacer(cst.CSTTransformer):
    """Replaces one node, descending only through its ancestors (``deep_replace`` walks and
    rebuilds every node of the module)."""

    def __init__(self, old: cst.CSTNode, new: cst.CSTNode, path: set[int]) -> None:
        super().__init__()
        self.old, self.new, self.path = old, new, path

    def on_visit(self, node: cst.CSTNode) -> bool:
        return node is not self.old and id(node) in self.path

    def on_leave(
        self, original_node: _Node, updated_node: _Node
    ) -> _Node | cst.RemovalSentinel | cst.FlattenSentinel[_Node]:
        # the new node takes the old one's place in its parent, whatever class it is
        return cast(_Node, self.new) if original_node is self.old else updated_node


def _index(doc: PyDoc, positions: Mapping[cst.CSTNode, CodeRange]) -> None:
    """Every node's range, its parent and the module's imports, in one pass over the tree in
    source order (a libcst visitor would rebuild each node it passes, once per pass)."""
    stack: list[cst.CSTNode] = [doc.module]
    while stack:
        node = stack.pop()
        where = positions.get(node)
        if where is not None:
            doc.ranges[node] = where
            doc.starts.setdefault((where.start.line, where.start.column), []).append(node)
        if isinstance(node, cst.Import | cst.ImportFrom):
            _note_import(doc, node)
        children = node.children
        for child in children:
            doc.parents[child] = node
        stack.extend(reversed(children))


def _note_import(doc: PyDoc, node: cst.Import | cst.ImportFrom) -> None:
    if isinstance(node, cst.Import):
        for alias in node.names:
            full = _dotted(alias.name)
            local = alias.asname.name if alias.asname is not None else None
            if isinstance(local, cst.Name):
                doc.imported[local.value] = full
            else:
                doc.imported.setdefault(full.split(".")[0], full.split(".")[0])
    elif node.module is not None and not node.relative:
        source = _dotted(node.module)
        if not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                name = _dotted(alias.name)
                local = alias.asname.name if alias.asname is not None else None
                key = local.value if isinstance(local, cst.Name) else name
                doc.imported[key] = f"{source}.{name}"


def parse(text: str) -> PyDoc | None:
    """The parsed module, or None when it does not parse or nests too deep to parse safely
    (the same guard the Python source uses: libcst's native parser has no stack limit)."""
    return _parse(text)


@lru_cache(maxsize=8)
def _parse(text: str) -> PyDoc | None:
    from tunelint.sources.python_nesting import _nesting_problem

    if _nesting_problem(text) is not None:
        return None
    try:
        # the module is parsed here and owned by this document: no copy to protect
        wrapper = MetadataWrapper(cst.parse_module(text), unsafe_skip_copy=True)
        doc = PyDoc(wrapper.module)
        _index(doc, wrapper.resolve(PositionProvider))
    except (cst.ParserSyntaxError, cst.CSTValidationError, RecursionError, MemoryError):
        return None
    except Exception:  # metadata on a module libcst parses but cannot resolve
        return None
    return doc


# --------------------------------------------------------------------------- nodes


def keyword_of(doc: PyDoc, value: cst.CSTNode) -> tuple[cst.Call, cst.Arg] | None:
    """The call and the keyword argument whose value ``value`` is."""
    arg = doc.parent(value)
    if not isinstance(arg, cst.Arg) or arg.keyword is None or arg.value is not value:
        return None
    call = doc.parent(arg)
    return (call, arg) if isinstance(call, cst.Call) else None


def keyword_values(
    doc: PyDoc, span: Span, kinds: tuple[type[cst.CSTNode], ...] = (cst.BaseExpression,)
) -> Iterator[tuple[cst.CSTNode, cst.Call, cst.Arg, str]]:
    """The nodes of ``kinds`` starting at ``span`` (outermost first) that are the value of a
    keyword argument: each with its call, its argument and the keyword."""
    for node in doc.at(span):
        found = keyword_of(doc, node) if isinstance(node, kinds) else None
        if found is not None and found[1].keyword is not None:
            yield node, found[0], found[1], found[1].keyword.value


def keyword(call: cst.Call, name: str) -> cst.Arg | None:
    return next((arg for arg in call.args if arg.keyword and arg.keyword.value == name), None)


def has_star_kwargs(call: cst.Call) -> bool:
    return any(arg.star == "**" for arg in call.args)


def string_value(node: cst.CSTNode) -> str | None:
    """The text of a plain string literal (no f-, b- or implicit concatenation)."""
    if not isinstance(node, cst.SimpleString):
        return None
    if set(node.prefix.lower()) - {"r", "u"}:
        return None
    value = node.evaluated_value
    return value if isinstance(value, str) else None


def string_like(node: cst.SimpleString, text: str) -> cst.SimpleString:
    """A string literal holding ``text`` written with ``node``'s quotes where they fit."""
    quote = node.quote
    if len(quote) == 1 and quote not in text and "\\" not in text and "\n" not in text:
        return node.with_changes(value=f"{node.prefix}{quote}{text}{quote}")
    return cst.SimpleString(repr(text))


def qualified(doc: PyDoc, node: cst.BaseExpression) -> frozenset[str]:
    """What a dotted name refers to through the module's imports (``torch.load``,
    ``transformers.Trainer``); empty when its first part is not imported. Imports are
    read wherever they are (a ``try:`` or a function), which is as far as a fix needs."""
    dotted = _dotted(node)
    if not dotted:
        return frozenset()
    head, _, rest = dotted.partition(".")
    source = doc.imported.get(head)
    if source is None:
        return frozenset()
    return frozenset({f"{source}.{rest}" if rest else source})


def add_keyword(call: cst.Call, name: str, value: cst.BaseExpression) -> cst.Call:
    """``call`` with ``name=value`` appended after its last argument, laid out like the
    arguments already there: one per line stays one per line, a trailing comma stays, and a
    comment after the last argument stays on that argument's line."""
    equal = cst.AssignEqual(
        whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
    )
    new = cst.Arg(value=value, keyword=cst.Name(name), equal=equal)
    args = list(call.args)
    if not args:
        return call.with_changes(args=[new])
    last = args[-1]
    template = _line_break(args[-2].comma if len(args) > 1 else None, call.whitespace_before_args)
    if isinstance(last.comma, cst.Comma):
        old_comma, new_comma = _split_trailing(last.comma, template)
        args[-1] = last.with_changes(comma=old_comma)
        args.append(new.with_changes(comma=new_comma))
        return call.with_changes(args=args)
    tail = last.whitespace_after_arg
    if isinstance(tail, cst.ParenthesizedWhitespace) and template is not None:
        comma = cst.Comma(whitespace_after=template.with_changes(first_line=tail.first_line))
        args[-1] = last.with_changes(comma=comma, whitespace_after_arg=cst.SimpleWhitespace(""))
        args.append(new.with_changes(whitespace_after_arg=_without_comment(tail)))
    else:
        comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        args[-1] = last.with_changes(comma=comma, whitespace_after_arg=cst.SimpleWhitespace(""))
        args.append(new.with_changes(whitespace_after_arg=tail))
    return call.with_changes(args=args)


def list_with(node: cst.List, value: cst.BaseExpression) -> cst.List:
    """``node`` with one element appended, laid out like its other elements (in a list,
    the line break and comment before ``]`` belong to the bracket, not to a comma)."""
    elements = list(node.elements)
    if not elements:
        return node.with_changes(elements=[cst.Element(value=value)])
    last = elements[-1]
    trailing = last.comma if isinstance(last.comma, cst.Comma) else None
    new = cst.Element(value=value, comma=trailing or cst.MaybeSentinel.DEFAULT)
    template = _line_break(
        elements[-2].comma if len(elements) > 1 else None, node.lbracket.whitespace_after
    )
    tail = node.rbracket.whitespace_before
    if isinstance(tail, cst.ParenthesizedWhitespace) and template is not None:
        comma = cst.Comma(whitespace_after=template.with_changes(first_line=tail.first_line))
        elements[-1] = last.with_changes(comma=comma)
        elements.append(new)
        bracket = node.rbracket.with_changes(whitespace_before=_without_comment(tail))
        return node.with_changes(elements=elements, rbracket=bracket)
    elements[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    elements.append(new)
    return node.with_changes(elements=elements)


def _line_break(
    separator: object, opening: cst.BaseParenthesizableWhitespace
) -> cst.ParenthesizedWhitespace | None:
    """How items are separated when there is one per line: the whitespace after the comma
    between the last two items, else after the opening bracket; None on one line."""
    if isinstance(separator, cst.Comma):
        found = separator.whitespace_after
        return found if isinstance(found, cst.ParenthesizedWhitespace) else None
    return opening if isinstance(opening, cst.ParenthesizedWhitespace) else None


def _without_comment(whitespace: cst.ParenthesizedWhitespace) -> cst.ParenthesizedWhitespace:
    return whitespace.with_changes(first_line=cst.TrailingWhitespace())


def _split_trailing(
    trailing: cst.Comma, template: cst.ParenthesizedWhitespace | None
) -> tuple[cst.Comma, cst.Comma]:
    """The comma after the old last item and the one after the new item, from the old
    trailing comma: its comment stays with the old item, its line break before the closing
    bracket moves after the new one."""
    tail = trailing.whitespace_after
    if isinstance(tail, cst.ParenthesizedWhitespace) and template is not None:
        old = trailing.with_changes(
            whitespace_after=template.with_changes(first_line=tail.first_line)
        )
        return old, trailing.with_changes(whitespace_after=_without_comment(tail))
    if isinstance(tail, cst.ParenthesizedWhitespace):
        old = trailing.with_changes(whitespace_after=cst.SimpleWhitespace(" "))
        if tail.first_line.comment is not None:
            return trailing, trailing.with_changes(whitespace_after=_without_comment(tail))
        return old, trailing
    return trailing.with_changes(whitespace_after=cst.SimpleWhitespace(" ")), trailing


def list_without(node: cst.List, keep: Sequence[int]) -> cst.List:
    """``node`` with only the elements at ``keep``; the last kept one takes the comma (or
    its absence) that closed the list. A removed element's comment goes with it (the one
    after the last element sits before ``]``)."""
    elements = [node.elements[index] for index in keep]
    if elements:
        closing = node.elements[-1].comma
        separators = [element.comma for element in elements[:-1]]
        elements = [
            element.with_changes(comma=comma)
            for element, comma in zip(elements, [*separators, closing], strict=True)
        ]
    changed = node.with_changes(elements=elements)
    tail = node.rbracket.whitespace_before
    if len(node.elements) - 1 not in keep and isinstance(tail, cst.ParenthesizedWhitespace):
        bracket = node.rbracket.with_changes(whitespace_before=_without_comment(tail))
        changed = changed.with_changes(rbracket=bracket)
    return changed


def statement_of(doc: PyDoc, node: cst.CSTNode) -> cst.CSTNode | None:
    """The top-level statement of the module that holds ``node``."""
    chain = [node, *doc.ancestors(node)]
    for index, item in enumerate(chain):
        if isinstance(item, cst.Module):
            return chain[index - 1] if index else None
    return None


def import_index(module: cst.Module, before: cst.CSTNode | None) -> int:
    """Where a new top-level import goes: after the last import above ``before`` (the
    statement that needs it), else after the docstring and ``__future__`` imports."""
    body = list(module.body)
    limit = next((index for index, item in enumerate(body) if item is before), len(body))
    last = -1
    for index, statement in enumerate(body[:limit]):
        if _is_import(statement):
            last = index
    if last >= 0:
        return last + 1
    index = 0
    while index < limit and (_is_docstring(body[index]) or _is_future(body[index])):
        index += 1
    return index


def _is_import(statement: cst.CSTNode) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(small, cst.Import | cst.ImportFrom) for small in statement.body
    )


def _is_docstring(statement: cst.CSTNode) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, cst.SimpleString | cst.ConcatenatedString)
    )


def _is_future(statement: cst.CSTNode) -> bool:
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    small = statement.body[0]
    return (
        isinstance(small, cst.ImportFrom)
        and isinstance(small.module, cst.Name)
        and small.module.value == "__future__"
    )


def imports_name(module: cst.Module, source: str, name: str) -> bool | None:
    """True when a top-level ``from source import name`` is there; None when ``name`` is
    bound at the top level some other way (a fix must not shadow it); False otherwise."""
    for statement in module.body:
        smalls = statement.body if isinstance(statement, cst.SimpleStatementLine) else ()
        for small in smalls:
            if isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                dotted = _dotted(small.module) if small.module is not None else ""
                for alias in small.names:
                    bound = alias.asname.name if alias.asname else alias.name
                    if isinstance(bound, cst.Name) and bound.value == name:
                        same = dotted == source and _dotted(alias.name) == name
                        return True if same and alias.asname is None else None
            elif isinstance(small, cst.Import):
                for alias in small.names:
                    bound = alias.asname.name if alias.asname else alias.name
                    if isinstance(bound, cst.Name) and bound.value == name:
                        return None
        if isinstance(statement, cst.ClassDef | cst.FunctionDef) and statement.name.value == name:
            return None
    return False


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""


def with_import(module: cst.Module, index: int, source: str, name: str) -> cst.Module:
    """``module`` with ``from source import name`` as top-level statement ``index``."""
    statement = cst.parse_statement(f"from {source} import {name}\n")
    body = list(module.body)
    body.insert(index, statement)
    return module.with_changes(body=body)
