"""First pass over a Python file: what every name is bound to.

Imports and aliases, assignments per scope (every binding, so reassignment shows as
Unknown), instance types from constructors and ``parse_args_into_dataclasses``, argparse
options and dataclass field defaults. The second pass (``python.py``) reads this to resolve
values; settings from defaults are emitted here because only this pass sees them.
"""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from tunelint.facts import FileFacts, Setting, Span, Value
from tunelint.sources.python_values import Resolver, ScopeInfo, dotted_name

Canonical = Callable[[str, str, Value, Span], list[Setting]]


class Collector(cst.CSTVisitor):
    """First pass: bindings per scope, imports, argparse defaults, dataclass fields."""

    def __init__(self, resolver: Resolver, module_scope: ScopeInfo) -> None:
        self.resolver = resolver
        self.stack = [module_scope]
        self.scopes: dict[cst.CSTNode, ScopeInfo] = {}
        self.imports: set[str] = set()
        self.class_depth = 0
        self.argparse_calls: list[tuple[cst.Call, ScopeInfo]] = []
        self.dataclasses: list[cst.ClassDef] = []

    @property
    def scope(self) -> ScopeInfo:
        return self.stack[-1]

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = dotted_name(alias.name) or ""
            self._imported(full)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.resolver.aliases[alias.asname.name.value] = full
            else:
                head = full.split(".")[0]
                self.resolver.aliases[head] = head

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        dots = "." * len(node.relative)
        module = dotted_name(node.module) or "" if node.module is not None else ""
        if dots:
            self.imports.add(dots + module)
        else:
            self._imported(module)
        if not isinstance(node.names, cst.ImportStar):
            # ``from pkg import name``: name may be a submodule (the project index decides)
            for alias in node.names:
                name = dotted_name(alias.name) or ""
                if name:
                    self.imports.add(f"{dots}{module}.{name}" if module else f"{dots}{name}")
        if dots or not module or isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            name = dotted_name(alias.name) or ""
            local = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self.resolver.aliases[local] = f"{module}.{name}"

    def _imported(self, module: str) -> None:
        """An absolute import loads the module and every package above it, as Python does."""
        parts = module.split(".") if module else []
        for end in range(1, len(parts) + 1):
            self.imports.add(".".join(parts[:end]))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if not (self.class_depth and self.scope is self.stack[0]):
            self.scope.bind(node.name.value, None)
        parent = self.stack[0] if self.class_depth else self.scope
        scope = ScopeInfo(name=node.name.value, parent=parent)
        for param in [*node.params.params, *node.params.kwonly_params, *node.params.posonly_params]:
            scope.bind(param.name.value, None)
        for star in (node.params.star_arg, node.params.star_kwarg):
            if isinstance(star, cst.Param):
                scope.bind(star.name.value, None)
        self.scopes[node] = scope
        self.stack.append(scope)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.stack.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.scope.bind(node.name.value, None)
        self.class_depth += 1
        if any(_is_dataclass_decorator(d.decorator) for d in node.decorators):
            self.dataclasses.append(node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.class_depth -= 1

    def visit_Assign(self, node: cst.Assign) -> None:
        if self.class_depth and self.scope is self.stack[0]:
            return
        for target in node.targets:
            self._bind_target(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if self.class_depth and self.scope is self.stack[0]:
            return
        self._bind_target(node.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Name):
            self.scope.bind(node.target.value, None)

    def visit_For(self, node: cst.For) -> None:
        self._bind_unknown(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None and isinstance(node.asname.name, cst.Name):
            name = node.asname.name.value
            self.scope.bind(name, None)
            kind = self.resolver.type_of(node.item, self.scope)
            if kind is not None:
                self.scope.types[name] = kind

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        if isinstance(node.target, cst.Name):
            self.scope.bind(node.target.value, node.value)

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "add_argument":
            self.argparse_calls.append((node, self.scope))

    def _bind_target(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        if isinstance(target, cst.Name):
            self.scope.bind(target.value, value)
            return
        if isinstance(target, cst.Tuple | cst.List) and isinstance(value, cst.Call):
            # parser.parse_args_into_dataclasses() -> (ModelArgs, DataArgs, TrainingArgs)
            classes = self._dataclass_order(value)
            for index, element in enumerate(target.elements):
                self._bind_unknown(element.value)
                if isinstance(element.value, cst.Name):
                    if classes is not None and index < len(classes):
                        self.scope.types[element.value.value] = classes[index]
                    elif index == 0 and _method(value) == "parse_known_args":
                        self.scope.types[element.value.value] = "argparse"
            return
        self._bind_unknown(target)

    def _dataclass_order(self, call: cst.Call) -> list[str] | None:
        method = _method(call)
        if method not in {
            "parse_args_into_dataclasses",
            "parse_yaml_file",
            "parse_json_file",
            "parse_dict",
            "parse_args_and_config",
        }:
            return None
        assert isinstance(call.func, cst.Attribute)
        parser = call.func.value
        if isinstance(parser, cst.Name):
            bound, single = self.resolver.binding(parser.value, self.scope)
            parser = bound if single and bound is not None else parser
        if not isinstance(parser, cst.Call) or not parser.args:
            return None
        first = parser.args[0].value
        elements = first.elements if isinstance(first, cst.Tuple | cst.List) else None
        names = [dotted_name(e.value) for e in elements] if elements else [dotted_name(first)]
        return [self.resolver.qualify(n)[0] if n else "?" for n in names]

    def _bind_unknown(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self.scope.bind(target.value, None)
        elif isinstance(target, cst.Tuple | cst.List):
            for element in target.elements:
                self._bind_unknown(element.value)
        elif isinstance(target, cst.StarredElement):
            self._bind_unknown(target.value)


def _method(call: cst.Call) -> str | None:
    return call.func.attr.value if isinstance(call.func, cst.Attribute) else None


def _is_dataclass_decorator(node: cst.BaseExpression) -> bool:
    target = node.func if isinstance(node, cst.Call) else node
    name = dotted_name(target) or ""
    return name.rsplit(".", 1)[-1] == "dataclass"


def collect_defaults(
    resolver: Resolver, collector: Collector, facts: FileFacts, canonical: Canonical
) -> None:
    """argparse and dataclass defaults: values the script runs with when no flag is given."""
    for node, scope in collector.argparse_calls:
        flags = [resolver.value(a.value, scope).as_str() for a in node.args if a.keyword is None]
        keywords = {a.keyword.value: a for a in node.args if a.keyword is not None}
        dest_arg = keywords.get("dest")
        dest = resolver.value(dest_arg.value, scope).as_str() if dest_arg else None
        longs = [f for f in flags if f and f.startswith("--")]
        if dest is None and longs:
            dest = longs[0][2:].replace("-", "_")
        if dest is None:
            continue
        default_arg = keywords.get("default")
        action_arg = keywords.get("action")
        action = resolver.value(action_arg.value, scope).as_str() if action_arg else None
        if default_arg is not None:
            value = resolver.value(default_arg.value, scope)
        elif action in {"store_true", "store_false"}:
            value = Value(action == "store_false", resolver.span_of(node), "literal", "")
        else:
            value = Value(None, resolver.span_of(node), "literal", "")
        value = Value(value.raw, value.span, "argparse-default", value.text)
        resolver.argparse_defaults[dest] = value
        if value.raw is not None and value.known:
            facts.settings.extend(canonical("trainer", dest, value, resolver.span_of(node)))
    for class_node in collector.dataclasses:
        qualified = resolver.qualify(class_node.name.value)[0]
        fields: dict[str, Value] = {}
        for statement in class_node.body.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                    default = _field_default(small.value)
                    if default is None:
                        continue
                    value = resolver.value(default, collector.stack[0])
                    value = Value(value.raw, value.span, "dataclass-default", value.text)
                    fields[small.target.value] = value
                    if value.known and value.raw is not None:
                        key_span = resolver.span_of(small.target)
                        facts.settings.extend(
                            canonical("trainer", small.target.value, value, key_span)
                        )
        resolver.dataclass_fields[qualified] = fields
        resolver.dataclass_fields[class_node.name.value] = fields


def _field_default(value: cst.BaseExpression | None) -> cst.BaseExpression | None:
    if value is None:
        return None
    if isinstance(value, cst.Call) and (dotted_name(value.func) or "").endswith("field"):
        for argument in value.args:
            if argument.keyword is not None and argument.keyword.value == "default":
                return argument.value
        return None
    return value
