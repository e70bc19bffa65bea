"""Python source: a script becomes calls, settings, assignments and suppressions.

Parsed with libcst and never imported or run. Two passes: the first records what every
name is bound to (imports, assignments, argparse options, dataclass fields, instance
types); the second emits one fact per call site, with arguments resolved statically.
"""

from __future__ import annotations

import io
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from tunelint.facts import (
    UNKNOWN,
    Assignment,
    Call,
    Diagnostic,
    FileFacts,
    FileKind,
    Reference,
    Setting,
    Span,
    Suppression,
    Value,
)
from tunelint.sources.comments import parse_ignore
from tunelint.sources.python_values import Resolver, ScopeInfo, dotted_name

DATA_SUFFIXES = (".jsonl", ".json", ".csv", ".tsv", ".parquet", ".arrow", ".txt", ".jsonl.gz")
CONFIG_KEYWORDS = {"deepspeed", "config", "config_file", "deepspeed_config", "fsdp_config"}
# Keywords of Trainer/SFTTrainer constructors that are settings (the rest are objects).
TRAINER_CONSTRUCTOR_KEYS = {"max_seq_length", "packing", "dataset_text_field"}
TOKENIZER_WORDS = ("Tokenizer", "Processor", "FeatureExtractor")
_COMPOUND = (
    cst.If,
    cst.For,
    cst.While,
    cst.With,
    cst.Try,
    cst.FunctionDef,
    cst.ClassDef,
    cst.Match,
)


@dataclass(slots=True)
class _Positions:
    ranges: dict[cst.CSTNode, CodeRange]
    path: str
    cell: int | None
    line_map: Sequence[int] | None

    def span(self, node: cst.CSTNode) -> Span:
        found = self.ranges.get(node)
        if found is None:
            return Span(self.path, 1, 1, cell=self.cell)
        start, end = found.start, found.end
        return self.make(start.line, start.column + 1, end.line, max(end.column, 1))

    def make(self, line: int, column: int, end_line: int = 0, end_column: int = 0) -> Span:
        file_line = None
        if self.line_map is not None and 0 < line <= len(self.line_map):
            file_line = self.line_map[line - 1]
        return Span(self.path, line, column, end_line, end_column, self.cell, file_line)


class _Collector(cst.CSTVisitor):
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
            self.imports.add(full.split(".")[0])
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.resolver.aliases[alias.asname.name.value] = full
            else:
                head = full.split(".")[0]
                self.resolver.aliases[head] = head

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None:
            return
        module = dotted_name(node.module) or ""
        self.imports.add(module.split(".")[0])
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            name = dotted_name(alias.name) or ""
            local = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self.resolver.aliases[local] = f"{module}.{name}"

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


class _Emitter(cst.CSTVisitor):
    """Second pass: one Call per call site, settings from config constructors."""

    def __init__(
        self, resolver: Resolver, collector: _Collector, positions: _Positions, facts: FileFacts
    ) -> None:
        self.resolver = resolver
        self.collector = collector
        self.positions = positions
        self.facts = facts
        self.stack = [collector.stack[0]]
        self.scope_names: list[str] = []
        self.statements: list[tuple[int, int]] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.stack.append(self.collector.scopes[node])
        self.scope_names.append(node.name.value)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.stack.pop()
        self.scope_names.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.scope_names.append(node.name.value)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.scope_names.pop()

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        span = self.positions.span(node)
        self.statements.append((span.line, span.end_line))

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, _COMPOUND):
            start = self.positions.span(node).line
            body = getattr(node, "body", None)
            header_end = start
            if isinstance(body, cst.IndentedBlock) and body.body:
                header_end = self.positions.span(body.body[0]).line - 1
            self.statements.append((start, max(start, header_end)))
        return super().on_visit(node)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._assignment(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._assignment(node.target, node.value)

    def _assignment(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        scope = self.stack[-1]
        if isinstance(target, cst.Subscript) and dotted_name(target.value) is not None:
            owner = self.resolver.qualify(dotted_name(target.value) or "")[0]
            element = target.slice[0].slice if len(target.slice) == 1 else None
            if owner == "os.environ" and isinstance(element, cst.Index):
                key = self.resolver.value(element.value, scope).as_str()
                if key is not None:
                    resolved = self.resolver.value(value, scope)
                    self.facts.assignments.append(
                        Assignment(key, resolved, "env", self.positions.span(target))
                    )
            return
        name = dotted_name(target)
        if name is None:
            return
        resolved = self.resolver.value(value, scope)
        if isinstance(resolved.raw, str | int | float | bool):
            span = self.positions.span(target)
            self.facts.assignments.append(Assignment(name, resolved, "variable", span))

    def visit_Call(self, node: cst.Call) -> None:
        scope = self.stack[-1]
        callee = self.resolver.callee_name(node.func, scope)
        if callee is None:
            return
        name, resolved = callee
        args: list[Value] = []
        kwargs: list[tuple[str, Value]] = []
        star = False
        for argument in node.args:
            if argument.star == "**":
                expanded = self.resolver.value(argument.value, scope)
                if isinstance(expanded.raw, dict):
                    kwargs.extend(_spread(expanded))
                else:
                    star = True
            elif argument.star == "*":
                star = True
            elif argument.keyword is not None:
                kwargs.append((argument.keyword.value, self.resolver.value(argument.value, scope)))
            else:
                args.append(self.resolver.value(argument.value, scope))
        text = self.resolver.code_of(node.func)
        call = Call(
            name=name,
            span=self.positions.span(node),
            args=tuple(args),
            kwargs=tuple(kwargs),
            resolved=resolved,
            scope=".".join(self.scope_names) or "<module>",
            star_args=star,
            text=text,
        )
        self.facts.calls.append(call)
        self._settings_from(call, node)
        self._references_from(call)
        if name.endswith(".setdefault") and name.startswith("os.environ") and len(args) >= 2:
            key = args[0].as_str()
            if key is not None:
                self.facts.assignments.append(Assignment(key, args[1], "env", call.span))

    def _settings_from(self, call: Call, node: cst.Call) -> None:
        dialect = _dialect_of(call.name)
        if dialect is None:
            if call.short_name == "gradient_checkpointing_enable":
                value = Value(True, call.span, "literal", call.text)
                self._add_setting("grad_checkpointing", value, call.short_name, call.span)
            return
        pairs = list(call.kwargs)
        if call.short_name.endswith("Trainer"):
            pairs = [(key, value) for key, value in pairs if key in TRAINER_CONSTRUCTOR_KEYS]
        if dialect == "hf-loader" and call.args:
            pairs.insert(0, ("pretrained_model_name_or_path", call.args[0]))
        for key, value in pairs:
            key_span = value.span
            for argument in node.args:
                if argument.keyword is not None and argument.keyword.value == key:
                    key_span = self.positions.span(argument.keyword)
            for setting in _canonical(dialect, key, value, key_span):
                self.facts.settings.append(setting)

    def _add_setting(self, name: str, value: Value, key: str, span: Span) -> None:
        self.facts.settings.append(Setting(name, value, key, "python", span))

    def _references_from(self, call: Call) -> None:
        for key, value in call.kwargs:
            text = value.as_str()
            if text is None:
                continue
            if key in CONFIG_KEYWORDS and text.endswith((".json", ".yaml", ".yml")):
                self._reference(Reference(value, "config", key))
            elif key in {"data_files", "train_file", "path"} and text.endswith(DATA_SUFFIXES):
                self._reference(Reference(value, "data", key))
        for value in call.args:
            text = value.as_str()
            if text is not None and text.endswith(DATA_SUFFIXES) and "/" in text:
                self._reference(Reference(value, "data", ""))

    def _reference(self, reference: Reference) -> None:
        if reference not in self.facts.references:
            self.facts.references.append(reference)


def _spread(expanded: Value) -> list[tuple[str, Value]]:
    assert isinstance(expanded.raw, dict)
    return [
        (str(key), Value(raw, expanded.span, expanded.origin, expanded.text))
        for key, raw in expanded.raw.items()
        if isinstance(key, str)
    ]


def _dialect_of(name: str) -> str | None:
    """Which alias table reads a constructor's keywords, by the callee's qualified name."""
    last = name.rsplit(".", 1)[-1]
    root = name.split(".", 1)[0]
    if last in {"from_pretrained", "from_config"}:
        owner = name.rsplit(".", 2)[-2] if name.count(".") >= 1 else ""
        return None if any(word in owner for word in TOKENIZER_WORDS) else "hf-loader"
    if last == "BitsAndBytesConfig":
        return "bnb"
    if last.endswith("LoraConfig") or last in {"LoHaConfig", "IA3Config", "AdaLoraConfig"}:
        return "peft"
    if last == "Accelerator":
        return "accelerate"
    if last.endswith(("TrainingArguments", "Trainer")) or (
        root == "trl" and last.endswith("Config")
    ):
        return "trainer"
    return None


def _canonical(dialect: str, key: str, value: Value, key_span: Span) -> list[Setting]:
    from tunelint.dialects import canonical_settings

    return canonical_settings(dialect, key, value, key_span)


def extract_python(
    text: str, path: str, *, cell: int | None = None, line_map: Sequence[int] | None = None
) -> FileFacts:
    """Facts of one Python file (or one notebook cell, with ``cell`` and ``line_map``)."""
    facts = FileFacts(path=path, kind=FileKind.PYTHON, lines=tuple(text.splitlines()))
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        facts.diagnostics.append(
            Diagnostic(path, "parse-error", f"Python syntax error: {error.message}", error.raw_line)
        )
        return facts
    except (RecursionError, MemoryError):
        message = "Python file nests too deeply to parse"
        facts.diagnostics.append(Diagnostic(path, "too-deep", message))
        return facts
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = _Positions(dict(wrapper.resolve(PositionProvider)), path, cell, line_map)

    def code_of(node: cst.CSTNode) -> str:
        code = module.code_for_node(node)
        return code if len(code) <= 300 else code[:297] + "..."

    resolver = Resolver(aliases={}, span_of=positions.span, code_of=code_of)
    module_scope = ScopeInfo(name="<module>")
    collector = _Collector(resolver, module_scope)
    module.visit(collector)
    _collect_defaults(resolver, collector, facts)
    emitter = _Emitter(resolver, collector, positions, facts)
    module.visit(emitter)
    facts.imports = tuple(sorted(collector.imports))
    facts.suppressions.extend(_suppressions(text, emitter.statements, positions))
    return facts


def _collect_defaults(resolver: Resolver, collector: _Collector, facts: FileFacts) -> None:
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
            facts.settings.extend(_canonical("trainer", dest, value, resolver.span_of(node)))
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
                            _canonical("trainer", small.target.value, value, key_span)
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


def _suppressions(
    text: str, statements: list[tuple[int, int]], positions: _Positions
) -> list[Suppression]:
    """Comments found by the tokenizer, so ``#`` inside strings never counts."""
    found: list[Suppression] = []
    lines = text.splitlines()
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return found
    for token in tokens:
        if token.type != tokenize.COMMENT:
            continue
        parsed = parse_ignore(token.string[1:])
        if parsed is None:
            continue
        codes, reason = parsed
        line, column = token.start
        alone = not lines[line - 1][:column].strip() if line <= len(lines) else True
        target = _next_code_line(lines, line) if alone else line
        first, last = target, target
        enclosing = [s for s in statements if s[0] <= target <= s[1]]
        starting = [s for s in statements if s[0] == target]
        chosen = starting or enclosing
        if chosen:
            first, last = min(chosen, key=lambda s: s[1] - s[0])
        span = positions.make(line, column + 1, line, len(token.string) + column)
        found.append(Suppression(codes, reason, span, first, last, positions.cell))
    return found


def _next_code_line(lines: list[str], line: int) -> int:
    for index in range(line, len(lines)):
        stripped = lines[index].strip()
        if stripped and not stripped.startswith("#"):
            return index + 1
    return line


__all__ = ["UNKNOWN", "extract_python"]
