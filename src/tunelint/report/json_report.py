"""The JSON report: a versioned, documented shape (docs/json-format.md) for scripts.

Bump ``JSON_VERSION`` on any change that could break a consumer (a removed or renamed
field, a changed meaning); adding a field is not such a change.
"""

from __future__ import annotations

import json
from typing import Any

from tunelint.facts import Diagnostic, Span
from tunelint.findings import Finding, Fix, Note, Related, Report
from tunelint.report._common import (
    fingerprints,
    fix_safety,
    sorted_findings,
    summarise,
    tool_version,
)

JSON_VERSION = 2


def _position(span: Span) -> dict[str, Any]:
    return {
        "path": span.path,
        "line": span.line,
        "column": span.column,
        "end_line": span.end_line,
        "end_column": span.end_column or None,
        "cell": span.cell,
        "file_line": span.file_line,
    }


def _related(related: Related) -> dict[str, Any]:
    return {**_position(related.span), "message": related.message}


def _fix(fix: Fix | None, safety: str | None) -> dict[str, Any] | None:
    if fix is None:
        return None
    return {
        "description": fix.description,
        "edits": [{**_position(edit.span), "replacement": edit.replacement} for edit in fix.edits],
        "applicability": safety,
    }


def _finding(finding: Finding, fingerprint: str, report: Report) -> dict[str, Any]:
    return {
        **_position(finding.span),
        "rule_id": finding.rule_id,
        "name": finding.rule_name,
        "severity": finding.severity.label,
        "message": finding.message,
        "snippet": finding.snippet,
        "scope": finding.scope,
        "suppressed": finding.suppressed,
        "suppression_kind": finding.suppression_kind if finding.suppressed else None,
        "suppression_reason": finding.suppression_reason if finding.suppressed else None,
        "fingerprint": fingerprint,
        "related": [_related(related) for related in finding.related],
        "fix": _fix(finding.fix, fix_safety(report, finding)),
        "properties": finding.properties,
    }


def _diagnostic(diagnostic: Diagnostic) -> dict[str, Any]:
    return {
        "path": diagnostic.path,
        "code": diagnostic.code,
        "level": diagnostic.level,
        "message": diagnostic.message,
        "line": diagnostic.line,
    }


def _note(note: Note) -> dict[str, Any]:
    return {
        "rule_id": note.rule_id,
        "name": note.rule_name,
        "code": note.code,
        "level": note.level,
        "message": note.message,
        "reason": note.reason,
    }


def report_data(report: Report) -> dict[str, Any]:
    """The report as plain JSON-ready data (also useful to tests and other reporters)."""
    findings = sorted_findings(report)
    summary = summarise(report)
    tally = report.tally()
    return {
        "version": JSON_VERSION,
        "tool": {"name": "tunelint", "version": tool_version()},
        "summary": {
            "findings": summary.findings,
            "by_severity": summary.by_severity,
            "suppressed": summary.suppressed,
            "baselined": summary.baselined,
            "failing": summary.failing,
            "fail_on": summary.fail_on,
            "files_checked": summary.files_checked,
            "files_partly_checked": summary.files_partly_checked,
            "files_with_findings": summary.files_with_findings,
            "files_not_checked": summary.files_not_checked,
            "files_skipped": summary.files_skipped,
            "errors": summary.errors,
            "rules_not_evaluated": summary.rules_not_evaluated,
        },
        "findings": [
            _finding(finding, fp, report)
            for finding, fp in zip(findings, fingerprints(findings), strict=True)
        ],
        "diagnostics": [_diagnostic(d) for d in sorted(report.diagnostics)],
        "notes": [_note(note) for note in sorted(report.notes)],
        "files_checked": tally.checked,
        "files_partly_checked": tally.partly_checked,
        "files_not_checked": tally.not_checked,
        "files_skipped": tally.skipped,
        "skipped_directories": [
            {"path": skipped.path, "reason": skipped.reason}
            for skipped in sorted(report.skipped_directories)
        ],
    }


def render_json(report: Report) -> str:
    """Sorted keys, 2-space indent, trailing newline: stable bytes for diffs and caches."""
    return (
        json.dumps(report_data(report), indent=2, sort_keys=True, ensure_ascii=False, default=str)
        + "\n"
    )
