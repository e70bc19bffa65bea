"""``tunelint explain ID|NAME``: the rule's documentation, from its YAML file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tunelint.commands import EXIT_USAGE


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="show a rule's documentation",
        description="Show a rule's documentation: what it finds, why it matters, how to fix it.",
    )
    parser.add_argument("rule", help="rule id (TL201) or name (unencrypted-offload)")
    parser.add_argument("--policy", type=Path, help="policy whose custom rules to include")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tunelint.docs import rule_markdown
    from tunelint.policy import PolicyError, rules_for_policy
    from tunelint.rules.loader import lookup

    try:
        rules = rules_for_policy(args.policy, Path.cwd())
    except PolicyError as error:
        sys.stderr.write(f"tunelint: configuration error:\n{error}\n")
        return EXIT_USAGE
    rule = lookup(rules, args.rule)
    if rule is None:
        from tunelint.hints import did_you_mean

        hint = did_you_mean(args.rule, [name for r in rules for name in (r.id, r.name)])
        sys.stderr.write(f"tunelint: no rule named {args.rule!r}{hint}; see `tunelint rules`\n")
        return EXIT_USAGE
    sys.stdout.write(rule_markdown(rule))
    return 0
