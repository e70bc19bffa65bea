"""Static value resolution for Python: what an expression is, without running anything.

Resolves literals, names bound once in the same scope (or at module level), argparse
``add_argument(default=...)``, dataclass field defaults read through
``HfArgumentParser``, simple f-strings, ``os.path.join``/``Path`` of literals and
``os.getenv``/``os.environ.get`` with a default. Everything else is Unknown: a linter that
guesses values produces findings nobody can trust.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import libcst as cst

from tunelint.facts import UNKNOWN, Raw, Span, Value

# Library constants whose meaning is their name: ``torch.bfloat16`` stays "torch.bfloat16".
LIBRARY_CONSTANTS = frozenset(
    f"torch.{name}"
    for name in (
        "float16",
        "half",
        "bfloat16",
        "float32",
        "float",
        "float64",
        "double",
        "int8",
        "uint8",
        "float8_e4m3fn",
        "float8_e5m2",
    )
)
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


@dataclass(slots=True)
class Resolver:
    """Turns expressions into Values for one module, given the bindings the walk recorded."""

    aliases: dict[str, str]
    span_of: Callable[[cst.CSTNode], Span]
    code_of: Callable[[cst.CSTNode], str]
    argparse_defaults: dict[str, Value] = field(default_factory=dict)
    dataclass_fields: dict[str, dict[str, Value]] = field(default_factory=dict)
    work: int = 0  # expressions visited for the value being resolved
    # Where the expression being resolved is evaluated (its scope and place), when known:
    # a name bound more than once is then read from the bindings that reach that place.
    here: tuple[ScopeInfo, Place] | None = None
    # Blocks (of ``Place``) that are loop bodies: a binding later in the same loop reaches a
    # use earlier in it, on the next pass.
    loop_blocks: set[int] = field(default_factory=set)

    # -- names -------------------------------------------------------------------------
    def qualify(self, dotted: str) -> tuple[str, bool]:
        """Expand the first segment through imports: ``tf.Trainer`` -> ``transformers.Trainer``."""
        head, _, rest = dotted.partition(".")
        target = self.aliases.get(head)
        if target is None:
            return dotted, False
        return (f"{target}.{rest}" if rest else target), True

    def binding(self, name: str, scope: ScopeInfo) -> tuple[cst.BaseExpression | None, bool]:
        """The one expression bound to ``name`` as seen from ``scope``, else (None, False)."""
        current: ScopeInfo | None = scope
        while current is not None:
            values = current.bindings.get(name)
            if values is not None:
                if len(values) == 1 and values[0] is not None:
                    return values[0], True
                return None, False
            current = current.parent
        return None, False

    def type_of(self, node: cst.BaseExpression, scope: ScopeInfo, depth: int = 0) -> str | None:
        """The class an expression is an instance of, when construction shows it."""
        if depth > MAX_DEPTH:
            return None
        if isinstance(node, cst.Name):
            current: ScopeInfo | None = scope
            while current is not None:
                if node.value in current.types:
                    return current.types[node.value]
                if node.value in current.bindings:
                    bound, single = self.binding(node.value, current)
                    if single and bound is not None:
                        return self.type_of(bound, current, depth + 1)
                    return None
                current = current.parent
            return None
        if isinstance(node, cst.Call):
            callee = self.callee_name(node.func, scope, depth + 1)
            if callee is None:
                return None
            name, resolved = callee
            last = name.rsplit(".", 1)[-1]
            if last in {"parse_args", "parse_intermixed_args"}:
                return "argparse"
            if last in {"from_pretrained", "from_config"}:
                return name.rsplit(".", 1)[0]
            if last[:1].isupper():
                return name
            # A local or builtin function's result: nothing is known about it.
            return f"{name}()" if resolved else None
        if isinstance(node, cst.Await):
            return self.type_of(node.expression, scope, depth + 1)
        return None

    def callee_name(
        self, func: cst.BaseExpression, scope: ScopeInfo, depth: int = 0
    ) -> tuple[str, bool] | None:
        """Qualified callee and whether it was resolved through an import or a known type."""
        dotted = dotted_name(func)
        if dotted is not None:
            head, _, rest = dotted.partition(".")
            if head not in self.aliases and rest:
                owner = self.type_of(cst.Name(head), scope, depth + 1)
                if owner is not None:
                    return f"{owner}.{rest}", True
            return self.qualify(dotted)
        if isinstance(func, cst.Attribute):
            owner = self.type_of(func.value, scope, depth + 1)
            if owner is not None:
                return f"{owner}.{func.attr.value}", True
            return f"?.{func.attr.value}", False
        return None

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

    # -- values ------------------------------------------------------------------------
    def value(self, node: cst.BaseExpression, scope: ScopeInfo) -> Value:
        self.work = 0
        return self._value(node, scope, 0)

    def _value(self, node: cst.BaseExpression, scope: ScopeInfo, depth: int) -> Value:
        if node.__class__ is cst.Attribute:
            written = self._written(node, scope, depth)
            if written is not None:
                return written
        raw, origin = self._raw(node, scope, depth)
        alternatives: tuple[Value, ...] = ()
        if raw is UNKNOWN and node.__class__ in _CONDITIONAL:
            alternatives = self._alternative_values(node, scope, depth)
        return Value(
            raw=raw,
            span=self.span_of(node),
            origin=origin,
            text=self.code_of(node),
            alternatives=alternatives,
        )

    def _written(self, node: cst.Attribute, scope: ScopeInfo, depth: int) -> Value | None:
        """An attribute set once before it is read (``train_config.model_name = "org/x"``
        above ``from_pretrained(train_config.model_name)``): the value where it is written,
        with ``via`` the read. None otherwise."""
        dotted = dotted_name(node)
        stores = self._stores(dotted, scope) if dotted is not None else None
        if stores is None or not stores[1] or len(stores[0]) != 1:
            return None
        bound, owner, place = stores[0][0]
        if bound is None:
            return None
        old = self._at(owner, place)
        try:
            value = self._value(bound, scope, depth + 1)
        finally:
            self.here = old
        if not value.known:
            return None
        return replace(value, origin="constant", via=value.via or self.span_of(node))

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
                found: list[Value] = []
                for bound, owner, place in stores[0]:
                    if bound is None:
                        found.append(self._unknown(node))
                        continue
                    old = self._at(owner, place)
                    found.extend(self._alternatives(bound, scope, depth + 1))
                    self.here = old
                if not stores[1]:  # what it held before, if no store ran
                    raw, origin = self._attribute_default(node, scope)
                    found.append(Value(raw, self.span_of(node), origin, self.code_of(node)))
                return found
        if node.__class__ is cst.Name:
            assert isinstance(node, cst.Name)
            reaching = self._reaching(node.value, scope) if node.value not in _LITERALS else None
            if reaching is not None:
                found = []
                for bound, owner, place in reaching:
                    if bound is None:
                        found.append(self._unknown(node))
                        continue
                    old = self._at(owner, place)
                    found.extend(self._alternatives(bound, scope, depth + 1))
                    self.here = old
                return found
        raw, origin = self._raw(node, scope, depth + 1)
        return [Value(raw, self.span_of(node), origin, self.code_of(node))]

    def _unknown(self, node: cst.BaseExpression) -> Value:
        return Value(UNKNOWN, self.span_of(node), "unknown", self.code_of(node))

    # -- ``**`` splats -------------------------------------------------------------------
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

    def raw(self, node: cst.BaseExpression, scope: ScopeInfo) -> tuple[Raw, str]:
        """What ``value`` resolves, without the span and text that only a kept Value needs."""
        self.work = 0
        return self._raw(node, scope, 0)

    def text_of(self, node: cst.BaseExpression, scope: ScopeInfo) -> str | None:
        """The value of an expression when it is a string, else None."""
        raw = self.raw(node, scope)[0]
        return raw if isinstance(raw, str) else None

    def _raw(self, node: cst.BaseExpression, scope: ScopeInfo, depth: int) -> tuple[Raw, str]:
        self.work += 1
        if depth > MAX_DEPTH or self.work > MAX_WORK:
            return UNKNOWN, "unknown"
        # classes compared by identity: the parser makes no subclasses, and isinstance on
        # libcst's abstract classes costs more than the rest of this step
        cls = node.__class__
        if cls is cst.Name:
            return self._name(node, scope, depth)  # type: ignore[arg-type]
        if cls is cst.Attribute:
            return self._attribute(node, scope, depth)  # type: ignore[arg-type]
        if cls is cst.Call:
            return self._call(node, scope, depth)  # type: ignore[arg-type]
        if cls is cst.SimpleString or cls is cst.ConcatenatedString:
            plain = _plain_string(node.value) if cls is cst.SimpleString else None  # type: ignore[attr-defined]
            if plain is not None:
                return plain, "literal"
            try:
                with warnings.catch_warnings():  # "invalid escape sequence" is the file's
                    warnings.simplefilter("ignore")
                    text = node.evaluated_value  # type: ignore[attr-defined]
            except (SyntaxError, ValueError):  # a NUL byte in the literal, and the like
                return UNKNOWN, "unknown"
            if isinstance(text, bytes):
                return UNKNOWN, "unknown"
            return (text, "literal") if text is not None else (UNKNOWN, "unknown")
        if cls is cst.Integer or cls is cst.Float:
            try:
                evaluated = node.evaluated_value  # type: ignore[attr-defined]
            except (SyntaxError, ValueError):  # more digits than int() converts (4300)
                return UNKNOWN, "unknown"
            return evaluated, "literal"
        if cls is cst.UnaryOperation and isinstance(node.operator, cst.Minus):  # type: ignore[attr-defined]
            inner, origin = self._raw(node.expression, scope, depth + 1)  # type: ignore[attr-defined]
            if isinstance(inner, int | float) and not isinstance(inner, bool):
                return -inner, origin
            return UNKNOWN, "unknown"
        if isinstance(node, cst.List | cst.Tuple | cst.Set):  # (Imaginary and the rest: below)
            items: list[Raw] = []
            for element in node.elements[:MAX_CONTAINER_ITEMS]:
                if isinstance(element, cst.StarredElement):
                    return UNKNOWN, "unknown"
                items.append(self._raw(element.value, scope, depth + 1)[0])
            return (tuple(items) if isinstance(node, cst.Tuple) else items), "literal"
        if isinstance(node, cst.Dict):
            mapping: dict[object, Raw] = {}
            for entry in node.elements[:MAX_CONTAINER_ITEMS]:
                if not isinstance(entry, cst.DictElement):
                    return UNKNOWN, "unknown"
                key, _ = self._raw(entry.key, scope, depth + 1)
                if key is UNKNOWN or isinstance(key, list | dict):
                    return UNKNOWN, "unknown"
                mapping[key] = self._raw(entry.value, scope, depth + 1)[0]
            return mapping, "literal"
        if cls is cst.IfExp:  # one value when both branches agree
            body = self._raw(node.body, scope, depth + 1)  # type: ignore[attr-defined]
            orelse = self._raw(node.orelse, scope, depth + 1)  # type: ignore[attr-defined]
            return body if _same(body[0], orelse[0]) else (UNKNOWN, "unknown")
        if isinstance(node, cst.FormattedString):
            return self._fstring(node, scope, depth)
        if isinstance(node, cst.BinaryOperation):
            return self._binary(node, scope, depth)
        return UNKNOWN, "unknown"

    def _name(self, node: cst.Name, scope: ScopeInfo, depth: int) -> tuple[Raw, str]:
        if node.value in _LITERALS:
            return _LITERALS[node.value], "literal"
        reaching = self._reaching(node.value, scope)
        if reaching is not None:
            # what each binding that may hold here resolves to, read where it is bound: one
            # value when they all agree (``x = "a"`` in both branches), else Unknown
            raws: list[Raw] = []
            for bound, owner, place in reaching:
                if bound is None:
                    return UNKNOWN, "unknown"
                old = self._at(owner, place)
                try:
                    raws.append(self._raw(bound, scope, depth + 1)[0])
                finally:
                    self.here = old
            if raws and all(_same(raw, raws[0]) for raw in raws[1:]):
                return raws[0], ("constant" if raws[0] is not UNKNOWN else "unknown")
            return UNKNOWN, "unknown"
        bound, single = self.binding(node.value, scope)
        if single and bound is not None:
            raw, _ = self._raw(bound, scope, depth + 1)
            return raw, ("constant" if raw is not UNKNOWN else "unknown")
        return UNKNOWN, "unknown"

    def _fstring(self, node: cst.FormattedString, scope: ScopeInfo, depth: int) -> tuple[Raw, str]:
        pieces: list[str] = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                pieces.append(part.value)
                continue
            if not isinstance(part, cst.FormattedStringExpression):
                return UNKNOWN, "unknown"
            if part.format_spec or part.conversion:
                return UNKNOWN, "unknown"
            inner, _ = self._raw(part.expression, scope, depth + 1)
            if isinstance(inner, bool) or not isinstance(inner, str | int | float):
                return UNKNOWN, "unknown"
            pieces.append(str(inner))
        text = "".join(pieces)
        return (text, "fstring") if len(text) <= MAX_STRING else (UNKNOWN, "unknown")

    def _binary(self, node: cst.BinaryOperation, scope: ScopeInfo, depth: int) -> tuple[Raw, str]:
        left, _ = self._raw(node.left, scope, depth + 1)
        right, _ = self._raw(node.right, scope, depth + 1)
        if isinstance(node.operator, cst.Add) and isinstance(left, str) and isinstance(right, str):
            joined = left + right
            return (joined, "constant") if len(joined) <= MAX_STRING else (UNKNOWN, "unknown")
        # pathlib: Path("a") / "b" arrives here with the Path call resolved to "a".
        if (
            isinstance(node.operator, cst.Divide)
            and isinstance(left, str)
            and isinstance(right, str)
            and self._is_path_expr(node.left, scope)
        ):
            return _join_paths(left, right), "join"
        return UNKNOWN, "unknown"

    def _is_path_expr(self, node: cst.BaseExpression, scope: ScopeInfo) -> bool:
        if isinstance(node, cst.Call):
            callee = self.callee_name(node.func, scope)
            return callee is not None and callee[0] in {"pathlib.Path", "pathlib.PurePath"}
        if isinstance(node, cst.BinaryOperation):
            return self._is_path_expr(node.left, scope)
        if isinstance(node, cst.Name):
            bound, single = self.binding(node.value, scope)
            return single and bound is not None and self._is_path_expr(bound, scope)
        return False

    def _attribute(self, node: cst.Attribute, scope: ScopeInfo, depth: int) -> tuple[Raw, str]:
        dotted = dotted_name(node)
        if dotted is not None:
            qualified, resolved = self.qualify(dotted)
            if resolved and qualified in LIBRARY_CONSTANTS:
                return qualified, "constant"
            stores = self._stores(dotted, scope)
            if stores is not None:  # set in code before it is read: what was set, if one
                found, complete = stores
                raws: list[Raw] = []
                for bound, owner, place in found:
                    if bound is None:
                        return UNKNOWN, "unknown"
                    old = self._at(owner, place)
                    try:
                        raws.append(self._raw(bound, scope, depth + 1)[0])
                    finally:
                        self.here = old
                if not complete:
                    raws.append(self._attribute_default(node, scope)[0])
                if all(_same(raw, raws[0]) for raw in raws[1:]):
                    return raws[0], ("constant" if raws[0] is not UNKNOWN else "unknown")
                return UNKNOWN, "unknown"
        return self._attribute_default(node, scope)

    def _attribute_default(self, node: cst.Attribute, scope: ScopeInfo) -> tuple[Raw, str]:
        """An attribute's value when no code sets it: an argparse option's or a dataclass
        field's default."""
        owner = self.type_of(node.value, scope)
        attr = node.attr.value
        if owner == "argparse" and attr in self.argparse_defaults:
            return self.argparse_defaults[attr].raw, "argparse-default"
        if owner is not None and owner in self.dataclass_fields:
            found = self.dataclass_fields[owner].get(attr)
            if found is not None:
                return found.raw, "dataclass-default"
        return UNKNOWN, "unknown"

    def _call(self, node: cst.Call, scope: ScopeInfo, depth: int) -> tuple[Raw, str]:
        callee = self.callee_name(node.func, scope)
        if callee is None:
            return UNKNOWN, "unknown"
        name = callee[0]
        positional = [a.value for a in node.args if a.keyword is None and not a.star]
        if name in {"os.getenv", "os.environ.get"}:
            default = next((a.value for a in node.args if _kw(a) == "default"), None)
            if default is None and len(positional) >= 2:
                default = positional[1]
            if default is None:
                return UNKNOWN, "unknown"
            raw, _ = self._raw(default, scope, depth + 1)
            return (raw, "env-default") if raw is not UNKNOWN else (UNKNOWN, "unknown")
        if name in {"os.path.join", "posixpath.join"} and positional:
            parts = [self._raw(p, scope, depth + 1)[0] for p in positional]
            if all(isinstance(p, str) for p in parts) and len(parts) == len(node.args):
                joined = parts[0]
                assert isinstance(joined, str)
                for part in parts[1:]:
                    assert isinstance(part, str)
                    joined = _join_paths(joined, part)
                return joined, "join"
            return UNKNOWN, "unknown"
        if name in {"pathlib.Path", "pathlib.PurePath", "str", "os.fspath"} and positional:
            parts = [self._raw(p, scope, depth + 1)[0] for p in positional]
            if all(isinstance(p, str) for p in parts):
                joined = str(parts[0])
                for part in parts[1:]:
                    joined = _join_paths(joined, str(part))
                return joined, "join"
            return UNKNOWN, "unknown"
        if name == "dict" and not positional:
            mapping: dict[object, Raw] = {}
            for argument in node.args:
                if argument.keyword is None:
                    return UNKNOWN, "unknown"
                mapping[argument.keyword.value] = self._raw(argument.value, scope, depth + 1)[0]
            return mapping, "literal"
        return UNKNOWN, "unknown"


_LITERALS: dict[str, Raw] = {"True": True, "False": False, "None": None}
# Expressions that may stand for several values: conditionals, names and attributes bound
# in several places.
_CONDITIONAL = (cst.IfExp, cst.Name, cst.Attribute)
# The entries a ``**`` splat passes: key -> (value, whether the key may be absent).
Entries = dict[str, tuple[Value, bool]]


def _distinct(values: list[Value]) -> tuple[Value, ...]:
    """Alternatives, each place once; none unless there are several."""
    unique: dict[tuple[Span, str], Value] = {}
    for value in values:
        for one in value.alternatives or (value,):
            unique.setdefault((one.span, one.text), one)
    if len(unique) < 2:
        return ()
    return tuple(list(unique.values())[:MAX_ALTERNATIVES])


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


def _same(left: Raw, right: Raw) -> bool:
    """Known and equal, of the same type (``1`` is not ``True``, ``"a"`` is not ``b"a"``)."""
    if left is UNKNOWN or right is UNKNOWN or type(left) is not type(right):
        return False
    return bool(left == right)  # literals, containers of literals, UNKNOWN: no __eq__ of code


def _plain_string(literal: str) -> str | None:
    """The value of a string literal with nothing to decode (no escape, no carriage return:
    Python turns those into newlines), else None, and Python's own reading is needed."""
    start = 0
    while literal[start] not in "'\"":
        start += 1
    prefix = literal[:start].lower()
    if prefix not in ("", "r", "u"):
        return None
    triple = len(literal) - start >= 6 and literal.startswith(("'''", '"""'), start)
    width = 3 if triple else 1
    inner = literal[start + width : len(literal) - width]
    if "\r" in inner or "\x00" in inner or ("\\" in inner and prefix != "r"):
        return None
    return inner


def _kw(argument: cst.Arg) -> str | None:
    return argument.keyword.value if argument.keyword is not None else None


def _join_paths(left: str, right: str) -> str:
    if right.startswith("/"):
        return right
    if not left or left.endswith("/"):
        return left + right
    return f"{left}/{right}"
