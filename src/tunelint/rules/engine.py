"""Runs every enabled rule over the facts and jobs, and turns hits into findings."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from tunelint.facts import Span
from tunelint.findings import Finding, Note
from tunelint.policy import Policy
from tunelint.project.index import Lookups, ProjectIndex
from tunelint.redact import scrub
from tunelint.rules.checks import Check, CheckContext, get_check
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
    index: ProjectIndex,
    policy: Policy,
    *,
    budget: Any = None,
) -> tuple[list[Finding], list[Note]]:
    """Findings of every rule (every file, then every job for job checks), and a note for each
    rule that could not be evaluated (its input is missing) or failed: never a silent pass."""
    matcher = Matcher(policy=policy.get, training_files=index.training_files())
    lookups = Lookups(index)
    findings: list[Finding] = []
    notes: list[Note] = []
    secrets: dict[tuple[str, int | None, int], set[str]] = {}
    for rule in rules:
        hits: list[Hit] = []
        try:
            if rule.match is not None:
                for path in index.paths:
                    facts = index.facts(path)
                    if facts is not None:
                        hits.extend(matcher.hits(facts, rule.match))
            elif rule.check is not None:
                context = CheckContext(rule, lookups, matcher, dict(rule.options), budget)
                hits.extend(_check_hits(get_check(rule.check), context, index))
        except NotEvaluated as why:
            notes.append(Note(rule.id, rule.name, "not-evaluated", str(why)))
            continue
        except Exception as error:  # a broken rule must not sink the other rules
            reason = f"{type(error).__name__}: {error}"
            notes.append(Note(rule.id, rule.name, "rule-error", reason))
            continue
        if rule.accelerators or rule.runtimes:
            hits = [hit for hit in hits if _applies(rule, index, hit)]
        for hit in _unique(hits):
            findings.append(_finding(rule, hit, index))
            if hit.redact:
                secrets.setdefault(_line_key(hit.span), set()).update(hit.redact)
    _redact_lines(findings, secrets)
    return findings, notes


def _check_hits(check: Check, context: CheckContext, index: ProjectIndex) -> Iterator[Hit]:
    """The check's parts: each file in path order, then each job in assembly order (only the
    jobs the rule applies to)."""
    for per, function in check.parts:
        if per == "job":
            for job in index.jobs:
                if _runs_where(context.rule, index.runs_on(job)):
                    yield from function(job, context)
            continue
        for path in index.paths:
            facts = index.facts(path)
            if facts is not None:
                yield from function(facts, context)


def _runs_where(rule: RuleMeta, where: tuple[str, str]) -> bool:
    accelerator, runtime = where
    if rule.accelerators and accelerator not in rule.accelerators:
        return False
    return not rule.runtimes or runtime in rule.runtimes


def _applies(rule: RuleMeta, index: ProjectIndex, hit: Hit) -> bool:
    """A finding stands unless every job its file belongs to runs where the rule does not
    apply (a file in no job is judged on its own)."""
    jobs = index.jobs_of(hit.span.path)
    return not jobs or any(_runs_where(rule, index.runs_on(job)) for job in jobs)


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
    """One finding per rule and place, even when several matcher branches or several jobs
    report it: the first hit stands, with the related places of the others added."""
    by_place: dict[tuple[object, ...], Hit] = {}
    for hit in hits:
        key = (hit.span.path, hit.span.cell, hit.span.line, hit.span.column)
        kept = by_place.get(key)
        if kept is None:
            by_place[key] = hit
        elif hit.related:
            known = set(kept.related)
            kept.related = (*kept.related, *(r for r in hit.related if r not in known))
    return list(by_place.values())


def _finding(rule: RuleMeta, hit: Hit, index: ProjectIndex) -> Finding:
    facts = index.facts(hit.span.path)
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
        related=tuple(dict.fromkeys(hit.related)),  # each place once, in the order given
        fix=hit.fix,
        properties=dict(hit.properties),
    )
