"""Scopes and places: what a name is bound to where, and the limits of reading values.

Shared by the walk (``python_walk``), which records every binding, and by the Resolver
(``python_values``) and its readers, which look bindings up; kept apart from both so that
neither has to import the other for these.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from tunelint.facts import Raw

MAX_DEPTH = 12
MAX_CONTAINER_ITEMS = 256
MAX_STRING = 100_000
# Expressions visited for one value: names bound to containers of names fan out, and 30 such
# lines (a few kilobytes) would otherwise take longer than the universe's age to resolve.
MAX_WORK = 10_000


# Where a binding or a use is in its scope: the walk's count of places so far (source order)
# and the blocks around it that may not run (if/else branches, loop bodies, try bodies,
# match cases), outermost first, numbered uniquely per module.
Place = tuple[int, tuple[int, ...]]
MAX_ALTERNATIVES = 16


@dataclass(slots=True)
class ScopeInfo:
    """Names bound in one function (or the module): every binding, so reassignment shows,
    and where each binding is (``places``, parallel to ``bindings``; None when not known)."""

    name: str
    bindings: dict[str, list[cst.BaseExpression | None]] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    parent: ScopeInfo | None = None
    places: dict[str, list[Place | None]] = field(default_factory=dict)
    # Changes made in this scope to the dict a name holds, in source order: ("set", key
    # node, value node or None when not known), ("del", key node, None), ("call", the
    # method call: ``update``, ``pop``, ``setdefault``, ...), ("other", node, None): a change
    # that cannot be read (``x[a:b] = ...``). Read for ``**name`` splats.
    mutations: dict[str, list[tuple[str, cst.CSTNode, cst.BaseExpression | None, Place]]] = field(
        default_factory=dict
    )

    def bind(self, name: str, value: cst.BaseExpression | None, place: Place | None = None) -> None:
        self.bindings.setdefault(name, []).append(value)
        self.places.setdefault(name, []).append(place)

    def mutate(
        self,
        name: str,
        kind: str,
        node: cst.CSTNode,
        value: cst.BaseExpression | None,
        place: Place,
    ) -> None:
        self.mutations.setdefault(name, []).append((kind, node, value, place))


def dotted_name(node: cst.BaseExpression) -> str | None:
    """``a.b.c`` for Name/Attribute chains, else None."""
    parts: list[str] = []
    current: cst.BaseExpression = node
    while current.__class__ is cst.Attribute:  # the parser makes no subclasses
        parts.append(current.attr.value)
        current = current.value
    if current.__class__ is cst.Name:
        parts.append(current.value)
        return ".".join(reversed(parts))
    return None


# Names that are literals, never bindings.
_LITERALS: dict[str, Raw] = {"True": True, "False": False, "None": None}
