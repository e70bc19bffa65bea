"""GitHub workflow-command annotations: levels, positions and escaping."""

from __future__ import annotations

from report_samples import ROOT, findings, sample_report

from tunelint.facts import Diagnostic, Span
from tunelint.findings import Finding, Report, Severity
from tunelint.report.github import escape_data, escape_property, render_github


def lines(report: Report | None = None) -> list[str]:
    return render_github(report or sample_report()).splitlines()


def test_one_line_per_active_finding_then_diagnostics() -> None:
    out = lines()
    assert len(out) == 7 + 3 + 1
    assert not any("mock hub" in line or "org/base" in line for line in out)
    assert out[-4:] == [
        "::warning file=configs/train.yaml,line=40,title=tunelint%3A partly checked (limit)::"
        "stopped reading: more than 10 aliases",
        "::warning file=data/blob.bin,title=tunelint%3A not checked (binary)::"
        "binary file, not read",
        "::error file=src/broken.py,line=3,title=tunelint%3A not checked (parse-error)::"
        "invalid syntax: unexpected indent",
        "::notice title=tunelint%3A TL101 not evaluated::"
        "TL101 model-exceeds-vram not evaluated: no GPU budget: pass --gpu",
    ]


def test_levels_follow_severity() -> None:
    by_rule = {line.split("title=")[1].split(" ")[0]: line.split(" ")[0] for line in lines()[:7]}
    assert by_rule == {
        "TL302": "::notice",  # info
        "TL105": "::notice",  # low
        "TL001": "::notice",  # low
        "TL401": "::error",  # high
        "TL204": "::error",  # critical
        "TL402": "::warning",  # medium
        "TL201": "::error",  # high
    }


def test_positions_and_title() -> None:
    out = lines()
    assert (
        "::error file=src/train.py,line=14,col=71,endLine=14,endColumn=84,"
        "title=TL201 unencrypted-offload::offload_folder '/tmp/offload' is not under an "
        "encrypted path%0AFix: move the offload directory under /mnt/secure"
    ) in out
    assert (
        "::warning file=src/train.py,line=9,col=11,endLine=11,title=TL402 unpinned-hub-revision::"
        "meta-llama/Llama-2-7b-hf is loaded without a pinned revision"
    ) in out


def test_notebooks_use_the_physical_line_and_name_the_cell() -> None:
    assert (
        "::error file=notebooks/explore.ipynb,line=41,endLine=41,title=TL401 trust-remote-code::"
        "cell 3: trust_remote_code=True runs code from the hub"
    ) in lines()


def test_escaping() -> None:
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("a,b:c%\n") == "a%2Cb%3Ac%25%0A"
    odd = Finding(
        "TL201",
        "unencrypted-offload",
        Severity.MEDIUM,
        "bad: 100%\nsecond line, here",
        Span("dir,with:odd%name.py", 2, 1, 2, 3),
    )
    diagnostic = Diagnostic("x,y.py", "parse-error", "line 1\nline 2", None)
    report = Report(findings=[odd], diagnostics=[diagnostic], files_checked=[], root=ROOT)
    assert lines(report) == [
        "::warning file=dir%2Cwith%3Aodd%25name.py,line=2,col=1,endLine=2,endColumn=3,"
        "title=TL201 unencrypted-offload::bad: 100%25%0Asecond line, here",
        "::error file=x%2Cy.py,title=tunelint%3A not checked (parse-error)::line 1%0Aline 2",
    ]


def test_every_line_is_a_single_workflow_command() -> None:
    text = render_github(sample_report())
    assert text.endswith("\n")
    for line in text.splitlines():
        assert line.startswith(("::error ", "::warning ", "::notice "))
        assert "\r" not in line


def test_empty_report_renders_nothing() -> None:
    assert render_github(Report(findings=[], diagnostics=[], files_checked=[], root=ROOT)) == ""
    assert findings()  # the samples stay importable


def test_files_are_relative_to_the_repository_root() -> None:
    """GitHub maps annotations from the repository root, wherever tunelint ran."""
    finding = findings()[0]
    report = Report(
        findings=[finding], diagnostics=[], files_checked=[], root=ROOT, cwd=ROOT + "/ml"
    )
    assert lines(report)[0].startswith(f"::error file=ml/{finding.span.path},")
