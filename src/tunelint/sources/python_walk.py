"""One pass over a Python module: bindings, imports, defaults and the sites that become facts.

libcst's visitors rebuild every node they pass, even when nothing changes, and visit every
whitespace and punctuation node: most of a module's nodes. This walk reads node fields
directly, skips the fields that can hold only whitespace or punctuation, and keeps its own
stack instead of recursing. In source order it does what a binding pass would do (every
name bound per scope, imports, argparse calls, dataclasses, instance types known so far)
and records the call and assignment sites; facts are emitted from those afterwards, when
every binding is known. It also lists the leaves (names, strings, numbers) in source order,
which is how positions are found without generating code for the whole module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from operator import attrgetter
from typing import Any

import libcst as cst

from tunelint.sources.python_fields import FIELDS_BY_CLASS as _FIELDS_BY_CLASS
from tunelint.sources.python_fields import LEAVES
from tunelint.sources.python_values import Resolver, ScopeInfo, dotted_name

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


class Walk:
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

    # -- bindings and sites --------------------------------------------------------------
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
