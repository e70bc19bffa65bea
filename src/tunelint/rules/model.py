"""The in-memory form of one rule YAML file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tunelint.findings import Severity

DOCS_BASE = "https://github.com/tunelint/tunelint/blob/main/docs/rules"


@dataclass(frozen=True, slots=True)
class Example:
    bad: str
    good: str
    language: str = "python"


@dataclass(frozen=True, slots=True)
class RuleMeta:
    """Everything docs, ``tunelint explain`` and SARIF say about a rule comes from here."""

    id: str
    name: str
    title: str
    severity: Severity
    confidence: str  # low | medium | high
    category: str
    message: str
    why: str
    fix: str
    description: str = ""  # "what it does"; the title stands in when empty
    examples: tuple[Example, ...] = ()
    tags: tuple[str, ...] = ()
    cwe: tuple[int, ...] = ()
    controls: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    match: dict[str, Any] | None = None
    check: str | None = None
    scope: str = "file"  # file | job
    # Where the rule applies: accelerators (cuda, hpu, xla, mps, npu, xpu) and runtimes
    # (local, cluster, hosted) of the jobs a finding belongs to; empty means everywhere.
    accelerators: tuple[str, ...] = ()
    runtimes: tuple[str, ...] = ()
    retired: bool = False
    origin: str = "builtin"  # builtin | the custom rule file's path
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def help_uri(self) -> str:
        """The rule's page: tunelint's docs for built-in rules; for a policy's own rules the
        first web reference it lists, else nothing (their docs live with the policy)."""
        if self.origin == "builtin":
            return f"{DOCS_BASE}/{self.id}.md"
        return next((ref for ref in self.references if ref.startswith("https://")), "")

    def format_message(self, **values: object) -> str:
        """Fill ``{placeholders}``; a missing one stays visible rather than raising."""

        class _Keep(dict[str, object]):
            def __missing__(self, key: str) -> str:
                return "{" + key + "}"

        return self.message.format_map(_Keep(values))
