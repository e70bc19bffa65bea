"""What the byte prefilter must let through for these rules, and the oracle it is held to.

Each enabled rule contributes its ``match`` tree or its check's declared ``needles``; the
project stage contributes what it reads whatever the rules (training markers, config
references, destinations). ``relevant`` computes, from real facts and independently of the
needles, what in a file anything reads: tests and the benchmark check that no file with a
relevant fact is ever skipped.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from fnmatch import fnmatchcase
from typing import Any

from tunelint.extract.prefilter import (
    Prefilter,
    as_list,
    build,
    glob_pieces,
    kinds_of,
    leaves,
    where_keywords,
)
from tunelint.facts import FileFacts
from tunelint.project import destinations, jobs, training
from tunelint.rules.model import RuleMeta


def project_needs() -> list[tuple[str, Any]]:
    """What the project stage reads in every file, whatever the rules."""
    return [
        ("training markers", training.NEEDLES),
        ("config references", jobs.NEEDLES),
        ("destinations", destinations.needles()),
    ]


def rule_needs(rule: RuleMeta) -> tuple[str, Any]:
    """(origin, needs) of one rule: its match tree, else its check's declared needles."""
    if rule.match is not None or rule.check is None:
        return f"rule {rule.id}", rule.match
    origin = f"rule {rule.id} (check {rule.check})"
    try:
        from tunelint.rules.checks import get_check

        return origin, get_check(rule.check).needs(dict(rule.options))
    except Exception:  # an unloadable check fails later, with its own diagnostic
        return origin, None


def prefilter_for(rules: Sequence[RuleMeta]) -> Prefilter:
    """The byte prefilter for these (enabled) rules."""
    return build(
        [*project_needs(), *(rule_needs(rule) for rule in rules if rule.match or rule.check)]
    )


def relevant(facts: FileFacts, rules: Sequence[RuleMeta]) -> list[str]:
    """What in these facts something reads (empty: skipping the file loses nothing)."""
    from tunelint.project.destinations import find_destinations
    from tunelint.project.index import ProjectIndex

    index = ProjectIndex({facts.path: facts})
    reasons = []
    if facts.suppressions:
        reasons.append("suppression")
    if facts.settings:
        reasons.append("setting")
    if facts.launches:
        reasons.append("launch")
    if any(r.role in {"config", "script"} for r in facts.references):
        reasons.append("reference")
    if any(training.training_call(call) for call in facts.calls) or index.trains(facts.path):
        reasons.append("trains")
    if find_destinations({facts.path: facts}):
        reasons.append("destination")
    for rule in rules:
        if rule.match is None and rule.check is not None:
            reasons.extend(f"{rule.id}: fires" for _ in _check_hits(rule, index))
            continue
        reasons.extend(_match_reasons(rule, facts))
    return reasons


def _match_reasons(rule: RuleMeta, facts: FileFacts) -> Iterator[str]:
    for leaf in leaves(rule.match):
        if facts.kind not in kinds_of(leaf):
            continue
        if "call" in leaf:
            globs = as_list(leaf["call"])
            named = [g for g in globs if glob_pieces(g)]
            keywords = where_keywords(leaf.get("where")) or set()
            for call in facts.calls:
                if any(fnmatchcase(call.name, g) for g in named) or (
                    len(named) < len(globs) and any(k in keywords for k, _ in call.kwargs)
                ):
                    yield f"{rule.id}: call {call.name}"
        elif "assignment" in leaf:
            targets = as_list(leaf["assignment"])
            for assignment in facts.assignments:
                if any(fnmatchcase(assignment.target, t) for t in targets):
                    yield f"{rule.id}: assignment {assignment.target}"


def _check_hits(rule: RuleMeta, index: Any) -> list[object]:
    """The hits of a Python check on a one-file project, with no policy."""
    from tunelint.project.index import Lookups
    from tunelint.rules.checks import CheckContext, get_check
    from tunelint.rules.match import Matcher
    from tunelint.rules.model import NotEvaluated

    matcher = Matcher(policy=lambda dotted: None, training_files=index.training_files())
    context = CheckContext(rule, Lookups(index), matcher, dict(rule.options))
    hits: list[object] = []
    for per, function in get_check(str(rule.check)).parts:
        items = index.jobs if per == "job" else [index.facts(p) for p in index.paths]
        for item in items:
            try:
                hits.extend(function(item, context))
            except NotEvaluated:  # an input the one-file project lacks (a GPU budget)
                continue
    return hits
