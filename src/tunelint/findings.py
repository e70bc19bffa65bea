"""Findings, their severities and the report that reporters render."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from tunelint.facts import Diagnostic, Span


class Severity(IntEnum):
    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(
                f"unknown severity {text!r}; expected one of: "
                + ", ".join(s.label for s in cls)
            ) from None

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace the text of ``span`` with ``replacement`` (a safe, local fix)."""

    span: Span
    replacement: str


@dataclass(frozen=True, slots=True)
class Fix:
    description: str
    edits: tuple[Edit, ...] = ()


@dataclass(frozen=True, slots=True)
class Related:
    span: Span
    message: str


@dataclass(slots=True)
class Finding:
    """One rule firing at one place.

    ``anchor`` is what the fingerprint hashes instead of a line number: the normalised
    snippet, or a config key path. ``scope`` is the enclosing function or job.
    """

    rule_id: str
    rule_name: str
    severity: Severity
    message: str
    span: Span
    anchor: str = ""
    scope: str = ""
    snippet: str = ""  # the source line(s) at span, for code frames
    related: tuple[Related, ...] = ()
    fix: Fix | None = None
    suppressed: bool = False
    suppression_reason: str | None = None
    suppression_kind: str | None = None  # "inSource" | "external" (baseline)
    fingerprint: str = ""
    properties: dict[str, object] = field(default_factory=dict)

    def sort_key(self) -> tuple[str, int, int, int, str, str]:
        return (
            self.span.path,
            self.span.cell or 0,
            self.span.line,
            self.span.column,
            self.rule_id,
            self.message,
        )


@dataclass(slots=True)
class Report:
    """The result of one run, sorted, so the same input renders byte-identically."""

    findings: list[Finding]
    diagnostics: list[Diagnostic]
    files_checked: list[str]
    files_skipped: list[str] = field(default_factory=list)
    jobs: list[object] = field(default_factory=list)
    rules: list[object] = field(default_factory=list)
    fail_on: Severity = Severity.MEDIUM
    root: str = "."

    def sort(self) -> None:
        self.findings.sort(key=Finding.sort_key)
        self.diagnostics.sort()
        self.files_checked.sort()
        self.files_skipped.sort()

    @property
    def active(self) -> list[Finding]:
        return [f for f in self.findings if not f.suppressed]

    def failing(self) -> list[Finding]:
        return [f for f in self.active if f.severity >= self.fail_on]
