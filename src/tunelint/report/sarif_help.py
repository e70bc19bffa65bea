"""The help a SARIF rule descriptor carries inline (text and Markdown): what the rule does,
why it matters, examples, the fix, the automatic fix, references. Viewers show it next to
each alert, so it is complete without a web page."""

from __future__ import annotations

from tunelint.rules.model import RuleMeta


def _what(rule: RuleMeta) -> str:
    """The rule's ``description`` when it has one, else its title as a sentence."""
    description = str(getattr(rule, "description", "") or "").strip()
    if description:
        return description if description.endswith(".") else description + "."
    return rule.title.strip().rstrip(".") + "."


def help_text(rule: RuleMeta, link: str) -> str:
    parts = [
        f"{rule.id} {rule.name}: {rule.title}",
        f"What it does: {_what(rule)} Severity {rule.severity.label}, confidence "
        f"{rule.confidence}, category {rule.category}.",
        f"Why it matters: {rule.why.strip()}",
    ]
    for example in rule.examples:
        parts.append("Example (bad):\n" + _indent(example.bad))
        parts.append("Example (good):\n" + _indent(example.good))
    parts.append(f"Fix: {rule.fix.strip()}")
    automatic = _automatic_fix(rule)
    if automatic:
        parts.append(f"Automatic fix: {automatic}")
    references = [*rule.controls, *rule.references]
    if references:
        parts.append("References:\n" + "\n".join(f"- {ref}" for ref in references))
    if link:
        parts.append(f"Docs: {link}")
    return "\n\n".join(parts) + "\n"


def _automatic_fix(rule: RuleMeta) -> str:
    """What ``tunelint check --fix`` does for the rule, whether it is safe, or why nothing."""
    autofix = getattr(rule, "autofix", None)
    if autofix is None:
        return ""
    if autofix.safety == "safe":
        return f"safe, applied by `tunelint check --fix`. {autofix.description}"
    if autofix.safety == "unsafe":
        return (
            f"unsafe, applied by `tunelint check --fix --unsafe-fixes`. "
            f"{autofix.description} Why it is unsafe: {autofix.note}"
        )
    return f"none. {autofix.note}"


def _indent(code: str) -> str:
    return "\n".join("    " + line if line else "" for line in code.strip("\n").splitlines())


def _fence(code: str, language: str) -> str:
    fence = "```"
    while fence in code:
        fence += "`"
    return f"{fence}{language}\n{code.strip(chr(10))}\n{fence}"


def help_markdown(rule: RuleMeta, link: str) -> str:
    parts = [
        f"**{rule.id} {rule.name}**: {rule.title}",
        f"## What it does\n\n{_what(rule)} Severity **{rule.severity.label}**, "
        f"confidence {rule.confidence}, category `{rule.category}`.",
        f"## Why it matters\n\n{rule.why.strip()}",
    ]
    if rule.examples:
        examples = [
            f"Bad:\n\n{_fence(ex.bad, ex.language)}\n\nGood:\n\n{_fence(ex.good, ex.language)}"
            for ex in rule.examples
        ]
        parts.append("## Example\n\n" + "\n\n".join(examples))
    parts.append(f"## Fix\n\n{rule.fix.strip()}")
    automatic = _automatic_fix(rule)
    if automatic:
        parts.append(f"## Automatic fix\n\n{automatic}")
    references = [*rule.controls, *(f"<{ref}>" for ref in rule.references)]
    if references:
        parts.append("## References\n\n" + "\n".join(f"- {ref}" for ref in references))
    if link:
        parts.append(f"[Rule documentation]({link})")
    return "\n\n".join(parts) + "\n"
