"""GitHub Actions workflow-command annotations, one line per active finding.

Escaping follows the runner's rules: in the message ``%``, CR and LF are %-encoded; in
properties ``:`` and ``,`` are too, so a path or title can never end a property early.
"""

from __future__ import annotations

from tunelint.facts import Diagnostic
from tunelint.findings import Finding, Report, Severity
from tunelint.report._common import sorted_findings

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


def _finding(finding: Finding) -> str:
    span = finding.span
    line = span.physical_line
    end_line = line + (span.end_line - span.line)
    properties: list[tuple[str, str | int]] = [("file", span.path), ("line", line)]
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


def _diagnostic(diagnostic: Diagnostic) -> str:
    properties: list[tuple[str, str | int]] = [("file", diagnostic.path)]
    if diagnostic.line is not None:
        properties.append(("line", diagnostic.line))
    properties.append(("title", f"tunelint: not checked ({diagnostic.code})"))
    return _command("warning", properties, diagnostic.message)


def render_github(report: Report) -> str:
    """Annotations for active findings, then a warning per diagnostic."""
    lines = [_finding(f) for f in sorted_findings(report) if not f.suppressed]
    lines.extend(_diagnostic(d) for d in sorted(report.diagnostics))
    return "".join(line + "\n" for line in lines)
