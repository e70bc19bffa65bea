"""``render`` picks a reporter by name; unknown names are a clear ValueError."""

from __future__ import annotations

import json

import pytest
from report_samples import sample_report

from tunelint.report import formats, render, renderer
from tunelint.report.text import render_concise, render_text


def test_formats() -> None:
    assert formats() == ("checklist", "concise", "full", "github", "json", "sarif", "text")
    assert renderer("text") is render_text is renderer("full")
    assert renderer("concise") is render_concise
    assert renderer(" JSON ") is renderer("json")


def test_render_dispatches_with_options() -> None:
    report = sample_report()
    assert render(report, "text", color=False) == render_text(report, color=False)
    assert json.loads(render(report, "json"))["version"] == 2
    sarif = json.loads(render(report, "sarif", category="nightly"))
    assert sarif["runs"][0]["automationDetails"]["id"] == "nightly/"
    assert render(report, "github").startswith("::")


def test_unknown_format() -> None:
    with pytest.raises(
        ValueError, match="unknown format 'xml'; expected one of: checklist, concise, full, github"
    ):
        render(sample_report(), "xml")


def test_unknown_option_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        render(sample_report(), "json", colour=True)
