"""``tunelint rules``: list every rule with its id, name, severity and title."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

# The fix column of the text listing: what ``check --fix`` can do about each rule.
_FIX_MARKS = {"safe": "fix", "unsafe": "unsafe-fix", "none": "-"}


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "rules",
        help="list the rules",
        description="List every rule with its id, name, severity, automatic fix (fix: applied by "
        "check --fix; unsafe-fix: only with --unsafe-fixes too; -: none) and title.",
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )
    parser.add_argument("--all", action="store_true", help="include retired rules")
    parser.add_argument("--policy", type=Path, help="policy whose custom rules to include")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tunelint.commands import EXIT_USAGE
    from tunelint.docs import fix_label
    from tunelint.policy import PolicyError, load_policy
    from tunelint.rules.loader import RuleError, load_rules

    try:
        policy = load_policy(args.policy, Path.cwd())
        loaded = load_rules(policy.custom_rule_paths)
    except (PolicyError, RuleError) as error:
        sys.stderr.write(f"tunelint: configuration error:\n{error}\n")
        return EXIT_USAGE
    rules = [r for r in loaded if args.all or not r.retired]
    docs_url = str(policy.get("docs_url", "") or "")
    if args.format == "json":
        rows = [
            {
                "id": r.id,
                "name": r.name,
                "title": r.title,
                "severity": r.severity.label,
                "category": r.category,
                "confidence": r.confidence,
                "help_uri": r.docs_link(docs_url),  # "" when only `tunelint explain` has it
                "origin": r.origin,
                "fix": fix_label(r),  # safe | unsafe | none (see docs/fixes.md)
                "fix_description": r.autofix.description if r.autofix is not None else "",
                "fix_note": r.autofix.note if r.autofix is not None else "",
            }
            for r in rules
        ]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    width = max((len(r.name) for r in rules), default=10)
    for rule in rules:
        fix = _FIX_MARKS[fix_label(rule)]
        line = (
            f"{rule.id}  {rule.name:<{width}}  {rule.severity.label:<8}  {fix:<10}  {rule.title}\n"
        )
        sys.stdout.write(line)
    return 0
