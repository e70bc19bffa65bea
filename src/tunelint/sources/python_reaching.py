"""Which bindings of a name reach the place where it is read: the Resolver's flow reading.

A mixin of ``python_values.Resolver``, kept apart because it reads only the places the walk
recorded (``ScopeInfo.places``), never a value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from tunelint.sources.python_scopes import Place, ScopeInfo


class Reaching:
    """Bindings (and attribute stores) that reach ``here``, the place being read."""

    if TYPE_CHECKING:  # fields of Resolver
        here: tuple[ScopeInfo, Place] | None
        loop_blocks: set[int]
    else:  # no __dict__ for the slotted Resolver (mypy would refuse its fields set here)
        __slots__ = ()

    def _reaching(
        self, name: str, scope: ScopeInfo
    ) -> list[tuple[cst.BaseExpression | None, ScopeInfo, Place]] | None:
        """The bindings of ``name`` that may hold when it is read ``here``, latest first, with
        the scope and place of each; a None expression for a binding of unknown value (a
        parameter, a loop target, ``+=``). Read from another scope (a function reading a
        module name), every binding of that scope: which holds depends on when the function
        is called. A read that no binding may reach before it raises NameError when it runs:
        there is nothing to read (None, as when the place of the read or of a binding is not
        known)."""
        found = self._reaching_all(name, scope)
        return found[0] if found is not None and found[0] else None

    def _reaching_all(
        self, name: str, scope: ScopeInfo
    ) -> tuple[list[tuple[cst.BaseExpression | None, ScopeInfo, Place]], bool] | None:
        """``_reaching``, and whether one of the bindings runs whenever the read does (else
        the read may also see what was there before them all)."""
        if self.here is None:
            return None
        owner: ScopeInfo | None = scope
        while owner is not None and name not in owner.bindings:
            owner = owner.parent
        if owner is None:
            return None
        places = owner.places[name]
        if any(place is None for place in places):
            return None
        pairs = list(zip(reversed(owner.bindings[name]), reversed(places), strict=True))
        if self.here[0] is not owner:
            return [(value, owner, place) for value, place in pairs if place is not None], False
        order, path = self.here[1]
        loops = {block for block in path if block in self.loop_blocks}
        found: list[tuple[cst.BaseExpression | None, ScopeInfo, Place]] = []
        for value, place in pairs:
            assert place is not None
            where, blocks = place
            if where > order:  # later: only a loop around both carries it back
                if loops.intersection(blocks):
                    found.append((value, owner, place))
                continue
            found.append((value, owner, place))
            if blocks == path[: len(blocks)]:  # it runs whenever the read does: none before
                return found, True
        return found, False

    def _stores(
        self, dotted: str, scope: ScopeInfo
    ) -> tuple[list[tuple[cst.BaseExpression | None, ScopeInfo, Place]], bool] | None:
        """Assignments to an attribute (``train_config.model_name = "org/x"``) that reach
        its read ``here``, and whether one of them surely runs before it (else the value it
        had before may be read: a default, or nothing known). Stores made before the object
        was last bound in the same scope are of another object. None without any."""
        found = self._reaching_all(dotted, scope)
        if found is None or not found[0]:
            return None
        stores, complete = found
        owner = stores[0][1]
        receiver = self._reaching_all(dotted.split(".", 1)[0], scope)
        if receiver is not None:
            floor = [place[0] for _, where, place in receiver[0] if where is owner]
            if floor:
                stores = [store for store in stores if store[2][0] > min(floor)]
        return (stores, complete) if stores else None

    def _at(self, scope: ScopeInfo, place: Place) -> tuple[ScopeInfo, Place] | None:
        """Move ``here`` to ``place`` (an expression bound there is read there); the old."""
        old, self.here = self.here, (scope, place)
        return old
