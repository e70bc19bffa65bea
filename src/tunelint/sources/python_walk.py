"""One pass over a Python module: bindings, imports, defaults and the sites that become facts.

libcst's visitors rebuild every node they pass, even when nothing changes, and visit every
whitespace and punctuation node: most of a module's nodes. This walk reads node fields
directly, skips the fields that can hold only whitespace or punctuation, and keeps its own
stack instead of recursing. In source order it does what a binding pass would do (every
name bound per scope, imports, argparse calls, dataclasses, instance types known so far)
and records the call and assignment sites; facts are emitted from those afterwards, when
every binding is known. It also lists the leaves (names, strings, numbers) in source order,
which is how positions are found without generating code for the whole module.

The handlers of assignments are a mixin (``python_walk_assignments``); the dispatch table
and the small readers the handlers share are in ``python_walk_table``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import libcst as cst

from tunelint.sources.python_fields import FIELDS_BY_CLASS as _FIELDS_BY_CLASS
from tunelint.sources.python_values import Resolver, ScopeInfo, dotted_name
from tunelint.sources.python_walk_assignments import Assignments
from tunelint.sources.python_walk_table import (
    _LEAF,
    _NOTHING,
    _STATIC_DISPATCH,
    COMPOUND,
    COMPOUND_NAMES,
    DICT_MUTATORS,
    SOFT_KEYWORDS,
    Handler,
    _constant_truth,
    _is_dataclass_decorator,
    _Leave,
    _recording,
)


class Walk(Assignments):
    """Everything one pass over a module learns; facts are made from it afterwards."""

    def __init__(self, resolver: Resolver, module_scope: ScopeInfo, statements: bool) -> None:
        self.resolver = resolver
        self.stack = [module_scope]
        self.scope_names: list[str] = []
        self.scope_label = "<module>"
        self.imports: set[str] = set()
        self.class_depth = 0
        self.argparse_calls: list[tuple[cst.Call, ScopeInfo]] = []
        self.dataclasses: list[cst.ClassDef] = []
        # ("call", node, scope, scope label, bound name, place) and ("assign", target,
        # value, scope, place), in the order a pre-order visit enters them
        self.sites: list[tuple[Any, ...]] = []
        # id of a call -> the name its result is assigned to (``model = f(...).to(...)``)
        self.bound: dict[int, str] = {}
        self.leaves: list[cst.CSTNode] = []
        self.leaf_texts: list[str] = []  # each leaf's text; an f-string's is filled in later
        self.fstring_leaves: list[int] = []  # where f-strings are in ``leaves``
        # id of a value -> the call or assignment holding it, for the positions of values
        # that start with no leaf ("[]", "...")
        self.owners: dict[int, cst.CSTNode] = {}
        # f-strings that hold calls, with the indentation of the block they are in
        self.fstrings: dict[cst.CSTNode, tuple[str, ...]] = {}
        self.fstring: cst.CSTNode | None = None
        self.indent_here: tuple[str, ...] = ()
        self.indents: list[str] = []
        self.indent = ""  # the indentation of the block being walked
        # id of a call or assignment -> the indentation of its block, which libcst leaves
        # out of the lines of a bracketed expression when it generates its code alone
        self.block_indents: dict[int, str] = {}
        self.default_indent = "    "
        self.statements: list[cst.CSTNode] | None = [] if statements else None
        # places (``python_values.Place``): a count of bindings and sites in source order, the
        # blocks that may not run around the current node (within its scope), and the count
        # of such blocks numbered so far
        self.order = 0
        self.path: tuple[int, ...] = ()
        self.paths: list[tuple[int, ...]] = []  # of the scopes around the current one
        self.blocks = 0
        # how many blocks that never run (``if False:``) are around the current node: code
        # there is walked for positions, and yields no facts
        self.dead = 0
        # bound methods of this walk: set only while it runs, or they would keep it (and the
        # whole tree) alive in a reference cycle until the cycle collector finds it
        self.dispatch: dict[type, Any] = {}

    def _handlers(self) -> dict[type, Handler]:
        handlers: dict[type, Handler] = {
            _Leave: lambda node, todo: node.action(),
            cst.FunctionDef: self._function,
            cst.ClassDef: self._class,
            cst.Import: self._import,
            cst.ImportFrom: self._import_from,
            cst.Assign: self._assign,
            cst.AnnAssign: self._ann_assign,
            cst.AugAssign: self._aug_assign,
            cst.Del: self._del,
            cst.For: self._for,
            cst.While: self._while,
            cst.If: self._if,
            cst.Try: self._try,
            cst.TryStar: self._try,
            cst.WithItem: self._with_item,
            cst.NamedExpr: self._named_expr,
            cst.Call: self._call,
            cst.FormattedString: self._formatted_string,
            cst.IndentedBlock: self._block,
        }
        templated = getattr(cst, "TemplatedString", None)
        if isinstance(templated, type):
            handlers[templated] = self._formatted_string
        for name in SOFT_KEYWORDS:
            cls = getattr(cst, name, None)
            if isinstance(cls, type):
                handlers[cls] = self._soft_keyword
        match = getattr(cst, "Match", None)
        if isinstance(match, type):
            handlers[match] = self._match
        handlers[cst.MatchAs] = self._match_name
        handlers[cst.MatchStar] = self._match_name
        if self.statements is not None:
            statements = self.statements
            compound = COMPOUND + tuple(
                cls for cls in (getattr(cst, n, None) for n in COMPOUND_NAMES) if cls
            )
            for cls in (cst.SimpleStatementLine, *compound):
                handlers[cls] = _recording(statements, handlers.get(cls, self._children))
        return handlers

    # -- the walk ------------------------------------------------------------------------
    def run(self, module: cst.Module) -> None:
        self.default_indent = module.default_indent
        self.dispatch = {**_STATIC_DISPATCH, **self._handlers()}
        try:
            self._walk([module], self.leaves, self.leaf_texts)
        finally:
            self.dispatch = {}

    def _walk(
        self, roots: Iterable[cst.CSTNode], leaves: list[cst.CSTNode], texts: list[str]
    ) -> None:
        todo: list[Any] = list(roots)
        todo.reverse()
        pop, push, extend = todo.pop, todo.append, todo.extend
        dispatch = self.dispatch
        while todo:
            node = pop()
            how = dispatch.get(node.__class__)
            if how.__class__ is tuple:  # the children worth walking, last first
                for child in how[0](node) if how[1] else (how[0](node),):
                    if child is None:
                        continue
                    if child.__class__ is tuple or child.__class__ is list:
                        extend(reversed(child))
                    else:  # a node, or MaybeSentinel.DEFAULT: a class with no fields
                        push(child)
            elif how is _LEAF:
                leaves.append(node)
                texts.append(node.value)
            elif how is None:  # a class the table does not know
                extend(reversed(node.children))
            elif how is not _NOTHING:
                how(node, todo)

    @staticmethod
    def _children(node: cst.CSTNode, todo: list[Any]) -> None:
        fields = _FIELDS_BY_CLASS.get(node.__class__)
        if fields is None:
            todo.extend(reversed(node.children))
            return
        for name in fields:
            child = getattr(node, name)
            if child is None:
                continue
            if child.__class__ is tuple or child.__class__ is list:
                todo.extend(reversed(child))
            else:
                todo.append(child)

    @property
    def scope(self) -> ScopeInfo:
        return self.stack[-1]

    def _label(self) -> None:
        self.scope_label = ".".join(self.scope_names) or "<module>"

    # -- scopes --------------------------------------------------------------------------
    def _function(self, node: cst.FunctionDef, todo: list[Any]) -> None:
        if not (self.class_depth and self.scope is self.stack[0]):
            self._bind(node.name.value, None)
        parent = self.stack[0] if self.class_depth else self.scope
        scope = ScopeInfo(name=node.name.value, parent=parent)
        params = node.params
        start = self._place(())
        for param in [*params.params, *params.kwonly_params, *params.posonly_params]:
            scope.bind(param.name.value, None, start)
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                scope.bind(star.name.value, None, start)
        self.stack.append(scope)
        self.scope_names.append(node.name.value)
        self.paths.append(self.path)
        self.path = ()
        self._label()
        todo.append(_Leave(self._leave_scope))
        self._children(node, todo)

    def _leave_scope(self) -> None:
        self.stack.pop()
        self.scope_names.pop()
        self.path = self.paths.pop()
        self._label()

    def _class(self, node: cst.ClassDef, todo: list[Any]) -> None:
        self._bind(node.name.value, None)
        self.class_depth += 1
        if any(_is_dataclass_decorator(d.decorator) for d in node.decorators):
            self.dataclasses.append(node)
        self.scope_names.append(node.name.value)
        self._label()
        todo.append(_Leave(self._leave_class))
        self._children(node, todo)

    def _leave_class(self) -> None:
        self.class_depth -= 1
        self.scope_names.pop()
        self._label()

    def _block(self, node: cst.IndentedBlock, todo: list[Any]) -> None:
        self.indents.append(self.default_indent if node.indent is None else node.indent)
        self.indent = "".join(self.indents)
        todo.append(_Leave(self._leave_block))
        self._children(node, todo)

    def _leave_block(self) -> None:
        self.indents.pop()
        self.indent = "".join(self.indents)

    def _formatted_string(self, node: cst.CSTNode, todo: list[Any]) -> None:
        """An f-string is one token of the source: what it holds is walked apart."""
        if self.fstring is not None:  # nested: the outermost one stands for it
            self._walk(getattr(node, "parts", ()), [], [])
            return
        self.fstring_leaves.append(len(self.leaves))
        self.leaves.append(node)
        self.leaf_texts.append("")
        self.fstring = node
        self.indent_here = tuple(self.indents)
        try:
            self._walk(getattr(node, "parts", ()), [], [])
        finally:
            self.fstring = None

    def _soft_keyword(self, node: cst.CSTNode, todo: list[Any]) -> None:
        self._keyword(node, SOFT_KEYWORDS[node.__class__.__name__])
        self._children(node, todo)

    def _match_name(self, node: cst.MatchAs | cst.MatchStar, todo: list[Any]) -> None:
        """``_`` in a pattern is no Name node (``case _:``, ``case [*_]:``)."""
        if node.name is None and getattr(node, "pattern", None) is None:
            self._keyword(node, "_")
        else:
            self._children(node, todo)

    def _keyword(self, node: cst.CSTNode, text: str) -> None:
        """A soft keyword stands among the leaves, so that they still match the text's."""
        if self.fstring is None:
            self.leaves.append(node)
            self.leaf_texts.append(text)

    # -- places and branches -------------------------------------------------------------
    def _place(self, path: tuple[int, ...] | None = None) -> tuple[int, tuple[int, ...]]:
        """The next place in source order, in the current blocks (or ``path``)."""
        self.order += 1
        return (self.order, self.path if path is None else path)

    def _bind(self, name: str, value: cst.BaseExpression | None) -> None:
        if not self.dead:
            self.scope.bind(name, value, self._place())

    def _branch(self, child: Any, loop: bool = False) -> list[Any]:
        """``child`` walked as a block that may not run (a loop body may run again)."""
        if child is None:
            return []
        return [_Leave(lambda: self._enter(loop)), child, _Leave(self._exit)]

    def _enter(self, loop: bool) -> None:
        self.blocks += 1
        if loop:
            self.resolver.loop_blocks.add(self.blocks)
        self.path = (*self.path, self.blocks)

    def _exit(self) -> None:
        self.path = self.path[:-1]

    def _dead_code(self, child: Any, loop: bool = False) -> list[Any]:
        """A block that never runs (the body of ``if False:``, the ``else`` of ``if True:``):
        walked, and nothing in it is a fact."""
        if child is None:
            return []
        return [_Leave(self._enter_dead), *self._branch(child, loop), _Leave(self._exit_dead)]

    def _enter_dead(self) -> None:
        self.dead += 1

    def _exit_dead(self) -> None:
        self.dead -= 1

    def _if(self, node: cst.If, todo: list[Any]) -> None:
        truth = _constant_truth(node.test)
        body = self._dead_code(node.body) if truth is False else self._branch(node.body)
        orelse = self._dead_code(node.orelse) if truth is True else self._branch(node.orelse)
        todo.extend(reversed([node.test, *body, *orelse]))

    def _while(self, node: cst.While, todo: list[Any]) -> None:
        if _constant_truth(node.test) is False:
            body = self._dead_code(node.body, loop=True)
        else:
            body = self._branch(node.body, loop=True)
        todo.extend(reversed([node.test, *body, *self._branch(node.orelse)]))

    def _try(self, node: cst.Try | cst.TryStar, todo: list[Any]) -> None:
        handlers = [part for handler in node.handlers for part in self._branch(handler)]
        parts = [*self._branch(node.body), *handlers, *self._branch(node.orelse)]
        if node.finalbody is not None:  # a ``finally:`` always runs
            parts.append(node.finalbody)
        todo.extend(reversed(parts))

    def _match(self, node: Any, todo: list[Any]) -> None:
        self._keyword(node, "match")
        cases = [part for case in node.cases for part in self._branch(case)]
        todo.extend(reversed([node.subject, *cases]))

    # -- imports -------------------------------------------------------------------------
    def _import(self, node: cst.Import, todo: list[Any]) -> None:
        for alias in node.names:
            full = dotted_name(alias.name) or ""
            self._imported(full)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.resolver.aliases[alias.asname.name.value] = full
            else:
                head = full.split(".")[0]
                self.resolver.aliases[head] = head
        self._children(node, todo)

    def _import_from(self, node: cst.ImportFrom, todo: list[Any]) -> None:
        self._children(node, todo)  # walked after this returns
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
        parts = module.split(".") if module and not self.dead else []
        for end in range(1, len(parts) + 1):
            self.imports.add(".".join(parts[:end]))

    def _for(self, node: cst.For, todo: list[Any]) -> None:
        def enter() -> None:  # the target is bound on each pass of the loop body
            self._enter(loop=True)
            self._bind_unknown(node.target)

        loop = [_Leave(enter), node.target, node.iter, node.body, _Leave(self._exit)]
        todo.extend(reversed([*loop, *self._branch(node.orelse)]))

    def _with_item(self, node: cst.WithItem, todo: list[Any]) -> None:
        if node.asname is not None and isinstance(node.asname.name, cst.Name):
            name = node.asname.name.value
            self._bind(name, None)
            kind = self.resolver.type_of(node.item, self.scope)
            if kind is not None:
                self.scope.types[name] = kind
        self._children(node, todo)

    def _named_expr(self, node: cst.NamedExpr, todo: list[Any]) -> None:
        if isinstance(node.target, cst.Name):
            name, value = node.target.value, node.value

            def bind() -> None:  # in an expression that may not run: a block of its own
                self.blocks += 1
                if not self.dead:
                    self.scope.bind(name, value, self._place((*self.path, self.blocks)))

            todo.append(_Leave(bind))
        self._children(node, todo)

    def _call(self, node: cst.Call, todo: list[Any]) -> None:
        scope = self.scope
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "add_argument" and not self.dead:
            self.argparse_calls.append((node, scope))
        bound = self.bound.pop(id(node), "")
        place = self._place()
        if not self.dead:
            self.sites.append(("call", node, scope, self.scope_label, bound, place))
        if (
            not self.dead
            and isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.attr.value in DICT_MUTATORS
        ):
            scope.mutate(func.value.value, "call", node, None, place)
        owners = self.owners
        owners[id(func)] = node
        for argument in node.args:
            owners[id(argument.value)] = node
        self.block_indents[id(node)] = self.indent
        if self.fstring is not None:
            self.fstrings[self.fstring] = self.indent_here
        todo.extend(reversed(node.args))
        todo.append(func)
