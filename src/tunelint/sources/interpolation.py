"""OmegaConf / Hydra interpolation (``${output_dir}``) resolved within one config document.

torchtune, Hydra and OmegaConf configs say a value once and refer to it elsewhere:
``checkpointer.output_dir: ${output_dir}``, ``log_dir: ${output_dir}/logs``. A value filled
in from a reference is the definition's value, and keeps the definition's span, so that a
problem in ``output_dir: /tmp/x`` is reported once, where a reviewer would change it, and
not again at every reference; ``Value.via`` keeps the place of the reference.

Understood: absolute key paths (``${a.b}``, ``${a[0]}``, ``${a.0}``), relative ones
(``${.sibling}``, ``${..uncle}``), references inside references' definitions (a bounded
chain), and ``${oc.env:NAME,default}`` / ``${env:NAME,default}`` (the default, since the
environment of the run is not known; without a default, Unknown). Any other resolver, a
missing key, a cycle or a container inside a string is Unknown. The scan is one pass over the
text, so untrusted configs cannot make it slow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from tunelint.facts import UNKNOWN, Value

MAX_CHAIN = 8  # ``a: ${b}``, ``b: ${c}``...: deeper chains (or cycles) are Unknown
# ``b: ${a}${a}``, ``c: ${b}${b}``... doubles at each step: longer values are Unknown.
MAX_VALUE_CHARS = 100_000
_ENV_RESOLVERS = ("oc.env:", "env:")


def _references(text: str) -> list[tuple[int, int]]:
    """(start, end) of each top-level ``${...}``; ``\\${`` is a literal dollar-brace."""
    found: list[tuple[int, int]] = []
    index = 0
    while True:
        start = text.find("${", index)
        if start < 0:
            return found
        if start > 0 and text[start - 1] == "\\":
            index = start + 2
            continue
        depth, cursor = 0, start
        while cursor < len(text):
            if text.startswith("${", cursor):
                depth += 1
                cursor += 2
                continue
            if text[cursor] == "}":
                depth -= 1
                if depth == 0:
                    break
            cursor += 1
        if depth != 0:
            return found  # unbalanced: the rest is not a reference
        found.append((start, cursor + 1))
        index = cursor + 1


class Resolver:
    """Resolves references against one document's values (``key path -> Value``)."""

    def __init__(self, values: Mapping[str, Value]) -> None:
        self.values = values
        self._done: dict[str, Value | None] = {}  # each key is resolved once

    def resolve(self, value: Value, key: str) -> Value:
        """``value`` (written at ``key``) with its references filled in."""
        return self._resolve(value, key, 0)

    def _resolve(self, value: Value, key: str, depth: int) -> Value:
        text = value.as_str()
        if text is None or "${" not in text:
            return value
        spots = _references(text)
        if not spots:
            return value
        if depth >= MAX_CHAIN:
            return replace(value, raw=UNKNOWN)
        if len(spots) == 1 and spots[0] == (0, len(text)):
            found = self._target(text[2:-1], value, key, depth)
            if found is None:
                return replace(value, raw=UNKNOWN)
            if found.span == value.span:  # an `oc.env` default, written right here
                return replace(found, via=value.via)
            return replace(found, via=value.via or value.span)
        parts: list[str] = []
        sources: list[Value] = []
        cursor = size = 0
        for start, end in spots:
            found = self._target(text[start + 2 : end - 1], value, key, depth)
            piece = _as_text(found.raw) if found is not None else None
            if found is None or piece is None:
                return replace(value, raw=UNKNOWN)
            parts.append(text[cursor:start].replace("\\${", "${"))
            parts.append(piece)
            sources.append(found)
            cursor = end
            size += len(parts[-2]) + len(piece)
            if size > MAX_VALUE_CHARS:
                return replace(value, raw=UNKNOWN)
        parts.append(text[cursor:].replace("\\${", "${"))
        raw = "".join(parts)
        source = sources[0]
        if len(sources) == 1 and source.span != value.span:
            # `${output_dir}/logs`: decided where output_dir is written
            return Value(raw, source.span, source.origin, value.text, value.via or value.span)
        return replace(value, raw=raw)

    def _target(self, inner: str, at: Value, key: str, depth: int) -> Value | None:
        """The value ``${inner}`` (written in ``at``) stands for, resolved, or None."""
        inner = inner.strip()
        for prefix in _ENV_RESOLVERS:
            if inner.startswith(prefix):
                _, comma, default = inner[len(prefix) :].partition(",")
                if not comma:
                    return None
                return self._default(default.strip(), at, key, depth)
        if ":" in inner or "${" in inner:
            return None  # another resolver, or a computed key
        path = _absolute(inner, key)
        if path is None:
            return None
        if path in self._done:
            return self._done[path]
        found = self.values.get(path) or self.values.get(_indexed(path))
        if found is None:
            return None
        self._done[path] = None  # a reference back to this key while resolving it: a cycle
        resolved = self._resolve(found, path, depth + 1)
        result = None if resolved.raw is UNKNOWN else resolved
        self._done[path] = result
        return result

    def _default(self, text: str, at: Value, key: str, depth: int) -> Value | None:
        """An ``oc.env`` default as written (quoted or a reference), or None."""
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
            text = text[1:-1]
        if text.startswith("${") and text.endswith("}"):
            return self._target(text[2:-1], at, key, depth)
        if not text or text.lower() == "null":
            return None
        return Value(text, at.span, at.origin, at.text)


def _absolute(inner: str, key: str) -> str | None:
    """``.sibling`` / ``..uncle`` relative to ``key``'s parent; absolute paths as written."""
    if not inner.startswith("."):
        return inner or None
    dots = len(inner) - len(inner.lstrip("."))
    parents = key.split(".")[:-1]
    if dots - 1 > len(parents):
        return None
    base = parents[: len(parents) - (dots - 1)]
    rest = inner[dots:]
    return ".".join([*base, rest]) if rest else None


def _indexed(path: str) -> str:
    """``a.0.b`` (OmegaConf's list index) as the walker spells it: ``a[0].b``."""
    parts = path.split(".")
    out: list[str] = []
    for part in parts:
        if part.isdigit() and out:
            out[-1] = f"{out[-1]}[{part}]"
        else:
            out.append(part)
    return ".".join(out)


def _as_text(raw: object) -> str | None:
    """How OmegaConf writes a scalar into a string; containers and Unknown cannot be."""
    if raw is UNKNOWN or raw is None or isinstance(raw, dict | list | tuple):
        return None
    return str(raw)


__all__ = ["MAX_CHAIN", "Resolver"]
