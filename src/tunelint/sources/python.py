"""Python source: a script becomes calls, settings, assignments and suppressions.

Parsed with libcst and never imported or run. One walk over the tree (``python_walk``)
records what every name is bound to (imports, assignments, argparse options, dataclass
fields, instance types) and where calls and assignments are; then one fact is made per call
site, with arguments resolved statically (``python_values``) and positions read from the
source text (``python_positions``).
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Sequence
from typing import Any

import libcst as cst

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
from tunelint.sources.python_bindings import collect_defaults
from tunelint.sources.python_nesting import _nesting_problem
from tunelint.sources.python_positions import LineCell, Spans, Unmapped
from tunelint.sources.python_values import Resolver, ScopeInfo, dotted_name
from tunelint.sources.python_walk import Walk

DATA_SUFFIXES = (".jsonl", ".json", ".csv", ".tsv", ".parquet", ".arrow", ".txt", ".jsonl.gz")
CONFIG_KEYWORDS = {"deepspeed", "config", "config_file", "deepspeed_config", "fsdp_config"}
# Keywords of Trainer/SFTTrainer constructors that are settings (the rest are objects).
TRAINER_CONSTRUCTOR_KEYS = {"max_seq_length", "packing", "dataset_text_field"}
TOKENIZER_WORDS = ("Tokenizer", "Processor", "FeatureExtractor")
# The dialect of a module that holds lazy objects at module level (``dict(type=callable,
# ...)``): a config an mmengine runner builds (xtuner, the OpenMMLab toolboxes).
# ``project.training`` decides whether it trains.
MMENGINE = "mmengine"
# Only a text that says "tunelint" can hold a suppression comment (see comments.py).
_MENTIONS_TUNELINT = re.compile("tunelint", re.IGNORECASE)


class _Emitter:
    """Facts from the sites the walk recorded, in the order it met them."""

    def __init__(self, resolver: Resolver, spans: Spans, facts: FileFacts) -> None:
        self.resolver = resolver
        self.spans = spans
        self.facts = facts
        # a module-level lazy object (``dict(type=callable, ...)``): an mmengine-style config
        self.lazy = False

    def emit(self, sites: list[tuple[Any, ...]]) -> None:
        try:
            for site in sites:
                if site[0] == "call":
                    self.resolver.here = (site[2], site[5])  # names read where the call is
                    self._call(site[1], site[2], site[3], site[4])
                else:
                    self.resolver.here = (site[3], site[4])
                    self._assignment(site[1], site[2], site[3])
        finally:
            self.resolver.here = None

    def _assignment(
        self, target: cst.BaseExpression, value: cst.BaseExpression, scope: ScopeInfo
    ) -> None:
        if isinstance(target, cst.Subscript) and dotted_name(target.value) is not None:
            owner = self.resolver.qualify(dotted_name(target.value) or "")[0]
            element = target.slice[0].slice if len(target.slice) == 1 else None
            if owner == "os.environ" and isinstance(element, cst.Index):
                key = self.resolver.text_of(element.value, scope)
                if key is not None:
                    resolved = self.resolver.value(value, scope)
                    self.facts.assignments.append(
                        Assignment(key, resolved, "env", self.spans.span(target))
                    )
            return
        name = dotted_name(target)
        if name is None:
            return
        raw, origin = self.resolver.raw(value, scope)
        if isinstance(raw, str | int | float | bool):
            resolved = Value(raw, self.spans.span(value), origin, self.spans.code(value))
            span = self.spans.span(target)
            self.facts.assignments.append(Assignment(name, resolved, "variable", span))

    def _call(self, node: cst.Call, scope: ScopeInfo, label: str, bound_to: str) -> None:
        callee = self.resolver.callee_name(node.func, scope)
        if callee is None:
            return
        name, resolved = callee
        args: list[Value] = []
        kwargs: list[tuple[str, Value]] = []
        star = False
        for argument in node.args:
            if argument.star == "**":
                entries = self.resolver.splat(argument.value, scope)
                if entries is None:
                    star = True
                else:
                    kwargs.extend(entries)
            elif argument.star == "*":
                star = True
            elif argument.keyword is not None:
                kwargs.append((argument.keyword.value, self.resolver.value(argument.value, scope)))
            else:
                args.append(self.resolver.value(argument.value, scope))
        call = Call(
            name=name,
            span=self.spans.span(node),
            args=tuple(args),
            kwargs=tuple(kwargs),
            resolved=resolved,
            scope=label,
            star_args=star,
            text=self.spans.code(node.func),
            bound_to=bound_to,
        )
        self.facts.calls.append(call)
        self._settings_from(call, node)
        self._references_from(call)
        if _dialect_of(name) == "hf-loader" and not name.startswith("peft."):
            # (peft's loaders take the base model first; the adapter id comes second)
            self._model_key_read(call, node, scope)
        if name == "dict" and not resolved:
            self._lazy_call(call, node, scope)
        if name.endswith(".setdefault") and name.startswith("os.environ") and len(args) >= 2:
            key = args[0].as_str()
            if key is not None:
                self.facts.assignments.append(Assignment(key, args[1], "env", call.span))

    def _lazy_call(self, built: Call, node: cst.Call, scope: ScopeInfo) -> None:
        """``dict(type=AutoModelForCausalLM.from_pretrained, trust_remote_code=True, ...)``: an
        mmengine / xtuner config's lazy object, which the runner builds as ``type(**rest)``.
        The callable named by ``type=`` (resolved through imports like any callee; a string
        is a registry name and is left alone) becomes a call of its own, with the other
        keywords, at the ``dict`` call's place. Its values are the ``dict`` call's own, with
        the same spans, so a rule that reports an argument reports it once."""
        kind = next((a.value for a in node.args if _keyword(a) == "type"), None)
        if kind is None or dotted_name(kind) is None:
            return
        callee = self.resolver.callee_name(kind, scope)
        if callee is None or not callee[1]:
            return
        call = Call(
            name=callee[0],
            span=built.span,
            kwargs=tuple((key, value) for key, value in built.kwargs if key != "type"),
            resolved=True,
            scope=built.scope,
            star_args=built.star_args,
            text=self.spans.code(kind),
            bound_to=built.bound_to,
        )
        self.facts.calls.append(call)
        self._settings_from(call, node)
        self._references_from(call)
        if call.scope == "<module>":
            self.lazy = True

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
                    key_span = self.spans.span(argument.keyword)
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

    def _model_key_read(self, call: Call, node: cst.Call, scope: ScopeInfo) -> None:
        """``from_pretrained(config["base_model"])``: the model id is the value of a key of a
        config read at run time; a config in the project that sets that key names it."""
        value = call.arg(0) or call.kwarg("pretrained_model_name_or_path")
        if value is None or value.known:
            return
        expression = next(
            (
                argument.value
                for argument in node.args
                if (argument.keyword is None and argument.star == "")
                or (
                    argument.keyword is not None
                    and argument.keyword.value == "pretrained_model_name_or_path"
                )
            ),
            None,
        )
        key = self.resolver.mapping_key(expression, scope) if expression is not None else None
        if key is not None:
            read = Value(key, value.span, "literal", value.text)
            self._reference(Reference(read, "model-key", call.name))

    def _reference(self, reference: Reference) -> None:
        if reference not in self.facts.references:
            self.facts.references.append(reference)


def _keyword(argument: cst.Arg) -> str | None:
    return argument.keyword.value if argument.keyword is not None else None


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
    from tunelint.sources.dialects import canonical_settings

    return canonical_settings(dialect, key, value, key_span)


def extract_python(
    text: str,
    path: str,
    *,
    cell: int | None = None,
    line_map: Sequence[int] | None = None,
    line_cells: Sequence[LineCell] | None = None,
) -> FileFacts:
    """Facts of one Python file; of one notebook cell with ``cell`` and ``line_map``; or of a
    notebook's code cells joined into one module, with ``line_cells`` giving each joined
    line's (cell, line in cell, physical line), so names bound in one cell resolve in the next.
    """
    facts = FileFacts(path=path, kind=FileKind.PYTHON, lines=tuple(text.splitlines()))
    problem = _nesting_problem(text)
    if problem is not None:
        facts.diagnostics.append(Diagnostic(path, "too-deep", f"not parsed: {problem}"))
        return facts
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        facts.diagnostics.append(
            Diagnostic(path, "parse-error", f"Python syntax error: {error.message}", error.raw_line)
        )
        return facts
    except cst.CSTValidationError as error:  # e.g. a name in a script newer than this Python
        facts.diagnostics.append(Diagnostic(path, "parse-error", f"Python syntax error: {error}"))
        return facts
    except (RecursionError, MemoryError):
        message = "Python file nests too deeply to parse"
        facts.diagnostics.append(Diagnostic(path, "too-deep", message))
        return facts
    try:
        spans = Spans(path, module, text, cell, line_map, line_cells)
        resolver = Resolver(aliases={}, span_of=spans.span, code_of=spans.code)
        comments = _suppression_comments(text) if _MENTIONS_TUNELINT.search(text) else []
        walk = Walk(resolver, ScopeInfo(name="<module>"), statements=bool(comments))
        walk.run(module)
        try:
            if comments:  # statement lines come from libcst's positions
                raise Unmapped("suppressions")
            spans.use_tokens(walk)
            found = _facts_of(walk, resolver, spans, path)
        except (Unmapped, RecursionError):  # what the text cannot place, libcst places
            spans.use_libcst()
            found = _facts_of(walk, resolver, spans, path)
        facts.calls, facts.settings = found.calls, found.settings
        if cell is None and line_cells is None:  # a config is a file of its own
            facts.dialects = found.dialects
        facts.assignments, facts.references = found.assignments, found.references
        facts.imports = tuple(sorted(walk.imports))
        statements = _statement_lines(walk.statements or [], spans)
        facts.suppressions.extend(_suppressions(text, comments, statements, spans))
    except RecursionError:  # deeper than this interpreter's stack, though under MAX_CHAIN
        message = "Python file nests too deeply to read (Python's recursion limit)"
        diagnostic = Diagnostic(path, "too-deep", message)
        return FileFacts(
            path=path, kind=FileKind.PYTHON, lines=facts.lines, diagnostics=[diagnostic]
        )
    return facts


def _facts_of(walk: Walk, resolver: Resolver, spans: Spans, path: str) -> FileFacts:
    """Calls, settings, assignments and references from what the walk recorded."""
    resolver.argparse_defaults.clear()
    resolver.dataclass_fields.clear()
    for fstring, indents in walk.fstrings.items():
        spans.add_fstring(fstring, indents)
    found = FileFacts(path=path, kind=FileKind.PYTHON)
    collect_defaults(resolver, walk, found, _canonical)
    emitter = _Emitter(resolver, spans, found)
    emitter.emit(walk.sites)
    if emitter.lazy:
        found.dialects = (MMENGINE,)
    return found


def _statement_lines(nodes: list[cst.CSTNode], spans: Spans) -> list[tuple[int, int]]:
    """First and last line of each statement; of a compound statement, its header's lines."""
    lines: list[tuple[int, int]] = []
    for node in nodes:
        if isinstance(node, cst.SimpleStatementLine):
            lines.append(spans.lines(node))
            continue
        start = spans.lines(node)[0]
        body = getattr(node, "body", None)
        header_end = start
        if isinstance(body, cst.IndentedBlock) and body.body:
            header_end = spans.lines(body.body[0])[0] - 1
        lines.append((start, max(start, header_end)))
    return lines


def _suppression_comments(text: str) -> list[tuple[tokenize.TokenInfo, tuple[str, ...], str]]:
    """Comments found by the tokenizer, so ``#`` inside strings never counts."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return []
    found = []
    for token in tokens:
        if token.type != tokenize.COMMENT:
            continue
        parsed = parse_ignore(token.string[1:])
        if parsed is not None:
            found.append((token, *parsed))
    return found


def _suppressions(
    text: str,
    comments: list[tuple[tokenize.TokenInfo, tuple[str, ...], str]],
    statements: list[tuple[int, int]],
    spans: Spans,
) -> list[Suppression]:
    """Each suppression comment and the lines of the statement it covers."""
    found: list[Suppression] = []
    lines = text.splitlines()
    for token, codes, reason in comments:
        line, column = token.start
        alone = not lines[line - 1][:column].strip() if line <= len(lines) else True
        target = _next_code_line(lines, line) if alone else line
        first, last = target, target
        enclosing = [s for s in statements if s[0] <= target <= s[1]]
        starting = [s for s in statements if s[0] == target]
        chosen = starting or enclosing
        if chosen:
            first, last = min(chosen, key=lambda s: s[1] - s[0])
        span = spans.make(line, column + 1, line, len(token.string) + column)
        first_local, last_local = spans.locate(first)[1], spans.locate(last)[1]
        found.append(Suppression(codes, reason, span, first_local, last_local, span.cell))
    return found


def _next_code_line(lines: list[str], line: int) -> int:
    for index in range(line, len(lines)):
        stripped = lines[index].strip()
        if stripped and not stripped.startswith("#"):
            return index + 1
    return line


__all__ = ["UNKNOWN", "LineCell", "extract_python"]
