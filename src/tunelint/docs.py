"""Rule documentation, rendered from the rule's YAML: the one source for docs/rules/*.md,
``tunelint explain`` and (through the SARIF reporter) code-scanning help."""

from __future__ import annotations

from pathlib import Path

from tunelint.rules.model import RuleMeta

_FENCE = {"python": "python", "yaml": "yaml", "json": "json", "shell": "bash", "notebook": "python"}


def rule_markdown(rule: RuleMeta) -> str:
    """ruff-style page: what it does, why it matters, example, use instead, mapping."""
    lines = [
        f"# {rule.id} {rule.name}",
        "",
        f"**{rule.title}**",
        "",
        f"Severity: {rule.severity.label} · Confidence: {rule.confidence} · "
        f"Category: {rule.category}",
        "",
        "## What it does",
        "",
        rule.description or _what(rule),
        "",
        "## Why is this bad?",
        "",
        rule.why,
        "",
    ]
    for example in rule.examples:
        fence = _FENCE.get(example.language, "")
        lines += ["## Example", "", f"```{fence}", example.bad.rstrip(), "```", ""]
        lines += ["Use instead:", "", f"```{fence}", example.good.rstrip(), "```", ""]
    lines += ["## How to fix", "", rule.fix, ""]
    lines += autofix_section(rule)
    if rule.cwe or rule.controls:
        lines += ["## Compliance mapping", ""]
        lines += [f"- CWE-{cwe}" for cwe in rule.cwe]
        lines += [f"- {control}" for control in rule.controls]
        lines.append("")
    if rule.references:
        lines += ["## References", ""]
        lines += [f"- {reference}" for reference in rule.references]
        lines.append("")
    lines += [
        "## Suppressing",
        "",
        f"`# tunelint: ignore[{rule.id}] -- reason` on the line, or alone on the line above.",
        "",
    ]
    return "\n".join(lines)


def autofix_section(rule: RuleMeta) -> list[str]:
    """``## Automatic fix``: what ``--fix`` does, whether it is safe, or why there is none."""
    autofix = rule.autofix
    if autofix is None:
        return []
    lines = ["## Automatic fix", ""]
    if autofix.safety == "safe":
        lines += [f"Safe: `tunelint check --fix` applies it. {autofix.description}", ""]
    elif autofix.safety == "unsafe":
        lines += [
            "Unsafe: `tunelint check --fix --unsafe-fixes` applies it; "
            f"`--diff` shows it first. {autofix.description}",
            "",
            f"Why it is unsafe: {autofix.note}",
            "",
        ]
    else:
        lines += [f"None: {autofix.note}", ""]
    return lines


def fix_label(rule: RuleMeta) -> str:
    """``safe``, ``unsafe`` or ``none``: the rule's automatic fix in one word."""
    return rule.autofix.safety if rule.autofix is not None else "none"


def _what(rule: RuleMeta) -> str:
    return f"Reports: {rule.title[0].lower()}{rule.title[1:]}."


def write_rule_docs(rules: list[RuleMeta], directory: Path) -> list[Path]:
    """Regenerate docs/rules/*.md and an index; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for rule in rules:
        target = directory / f"{rule.id}.md"
        target.write_text(rule_markdown(rule), encoding="utf-8")
        written.append(target)
    index = [
        "# Rules",
        "",
        "Automatic fix: `safe` ones are applied by `tunelint check --fix`, `unsafe` ones only",
        "with `--unsafe-fixes` as well (see [fixes](../fixes.md)).",
        "",
        "| id | name | severity | fix | title |",
        "| --- | --- | --- | --- | --- |",
    ]
    for rule in rules:
        index.append(
            f"| [{rule.id}]({rule.id}.md) | {rule.name} | {rule.severity.label} | "
            f"{fix_label(rule)} | {rule.title} |"
        )
    (directory / "README.md").write_text("\n".join(index) + "\n", encoding="utf-8")
    written.append(directory / "README.md")
    return written


def main() -> None:
    """``python -m tunelint.docs``: regenerate docs/rules from rules/*.yaml."""
    from tunelint.rules.loader import builtin_rules, builtin_rules_dir

    target = builtin_rules_dir().parent / "docs" / "rules"
    written = write_rule_docs(list(builtin_rules()), target)
    print(f"wrote {len(written)} files to {target}")


if __name__ == "__main__":
    main()
