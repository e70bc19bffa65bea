"""Static value resolution for Python: what an expression is, without running anything.

Resolves literals, names bound once in the same scope (or at module level), argparse
``add_argument(default=...)``, dataclass field defaults read through
``HfArgumentParser``, simple f-strings, ``os.path.join``/``Path`` of literals and
``os.getenv``/``os.environ.get`` with a default. Everything else is Unknown: a linter that
guesses values produces findings nobody can trust.

Conditional alternatives (``python_alternatives``), ``**dict`` splats (``python_splats``)
and which bindings reach a read (``python_reaching``) are mixins of the Resolver, in
modules of their own; scopes and the limits are in ``python_scopes``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import libcst as cst

from tunelint.facts import UNKNOWN, Raw, Span, Value
from tunelint.sources.python_alternatives import Alternatives, _same
from tunelint.sources.python_scopes import (
    _LITERALS,
    MAX_CONTAINER_ITEMS,
    MAX_DEPTH,
    MAX_STRING,
    MAX_WORK,
    Place,
    ScopeInfo,
    dotted_name,
)
from tunelint.sources.python_splats import Splats

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


@dataclass(slots=True)
class Resolver(Alternatives, Splats):
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

    def raw(self, node: cst.BaseExpression, scope: ScopeInfo) -> tuple[Raw, str]:
        """What ``value`` resolves, without the span and text that only a kept Value needs."""
        self.work = 0
        return self._raw(node, scope, 0)

    def text_of(self, node: cst.BaseExpression, scope: ScopeInfo) -> str | None:
        """The value of an expression when it is a string, else None."""
        raw = self.raw(node, scope)[0]
        return raw if isinstance(raw, str) else None

    def mapping_key(self, node: cst.BaseExpression, scope: ScopeInfo, depth: int = 0) -> str | None:
        """The key a value is read under from a mapping filled at run time
        (``config["base_model"]``, ``cfg.get("base_model")``), also through a name bound once
        to such a read; None for anything else, environment variables included (a config
        loaded from a file names what the code loads)."""
        if depth > 3:
            return None
        key: cst.BaseExpression | None = None
        owner: cst.BaseExpression | None = None
        if isinstance(node, cst.Subscript) and len(node.slice) == 1:
            element = node.slice[0].slice
            if isinstance(element, cst.Index):
                key, owner = element.value, node.value
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            if node.func.attr.value == "get" and node.args and node.args[0].keyword is None:
                key, owner = node.args[0].value, node.func.value
        elif isinstance(node, cst.Name):
            reaching = self._reaching(node.value, scope)
            if reaching is None or len(reaching) != 1:
                return None
            bound, where, place = reaching[0]
            if bound is None:
                return None
            old = self._at(where, place)
            try:
                return self.mapping_key(bound, scope, depth + 1)
            finally:
                self.here = old
        if key is None or owner is None:
            return None
        dotted = dotted_name(owner)
        if dotted is not None and self.qualify(dotted)[0] in {"os.environ", "sys.argv"}:
            return None
        text = self.text_of(key, scope)
        return text if text and _KEY.fullmatch(text) else None

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

    def _bound_raws(
        self,
        bindings: list[tuple[cst.BaseExpression | None, ScopeInfo, Place]],
        scope: ScopeInfo,
        depth: int,
    ) -> list[Raw] | None:
        """What each binding resolves to, read where it is bound; None when one of them holds
        a value not known there (a parameter, a loop target, ``+=``)."""
        raws: list[Raw] = []
        for bound, owner, place in bindings:
            if bound is None:
                return None
            old = self._at(owner, place)
            try:
                raws.append(self._raw(bound, scope, depth + 1)[0])
            finally:
                self.here = old
        return raws

    def _name(self, node: cst.Name, scope: ScopeInfo, depth: int) -> tuple[Raw, str]:
        if node.value in _LITERALS:
            return _LITERALS[node.value], "literal"
        reaching = self._reaching(node.value, scope)
        if reaching is not None:
            # what each binding that may hold here resolves to, read where it is bound: one
            # value when they all agree (``x = "a"`` in both branches), else Unknown
            raws = self._bound_raws(reaching, scope, depth)
            if raws is None:
                return UNKNOWN, "unknown"
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
                raws = self._bound_raws(found, scope, depth)
                if raws is None:
                    return UNKNOWN, "unknown"
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


# Expressions that may stand for several values: conditionals, names and attributes bound
# in several places.
_CONDITIONAL = (cst.IfExp, cst.Name, cst.Attribute)


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


# A config key as code reads it: a word, not a number or a sentence.
_KEY = re.compile(r"[A-Za-z_][\w.-]*")

__all__ = ["LIBRARY_CONSTANTS", "Place", "Resolver", "ScopeInfo", "dotted_name"]
