"""From one config document's keys to canonical settings, the way the program reads them.

The config source walks a document into ``(key path, Value, key span)`` entries; this module
decides which settings they make:

* references (``${output_dir}``) are resolved to the value they name, keeping the span of its
  definition (``tunelint.sources.interpolation``), so one problem is one finding;
* a block switched off (``profiler: {enabled: false, output_dir: /tmp/p}``) sets nothing:
  keys under a mapping whose ``enabled`` / ``enable`` is false yield no setting;
* a ``report_to`` list written over several lines gives one setting per item, each at its
  own line, so a finding about ``wandb`` points at ``- wandb``, not at ``- tensorboard``;
* ``trust_remote_code`` means the same in every dialect, at any depth
  (``tokenizer.kwargs.trust_remote_code``, ``environment.trust_remote_code``), also in a
  config whose dialect is not recognised.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace

from tunelint.facts import Assignment, Setting, Span, Value
from tunelint.sources.dialects import canonical_settings, linked_settings
from tunelint.sources.interpolation import Resolver

_INDEX = re.compile(r"\[\d+\]")
_SWITCHES = frozenset({"enabled", "enable"})
_UNIVERSAL = frozenset({"trust_remote_code"})
_PER_ITEM = frozenset({"report_to"})

Entry = tuple[str, Value, Span]


def _last(key: str) -> str:
    return _INDEX.sub("", key).rsplit(".", 1)[-1]


def _switched_off(entries: Iterable[Entry]) -> list[str]:
    """Prefixes (``profiler.``) of mappings whose ``enabled`` switch is false."""
    found: list[str] = []
    for key, value, _ in entries:
        head, dot, last = key.rpartition(".")
        if dot and last in _SWITCHES and value.known and value.as_bool() is False:
            found.append(head + ".")
    return found


def _items(setting: Setting, items: dict[str, Value], resolver: Resolver) -> list[Setting]:
    """A list-valued setting as one setting per item (each with the item's own span)."""
    raw, span = setting.value.raw, setting.value.span
    if setting.name not in _PER_ITEM or not isinstance(raw, list) or not raw:
        return [setting]
    if span.end_line <= span.line:
        return [setting]  # `[wandb, mlflow]` on one line: one place
    keys = [f"{setting.key}[{index}]" for index in range(len(raw))]
    if any(key not in items for key in keys):
        return [setting]
    return [replace(setting, value=resolver.resolve(items[key], key)) for key in keys]


def document_settings(
    dialects: Sequence[str], entries: Sequence[Entry], assignments: Sequence[Assignment]
) -> list[Setting]:
    """The canonical settings one document's entries make, in document order."""
    values = {key: value for key, value, _ in entries}
    items = {a.target: a.value for a in assignments if a.target.endswith("]")}
    for target, value in items.items():
        values.setdefault(target, value)
    resolver = Resolver(values)
    off = _switched_off(entries)
    settings: list[Setting] = []
    for key, written, key_span in entries:
        if any(key.startswith(prefix) for prefix in off):
            continue
        value = resolver.resolve(written, key)
        found: list[Setting] = []
        for dialect in dialects:
            found.extend(canonical_settings(dialect, key, value, key_span))
        if _last(key) in _UNIVERSAL and not any(s.name == _last(key) for s in found):
            found.extend(
                replace(setting, key=key)
                for setting in canonical_settings("hf-loader", _last(key), value, key_span)
            )
        for setting in found:
            settings.extend(_items(setting, items, resolver))
    keyed = {key: (value, key_span) for key, value, key_span in entries}
    return linked_settings(settings, keyed) if dialects else settings


__all__ = ["document_settings"]
