"""Inline suppressions and the baseline.

The baseline is a per-file multiset of fingerprints (``tunelint.fingerprints``): a known
finding is hidden, a new copy of it is not.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from tunelint.facts import Suppression
from tunelint.findings import Finding, Fix, Severity
from tunelint.fingerprints import assign_fingerprints, normalise_path
from tunelint.hints import closest

BASELINE_VERSION = 1

UNUSED_SUPPRESSION = ("TL001", "unused-suppression")
UNKNOWN_RULE_IN_SUPPRESSION = ("TL002", "unknown-rule-in-suppression")
SUPPRESSION_WITHOUT_REASON = ("TL003", "suppression-without-reason")
META_RULE_IDS = frozenset(
    rule_id
    for rule_id, _ in (
        UNUSED_SUPPRESSION,
        UNKNOWN_RULE_IN_SUPPRESSION,
        SUPPRESSION_WITHOUT_REASON,
    )
)


class BaselineError(ValueError):
    """The baseline file is missing, unreadable or not in the expected shape."""


# --------------------------------------------------------------------------- inline


def _casefold_codes(known_codes: Mapping[str, str]) -> dict[str, str]:
    return {code.casefold(): rule_id for code, rule_id in known_codes.items()}


def _lines(suppression: Suppression) -> str:
    if suppression.first_line == suppression.last_line:
        return f"line {suppression.first_line}"
    return f"lines {suppression.first_line}-{suppression.last_line}"


def _meta(
    rule: tuple[str, str], suppression: Suppression, message: str, anchor: str, fix: str
) -> Finding:
    span = suppression.span
    if span.cell != suppression.cell:
        span = replace(span, cell=suppression.cell)
    return Finding(
        rule_id=rule[0],
        rule_name=rule[1],
        severity=Severity.LOW,
        message=message,
        span=span,
        anchor=anchor,
        fix=Fix(fix),
    )


def apply_inline(
    findings: Iterable[Finding],
    suppressions_by_path: Mapping[str, Sequence[Suppression]],
    known_codes: Mapping[str, str],
    *,
    require_reason: bool,
    enabled: Collection[str] | None = None,
) -> list[Finding]:
    """Mark findings covered by a matching inline suppression; return meta findings.

    ``known_codes`` maps rule ids and names to ids (matched case-insensitively).
    ``enabled``, when given, holds the ids of rules that ran: a suppression for a rule
    that did not run is not reported as unused, since it may well be needed.
    Meta findings: TL001 (a code that silenced nothing), TL002 (a code that names no
    rule, or an empty code list) and, with ``require_reason``, TL003 (no reason given).
    """
    lookup = _casefold_codes(known_codes)
    by_path: dict[str, list[Finding]] = {}
    for finding in findings:
        by_path.setdefault(normalise_path(finding.span.path), []).append(finding)

    meta: list[Finding] = []
    for raw_path in sorted(suppressions_by_path):
        candidates = by_path.get(normalise_path(raw_path), [])
        for suppression in suppressions_by_path[raw_path]:
            meta.extend(_apply_one(suppression, candidates, lookup, require_reason, enabled))
    meta.sort(key=Finding.sort_key)
    return meta


def _apply_one(
    suppression: Suppression,
    candidates: Sequence[Finding],
    lookup: Mapping[str, str],
    require_reason: bool,
    enabled: Collection[str] | None,
) -> list[Finding]:
    meta: list[Finding] = []
    where = _lines(suppression)
    if not suppression.codes:
        meta.append(
            _meta(
                UNKNOWN_RULE_IN_SUPPRESSION,
                suppression,
                f"suppression on {where} names no rule; blanket suppressions are not supported",
                "ignore[]",
                "list the rule ids or names to ignore, e.g. ignore[TL201]",
            )
        )
    wanted: dict[str, str] = {}  # rule id -> code as written (first spelling wins)
    for code in suppression.codes:
        rule_id = lookup.get(code.casefold())
        if rule_id is None:
            # ids as written (the values), and names (keys that are not an id folded)
            names = {*lookup.values(), *(k for k, v in lookup.items() if k != v.casefold())}
            close = closest(code, names)
            fix = "fix the spelling or remove the code (`tunelint rules` lists them)"
            if close is not None:
                fix = f"did you mean {close!r}? Else remove the code (`tunelint rules` lists them)"
            meta.append(
                _meta(
                    UNKNOWN_RULE_IN_SUPPRESSION,
                    suppression,
                    f"unknown rule {code!r} in suppression on {where}: no rule has that id or name",
                    f"ignore:{code}",
                    fix,
                )
            )
        else:
            wanted.setdefault(rule_id, code)

    used: set[str] = set()
    for finding in candidates:
        if finding.rule_id in wanted and suppression.covers(finding.span):
            used.add(finding.rule_id)
            if not finding.suppressed:
                finding.suppressed = True
                finding.suppression_kind = "inSource"
                finding.suppression_reason = suppression.reason or None

    for rule_id, code in wanted.items():
        if rule_id in used or (enabled is not None and rule_id not in enabled):
            continue
        named = rule_id if code.casefold() == rule_id.casefold() else f"{rule_id} ({code})"
        meta.append(
            _meta(
                UNUSED_SUPPRESSION,
                suppression,
                f"unused suppression for {named}: nothing to ignore on {where}",
                f"ignore:{rule_id}",
                f"remove {code} from the suppression comment",
            )
        )

    if require_reason and suppression.codes and not suppression.reason.strip():
        meta.append(
            _meta(
                SUPPRESSION_WITHOUT_REASON,
                suppression,
                f"suppression on {where} gives no reason; the policy requires one",
                "ignore:" + ",".join(suppression.codes),
                "add the reason after `--`, e.g. `# tunelint: ignore[TL201] -- scratch is "
                "encrypted at the volume level`",
            )
        )
    return meta


# --------------------------------------------------------------------------- baseline


def _ensure_fingerprints(findings: Sequence[Finding]) -> None:
    if any(not finding.fingerprint for finding in findings):
        assign_fingerprints(findings)


def baseline_data(findings: Sequence[Finding]) -> dict[str, object]:
    """The baseline document for ``findings``; inline-suppressed ones are left out."""
    _ensure_fingerprints(findings)
    files: dict[str, Counter[str]] = {}
    for finding in findings:
        if finding.suppressed and finding.suppression_kind == "inSource":
            continue
        files.setdefault(normalise_path(finding.span.path), Counter())[finding.fingerprint] += 1
    return {
        "version": BASELINE_VERSION,
        "tool": "tunelint",
        "files": {
            path: {fp: counts[fp] for fp in sorted(counts)}
            for path, counts in sorted(files.items())
        },
    }


def write_baseline(path: str | Path, findings: Sequence[Finding]) -> None:
    """Write the baseline: ``{"version", "tool", "files": {relpath: {fingerprint: count}}}``.

    Findings without a fingerprint get one first (``assign_fingerprints``).
    """
    text = json.dumps(baseline_data(findings), indent=2, sort_keys=True) + "\n"
    Path(path).write_text(text, encoding="utf-8")


def load_baseline(path: str | Path) -> dict[str, dict[str, int]]:
    """Read and check a baseline file; every problem is a ``BaselineError``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BaselineError(f"baseline file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise BaselineError(f"cannot read baseline file {path}: {error}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise BaselineError(
            f"baseline file {path} is not valid JSON (line {error.lineno}, column "
            f"{error.colno}): {error.msg}"
        ) from None
    if not isinstance(data, dict):
        raise BaselineError(f"baseline file {path}: expected a JSON object at the top level")
    if data.get("tool") != "tunelint":
        raise BaselineError(
            f"baseline file {path}: not a tunelint baseline (tool is not 'tunelint')"
        )
    if data.get("version") != BASELINE_VERSION:
        raise BaselineError(
            f"baseline file {path}: unsupported version {data.get('version')!r} "
            f"(expected {BASELINE_VERSION}); regenerate it with --write-baseline"
        )
    files = data.get("files")
    if not isinstance(files, dict):
        raise BaselineError(f"baseline file {path}: 'files' must be an object")
    result: dict[str, dict[str, int]] = {}
    for rel, entries in files.items():
        if not isinstance(entries, dict):
            raise BaselineError(f"baseline file {path}: files[{rel!r}] must be an object")
        counts: dict[str, int] = {}
        for fp, count in entries.items():
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise BaselineError(
                    f"baseline file {path}: files[{rel!r}][{fp!r}] must be a positive integer"
                )
            counts[fp] = count
        result[normalise_path(rel)] = counts
    return result


def apply_baseline(findings: Sequence[Finding], baseline_path: str | Path) -> int:
    """Mark baselined findings suppressed; return how many were marked.

    Up to ``count`` findings per (file, fingerprint) are marked, in sorted order, so a
    new copy of a known risky call still shows. Inline-suppressed findings are skipped.
    """
    remaining = load_baseline(baseline_path)
    _ensure_fingerprints(findings)
    marked = 0
    for finding in sorted(findings, key=Finding.sort_key):
        if finding.suppressed:
            continue
        counts = remaining.get(normalise_path(finding.span.path))
        if not counts or counts.get(finding.fingerprint, 0) < 1:
            continue
        counts[finding.fingerprint] -= 1
        finding.suppressed = True
        finding.suppression_kind = "external"
        finding.suppression_reason = "baseline"
        marked += 1
    return marked
