"""Helpers every reporter shares: rule lookup, stable ordering, counts, fingerprints,
documentation links and repository-relative paths.

Reporters never mutate the report: they sort copies and compute missing fingerprints
on the side, so rendering twice (or in two formats) gives the same bytes.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass

import tunelint
from tunelint.discover import SKIP_REASONS
from tunelint.findings import Finding, Report, Severity
from tunelint.fingerprints import compute_fingerprints, normalise_path
from tunelint.rules.model import RuleMeta, docs_link

MAX_SKIPPED_SHOWN = 3


def tool_version() -> str:
    """Read at call time so tests can pin it."""
    return tunelint.__version__


def rule_index(report: Report) -> dict[str, RuleMeta]:
    """RuleMeta by id, for the rules of this run (first definition wins)."""
    rules: dict[str, RuleMeta] = {}
    for rule in report.rules:
        if isinstance(rule, RuleMeta):
            rules.setdefault(rule.id, rule)
    return rules


def sorted_findings(report: Report) -> list[Finding]:
    return sorted(report.findings, key=Finding.sort_key)


def fingerprints(findings: list[Finding]) -> list[str]:
    """The finding's own fingerprint, or one computed the same way when it has none."""
    if all(finding.fingerprint for finding in findings):
        return [finding.fingerprint for finding in findings]
    computed = compute_fingerprints(findings)
    return [f.fingerprint or c for f, c in zip(findings, computed, strict=True)]


def fix_safety(report: Report, finding: Finding) -> str | None:
    """``safe`` or ``unsafe`` for a finding whose fix edits the file (or is offered: see
    ``Finding.fix_offered``), else None. A fix is unsafe when its rule says so
    (``autofix: {safety: unsafe}``)."""
    planned = finding.fix is not None and bool(finding.fix.edits)
    if not planned and not finding.fix_offered:
        return None
    meta = rule_index(report).get(finding.rule_id)
    if meta is not None and meta.autofix is not None and meta.autofix.safety == "unsafe":
        return "unsafe"
    return "safe"


def fixable_line(report: Report, unsafe_fixes: bool = False) -> str:
    """``[*] 3 fixable with --fix (2 more with --unsafe-fixes)``, or "" when none is.
    When the edits were not worked out (a text report), it counts the fixes available
    rather than the findings they fix: ``--diff`` shows what each fixer really does."""
    safeties = [fix_safety(report, finding) for finding in report.active]
    safe, unsafe = safeties.count("safe"), safeties.count("unsafe")
    offered_only = any(f.fix_offered and (f.fix is None or not f.fix.edits) for f in report.active)
    what = "fixes available" if offered_only else "fixable"
    if unsafe_fixes and unsafe:
        return f"[*] {safe + unsafe} {what} with --fix --unsafe-fixes"
    if safe and unsafe:
        return f"[*] {safe} {what} with --fix ({unsafe} more with --unsafe-fixes)"
    if safe:
        return f"[*] {safe} {what} with --fix"
    if unsafe:
        return f"{unsafe} {what} with --fix --unsafe-fixes"
    return ""


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else (many or word + 's')}"


def rule_link(report: Report, rule_id: str, rule_name: str) -> str:
    """The rule's web page when there is one: the policy's ``docs_url``, else the page a
    custom rule names; "" for none (reporters then say ``tunelint explain``)."""
    meta = rule_index(report).get(rule_id)
    if meta is not None:
        return meta.docs_link(report.docs_url)
    return docs_link(rule_id, rule_name, report.docs_url)


def repository_path(report: Report, path: str) -> str | None:
    """``path`` (as shown, relative to the working directory) relative to the repository
    root, POSIX; None when it lies outside the root."""
    base = report.cwd or report.root
    absolute = os.path.normpath(os.path.join(base, normalise_path(path)))
    relative = os.path.relpath(absolute, os.path.normpath(report.root))
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return None
    return normalise_path(relative.replace(os.sep, "/"))


def skipped_directories_line(report: Report) -> str:
    """``skipped 1 virtual environment (venv2/); ...`` and how to include it, or ""."""
    by_reason: dict[str, list[str]] = {}
    for skipped in report.skipped_directories:
        by_reason.setdefault(skipped.reason, []).append(skipped.path + "/")
    if not by_reason:
        return ""
    parts = []
    for reason, (one, many) in SKIP_REASONS.items():
        paths = by_reason.get(reason, [])
        if not paths:
            continue
        shown = ", ".join(paths[:MAX_SKIPPED_SHOWN])
        if len(paths) > MAX_SKIPPED_SHOWN:
            shown += f" and {len(paths) - MAX_SKIPPED_SHOWN} more"
        parts.append(f"{len(paths)} {one if len(paths) == 1 else many} ({shown})")
    how = ["name one on the command line"]
    if set(by_reason) - {"symlink"}:
        how.append("pass --no-default-excludes")
    if "symlink" in by_reason:
        how.append("pass --follow-symlinks")
    return f"Skipped {', '.join(parts)}: to check them, {' or '.join(how)}"


@dataclass(frozen=True, slots=True)
class Summary:
    findings: int
    by_severity: dict[str, int]  # every severity label, highest first
    suppressed: int
    baselined: int
    files_checked: int  # read in full
    files_partly_checked: int
    files_with_findings: int
    files_not_checked: int
    files_skipped: int
    diagnostics: int
    errors: int
    rules_not_evaluated: int
    failing: int
    fail_on: str


def summarise(report: Report) -> Summary:
    active = [f for f in report.findings if not f.suppressed]
    counts = Counter(f.severity for f in active)
    tally = report.tally()
    return Summary(
        findings=len(active),
        by_severity={s.label: counts.get(s, 0) for s in sorted(Severity, reverse=True)},
        suppressed=sum(1 for f in report.findings if f.suppressed),
        baselined=sum(1 for f in report.findings if f.suppression_kind == "external"),
        files_checked=len(tally.checked),
        files_partly_checked=len(tally.partly_checked),
        files_with_findings=len({f.span.path for f in active}),
        files_not_checked=len(tally.not_checked),
        files_skipped=len(tally.skipped),
        diagnostics=len(report.diagnostics),
        errors=len(report.errors()),
        rules_not_evaluated=len(report.not_evaluated()),
        failing=sum(1 for f in active if f.severity >= report.fail_on),
        fail_on=report.fail_on.label,
    )
