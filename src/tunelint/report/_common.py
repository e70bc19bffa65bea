"""Helpers every reporter shares: rule lookup, stable ordering, counts, fingerprints.

Reporters never mutate the report: they sort copies and compute missing fingerprints
on the side, so rendering twice (or in two formats) gives the same bytes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import tunelint
from tunelint.findings import Finding, Report, Severity
from tunelint.fingerprints import compute_fingerprints
from tunelint.rules.model import RuleMeta

INFORMATION_URI = "https://github.com/tunelint/tunelint"


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


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else (many or word + 's')}"


@dataclass(frozen=True, slots=True)
class Summary:
    findings: int
    by_severity: dict[str, int]  # every severity label, highest first
    suppressed: int
    baselined: int
    files_checked: int
    files_with_findings: int
    files_not_checked: int
    files_skipped: int
    diagnostics: int
    failing: int
    fail_on: str


def summarise(report: Report) -> Summary:
    active = [f for f in report.findings if not f.suppressed]
    counts = Counter(f.severity for f in active)
    return Summary(
        findings=len(active),
        by_severity={s.label: counts.get(s, 0) for s in sorted(Severity, reverse=True)},
        suppressed=sum(1 for f in report.findings if f.suppressed),
        baselined=sum(1 for f in report.findings if f.suppression_kind == "external"),
        files_checked=len(report.files_checked),
        files_with_findings=len({f.span.path for f in active}),
        files_not_checked=len({d.path for d in report.diagnostics}),
        files_skipped=len(report.files_skipped),
        diagnostics=len(report.diagnostics),
        failing=sum(1 for f in active if f.severity >= report.fail_on),
        fail_on=report.fail_on.label,
    )
