"""SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

What GitHub needs to show alerts well: rule help and real severities on the driver rules
(``security-severity``, ``tags``, ``precision``), stable ``partialFingerprints`` so alerts
survive edits, %-encoded URIs relative to the repository root under ``%SRCROOT%`` (the same
whatever directory tunelint ran in), 1-based regions, and suppressions kept (not dropped)
so dismissed alerts stay dismissed. ``helpUri`` only where a page exists: the policy's
``docs_url``, or a custom rule's own reference; the help itself is always inline.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tunelint.facts import Diagnostic, Span
from tunelint.findings import Finding, Note, Report, Severity
from tunelint.fingerprints import FINGERPRINT_VERSION, normalise_path
from tunelint.report._common import (
    fingerprints,
    fix_safety,
    plural,
    repository_path,
    rule_index,
    rule_link,
    sorted_findings,
    tool_version,
)
from tunelint.report.sarif_help import help_markdown, help_text
from tunelint.rules.model import RuleMeta

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
MAX_TAGS = 20  # GitHub drops rules' tags beyond this

LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}
PRECISION = {"high": "high", "medium": "medium", "low": "low"}


def artifact_uri(path: str) -> str:
    """Repo-relative, POSIX, %-encoded (spaces, parentheses, non-ASCII)."""
    return quote(normalise_path(path), safe="/")


def _artifact(path: str, report: Report) -> dict[str, Any]:
    """Relative to ``%SRCROOT%`` (the repository root); an absolute file URI for a file
    outside it, which no base could name."""
    relative = repository_path(report, path)
    if relative is not None:
        return {"uri": artifact_uri(relative), "uriBaseId": SRCROOT}
    base = report.cwd or report.root
    return {"uri": Path(os.path.normpath(os.path.join(base, path))).as_uri()}


def _root_uri(root: str) -> str:
    path = Path(root) if os.path.isabs(root) else Path(root).resolve()
    uri = path.as_uri()
    return uri if uri.endswith("/") else uri + "/"


# --------------------------------------------------------------------------- rules


def _tags(rule: RuleMeta) -> list[str]:
    tags = ["security", *(f"external/cwe/cwe-{cwe}" for cwe in rule.cwe), rule.category]
    tags.extend(rule.tags)
    unique = list(dict.fromkeys(tag for tag in tags if tag))
    return unique[:MAX_TAGS]


def _descriptor(rule: RuleMeta, link: str) -> dict[str, Any]:
    descriptor = {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.why.strip() or rule.title},
        "help": {"text": help_text(rule, link), "markdown": help_markdown(rule, link)},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {
            "tags": _tags(rule),
            "security-severity": SECURITY_SEVERITY[rule.severity],
            "precision": PRECISION.get(rule.confidence.strip().lower(), "medium"),
        },
    }
    if link:
        descriptor["helpUri"] = link
    return descriptor


def _fallback_descriptor(finding: Finding, link: str) -> dict[str, Any]:
    """For findings of rules the run does not describe (meta rules, plugins)."""
    descriptor = {
        "id": finding.rule_id,
        "name": finding.rule_name,
        "shortDescription": {"text": finding.rule_name.replace("-", " ")},
        "defaultConfiguration": {"level": LEVELS[finding.severity]},
    }
    if link:
        descriptor["helpUri"] = link
    return descriptor


# --------------------------------------------------------------------------- locations


def _region_text(span: Span, snippet: str) -> str | None:
    """The exact text of ``span`` cut out of its source lines, when the columns allow."""
    lines = snippet.splitlines()
    count = span.end_line - span.line + 1
    if not span.end_column or len(lines) < count:
        return None
    if count == 1:
        return lines[0][span.column - 1 : span.end_column]
    middle = lines[1 : count - 1]
    return "\n".join([lines[0][span.column - 1 :], *middle, lines[count - 1][: span.end_column]])


def _physical(span: Span, report: Report, snippet: str = "") -> dict[str, Any]:
    start = span.physical_line
    region: dict[str, Any] = {"startLine": max(1, start)}
    region["endLine"] = max(1, start + span.end_line - span.line)
    physical: dict[str, Any] = {"artifactLocation": _artifact(span.path, report), "region": region}
    if span.cell is not None:
        # Cell columns and text do not match the raw .ipynb line; point at the line only.
        return physical
    region["startColumn"] = max(1, span.column)
    if span.end_column:
        region["endColumn"] = span.end_column + 1  # SARIF end columns are exclusive
    # The context region must contain the region, so only when the snippet covers the span.
    if snippet and len(snippet.splitlines()) >= span.end_line - span.line + 1:
        text = _region_text(span, snippet)
        if text:
            region["snippet"] = {"text": text}
        physical["contextRegion"] = {
            "startLine": region["startLine"],
            "endLine": region["startLine"] + len(snippet.splitlines()) - 1,
            "snippet": {"text": snippet},
        }
    return physical


def _location(span: Span, report: Report, snippet: str = "") -> dict[str, Any]:
    location: dict[str, Any] = {"physicalLocation": _physical(span, report, snippet)}
    if span.cell is not None:
        location["properties"] = {"cell": span.cell, "cellLine": span.line}
        if span.column:
            location["properties"]["cellColumn"] = span.column
    return location


def _cell_prefix(span: Span, text: str) -> str:
    return f"cell {span.cell}: {text}" if span.cell is not None else text


def _fixes(finding: Finding, report: Report) -> list[dict[str, Any]]:
    """SARIF fixes for edits that map onto the raw file (not notebook cells). Each fix is
    computed on the file as it is, so a viewer can apply it on its own."""
    fix = finding.fix
    if fix is None:
        return []
    by_path: dict[str, list[dict[str, Any]]] = {}
    for edit in sorted(fix.edits, key=lambda e: e.span):
        span = edit.span
        if span.cell is not None or not span.end_column:
            continue
        deleted = {
            "startLine": span.line,
            "startColumn": span.column,
            "endLine": span.end_line,
            "endColumn": span.end_column + 1,
        }
        by_path.setdefault(span.path, []).append(
            {"deletedRegion": deleted, "insertedContent": {"text": edit.replacement}}
        )
    if not by_path:
        return []
    changes = [
        {"artifactLocation": _artifact(path, report), "replacements": replacements}
        for path, replacements in sorted(by_path.items())
    ]
    safety = fix_safety(report, finding) or "safe"
    return [
        {
            "description": {"text": fix.description},
            "artifactChanges": changes,
            "properties": {"applicability": safety},
        }
    ]


def _result(finding: Finding, fp: str, rule_ids: dict[str, int], report: Report) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_ids[finding.rule_id],
        "level": LEVELS[finding.severity],
        "message": {"text": _cell_prefix(finding.span, finding.message)},
        "locations": [_location(finding.span, report, finding.snippet)],
        "partialFingerprints": {FINGERPRINT_VERSION: fp},
    }
    if finding.related:
        result["relatedLocations"] = [
            {
                "id": number,
                **_location(related.span, report),
                "message": {"text": _cell_prefix(related.span, related.message)},
            }
            for number, related in enumerate(finding.related, start=1)
        ]
    fixes = _fixes(finding, report)
    if fixes:
        result["fixes"] = fixes
    if finding.suppressed:
        kind = finding.suppression_kind if finding.suppression_kind == "inSource" else "external"
        reason = finding.suppression_reason or "suppressed without a stated reason"
        result["suppressions"] = [{"kind": kind, "justification": reason, "status": "accepted"}]
    if finding.properties:
        result["properties"] = finding.properties
    return result


# --------------------------------------------------------------------------- run


def _notification(diagnostic: Diagnostic, report: Report, partly: set[str]) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": _artifact(diagnostic.path, report)}
    if diagnostic.line is not None and diagnostic.line >= 1:
        physical["region"] = {"startLine": diagnostic.line}
    state = "partly checked" if diagnostic.path in partly else "not checked"
    return {
        "level": diagnostic.level,
        "message": {"text": f"{diagnostic.path}: {state}: {diagnostic.message}"},
        "locations": [{"physicalLocation": physical}],
        "descriptor": {"id": diagnostic.code},
    }


def _note(note: Note, rule_ids: dict[str, int]) -> dict[str, Any]:
    rule: dict[str, Any] = {"id": note.rule_id}
    if note.rule_id in rule_ids:
        rule["index"] = rule_ids[note.rule_id]
    return {
        "level": note.level,
        "message": {"text": note.message},
        "descriptor": {"id": note.code},
        "associatedRule": rule,
    }


def _counts(report: Report) -> dict[str, Any]:
    """The run's file counts, as the text and JSON reports give them."""
    tally = report.tally()
    return {
        "filesChecked": len(tally.checked),
        "filesPartlyChecked": len(tally.partly_checked),
        "filesNotChecked": len(tally.not_checked),
        "filesSkipped": len(tally.skipped),
        "skippedDirectories": [
            {"path": skipped.path, "reason": skipped.reason}
            for skipped in report.skipped_directories
        ],
    }


def _priority(finding: Finding) -> tuple[bool, int, tuple[str, int, int, int, str, str]]:
    """Truncation keeps active before suppressed, then the most severe, then file order."""
    return (finding.suppressed, -int(finding.severity), finding.sort_key())


def sarif_data(
    report: Report, *, category: str | None = None, max_results: int = 25000
) -> dict[str, Any]:
    """The SARIF log as plain data; ``render_sarif`` serialises it."""
    if max_results < 0:
        raise ValueError("max_results must not be negative")
    findings = sorted_findings(report)
    fps = dict(zip(map(id, findings), fingerprints(findings), strict=True))

    metas = rule_index(report)
    descriptors = [
        _descriptor(metas[rule_id], rule_link(report, rule_id, metas[rule_id].name))
        for rule_id in sorted(metas)
    ]
    extra: dict[str, dict[str, Any]] = {}
    for finding in findings:
        if finding.rule_id not in metas and finding.rule_id not in extra:
            link = rule_link(report, finding.rule_id, finding.rule_name)
            extra[finding.rule_id] = _fallback_descriptor(finding, link)
    descriptors.extend(extra[rule_id] for rule_id in sorted(extra))
    rule_ids = {descriptor["id"]: index for index, descriptor in enumerate(descriptors)}

    kept = sorted(findings, key=_priority)[:max_results]
    kept_ids = {id(finding) for finding in kept}
    results = [_result(f, fps[id(f)], rule_ids, report) for f in findings if id(f) in kept_ids]

    partly = set(report.tally().partly_checked)
    notifications = [_notification(d, report, partly) for d in sorted(report.diagnostics)]
    notifications.extend(_note(note, rule_ids) for note in sorted(report.notes))
    dropped = len(findings) - len(kept)
    if dropped:
        notifications.append(
            {
                "level": "warning",
                "message": {
                    "text": f"{plural(dropped, 'result')} left out of {len(findings)}: a run "
                    f"holds at most {max_results}; the most severe active findings were kept"
                },
                "descriptor": {"id": "result-limit"},
            }
        )

    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "tunelint",
                "version": tool_version(),
                "semanticVersion": tool_version(),
                "rules": descriptors,
            }
        },
        "invocations": [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": notifications,
                "properties": _counts(report),
            }
        ],
        "originalUriBaseIds": {SRCROOT: {"uri": _root_uri(report.root)}},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    if category:
        run["automationDetails"] = {"id": category if category.endswith("/") else category + "/"}
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render_sarif(report: Report, *, category: str | None = None, max_results: int = 25000) -> str:
    """SARIF 2.1.0 with sorted keys and no timestamps, so equal input gives equal bytes."""
    data = sarif_data(report, category=category, max_results=max_results)
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"
