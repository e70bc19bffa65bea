"""The walk's handlers for assignments: names bound, sites recorded, changes made to dicts.

A mixin of ``python_walk.Walk``, apart from it so that neither is over long: ``x = ...``,
``x: T = ...``, ``x += ...``, ``del d[k]``, tuple targets (the dataclasses
``parse_args_into_dataclasses`` returns) and ``d[k] = v`` changes that ``**d`` splats read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import libcst as cst

from tunelint.sources.python_scopes import ScopeInfo, dotted_name
from tunelint.sources.python_values import Resolver
from tunelint.sources.python_walk_table import _Leave, _method


class Assignments:
    """Bindings and sites of assignments, for ``Walk``."""

    if TYPE_CHECKING:  # fields and methods of Walk
        resolver: Resolver
        stack: list[ScopeInfo]
        class_depth: int
        sites: list[tuple[Any, ...]]
        bound: dict[int, str]
        owners: dict[int, cst.CSTNode]
        block_indents: dict[int, str]
        indent: str
        dead: int

        @property
        def scope(self) -> ScopeInfo: ...

        @staticmethod
        def _children(node: cst.CSTNode, todo: list[Any]) -> None: ...

        def _place(self, path: tuple[int, ...] | None = None) -> tuple[int, tuple[int, ...]]: ...

        def _bind(self, name: str, value: cst.BaseExpression | None) -> None: ...

    def _bind_calls(self, value: cst.BaseExpression | None, target: cst.BaseExpression) -> None:
        """``name = f(...)``, ``name = f(...).to(...)``: the calls whose result ``name`` holds."""
        name = dotted_name(target) or ""
        while isinstance(value, cst.Call) and name:
            self.bound[id(value)] = name
            func = value.func
            value = func.value if isinstance(func, cst.Attribute) else func

    def _assign(self, node: cst.Assign, todo: list[Any]) -> None:
        if len(node.targets) == 1:
            self._bind_calls(node.value, node.targets[0].target)
        scope = self.scope
        place = self._place()
        for target in node.targets if not self.dead else ():
            self.sites.append(("assign", target.target, node.value, scope, place))
        self.owners[id(node.value)] = node
        self.block_indents[id(node)] = self.indent
        if not (self.class_depth and self.scope is self.stack[0]):
            # bound once the value is walked: ``x = f(x)`` reads the x bound before
            targets = [target.target for target in node.targets]
            todo.append(_Leave(lambda: self._bind_targets(targets, node.value)))
            for each in targets:
                if isinstance(each, cst.Subscript):
                    self._store(each, node.value, todo)
        self._children(node, todo)

    def _store(
        self, target: cst.Subscript, value: cst.BaseExpression | None, todo: list[Any]
    ) -> None:
        """``kwargs["key"] = value``: a change to the dict ``kwargs`` holds, made once the
        value is walked."""
        if not isinstance(target.value, cst.Name) or self.dead:
            return
        name, scope = target.value.value, self.scope
        element = target.slice[0].slice if len(target.slice) == 1 else None
        if isinstance(element, cst.Index) and element.star is None:
            key: cst.CSTNode = element.value
            todo.append(_Leave(lambda: scope.mutate(name, "set", key, value, self._place())))
        else:
            todo.append(_Leave(lambda: scope.mutate(name, "other", target, None, self._place())))

    def _del(self, node: cst.Del, todo: list[Any]) -> None:
        targets = node.target.elements if isinstance(node.target, cst.Tuple) else ()
        for target in [element.value for element in targets] or [node.target]:
            if (
                isinstance(target, cst.Subscript)
                and isinstance(target.value, cst.Name)
                and not self.dead
            ):
                element = target.slice[0].slice if len(target.slice) == 1 else None
                kind = "del" if isinstance(element, cst.Index) else "other"
                key = element.value if isinstance(element, cst.Index) else target
                self.scope.mutate(target.value.value, kind, key, None, self._place())
        self._children(node, todo)

    def _bind_targets(
        self, targets: Sequence[cst.BaseExpression], value: cst.BaseExpression
    ) -> None:
        for target in targets:
            self._bind_target(target, value)

    def _ann_assign(self, node: cst.AnnAssign, todo: list[Any]) -> None:
        self._bind_calls(node.value, node.target)
        if node.value is not None and not self.dead:
            self.sites.append(("assign", node.target, node.value, self.scope, self._place()))
            self.owners[id(node.value)] = node
            self.block_indents[id(node)] = self.indent
        if not (self.class_depth and self.scope is self.stack[0]):
            todo.append(_Leave(lambda: self._bind_target(node.target, node.value)))
        self._children(node, todo)

    def _aug_assign(self, node: cst.AugAssign, todo: list[Any]) -> None:
        if isinstance(node.target, cst.Name | cst.Attribute) and dotted_name(node.target):
            name = dotted_name(node.target) or ""
            todo.append(_Leave(lambda: self._bind(name, None)))
        elif isinstance(node.target, cst.Subscript):
            self._store(node.target, None, todo)  # ``kwargs["n"] += 1``: a value not known
        self._children(node, todo)

    def _bind_target(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        if isinstance(target, cst.Name):
            self._bind(target.value, value)
            return
        if isinstance(target, cst.Attribute):  # ``train_config.model_name = "org/x"``
            dotted = dotted_name(target)
            if dotted is not None:
                self._bind(dotted, value)
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
            self._bind(target.value, None)
        elif isinstance(target, cst.Attribute) and dotted_name(target) is not None:
            self._bind(dotted_name(target) or "", None)
        elif isinstance(target, cst.Tuple | cst.List):
            for element in target.elements:
                self._bind_unknown(element.value)
        elif isinstance(target, cst.StarredElement):
            self._bind_unknown(target.value)
