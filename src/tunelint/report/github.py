"""GitHub Actions workflow-command annotations, one line per active finding.

Escaping follows the runner's rules: in the message ``%``, CR and LF are %-encoded; in
properties ``:`` and ``,`` are too, so a path or title can never end a property early.
"""

from __future__ import annotations

from tunelint.facts import Diagnostic
from tunelint.findings import Finding, Note, Report, Severity
from tunelint.report._common import repository_path, sorted_findings

_LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "notice",
    Severity.INFO: "notice",
}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _command(level: str, properties: list[tuple[str, str | int]], message: str) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties)
    return f"::{level} {props}::{escape_data(message)}"


def _file(report: Report, path: str) -> str:
    """Relative to the repository root, as GitHub maps annotations; as shown when outside."""
    return repository_path(report, path) or path


def _finding(finding: Finding, report: Report) -> str:
    span = finding.span
    line = span.physical_line
    end_line = line + (span.end_line - span.line)
    properties: list[tuple[str, str | int]] = [("file", _file(report, span.path)), ("line", line)]
    # Columns inside a notebook cell do not match the raw .ipynb line, so leave them out.
    if span.cell is None:
        properties.append(("col", span.column))
    properties.append(("endLine", end_line))
    if span.cell is None and span.end_column and end_line == line:
        properties.append(("endColumn", span.end_column))
    properties.append(("title", f"{finding.rule_id} {finding.rule_name}"))
    message = finding.message
    if span.cell is not None:
        message = f"cell {span.cell}: {message}"
    if finding.fix is not None and finding.fix.description:
        message += f"\nFix: {finding.fix.description}"
    return _command(_LEVELS[finding.severity], properties, message)


def _diagnostic(diagnostic: Diagnostic, report: Report, partly: set[str]) -> str:
    properties: list[tuple[str, str | int]] = [("file", _file(report, diagnostic.path))]
    if diagnostic.line is not None:
        properties.append(("line", diagnostic.line))
    state = "partly checked" if diagnostic.path in partly else "not checked"
    properties.append(("title", f"tunelint: {state} ({diagnostic.code})"))
    return _command(diagnostic.level, properties, diagnostic.message)


def _note(note: Note) -> str:
    level = "error" if note.level == "error" else "notice"
    title = f"tunelint: {note.rule_id} {note.code.replace('-', ' ')}"
    return _command(level, [("title", title)], note.message)


def render_github(report: Report) -> str:
    """Annotations for active findings, then one per diagnostic (an error for a file that
    does not parse, a warning for a limit) and per rule not evaluated."""
    lines = [_finding(f, report) for f in sorted_findings(report) if not f.suppressed]
    partly = set(report.tally().partly_checked)
    lines.extend(_diagnostic(d, report, partly) for d in sorted(report.diagnostics))
    lines.extend(_note(note) for note in sorted(report.notes))
    return "".join(line + "\n" for line in lines)
