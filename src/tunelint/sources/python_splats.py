"""The keyword arguments a ``**dict`` splat passes, each where its entry is written.

A mixin of ``python_values.Resolver``: entries of dict literals and ``dict(...)`` calls,
through the bindings of a name that reach the splat and the changes made to the dict
before it (``kwargs[key] = v``, ``update``, ``pop``, ``del``). Values are the Resolver's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import libcst as cst

from tunelint.facts import UNKNOWN, Raw, Span, Value
from tunelint.sources.python_alternatives import _distinct, _same
from tunelint.sources.python_reaching import Reaching
from tunelint.sources.python_scopes import (
    MAX_CONTAINER_ITEMS,
    MAX_DEPTH,
    MAX_WORK,
    Place,
    ScopeInfo,
)

# The entries a ``**`` splat passes: key -> (value, whether the key may be absent).
Entries = dict[str, tuple[Value, bool]]


class Splats(Reaching):
    """``splat`` and what it reads a dict's entries with."""

    if TYPE_CHECKING:  # fields and methods of Resolver
        span_of: Callable[[cst.CSTNode], Span]
        work: int

        def binding(
            self, name: str, scope: ScopeInfo
        ) -> tuple[cst.BaseExpression | None, bool]: ...

        def callee_name(
            self, func: cst.BaseExpression, scope: ScopeInfo, depth: int = 0
        ) -> tuple[str, bool] | None: ...

        def _value(self, node: cst.BaseExpression, scope: ScopeInfo, depth: int) -> Value: ...

        def _raw(
            self, node: cst.BaseExpression, scope: ScopeInfo, depth: int
        ) -> tuple[Raw, str]: ...
    else:  # no __dict__ for the slotted Resolver (mypy would refuse its fields set here)
        __slots__ = ()

    def splat(self, node: cst.BaseExpression, scope: ScopeInfo) -> list[tuple[str, Value]] | None:
        """The keyword arguments ``**node`` passes, each a Value with the span where its entry
        is written (``"push_to_hub": True`` in ``kwargs = {...}``, ``kwargs["log_with"] =
        "wandb"``) and ``via`` the splat. Entries of a dict literal or ``dict(...)``, through
        the bindings of a name that reach the splat (a dict bound in each branch of an if:
        the union, a key of one branch passed as written there), then the changes made to
        it before the splat in the same scope (``kwargs[key] = v``, ``update``, ``pop``,
        ``setdefault``, ``del``). None when any part cannot be read: the call then has
        ``star_args``."""
        self.work = 0
        here = self.here
        try:
            found = self._entries(node, scope, 0)
        finally:
            self.here = here
        if found is None:
            return None
        via = self.span_of(node)
        return [
            (key, value if value.via is not None else replace(value, via=via))
            for key, (value, _) in found.items()
        ]

    def _entries(self, node: cst.BaseExpression, scope: ScopeInfo, depth: int) -> Entries | None:
        self.work += 1
        if depth > MAX_DEPTH or self.work > MAX_WORK:
            return None
        cls = node.__class__
        if cls is cst.Dict:
            assert isinstance(node, cst.Dict)
            if len(node.elements) > MAX_CONTAINER_ITEMS:
                return None
            found: Entries = {}
            for element in node.elements:
                if not isinstance(element, cst.DictElement):  # ``**other``
                    inner = self._entries(element.value, scope, depth + 1)
                    if inner is None:
                        return None
                    found.update(inner)
                    continue
                key = self._raw(element.key, scope, depth + 1)[0]
                if not isinstance(key, str):
                    return None
                found[key] = (self._value(element.value, scope, depth + 1), False)
            return found
        if cls is cst.Call:
            assert isinstance(node, cst.Call)
            if self.callee_name(node.func, scope) != ("dict", False):
                return None
            return self._arguments(node, scope, depth, positional=True)
        if cls is cst.Name:
            assert isinstance(node, cst.Name)
            return self._name_entries(node.value, scope, depth)
        return None

    def _arguments(
        self, call: cst.Call, scope: ScopeInfo, depth: int, positional: bool
    ) -> Entries | None:
        """Entries that ``dict(...)`` or ``d.update(...)`` adds: a mapping, keywords, ``**``."""
        found: Entries = {}
        for argument in call.args:
            if argument.star == "**" or (positional and argument.keyword is None):
                if argument.star == "*":
                    return None
                inner = self._entries(argument.value, scope, depth + 1)
                if inner is None:
                    return None
                found.update(inner)
            elif argument.keyword is not None:
                value = self._value(argument.value, scope, depth + 1)
                found[argument.keyword.value] = (value, False)
            else:
                return None
        return found

    def _name_entries(self, name: str, scope: ScopeInfo, depth: int) -> Entries | None:
        reaching = self._reaching(name, scope)
        if reaching is None:  # no place known: a single binding, never changed
            bound, single = self.binding(name, scope)
            owner: ScopeInfo | None = scope
            while owner is not None and name not in owner.bindings:
                owner = owner.parent
            if not single or bound is None or owner is None or name in owner.mutations:
                return None
            return self._entries(bound, scope, depth + 1)
        each: list[Entries] = []
        reader = self.here
        for bound, owner, place in reaching:
            if bound is None:
                return None
            old = self._at(owner, place)
            try:
                found = self._entries(bound, scope, depth + 1)
                if found is not None:
                    found = self._changed(name, found, (owner, place), reader, scope, depth)
            finally:
                self.here = old
            if found is None:
                return None
            each.append(found)
        return _union(each)

    def _changed(
        self,
        name: str,
        entries: Entries,
        binding: tuple[ScopeInfo, Place],
        reader: tuple[ScopeInfo, Place] | None,
        scope: ScopeInfo,
        depth: int,
    ) -> Entries | None:
        """``entries`` of the dict bound at ``binding``, after the changes made to it in the
        same scope that reach the read at ``reader`` (from another scope: any change may)."""
        owner, bound = binding
        mutations = owner.mutations.get(name)
        if not mutations:
            return entries
        same = reader is not None and reader[0] is owner
        order, path = reader[1] if reader is not None and same else (1 << 62, ())
        loops = {block for block in path if block in self.loop_blocks}
        found = dict(entries)
        for kind, node, value, place in mutations:
            where, blocks = place
            if where <= bound[0] or (where >= order and not loops.intersection(blocks)):
                continue
            definite = same and where < order and blocks == path[: len(blocks)]
            self.here = (owner, place)
            changes = self._change(kind, node, value, found, scope, depth)
            if changes is None:
                return None
            for key, change in changes:
                _apply(found, key, change, definite)
        return found

    def _change(
        self,
        kind: str,
        node: cst.CSTNode,
        value: cst.BaseExpression | None,
        found: Entries,
        scope: ScopeInfo,
        depth: int,
    ) -> list[tuple[str, Value | None]] | None:
        """What one change does: (key, new value), or (key, None) for a key removed."""
        if kind == "other":
            return None
        if kind in {"set", "del"}:
            key = self._raw(node, scope, depth + 1)[0]  # type: ignore[arg-type]
            if not isinstance(key, str):
                return None
            if kind == "del":
                return [(key, None)]
            new = self._value(value, scope, depth + 1) if value is not None else None
            return [(key, new or Value(UNKNOWN, self.span_of(node), "unknown", ""))]
        assert isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
        method = node.func.attr.value
        positional = [a.value for a in node.args if a.keyword is None and not a.star]
        if method == "update":
            added = self._arguments(node, scope, depth, positional=True)
            return None if added is None else [(k, v) for k, (v, _) in added.items()]
        key = self._raw(positional[0], scope, depth + 1)[0] if positional else UNKNOWN
        if not isinstance(key, str):
            return None
        if method in {"pop", "__delitem__"}:
            return [(key, None)]
        if method in {"setdefault", "__setitem__"} and len(positional) <= 2:
            if method == "setdefault" and key in found and not found[key][1]:
                return []  # already there: setdefault changes nothing
            new = self._value(positional[1], scope, depth + 1) if len(positional) == 2 else None
            return [(key, new or Value(None, self.span_of(node), "literal", ""))]
        return None


def _either(old: Value, new: Value) -> Value:
    """A key that may hold ``old`` or ``new``: the one value when they agree, else Unknown
    with both as alternatives."""
    if _same(old.raw, new.raw):
        return new
    alternatives = _distinct([old, new])
    return Value(UNKNOWN, new.span, "unknown", new.text, new.via, alternatives)


def _apply(found: Entries, key: str, change: Value | None, definite: bool) -> None:
    """One change to a splat's entries: a new value (or None, the key removed), made on every
    path to the splat (``definite``) or on some."""
    if change is None:
        if definite:
            found.pop(key, None)
        elif key in found:
            found[key] = (found[key][0], True)
        return
    if definite or key not in found:
        found[key] = (change, not definite)
        return
    old, optional = found[key]
    found[key] = (_either(old, change), optional)


def _union(each: list[Entries]) -> Entries:
    """Entries of a dict bound differently on different paths: every key of any, absent
    where one path lacks it, its values merged."""
    found: Entries = {}
    for entries in each:
        for key, (value, optional) in entries.items():
            if key in found:
                old, was = found[key]
                found[key] = (_either(old, value), was or optional)
            else:
                found[key] = (value, optional)
    for key in found:
        if any(key not in entries for entries in each):
            found[key] = (found[key][0], True)
    return found
