"""Sources: one module per file kind, each turning text into FileFacts. None knows a rule.

``extractor(kind)`` is the one table from a file kind to its source; ``parse`` runs it and
turns any failure into a diagnostic, so a crash on one file never loses the others.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from tunelint.facts import Diagnostic, FileFacts, FileKind

if TYPE_CHECKING:
    from tunelint.sources.config import ConfigLimits

Source = Callable[[str, str], FileFacts]


def extractor(kind: FileKind, limits: ConfigLimits | None = None) -> Source:
    """The source for a kind (imported on first use); YAML and JSON get the policy's limits."""
    if kind is FileKind.PYTHON:
        from tunelint.sources.python import extract_python

        return extract_python
    if kind is FileKind.NOTEBOOK:
        from tunelint.sources.notebook import extract_notebook

        return extract_notebook
    if kind is FileKind.YAML:
        from tunelint.sources.config import extract_yaml

        return partial(extract_yaml, limits=limits)
    if kind is FileKind.JSON:
        from tunelint.sources.config import extract_json

        return partial(extract_json, limits=limits)
    if kind is FileKind.PINS:
        from tunelint.sources.pins import extract_pins

        return extract_pins
    from tunelint.sources.shell import extract_shell

    return extract_shell


def parse(path: str, kind: FileKind, text: str, limits: ConfigLimits | None = None) -> FileFacts:
    """Facts of one file's text; any failure becomes a diagnostic on empty facts."""
    try:
        extract = extractor(kind) if limits is None else extractor(kind, limits)
        return extract(text, path)
    except RecursionError:
        message = "nesting too deep to read safely (limits.max_depth)"
        return FileFacts(path, kind, diagnostics=[Diagnostic(path, "too-deep", message)])
    except Exception as error:  # a crash on one file never loses the others
        message = f"internal error while reading: {type(error).__name__}: {error}"
        return FileFacts(path, kind, diagnostics=[Diagnostic(path, "internal-error", message)])
