"""The several values a conditional expression may take, each where it is written.

A mixin of ``python_values.Resolver``: ``a if c else b``, a name bound in several branches
and an attribute stored in several places stand for several values, read here; resolving
one value is the Resolver's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import libcst as cst

from tunelint.facts import UNKNOWN, Raw, Span, Value
from tunelint.sources.python_reaching import Reaching
from tunelint.sources.python_scopes import (
    _LITERALS,
    MAX_ALTERNATIVES,
    MAX_DEPTH,
    MAX_WORK,
    Place,
    ScopeInfo,
    dotted_name,
)


class Alternatives(Reaching):
    """``alternatives`` and what it reads them with."""

    if TYPE_CHECKING:  # fields and methods of Resolver
        span_of: Callable[[cst.CSTNode], Span]
        code_of: Callable[[cst.CSTNode], str]
        work: int

        def _raw(
            self, node: cst.BaseExpression, scope: ScopeInfo, depth: int
        ) -> tuple[Raw, str]: ...

        def _attribute_default(self, node: cst.Attribute, scope: ScopeInfo) -> tuple[Raw, str]: ...
    else:  # no __dict__ for the slotted Resolver (mypy would refuse its fields set here)
        __slots__ = ()

    def alternatives(self, node: cst.BaseExpression, scope: ScopeInfo) -> tuple[Value, ...]:
        """The values a conditional expression may take, each where it is written: the
        branches of ``a if c else b``, and the assignments of a name bound in several
        branches that reach the place it is read. Empty unless there are several; a branch
        that cannot be resolved is there as Unknown, never left out."""
        self.work = 0
        return self._alternative_values(node, scope, 0)

    def _alternative_values(
        self, node: cst.BaseExpression, scope: ScopeInfo, depth: int
    ) -> tuple[Value, ...]:
        here = self.here
        try:
            found = self._alternatives(node, scope, depth)
        finally:
            self.here = here
        return _distinct(found)

    def _alternatives(self, node: cst.BaseExpression, scope: ScopeInfo, depth: int) -> list[Value]:
        self.work += 1
        if depth > MAX_DEPTH or self.work > MAX_WORK:
            return [self._unknown(node)]
        if node.__class__ is cst.IfExp:
            assert isinstance(node, cst.IfExp)
            self.span_of(node)  # first: placing it notes what holds its branches ("[]")
            body = self._alternatives(node.body, scope, depth + 1)
            return body + self._alternatives(node.orelse, scope, depth + 1)
        if node.__class__ is cst.Attribute:
            assert isinstance(node, cst.Attribute)
            dotted = dotted_name(node)
            stores = self._stores(dotted, scope) if dotted is not None else None
            if stores is not None:
                found = self._bound_alternatives(stores[0], node, scope, depth)
                if not stores[1]:  # what it held before, if no store ran
                    raw, origin = self._attribute_default(node, scope)
                    found.append(Value(raw, self.span_of(node), origin, self.code_of(node)))
                return found
        if node.__class__ is cst.Name:
            assert isinstance(node, cst.Name)
            reaching = self._reaching(node.value, scope) if node.value not in _LITERALS else None
            if reaching is not None:
                return self._bound_alternatives(reaching, node, scope, depth)
        raw, origin = self._raw(node, scope, depth + 1)
        return [Value(raw, self.span_of(node), origin, self.code_of(node))]

    def _unknown(self, node: cst.BaseExpression) -> Value:
        return Value(UNKNOWN, self.span_of(node), "unknown", self.code_of(node))

    def _bound_alternatives(
        self,
        bindings: list[tuple[cst.BaseExpression | None, ScopeInfo, Place]],
        node: cst.BaseExpression,
        scope: ScopeInfo,
        depth: int,
    ) -> list[Value]:
        """The values each binding may give, read where it is bound (a binding of a value
        not known gives Unknown, at the read)."""
        found: list[Value] = []
        for bound, owner, place in bindings:
            if bound is None:
                found.append(self._unknown(node))
                continue
            old = self._at(owner, place)
            try:
                found.extend(self._alternatives(bound, scope, depth + 1))
            finally:
                self.here = old
        return found


def _distinct(values: list[Value]) -> tuple[Value, ...]:
    """Alternatives, each place once; none unless there are several."""
    unique: dict[tuple[Span, str], Value] = {}
    for value in values:
        for one in value.alternatives or (value,):
            unique.setdefault((one.span, one.text), one)
    if len(unique) < 2:
        return ()
    return tuple(list(unique.values())[:MAX_ALTERNATIVES])


def _same(left: Raw, right: Raw) -> bool:
    """Known and equal, of the same type (``1`` is not ``True``, ``"a"`` is not ``b"a"``)."""
    if left is UNKNOWN or right is UNKNOWN or type(left) is not type(right):
        return False
    return bool(left == right)  # literals, containers of literals, UNKNOWN: no __eq__ of code
