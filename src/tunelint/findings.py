"""Findings, their severities and the report that reporters render."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from tunelint.discover import SkippedDirectory
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
                f"unknown severity {text!r}; expected one of: " + ", ".join(s.label for s in cls)
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
    # A fixer exists for this rule and file kind, but its edits were not worked out (the
    # run shows text, not the JSON or SARIF that carry edits): ``--diff`` works them out.
    fix_offered: bool = False
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


@dataclass(frozen=True, slots=True)
class Destination:
    """A place data goes to or rests at, as written in a file, for the review checklist.

    ``kind``: ``tracking`` (a tracking server or service), ``hub`` (a model hub upload),
    ``storage`` (a bucket URI), ``region`` (a cloud region), ``offload`` or ``output`` (a
    directory where tensors or checkpoints rest). ``target`` is the URI, host, service,
    repository, region or directory (the source text when ``resolved`` is False); ``via``
    names the call, setting or key that sends it; ``service`` the tracking service or hub.
    """

    span: Span
    kind: str
    target: str
    via: str = ""
    service: str = ""
    resolved: bool = True

    def sort_key(self) -> tuple[str, int, int, int, str, str, str]:
        span = self.span
        return (span.path, span.cell or 0, span.line, span.column, self.kind, self.target, self.via)


@dataclass(frozen=True, slots=True, order=True)
class Note:
    """About the run, not about one file: a rule that could not be evaluated (its input,
    such as a GPU budget, is missing) or that failed. Said once per rule.

    ``code``: ``not-evaluated`` (a warning) or ``rule-error`` (an error: it fails the run,
    since the rule's work was not done).
    """

    rule_id: str
    rule_name: str
    code: str
    reason: str

    @property
    def level(self) -> str:
        return "error" if self.code == "rule-error" else "warning"

    @property
    def message(self) -> str:
        if self.code == "rule-error":
            return f"rule {self.rule_id} failed: {self.reason}"
        return f"{self.rule_id} {self.rule_name} not evaluated: {self.reason}"


@dataclass(frozen=True, slots=True)
class FileTally:
    """Every path the run considered, each in exactly one list: read in full, read in part
    (a diagnostic says why), not read (a diagnostic says why), or left out on purpose."""

    checked: list[str]
    partly_checked: list[str]
    not_checked: list[str]
    skipped: list[str]

    @property
    def read(self) -> int:
        return len(self.checked) + len(self.partly_checked)


@dataclass(slots=True)
class Report:
    """The result of one run, sorted, so the same input renders byte-identically."""

    findings: list[Finding]
    diagnostics: list[Diagnostic]
    # Files read, in full or in part (a file with a diagnostic was read in part).
    files_checked: list[str]
    # Files named on the command line but excluded on purpose (policy, .gitignore).
    files_skipped: list[str] = field(default_factory=list)
    jobs: list[object] = field(default_factory=list)
    rules: list[object] = field(default_factory=list)
    fail_on: Severity = Severity.MEDIUM
    # The repository root (SARIF's %SRCROOT%), and the directory the shown paths are
    # relative to (the working directory; the root when empty).
    root: str = "."
    cwd: str = ""
    notes: list[Note] = field(default_factory=list)
    skipped_directories: list[SkippedDirectory] = field(default_factory=list)
    # The policy's ``docs_url``: a link template with {id} or {name}; "" for none.
    docs_url: str = ""
    # For the review checklist: the paths as given, where data goes and rests, the policy.
    paths: list[str] = field(default_factory=list)
    destinations: list[Destination] = field(default_factory=list)
    policy: dict[str, Any] = field(default_factory=dict)

    def sort(self) -> None:
        self.findings.sort(key=Finding.sort_key)
        self.diagnostics.sort()
        self.files_checked.sort()
        self.files_skipped.sort()
        self.destinations.sort(key=Destination.sort_key)
        self.notes.sort()
        self.skipped_directories.sort()

    def tally(self) -> FileTally:
        """The one count of files every format shows, so that they agree and add up."""
        diagnosed = {d.path for d in self.diagnostics}
        read = set(self.files_checked)
        skipped = set(self.files_skipped) - read - diagnosed
        return FileTally(
            checked=sorted(read - diagnosed),
            partly_checked=sorted(read & diagnosed),
            not_checked=sorted(diagnosed - read),
            skipped=sorted(skipped),
        )

    def errors(self) -> list[Diagnostic | Note]:
        """Work the run could not do (a file that does not parse, a rule that failed):
        like a finding at ``fail_on``, each fails the run unless ``--exit-zero``."""
        found: list[Diagnostic | Note] = [d for d in self.diagnostics if d.level == "error"]
        found.extend(note for note in self.notes if note.level == "error")
        return found

    def not_evaluated(self) -> dict[str, Note]:
        """Rules that could not be evaluated in this run, by id."""
        return {note.rule_id: note for note in self.notes if note.code == "not-evaluated"}

    @property
    def active(self) -> list[Finding]:
        return [f for f in self.findings if not f.suppressed]

    def failing(self) -> list[Finding]:
        return [f for f in self.active if f.severity >= self.fail_on]
