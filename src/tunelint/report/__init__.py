"""Reporters: one module per output format, chosen by name.

Formats are looked up in a small table of ``module:function`` names and imported on
first use, so ``--output-format json`` never pays for rich, and a new format is one line
here. ``full`` and ``concise`` are the two styles of the text report; ``text`` is ``full``.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import cast

from tunelint.findings import Report

Renderer = Callable[..., str]

_RENDERERS: dict[str, str] = {
    "full": "tunelint.report.text:render_text",
    "concise": "tunelint.report.text:render_concise",
    "text": "tunelint.report.text:render_text",  # the name ``full`` had before
    "json": "tunelint.report.json_report:render_json",
    "sarif": "tunelint.report.sarif:render_sarif",
    "github": "tunelint.report.github:render_github",
    "checklist": "tunelint.report.checklist:render_checklist",
}


def formats() -> tuple[str, ...]:
    """Names ``render`` accepts, sorted (for ``--output-format`` choices)."""
    return tuple(sorted(_RENDERERS))


def renderer(fmt: str) -> Renderer:
    """The render function for ``fmt``; ValueError when no format has that name."""
    target = _RENDERERS.get(fmt.strip().lower())
    if target is None:
        raise ValueError(f"unknown format {fmt!r}; expected one of: {', '.join(formats())}")
    module_name, function_name = target.split(":")
    return cast(Renderer, getattr(import_module(module_name), function_name))


def render(report: Report, fmt: str, **options: object) -> str:
    """Render ``report`` in format ``fmt``; options go to that format's renderer."""
    return renderer(fmt)(report, **options)
