"""YAML and JSON fixes by exact spans: compose the document (nodes with positions, nothing
constructed), find the value at the finding's span, and replace the characters of that value
only. The document is never dumped again, so comments, key order, quoting and layout
elsewhere stay as they were.

Positions come from PyYAML's pure-Python composer, whose marks carry character offsets.
JSON goes through the same composer (tabs, which YAML rejects, can only be whitespace in
valid JSON and become spaces of the same length), as the config source reads it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import cast

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from tunelint.facts import Span
from tunelint.fix.text import TextEdit, apply_edits, newline_of

_PLAIN = re.compile(r"[A-Za-z0-9_./~][A-Za-z0-9_./~-]*")
MAX_NODES = 200_000


@dataclass(frozen=True, slots=True)
class Located:
    """A value node, the key path to it, its parent collection and its key node."""

    node: Node
    path: tuple[str | int, ...]
    parent: Node | None
    key_node: ScalarNode | None

    @property
    def key(self) -> str:
        names = [part for part in self.path if isinstance(part, str)]
        return names[-1] if names else ""

    @property
    def parent_key(self) -> str:
        names = [part for part in self.path if isinstance(part, str)]
        return names[-2] if len(names) > 1 else ""


@dataclass(slots=True)
class ConfigDoc:
    """A YAML or JSON text and its composed documents."""

    text: str
    json_mode: bool
    documents: list[Node]

    def locate(self, span: Span) -> Located | None:
        """The value node starting at the span's start; None when there is none, or when the
        node is reached more than once (an anchor that aliases share: editing it would change
        every place that uses it)."""
        wanted = (span.line - 1, span.column - 1)
        found: list[Located] = []
        seen: dict[int, int] = {}
        budget = [MAX_NODES]

        def walk(
            node: Node, path: tuple[str | int, ...], parent: Node | None, key: ScalarNode | None
        ) -> None:
            budget[0] -= 1
            if budget[0] < 0:
                raise RecursionError("too many nodes")
            seen[id(node)] = seen.get(id(node), 0) + 1
            if seen[id(node)] > 1:
                return
            if (node.start_mark.line, node.start_mark.column) == wanted:
                found.append(Located(node, path, parent, key))
            if isinstance(node, MappingNode):
                for key_node, value in node.value:
                    name = key_node.value if isinstance(key_node, ScalarNode) else "?"
                    walk(
                        value,
                        (*path, str(name)),
                        node,
                        key_node if isinstance(key_node, ScalarNode) else None,
                    )
            elif isinstance(node, SequenceNode):
                for index, item in enumerate(node.value):
                    walk(item, (*path, index), node, None)

        try:
            for document in self.documents:
                walk(document, (), None, None)
        except RecursionError:
            return None
        if len(found) != 1 or seen.get(id(found[0].node), 0) != 1:
            return None
        return found[0]

    def region(self, node: Node) -> tuple[int, int]:
        return node.start_mark.index, node.end_mark.index

    def source(self, node: Node) -> str:
        start, end = self.region(node)
        return self.text[start:end]


def compose(text: str, json_mode: bool) -> ConfigDoc | None:
    """The composed documents; None when the text does not compose (or nests too deep)."""
    try:
        if json_mode:
            json.loads(text)
            documents = [yaml.compose(text.replace("\t", " "), Loader=yaml.SafeLoader)]
        else:
            documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except (yaml.YAMLError, ValueError, RecursionError):
        return None
    return ConfigDoc(text, json_mode, [doc for doc in documents if doc is not None])


# --------------------------------------------------------------------------- scalars


def scalar_text(doc: ConfigDoc, node: ScalarNode, value: str) -> str | None:
    """``value`` written as a string scalar in ``node``'s style; None for block scalars."""
    if doc.json_mode or node.style == '"':
        return json.dumps(value, ensure_ascii=False)
    if node.style == "'":
        return "'" + value.replace("'", "''") + "'"
    if node.style not in (None, ""):
        return None  # a literal or folded block: left for a person
    if _PLAIN.fullmatch(value) and yaml.safe_load(value) == value:
        return value
    return json.dumps(value, ensure_ascii=False)


def bool_text(doc: ConfigDoc, node: ScalarNode, value: bool) -> str:
    """``value`` spelt like the boolean it replaces (``true``/``True``/``TRUE``)."""
    word = "true" if value else "false"
    if doc.json_mode:
        return word
    written = doc.source(node)
    if written.isupper():
        return word.upper()
    if written[:1].isupper():
        return word.capitalize()
    return word


def replace_node(doc: ConfigDoc, node: Node, replacement: str) -> str:
    start, end = doc.region(node)
    return apply_edits(doc.text, [TextEdit(start, end, replacement)])


# --------------------------------------------------------------------------- mappings


def sibling(located: Located, name: str) -> Node | None:
    """The value of key ``name`` in the mapping that holds ``located``."""
    parent = located.parent
    if not isinstance(parent, MappingNode):
        return None
    for key_node, value in parent.value:
        if isinstance(key_node, ScalarNode) and key_node.value == name:
            return cast(Node, value)
    return None


def add_sibling(doc: ConfigDoc, located: Located, name: str, value_text: str) -> TextEdit | None:
    """An edit that adds ``name: value`` to the mapping holding ``located``, right after it:
    a line of its own at the same indent in a YAML block mapping, a member after it in JSON;
    None for YAML flow mappings (left as they are)."""
    parent, key_node = located.parent, located.key_node
    if not isinstance(parent, MappingNode) or key_node is None:
        return None
    text = doc.text
    newline = newline_of(text)
    end = located.node.end_mark.index
    line_start = text.rfind("\n", 0, key_node.start_mark.index) + 1
    indent = text[line_start : key_node.start_mark.index]
    alone = not indent.strip()
    if doc.json_mode:
        member = f"{json.dumps(name)}: {value_text}"
        joint = f",{newline}{indent}" if alone else ", "
        return TextEdit(end, end, joint + member)
    if parent.flow_style or (not alone and not indent.rstrip().endswith("-")):
        return None
    column = key_node.start_mark.column
    line_end = text.find("\n", end)
    if line_end < 0:
        return TextEdit(len(text), len(text), f"{newline}{' ' * column}{name}: {value_text}")
    return TextEdit(line_end + 1, line_end + 1, f"{' ' * column}{name}: {value_text}{newline}")


# --------------------------------------------------------------------------- sequences


def without_items(doc: ConfigDoc, located: Located, keep: list[int], empty: str) -> str | None:
    """The text with the sequence at ``located`` holding only the items at ``keep``, or
    ``empty`` in its place when none is kept. Block sequences lose whole item lines; flow
    sequences are written again from their kept items' own text."""
    node = located.node
    assert isinstance(node, SequenceNode)
    items = node.value
    if not all(isinstance(item, ScalarNode) for item in items):
        return None
    if not keep:
        return _replace_sequence(doc, located, empty)
    if node.flow_style or doc.json_mode:
        start, end = items[0].start_mark.index, items[-1].end_mark.index
        separator = (
            doc.text[items[0].end_mark.index : items[1].start_mark.index]
            if len(items) > 1
            else ", "
        )
        kept = separator.join(doc.source(items[index]) for index in keep)
        return apply_edits(doc.text, [TextEdit(start, end, kept)])
    edits = []
    for index, item in enumerate(items):
        if index in keep:
            continue
        region = _item_lines(doc, item)
        if region is None:
            return None
        edits.append(TextEdit(*region, ""))
    return apply_edits(doc.text, edits)


def _item_lines(doc: ConfigDoc, item: Node) -> tuple[int, int] | None:
    """The whole line of a block sequence item (``  - wandb  # note``), line break included."""
    text = doc.text
    start = text.rfind("\n", 0, item.start_mark.index) + 1
    if text[start : item.start_mark.index].strip() != "-":
        return None
    end = text.find("\n", item.end_mark.index)
    if item.end_mark.line != item.start_mark.line:
        return None
    return start, (end + 1 if end >= 0 else len(text))


def _replace_sequence(doc: ConfigDoc, located: Located, empty: str) -> str | None:
    node = located.node
    assert isinstance(node, SequenceNode)
    if node.flow_style or doc.json_mode:
        return replace_node(doc, node, empty)
    key_node = located.key_node
    if key_node is None:
        return None
    text = doc.text
    colon = text.find(":", key_node.end_mark.index)
    last = node.value[-1].end_mark.index if node.value else node.end_mark.index
    if colon < 0 or colon > node.start_mark.index:
        return None
    between = text[colon + 1 : node.start_mark.index]
    comment = next((line.strip() for line in between.splitlines() if line.strip()), "")
    if comment and not comment.startswith("#"):
        return None
    replacement = f" {empty}" + (f"  {comment}" if comment else "")
    return apply_edits(text, [TextEdit(colon + 1, last, replacement)])
