"""Which fixer handles which rule in which kind of file.

The tables name the fixers; a fixer's module (libcst for Python, the YAML composer for
configs) is imported only when a fix is worked out, so a check that only says which
findings have a fix loads neither.
"""

from __future__ import annotations

from importlib import import_module

from tunelint.facts import FileKind
from tunelint.fix.model import Fixer

PYTHON: dict[str, str] = {
    "TL102": "python_rules.fix_device_map",
    "TL104": "guard.fix_thermal_guard",
    "TL105": "python_rules.fix_checkpointing",
    "TL201": "python_rules.fix_unencrypted_offload",
    "TL202": "python_rules.fix_shared_dir",
    "TL301": "python_rules.fix_report_to",
    "TL403": "python_rules.fix_torch_load",
}
CONFIG: dict[str, str] = {
    "TL103": "config_rules.fix_nvme_offload",
    "TL105": "config_rules.fix_checkpoints",
    "TL201": "config_rules.fix_unencrypted_offload",
    "TL202": "config_rules.fix_shared_dir",
    "TL301": "config_rules.fix_report_to",
}
# Notebooks get the Python fixes, run on their code cells (see tunelint.fix.notebook).
BY_KIND: dict[FileKind, dict[str, str]] = {
    FileKind.PYTHON: PYTHON,
    FileKind.NOTEBOOK: PYTHON,
    FileKind.YAML: CONFIG,
    FileKind.JSON: CONFIG,
}


def has_fixer(rule_id: str, kind: FileKind) -> bool:
    return rule_id in BY_KIND.get(kind, {})


def fixer_for(rule_id: str, kind: FileKind) -> Fixer | None:
    where = BY_KIND.get(kind, {}).get(rule_id)
    if where is None:
        return None
    module_name, name = where.split(".")
    fixer = getattr(import_module(f"tunelint.fix.{module_name}"), name)
    if kind in {FileKind.YAML, FileKind.JSON}:
        from tunelint.fix.config_rules import config_fixer

        return config_fixer(fixer, kind is FileKind.JSON)
    return fixer  # type: ignore[no-any-return]


def fixable_rules() -> frozenset[str]:
    """Rules some file kind has a fixer for (their YAML must say ``autofix``)."""
    return frozenset(rule for table in BY_KIND.values() for rule in table)
