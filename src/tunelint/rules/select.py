"""Rule selectors, in ruff's syntax: an id (``TL201``), an id prefix (``TL2``), a name
(``unencrypted-offload``) or ``ALL``.

The one place that reads them, for ``--select``/``--ignore``, the policy's ``rules.select``,
``rules.ignore`` and ``paths.per_file_ignores``. A selector that matches no rule is a typo
that would check nothing and pass, so ``unknown`` names each one with the closest rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tunelint.hints import did_you_mean

ALL = "ALL"
Pair = tuple[str, str]  # (rule id, rule name)


def matches(rule_id: str, rule_name: str, selector: str) -> bool:
    """Does ``selector`` pick the rule with this id and name?"""
    code = selector.strip()
    upper = code.upper()
    return bool(code) and (upper == ALL or rule_id.startswith(upper) or rule_name == code)


def picks(rule_id: str, rule_name: str, selectors: Iterable[str]) -> bool:
    return any(matches(rule_id, rule_name, selector) for selector in selectors)


def selected(rule_id: str, rule_name: str, select: Sequence[str], ignore: Sequence[str]) -> bool:
    """ruff-style: in ``select`` (when it says anything) and not in ``ignore``."""
    if select and not picks(rule_id, rule_name, select):
        return False
    return not (ignore and picks(rule_id, rule_name, ignore))


def unknown(selectors: Iterable[str], rules: Iterable[Pair], where: str) -> list[str]:
    """A message for each selector that matches no rule, with the closest id or name."""
    pairs = list(rules)
    names = sorted({rule_id for rule_id, _ in pairs} | {name for _, name in pairs})
    problems = []
    for selector in selectors:
        code = str(selector).strip()
        if any(matches(rule_id, name, code) for rule_id, name in pairs):
            continue
        hint = did_you_mean(code, names)
        problems.append(f"{where}: no rule matches {code!r}{hint}; see `tunelint rules`")
    return problems
