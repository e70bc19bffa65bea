"""A quick yes for documents that plainly satisfy tunelint's own JSON Schemas.

``jsonschema`` costs about a tenth of a second to import, more than checking a small project
takes. Most runs read a policy that is valid, so this checks the handful of keywords our
schemas use (``type``, ``properties``, ``additionalProperties``, ``patternProperties``,
``items``, ``enum``, ``const``, ``pattern``, ``minimum``, ``maximum``, ``exclusiveMinimum``,
``minLength``, ``oneOf``) and answers True only when the document is valid for certain.
Anything else (a keyword it does not know, a failed check) answers False, and the caller asks
``jsonschema`` for the full list of errors with their messages. It never says valid where
``jsonschema`` would not: the tests hold it to that on generated documents.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

_ANNOTATIONS = frozenset(
    {"description", "title", "$schema", "$id", "default", "examples", "$defs", "$comment"}
)
_KNOWN = _ANNOTATIONS | {
    "type",
    "properties",
    "additionalProperties",
    "patternProperties",
    "items",
    "enum",
    "const",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "minLength",
    "oneOf",
    "$ref",
}


@lru_cache(maxsize=64)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _type_ok(value: Any, kind: str) -> bool:
    if kind == "object":
        return isinstance(value, Mapping)
    if kind == "array":
        return isinstance(value, list)
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "null":
        return value is None
    return False


def plainly_valid(value: Any, schema: Any, root: Any = None) -> bool:
    """True only when ``value`` satisfies ``schema`` for certain (see the module docstring).

    ``root`` is the whole schema, for ``$ref``s to its ``#/$defs/...``."""
    root = schema if root is None else root
    if schema is True:
        return True
    if not isinstance(schema, Mapping) or not set(schema) <= _KNOWN:
        return False
    if "$ref" in schema:
        target = _definition(root, schema["$ref"])
        if target is None or not plainly_valid(value, target, root):
            return False
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        if not any(_type_ok(value, str(k)) for k in kinds):
            return False
    if "const" in schema and not _same(value, schema["const"]):
        return False
    if "enum" in schema and not any(_same(value, item) for item in schema["enum"]):
        return False
    if not _number_ok(value, schema) or not _string_ok(value, schema):
        return False
    items = schema.get("items")
    listed = isinstance(value, list) and items is not None
    if listed and not all(plainly_valid(item, items, root) for item in value):
        return False
    if isinstance(value, Mapping) and not _object_ok(value, schema, root):
        return False
    if "oneOf" in schema:
        return sum(1 for part in schema["oneOf"] if plainly_valid(value, part, root)) == 1 and all(
            _certain(value, part) for part in schema["oneOf"]
        )
    return True


def _definition(root: Any, reference: Any) -> Any:
    """The schema a local ``#/$defs/name`` reference points at, or None."""
    if not isinstance(reference, str) or not reference.startswith("#/$defs/"):
        return None
    definitions = root.get("$defs") if isinstance(root, Mapping) else None
    name = reference.removeprefix("#/$defs/")
    return definitions.get(name) if isinstance(definitions, Mapping) else None


def _certain(value: Any, schema: Any) -> bool:
    """For ``oneOf``: every branch must be one this module can judge all the way down, or a
    False from it could hide a match and make two branches valid."""
    if isinstance(schema, bool):
        return True
    if not isinstance(schema, Mapping) or not set(schema) <= _KNOWN or "$ref" in schema:
        return False
    children = [
        *schema.get("properties", {}).values(),
        *schema.get("patternProperties", {}).values(),
    ]
    for key in ("items", "additionalProperties"):
        if key in schema:
            children.append(schema[key])
    children.extend(schema.get("oneOf", []))
    return all(_certain(value, child) for child in children)


def _same(value: Any, wanted: Any) -> bool:
    if isinstance(value, bool) or isinstance(wanted, bool):
        return value is wanted
    return bool(value == wanted)


def _number_ok(value: Any, schema: Mapping[str, Any]) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return True
    if "minimum" in schema and value < schema["minimum"]:
        return False
    if "maximum" in schema and value > schema["maximum"]:
        return False
    return not ("exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"])


def _string_ok(value: Any, schema: Mapping[str, Any]) -> bool:
    if not isinstance(value, str):
        return True
    if "minLength" in schema and len(value) < schema["minLength"]:
        return False
    return not ("pattern" in schema and _regex(schema["pattern"]).search(value) is None)


def _object_ok(value: Mapping[str, Any], schema: Mapping[str, Any], root: Any) -> bool:
    properties: Mapping[str, Any] = schema.get("properties", {})
    patterns: Mapping[str, Any] = schema.get("patternProperties", {})
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        if not isinstance(key, str):
            return False
        matched = False
        if key in properties:
            matched = True
            if not plainly_valid(item, properties[key], root):
                return False
        for pattern, sub in patterns.items():
            if _regex(pattern).search(key) is not None:
                matched = True
                if not plainly_valid(item, sub, root):
                    return False
        if not matched and not plainly_valid(item, extra, root):
            return False
    return True
