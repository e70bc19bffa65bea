"""Automatic fixes: ``tunelint check --fix``, ``--unsafe-fixes`` and ``--diff``.

A stage after the findings: ``plan_fixes`` works out each fixable finding's edits (attached
as ``Finding.fix``, which the JSON and SARIF reports carry) and the fixed files; the
command line shows them as a diff or writes them with ``write_fixes``. Python is edited
with libcst codemods, YAML and JSON by the exact span of a value, notebooks in the
``source`` of their code cells. Which rules have a fix, and whether it is safe, is said in
each rule's YAML (``autofix``); docs/fixes.md lists them.
"""

from __future__ import annotations

from tunelint.fix.plan import FileFix, FixPlan, plan_fixes
from tunelint.fix.write import write_atomically


def write_fixes(plan: FixPlan) -> list[tuple[str, str]]:
    """Write every fixed file; (path, why) for each one that was not written."""
    problems: list[tuple[str, str]] = []
    for file in plan.files:
        why = write_atomically(file.absolute, file.before, file.after)
        if why is not None:
            problems.append((file.path, why))
    return problems


__all__ = ["FileFix", "FixPlan", "plan_fixes", "write_fixes"]
