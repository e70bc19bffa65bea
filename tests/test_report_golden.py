"""Golden files for every format, and byte-identical output on repeated renders.

Regenerate with ``TUNELINT_UPDATE_GOLDEN=1 pytest tests/test_report_golden.py`` and review
the diff: it shows exactly what users will see change.
"""

from __future__ import annotations

import pytest
from report_samples import assert_golden, sample_report

import tunelint
from tunelint.report import render

CASES = [
    ("report.txt", "text", {"color": False, "width": 100}),
    ("report.json", "json", {}),
    ("report.sarif", "sarif", {"category": "tunelint"}),
    ("report.github.txt", "github", {}),
]


@pytest.fixture(autouse=True)
def _pinned_version(monkeypatch: pytest.MonkeyPatch) -> None:
    """Golden files must not change with every release."""
    monkeypatch.setattr(tunelint, "__version__", "0.0.0-test")


@pytest.mark.parametrize(("name", "fmt", "options"), CASES, ids=[c[1] for c in CASES])
def test_golden(name: str, fmt: str, options: dict[str, object]) -> None:
    assert_golden(name, render(sample_report(), fmt, **options))


@pytest.mark.parametrize(("name", "fmt", "options"), CASES, ids=[c[1] for c in CASES])
def test_rendering_twice_gives_identical_bytes(
    name: str, fmt: str, options: dict[str, object]
) -> None:
    report = sample_report()
    first = render(report, fmt, **options).encode("utf-8")
    assert render(report, fmt, **options).encode("utf-8") == first
    # A fresh, equal report (and one built in another order) renders the same, too.
    shuffled = sample_report()
    shuffled.findings.reverse()
    shuffled.diagnostics.reverse()
    assert render(shuffled, fmt, **options).encode("utf-8") == first


def test_rendering_does_not_change_the_report() -> None:
    report = sample_report()
    report.findings.reverse()
    before = [(f.span, f.fingerprint, f.suppressed) for f in report.findings]
    for _, fmt, options in CASES:
        render(report, fmt, **options)
    assert [(f.span, f.fingerprint, f.suppressed) for f in report.findings] == before
