"""YAML and JSON configs: every key and value with its exact position, nothing constructed.

Configs are read with PyYAML's safe composer, which builds a node graph with marks but no
Python objects: tags such as ``!!python/object`` are never constructed (their values are
Unknown). Scalars are typed by hand from the standard tags only. Aliases are shared nodes,
so walking them is where an alias bomb would blow up; the walk counts nodes and depth and
stops with a ``limit`` diagnostic naming the limit it hit.

JSON goes through the same composer so positions are exact (JSON is nearly a YAML subset;
tabs, which YAML rejects, can only be whitespace in valid JSON and become spaces). Numbers
and literals are typed with JSON's own rules. ``json.loads`` runs first, so broken JSON
gets JSON's own message and position. If the composer still rejects a valid JSON file, the
values come from ``json.loads`` and each key's position from a search for its quoted name
in document order (line 1 when not found); that fallback is rare and documented as such.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import yaml
from yaml.constructor import SafeConstructor
from yaml.error import Mark
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from tunelint.facts import (
    UNKNOWN,
    Assignment,
    Diagnostic,
    FileFacts,
    FileKind,
    Reference,
    Span,
    Value,
)
from tunelint.placeholders import is_placeholder_uri
from tunelint.sources.config_comments import suppressions
from tunelint.sources.config_keys import CONFIG_KEYS, CONFIG_SUFFIXES, DATA_KEYS, DATA_SUFFIXES
from tunelint.sources.config_limits import ConfigLimits, JsonFallback, LimitReached
from tunelint.sources.config_settings import document_settings
from tunelint.sources.dialects import detect_dialects
from tunelint.sources.embedded import (
    LAUNCH_HINT,
    MAX_COMMANDS,
    Command,
    is_command_key,
    merge_launches,
    shell_text,
    task_env,
)


def _stopped(facts: FileFacts, walker: _Walker, error: LimitReached) -> Diagnostic:
    """The limit diagnostic. Past the node limit nothing is kept: an alias bomb would
    otherwise hand the rules ``max_nodes`` copies of the same few values."""
    if error.name != "max_nodes":
        return Diagnostic(facts.path, "limit", f"stopped reading: {error}")
    walker.entries.clear()
    walker.assignments.clear()
    walker.references.clear()
    facts.settings.clear()
    facts.dialects = ()
    return Diagnostic(facts.path, "limit", f"not read: {error}")


_Y = "tag:yaml.org,2002:"
_NESTING = "maximum nesting depth"
_CONSTRUCTOR = SafeConstructor()
_SCALARS = {
    f"{_Y}null": SafeConstructor.construct_yaml_null,
    f"{_Y}bool": SafeConstructor.construct_yaml_bool,
    f"{_Y}int": SafeConstructor.construct_yaml_int,
    f"{_Y}float": SafeConstructor.construct_yaml_float,
}
_COLLECTIONS = {f"{_Y}{name}" for name in ("map", "seq", "omap", "set", "pairs")}
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_INDEX = re.compile(r"\[\d+\]$")


@functools.cache
def _loader() -> type[yaml.SafeLoader]:
    """libyaml's composer when it caps nesting itself (libyaml >= 0.2.5), else pure Python.

    Both only compose nodes; the C one is several times faster. Without a cap, deep flow
    nesting could exhaust the C stack, where Python raises a catchable RecursionError.
    """
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is None:
        return yaml.SafeLoader
    try:
        yaml.compose("[" * 2000 + "]" * 2000, Loader=fast)
    except yaml.YAMLError as error:
        if _NESTING in str(error):
            return fast  # type: ignore[no-any-return]
    return yaml.SafeLoader


def split_lines(text: str) -> tuple[str, ...]:
    """Lines as YAML counts them (so marks and ``FileFacts.lines`` agree)."""
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return tuple(lines)


@dataclass
class _Walker:
    """Walks composed nodes once, collecting facts and the line ranges suppressions need."""

    path: str
    lines: tuple[str, ...]
    limits: ConfigLimits
    json_mode: bool
    cell: int | None = None
    line_map: Sequence[int] | None = None
    nodes: int = 0
    entries: list[tuple[str, Value, Span]] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    ranges: dict[int, int] = field(default_factory=dict)
    protected: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)

    def make_span(self, line: int, column: int, end_line: int = 0, end_column: int = 0) -> Span:
        file_line = None
        if self.line_map is not None and 0 < line <= len(self.line_map):
            file_line = self.line_map[line - 1]
        return Span(self.path, line, column, end_line, end_column, self.cell, file_line)

    def span(self, node: Node) -> Span:
        start: Mark = node.start_mark
        end_line, end_column = self._end(start, node.end_mark)
        return self.make_span(start.line + 1, start.column + 1, end_line, end_column)

    def _end(self, start: Mark, end: Mark) -> tuple[int, int]:
        """1-based inclusive end; block nodes end at column 0 of the next line: step back."""
        if end.column > 0 or end.line <= start.line:
            return end.line + 1, end.column
        line = end.line - 1
        while line > start.line and self._blank_or_comment(line):
            line -= 1
        return line + 1, len(self.lines[line].rstrip()) if line < len(self.lines) else 0

    def _blank_or_comment(self, index: int) -> bool:
        text = self.lines[index].strip() if index < len(self.lines) else ""
        return not text or text.startswith("#")

    def text_of(self, node: Node) -> str:
        start, end = node.start_mark, node.end_mark
        if start.line == end.line and start.line < len(self.lines):
            return self.lines[start.line][start.column : end.column]
        return str(node.value) if isinstance(node, ScalarNode) else ""

    def walk(self, node: Node, key: str, depth: int) -> object:
        """The node's value as plain data, emitting facts on the way."""
        self.nodes += 1
        if self.nodes > self.limits.max_nodes:
            raise LimitReached(
                "max_nodes", f"more than {self.limits.max_nodes} nodes (aliases expand too far?)"
            )
        if depth > self.limits.max_depth:
            raise LimitReached("max_depth", f"nested deeper than {self.limits.max_depth}")
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        if node.tag not in _COLLECTIONS:
            return UNKNOWN  # a custom or python/* tag: never constructed, never read into
        if isinstance(node, SequenceNode):
            items: list[object] = []
            for index, item in enumerate(node.value):
                items.append(self._child(item, f"{key}[{index}]", None, depth))
            return items
        assert isinstance(node, MappingNode)
        pairs = sorted(node.value, key=lambda pair: pair[0].tag != f"{_Y}merge")
        mapping: dict[str, object] = {}
        for key_node, value_node in pairs:
            if key_node.tag == f"{_Y}merge":  # `<<: *defaults`, explicit keys come after
                for source in _merge_sources(value_node):
                    merged = self.walk(source, key, depth + 1)
                    if isinstance(merged, dict):
                        mapping.update(merged)
                continue
            if not isinstance(key_node, ScalarNode):
                continue
            self._protect(key_node)
            name = key_node.value
            child = f"{key}.{name}" if key else name
            mapping[name] = self._child(value_node, child, key_node, depth)
        return mapping

    def _child(self, node: Node, key: str, key_node: Node | None, depth: int) -> object:
        raw = self.walk(node, key, depth + 1)
        span = self.span(node)
        value = Value(raw, span, "config", self.text_of(node))
        anchor = self.span(key_node) if key_node is not None else span
        self.ranges[anchor.line] = max(self.ranges.get(anchor.line, 0), span.end_line)
        if key_node is not None:
            self.entries.append((key, value, anchor))
        if isinstance(node, ScalarNode) or raw is UNKNOWN:
            self.assignments.append(Assignment(key, value, "key", anchor))
            self.reference(key, value)
        if self._command(node, key, raw):
            self.commands.append(Command(key, node))  # type: ignore[arg-type]
        return raw

    def _command(self, node: Node, key: str, raw: object) -> bool:
        """A command string of a job spec that names a launcher (read as a launch line)."""
        if not isinstance(raw, str) or self.json_mode or not isinstance(node, ScalarNode):
            return False
        if len(self.commands) >= MAX_COMMANDS or not is_command_key(key):
            return False
        return LAUNCH_HINT.search(raw) is not None

    def _scalar(self, node: ScalarNode) -> object:
        self._protect(node)
        if node.tag == f"{_Y}str" and is_placeholder_uri(node.value):
            return UNKNOWN  # `oci://my-bucket/ckpt` names no bucket
        if self.json_mode:
            if node.style in ('"', "'"):
                return node.value
            try:
                return json.loads(node.value)
            except ValueError:
                return node.value
        if node.tag == f"{_Y}str" or node.tag == f"{_Y}timestamp":
            return node.value
        construct = _SCALARS.get(node.tag)
        if construct is None:
            return UNKNOWN  # binary, or a custom / python tag
        try:
            return construct(_CONSTRUCTOR, node)
        except (ValueError, yaml.YAMLError):
            return UNKNOWN

    def _protect(self, node: ScalarNode) -> None:
        """Remember quoted / block scalars holding ``#``: that ``#`` is not a comment."""
        if node.style not in (None, "") and "#" in node.value:
            start, end = node.start_mark, node.end_mark
            self.protected.append(((start.line, start.column), (end.line, end.column)))

    def reference(self, key: str, value: Value) -> None:
        text = value.as_str()
        if not text or "://" in text:
            return
        last = _INDEX.sub("", key).rsplit(".", 1)[-1]
        lowered = text.lower()
        if last in CONFIG_KEYS and lowered.endswith(CONFIG_SUFFIXES):
            self.references.append(Reference(value, "config", key))
        elif last == "checkpoint_dir":
            self.references.append(Reference(value, "other", key))
        elif last in DATA_KEYS and (lowered.endswith(DATA_SUFFIXES) or last == "data_files"):
            self.references.append(Reference(value, "data", key))

    def is_protected(self, line: int, column: int) -> bool:
        return any(start <= (line, column) < end for start, end in self.protected)


def _merge_sources(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [node]
    if isinstance(node, SequenceNode):
        return [item for item in node.value if isinstance(item, MappingNode)]
    return []


def _settings(facts: FileFacts, walker: _Walker, start: int, assigned: int) -> None:
    """Canonical settings of one document's entries, in the dialects its keys show, and
    the launch lines its strings hold."""
    entries = walker.entries[start:]
    dialects = detect_dialects((key for key, _, _ in entries), facts.path)
    facts.dialects = tuple(dict.fromkeys(facts.dialects + dialects))
    facts.settings.extend(document_settings(dialects, entries, walker.assignments[assigned:]))
    from tunelint.sources.shell import extract_shell  # the shell source reads configs too

    for command in walker.commands:
        env = task_env(command.key, walker.assignments[assigned:])
        text = shell_text(command.node, walker.lines)
        found = extract_shell(text, facts.path, cell=walker.cell, line_map=walker.line_map, env=env)
        merge_launches(facts, found)
    walker.commands.clear()


def _too_large(text: str, path: str, limits: ConfigLimits) -> Diagnostic | None:
    size = len(text) if len(text) > limits.max_bytes else len(text.encode("utf-8", "replace"))
    if size <= limits.max_bytes:
        return None
    message = f"{size} bytes exceeds max_bytes ({limits.max_bytes}; limits.max_file_bytes)"
    return Diagnostic(path, "limit", message)


def _finish(facts: FileFacts, walker: _Walker) -> FileFacts:
    facts.assignments.extend(walker.assignments)
    facts.references.extend(walker.references)
    return facts


def extract_yaml(
    text: str,
    path: str,
    *,
    limits: ConfigLimits | None = None,
    cell: int | None = None,
    line_map: Sequence[int] | None = None,
) -> FileFacts:
    """Facts of a YAML file (all documents). ``cell``/``line_map`` place it in a notebook."""
    limits = limits or ConfigLimits()
    lines = split_lines(text)
    facts = FileFacts(path, FileKind.YAML, lines=lines)
    too_large = _too_large(text, path, limits)
    if too_large is not None:
        facts.diagnostics.append(too_large)
        return facts
    walker = _Walker(path, lines, limits, False, cell, line_map)
    try:
        for document in yaml.compose_all(text, Loader=_loader()):
            start, assigned = len(walker.entries), len(walker.assignments)
            if document is not None:
                dropped = False  # past max_nodes nothing is kept: no settings to work out
                try:
                    walker.walk(document, "", 0)
                except LimitReached as error:
                    dropped = error.name == "max_nodes"
                    raise
                finally:
                    if not dropped:
                        _settings(facts, walker, start, assigned)
    except LimitReached as error:
        facts.diagnostics.append(_stopped(facts, walker, error))
    except RecursionError:
        message = f"stopped reading: nested deeper than {limits.max_depth} (limits.max_depth)"
        facts.diagnostics.append(Diagnostic(path, "limit", message))
    except yaml.YAMLError as error:
        if _NESTING in str(error):
            message = (
                "stopped reading: nested deeper than libyaml allows "
                f"(limits.max_depth is {limits.max_depth})"
            )
            facts.diagnostics.append(Diagnostic(path, "limit", message))
        else:
            facts.diagnostics.append(_yaml_error(path, error))
    facts.suppressions.extend(suppressions(walker))
    return _finish(facts, walker)


def _yaml_error(path: str, error: yaml.YAMLError) -> Diagnostic:
    """Problem and position; marks come from PyYAML or libyaml (different classes)."""
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    line, column = getattr(mark, "line", None), getattr(mark, "column", None)
    problem = getattr(error, "problem", None) or (str(error).splitlines() or ["error"])[0]
    if not isinstance(line, int) or not isinstance(column, int):
        return Diagnostic(path, "parse-error", f"invalid YAML: {problem}")
    where = f" (line {line + 1}, column {column + 1})"
    return Diagnostic(path, "parse-error", f"invalid YAML: {problem}{where}", line + 1)


def extract_json(
    text: str,
    path: str,
    *,
    limits: ConfigLimits | None = None,
    cell: int | None = None,
    line_map: Sequence[int] | None = None,
) -> FileFacts:
    """Facts of a JSON config (DeepSpeed and friends). JSON has no comments to suppress."""
    limits = limits or ConfigLimits()
    lines = split_lines(text)
    facts = FileFacts(path, FileKind.JSON, lines=lines)
    too_large = _too_large(text, path, limits)
    if too_large is not None:
        facts.diagnostics.append(too_large)
        return facts
    text = text.removeprefix("\ufeff")  # a byte-order mark json.loads would reject
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        message = f"invalid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        facts.diagnostics.append(Diagnostic(path, "parse-error", message, error.lineno))
        return facts
    except RecursionError:
        message = f"stopped reading: nested deeper than {limits.max_depth} (limits.max_depth)"
        facts.diagnostics.append(Diagnostic(path, "limit", message))
        return facts
    walker = _Walker(path, lines, limits, True, cell, line_map)
    try:
        document = yaml.compose(text.replace("\t", " "), Loader=_loader())
    except (yaml.YAMLError, RecursionError):
        document = None
    try:
        if document is not None:
            walker.walk(document, "", 0)
        else:
            JsonFallback(walker, text).walk(data, "", 0)
    except LimitReached as error:
        facts.diagnostics.append(_stopped(facts, walker, error))
    _settings(facts, walker, 0, 0)
    return _finish(facts, walker)


__all__ = ["ConfigLimits", "extract_json", "extract_yaml"]
