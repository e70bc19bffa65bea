"""Defaults a script runs with when no flag is given: argparse options and dataclass fields.

Read after the walk (``python_walk.py``) has seen every binding, and before call sites
become facts, so that ``args.lr`` and ``training_args.output_dir`` resolve to the defaults.
Settings from defaults are emitted here because only this step sees them.
"""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from tunelint.facts import FileFacts, Setting, Span, Value
from tunelint.sources.python_values import Resolver, dotted_name
from tunelint.sources.python_walk import Walk

Canonical = Callable[[str, str, Value, Span], list[Setting]]


def collect_defaults(
    resolver: Resolver, walk: Walk, facts: FileFacts, canonical: Canonical
) -> None:
    """argparse and dataclass defaults: values the script runs with when no flag is given."""
    for node, scope in walk.argparse_calls:
        flags = [resolver.text_of(a.value, scope) for a in node.args if a.keyword is None]
        keywords = {a.keyword.value: a for a in node.args if a.keyword is not None}
        dest_arg = keywords.get("dest")
        dest = resolver.text_of(dest_arg.value, scope) if dest_arg else None
        longs = [f for f in flags if f and f.startswith("--")]
        if dest is None and longs:
            dest = longs[0][2:].replace("-", "_")
        if dest is None:
            continue
        default_arg = keywords.get("default")
        action_arg = keywords.get("action")
        action = resolver.text_of(action_arg.value, scope) if action_arg else None
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
    for class_node in walk.dataclasses:
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
                    value = resolver.value(default, walk.stack[0])
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
