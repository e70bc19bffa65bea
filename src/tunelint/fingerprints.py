"""Fingerprints: what a finding *is* (rule, file, anchor, scope, occurrence), never where it
sits, so SARIF alerts and baselines survive edits that only move code."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence

from tunelint.findings import Finding

FINGERPRINT_VERSION = "tunelint/v1"
FINGERPRINT_LENGTH = 32  # hex characters: 128 bits, plenty for per-file uniqueness

_WHITESPACE = re.compile(r"\s+")
# A trailing suppression comment must not change the fingerprint of the line it silences.
_TRAILING_IGNORE = re.compile(r"#\s*tunelint\s*:.*$", re.IGNORECASE)


def normalise_path(path: str) -> str:
    """POSIX separators, no leading ``./``: the same file hashes the same on every OS."""
    text = path.replace("\\", "/")
    while text.startswith("./"):
        text = text[2:]
    return text


def normalise_anchor(finding: Finding) -> str:
    """The anchor, else the snippet, with whitespace collapsed and ignore comments dropped."""
    text = finding.anchor or finding.snippet
    if not finding.anchor:
        text = "\n".join(_TRAILING_IGNORE.sub("", line) for line in text.splitlines())
    return _WHITESPACE.sub(" ", text).strip()


def _identity(finding: Finding) -> tuple[str, str, str, str]:
    return (
        finding.rule_id,
        normalise_path(finding.span.path),
        normalise_anchor(finding),
        finding.scope,
    )


def fingerprint(finding: Finding, occurrence: int) -> str:
    """A stable id for ``finding``: no line or column numbers go into it."""
    rule_id, path, anchor, scope = _identity(finding)
    payload = "\0".join((FINGERPRINT_VERSION, rule_id, path, anchor, scope, str(occurrence)))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:FINGERPRINT_LENGTH]


def compute_fingerprints(findings: Sequence[Finding]) -> list[str]:
    """Fingerprints for ``findings`` (same order), without changing them.

    The occurrence index counts identical (rule, path, anchor, scope) findings earlier in
    sorted order, so two copies of one risky call get different fingerprints.
    """
    order = sorted(range(len(findings)), key=lambda i: findings[i].sort_key())
    seen: Counter[tuple[str, str, str, str]] = Counter()
    result = [""] * len(findings)
    for index in order:
        identity = _identity(findings[index])
        result[index] = fingerprint(findings[index], seen[identity])
        seen[identity] += 1
    return result


def assign_fingerprints(findings: Sequence[Finding]) -> None:
    """Set ``finding.fingerprint`` on every finding (see ``compute_fingerprints``)."""
    for finding, value in zip(findings, compute_fingerprints(findings), strict=True):
        finding.fingerprint = value
