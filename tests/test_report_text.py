"""The text reporter: locations, carets, summary, colour on demand only."""

from __future__ import annotations

from dataclasses import replace

from report_samples import ROOT, findings, sample_report

from tunelint.facts import Diagnostic, Span
from tunelint.findings import Finding, Report, Severity
from tunelint.report.text import render_concise, render_text, summary_line


def plain(
    report: Report | None = None, *, width: int | None = None, show_suppressed: bool = False
) -> str:
    return render_text(
        report or sample_report(), color=False, width=width, show_suppressed=show_suppressed
    )


def caret_line_under(output: str, code_line: str) -> str:
    lines = output.splitlines()
    index = next(i for i, line in enumerate(lines) if line.endswith(code_line))
    return lines[index + 1]


def test_plain_output_has_no_escape_codes_and_colour_output_does() -> None:
    assert "\x1b[" not in plain()
    coloured = render_text(sample_report(), color=True)
    assert "\x1b[" in coloured
    assert render_text(sample_report(), color=True) == coloured
    assert coloured != plain()


def test_grouped_by_file_with_locations_rule_and_title() -> None:
    output = plain()
    assert "\nsrc/train.py\n" in output
    assert output.index("configs/train.yaml\n") < output.index("\nsrc/train.py\n")
    assert (
        "src/train.py:14:71  TL201 unencrypted-offload [high] [*]  "
        "Offload directory not on an encrypted path" in output
    )
    assert "notebooks/explore.ipynb[cell 3]:2:41  TL401 trust-remote-code [high]" in output
    assert "notebooks/my (copy) notebook.ipynb[cell 2]:1:31" in output


def test_caret_sits_under_the_span() -> None:
    output = plain()
    code = 'offload_folder="/tmp/offload")'
    carets = caret_line_under(output, code)
    code_line = next(line for line in output.splitlines() if line.endswith(code))
    start = code_line.index('"/tmp/offload"')
    assert carets.index("^") == start
    assert carets.count("^") == len('"/tmp/offload"')


def test_multiline_span_underlines_each_line() -> None:
    output = plain()
    for code in ("AutoTokenizer.from_pretrained(", '"meta-llama/Llama-2-7b-hf",', ")"):
        code_line = next(line for line in output.splitlines() if line.endswith(" " + code))
        carets = caret_line_under(output, " " + code)
        assert carets.index("^") == code_line.index(code)
        assert carets.count("^") == len(code)


def test_tabs_are_kept_so_carets_align() -> None:
    finding = Finding(
        "TL403",
        "unsafe-deserialization",
        Severity.HIGH,
        "torch.load without weights_only=True",
        Span("a.py", 3, 10, 3, 25),
        snippet="\tstate = torch.load(path)",
    )
    report = Report(findings=[finding], diagnostics=[], files_checked=["a.py"], root=ROOT)
    output = plain(report)
    code_line = next(line for line in output.splitlines() if line.endswith("torch.load(path)"))
    carets = caret_line_under(output, "torch.load(path)")
    assert carets.index("^") == code_line.index("torch")
    assert carets.count("^") == len("torch.load(path)")


def test_related_fix_and_docs_are_shown() -> None:
    output = plain()
    assert "    related: configs/ds_config.json:9:7: offload_param.device is set here" in output
    assert "    fix: move the offload directory under /mnt/secure" in output
    assert "    docs: tunelint explain TL201" in output
    hosted = replace(sample_report(), docs_url="https://wiki.example.com/tunelint/{id}")
    assert "    docs: https://wiki.example.com/tunelint/TL201" in plain(hosted)
    assert "related: notebooks/my (copy) notebook.ipynb[cell 5]:4:1: used here" in output


def test_suppressed_findings_are_counted_not_shown_by_default() -> None:
    output = plain()
    assert "mock hub" not in output and "org/base" not in output
    assert "2 suppressed (1 by baseline)" in output
    shown = plain(show_suppressed=True)
    assert "(suppressed: mock hub)" in shown and "(suppressed: baseline)" in shown


def test_diagnostics_are_listed_under_not_checked() -> None:
    output = plain()
    section = output[output.index("Not checked\n") : output.index("Partly checked\n")]
    assert "  src/broken.py:3: parse-error [error]: invalid syntax: unexpected indent" in section
    assert "  data/blob.bin: binary [warning]: binary file, not read" in section
    partly = output[output.index("Partly checked\n") : output.index("Rules not evaluated\n")]
    assert "  configs/train.yaml:40: limit [warning]: stopped reading" in partly
    notes = output[output.index("Rules not evaluated\n") :]
    assert "  TL101 model-exceeds-vram not evaluated: no GPU budget" in notes


def test_summary_line() -> None:
    report = sample_report()
    expected = (
        "Found 7 findings (1 critical, 2 high, 1 medium, 2 low, 1 info) in 5 files; 5 files "
        "checked, 1 partly checked, 2 not checked, 1 skipped; 2 suppressed (1 by baseline); "
        "1 rule not evaluated; 1 error"
    )
    assert summary_line(report) == expected
    lines = plain(report).rstrip("\n").splitlines()
    assert lines[-4] == expected
    assert " ".join(lines[-3:-1]) == (
        "Skipped 1 virtual environment (venv2/): to check them, name one on the command line "
        "or pass --no-default-excludes"
    )
    assert lines[-1] == "[*] 1 fixable with --fix"  # the finding whose fix has edits


def test_summary_matches_the_documented_example() -> None:
    found = findings()
    picked = [found[0], found[1], found[7]]  # high, medium, high (notebook)
    suppressed = found[2]
    report = Report(
        findings=[*picked, suppressed],
        diagnostics=[Diagnostic("x.py", "parse-error", "bad", 1)],
        files_checked=["a", "b", "c", "d", "e"],
        root=ROOT,
    )
    assert summary_line(report) == (
        "Found 3 findings (2 high, 1 medium) in 2 files; 5 files checked, 1 not checked; "
        "1 suppressed; 1 error"
    )


def test_empty_report() -> None:
    report = Report(findings=[], diagnostics=[], files_checked=["a.py"], root=ROOT)
    assert plain(report) == "No findings in 1 file checked\n"


def test_long_messages_wrap_to_width_and_code_frames_do_not() -> None:
    finding = findings()[0]
    finding.message = " ".join(["word"] * 40)
    report = Report(findings=[finding], diagnostics=[], files_checked=[], root=ROOT)
    output = plain(report, width=60)
    message_lines = [line for line in output.splitlines() if line.startswith("    word")]
    assert len(message_lines) > 1 and all(len(line) <= 60 for line in message_lines)
    assert any(line.endswith('offload_folder="/tmp/offload")') for line in output.splitlines())


def test_no_trailing_whitespace_and_ends_with_newline() -> None:
    output = plain()
    assert output.endswith("\n")
    assert all(line == line.rstrip() for line in output.splitlines())


def test_concise_is_one_line_per_finding_then_diagnostics_and_notes() -> None:
    lines = render_concise(sample_report()).splitlines()
    assert (
        "src/train.py:14:71: TL201 [high] [*] offload_folder '/tmp/offload' is not under an "
        "encrypted path"
    ) in lines
    active = [f for f in sample_report().findings if not f.suppressed]
    assert len([line for line in lines if ": TL" in line and " [" in line]) == len(active)
    assert "src/broken.py:3: parse-error [error]: invalid syntax: unexpected indent" in lines
    assert "warning: TL101 model-exceeds-vram not evaluated: no GPU budget: pass --gpu" in lines
    assert lines[-4].startswith("Found 7 findings") and lines[-1] == "[*] 1 fixable with --fix"
    assert not any(" | " in line for line in lines)  # no source unless asked
    framed = render_concise(sample_report(), show_source=True)
    assert "14 |" in framed


def test_full_without_source_keeps_everything_but_the_frames() -> None:
    bare = render_text(sample_report(), show_source=False)
    assert " | " not in bare and "^" not in bare
    assert "fix: move the offload directory under /mnt/secure" in bare


def test_quiet_prints_findings_and_errors_only() -> None:
    quiet = render_concise(sample_report(), quiet=True).splitlines()
    active = [f for f in sample_report().findings if not f.suppressed]
    assert len(quiet) == len(active) + 1
    assert quiet[-1] == "src/broken.py:3: parse-error [error]: invalid syntax: unexpected indent"
    assert not any(line.startswith(("Found", "Skipped", "warning:")) for line in quiet)
    clean = Report(findings=[], diagnostics=[], files_checked=["a.py"], root=ROOT)
    assert render_text(clean, quiet=True) == ""
    assert render_concise(clean, quiet=True) == ""
