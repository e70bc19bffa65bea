"""The walk's dispatch table, the markers on its stack, and the small readers its handlers use.

Built once per process from ``python_fields`` (which fields of each libcst class are worth
walking), apart from ``python_walk`` so that the walk holds only what one pass does.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any

import libcst as cst

from tunelint.sources.python_fields import FIELDS_BY_CLASS as _FIELDS_BY_CLASS
from tunelint.sources.python_fields import LEAVES
from tunelint.sources.python_scopes import dotted_name

# Statements that begin with a soft keyword (``match``, ``case``, ``type``, ``lazy``): a token
# that looks like a name and is no Name node, listed among the leaves under its own text.
SOFT_KEYWORDS = {"Match": "match", "MatchCase": "case", "TypeAlias": "type"}
SOFT_KEYWORDS |= {"LazyImport": "lazy", "LazyImportFrom": "lazy"}
# Compound statements whose header lines a suppression comment may cover.
COMPOUND = (cst.If, cst.For, cst.While, cst.With, cst.Try, cst.FunctionDef, cst.ClassDef)
COMPOUND_NAMES = ("Match",)
# Methods that change a dict in place (a ``**name`` splat reads what they do); other methods
# of a dict only read it.
DICT_MUTATORS = frozenset({"update", "pop", "popitem", "setdefault", "clear", "__setitem__"})
DICT_MUTATORS |= {"__delitem__", "__ior__"}
Handler = Callable[[Any, list[Any]], None]


class _Leave:
    """Marks the end of a node's children on the walk's stack."""

    __slots__ = ("action",)

    def __init__(self, action: Callable[[], None]) -> None:
        self.action = action


_LEAF = object()  # in a dispatch table: a leaf, listed for the position mapping
_NOTHING = object()  # in a dispatch table: whitespace, punctuation, nothing to walk


def _static_dispatch() -> dict[type, Any]:
    """Per class: _LEAF, _NOTHING, or (a getter of the fields worth walking, whether it
    returns several)."""
    table: dict[type, Any] = {}
    for cls, fields in _FIELDS_BY_CLASS.items():
        table[cls] = (attrgetter(*fields), len(fields) > 1) if fields else _NOTHING
    table.update(dict.fromkeys(LEAVES, _LEAF))
    return table


_STATIC_DISPATCH = _static_dispatch()


def _recording(statements: list[cst.CSTNode], handler: Handler) -> Handler:
    def record(node: cst.CSTNode, todo: list[Any]) -> None:
        statements.append(node)
        handler(node, todo)

    return record


def _method(call: cst.Call) -> str | None:
    return call.func.attr.value if isinstance(call.func, cst.Attribute) else None


def _is_dataclass_decorator(node: cst.BaseExpression) -> bool:
    target = node.func if isinstance(node, cst.Call) else node
    name = dotted_name(target) or ""
    return name.rsplit(".", 1)[-1] == "dataclass"


def _constant_truth(test: cst.BaseExpression) -> bool | None:
    """Whether a test written as a constant (``False``, ``None``, ``0``, ``True``, ``1``)
    always fails or always holds; None for anything else, ``TYPE_CHECKING`` included."""
    if isinstance(test, cst.Name) and test.value in ("True", "False", "None"):
        return test.value == "True"
    if isinstance(test, cst.Integer):
        return test.evaluated_value != 0
    return None
