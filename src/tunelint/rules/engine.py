"""Runs every enabled rule over the facts and jobs, and turns hits into findings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tunelint.facts import FileFacts, Span
from tunelint.findings import Finding, Note
from tunelint.policy import Policy
from tunelint.project.jobs import Job, training_members
from tunelint.redact import scrub
from tunelint.rules.checks import CheckContext, get_check
from tunelint.rules.match import Hit, Matcher
from tunelint.rules.model import NotEvaluated, RuleMeta


def effective_rule(rule: RuleMeta, policy: Policy) -> tuple[bool, RuleMeta]:
    """Whether the policy enables the rule, and the rule with its severity overridden."""
    from dataclasses import replace

    from tunelint.findings import Severity

    override = policy.rule_setting(rule.id, rule.name)
    enabled = bool(override.get("enabled", not rule.retired))
    severity = rule.severity
    if "severity" in override:
        severity = Severity.parse(str(override["severity"]))
    options = {**rule.options, **dict(override.get("options", {}) or {})}
    return enabled, replace(rule, severity=severity, options=options)


def run_rules(
    rules: Sequence[RuleMeta],
    files: Mapping[str, FileFacts],
    jobs: list[Job],
    policy: Policy,
    *,
    budget: Any = None,
) -> tuple[list[Finding], list[Note]]:
    """Findings of every rule, and a note for each rule that could not be evaluated (its
    input is missing) or failed: never a silent pass."""
    matcher = Matcher(policy=policy.get, training_files=frozenset(training_members(jobs)))
    findings: list[Finding] = []
    notes: list[Note] = []
    shared: dict[str, Any] = {}
    secrets: dict[tuple[str, int | None, int], set[str]] = {}
    for rule in rules:
        hits: list[Hit] = []
        try:
            if rule.match is not None:
                for path in sorted(files):
                    hits.extend(matcher.hits(files[path], rule.match))
            elif rule.check is not None:
                context = CheckContext(
                    rule, files, jobs, matcher, dict(rule.options), budget, shared
                )
                hits.extend(get_check(rule.check)(context))
        except NotEvaluated as why:
            notes.append(Note(rule.id, rule.name, "not-evaluated", str(why)))
            continue
        except Exception as error:  # a broken rule must not sink the other rules
            reason = f"{type(error).__name__}: {error}"
            notes.append(Note(rule.id, rule.name, "rule-error", reason))
            continue
        for hit in _unique(hits):
            findings.append(_finding(rule, hit, files))
            if hit.redact:
                secrets.setdefault(_line_key(hit.span), set()).update(hit.redact)
    _redact_lines(findings, secrets)
    return findings, notes


def _line_key(span: Span) -> tuple[str, int | None, int]:
    return (span.path, span.cell, span.line)


def _redact_lines(
    findings: list[Finding], secrets: Mapping[tuple[str, int | None, int], set[str]]
) -> None:
    """A secret one rule found is masked in every finding on its line, whatever the rule."""
    if not secrets:
        return
    for finding in findings:
        found = secrets.get(_line_key(finding.span))
        if found:
            finding.message = scrub(finding.message, found)
            finding.snippet = scrub(finding.snippet, found)
            finding.anchor = scrub(finding.anchor, found)


def _unique(hits: list[Hit]) -> list[Hit]:
    """One finding per rule and place, even when several matcher branches agree."""
    seen: set[tuple[object, ...]] = set()
    unique = []
    for hit in hits:
        key = (hit.span.path, hit.span.cell, hit.span.line, hit.span.column)
        if key not in seen:
            seen.add(key)
            unique.append(hit)
    return unique


def _finding(rule: RuleMeta, hit: Hit, files: Mapping[str, FileFacts]) -> Finding:
    facts = files.get(hit.span.path)
    snippet = scrub(facts.line_text(hit.span), hit.redact) if facts is not None else ""
    return Finding(
        rule_id=rule.id,
        rule_name=rule.name,
        severity=hit.severity if hit.severity is not None else rule.severity,
        message=scrub(rule.format_message(**hit.values), hit.redact),
        span=hit.span,
        anchor=scrub(hit.anchor, hit.redact) or " ".join(snippet.split()),
        scope=hit.scope,
        snippet=snippet,
        related=hit.related,
        fix=hit.fix,
        properties=dict(hit.properties),
    )
