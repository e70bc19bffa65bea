"""The in-memory form of one rule YAML file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tunelint.findings import Severity


class NotEvaluated(Exception):
    """Raised by a check that cannot judge this run because an input is missing (a GPU
    budget): the report says so once, and the rule is never shown as passed."""


@dataclass(frozen=True, slots=True)
class Example:
    bad: str
    good: str
    language: str = "python"


@dataclass(frozen=True, slots=True)
class AutoFix:
    """What ``tunelint check --fix`` can do about the rule's findings.

    ``safety``: ``safe`` (``--fix`` applies it), ``unsafe`` (it changes what the job does, so
    only ``--unsafe-fixes`` applies it) or ``none`` (nothing automatic; ``note`` says why).
    ``note`` says why an unsafe fix is unsafe, or why there is none.
    """

    safety: str
    description: str = ""
    note: str = ""

    @property
    def available(self) -> bool:
        return self.safety in {"safe", "unsafe"}

    @property
    def safe(self) -> bool:
        return self.safety == "safe"


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
    autofix: AutoFix | None = None  # None: the rule says nothing about automatic fixes

    @property
    def help_uri(self) -> str:
        """The rule's own web page: for a policy's own rules the first web reference it
        lists; nothing for built-in rules, whose pages ship with tunelint (``tunelint
        explain``) or are hosted where the policy's ``docs_url`` says."""
        if self.origin == "builtin":
            return ""
        return next((ref for ref in self.references if ref.startswith("https://")), "")

    def docs_link(self, docs_url: str = "") -> str:
        """Where people read about the rule: ``docs_url`` filled in when the policy sets
        one, else the rule's own page, else "" (then ``tunelint explain`` says it)."""
        return docs_link(self.id, self.name, docs_url) or self.help_uri

    def format_message(self, **values: object) -> str:
        """Fill ``{placeholders}``; a missing one stays visible rather than raising."""

        class _Keep(dict[str, object]):
            def __missing__(self, key: str) -> str:
                return "{" + key + "}"

        return self.message.format_map(_Keep(values))


def docs_link(rule_id: str, rule_name: str, docs_url: str) -> str:
    """The policy's ``docs_url`` template (``{id}``, ``{name}``) for one rule; "" for none."""
    if not docs_url:
        return ""
    return docs_url.replace("{id}", rule_id).replace("{name}", rule_name)
