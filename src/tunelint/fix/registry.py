"""Which fixer handles which rule in which kind of file."""

from __future__ import annotations

from tunelint.facts import FileKind
from tunelint.fix import config_rules, guard, python_rules
from tunelint.fix.config_rules import config_fixer
from tunelint.fix.model import Fixer

PYTHON: dict[str, Fixer] = {
    "TL102": python_rules.fix_device_map,
    "TL104": guard.fix_thermal_guard,
    "TL105": python_rules.fix_checkpointing,
    "TL201": python_rules.fix_unencrypted_offload,
    "TL202": python_rules.fix_shared_dir,
    "TL301": python_rules.fix_report_to,
    "TL403": python_rules.fix_torch_load,
}
_CONFIG = {
    "TL103": config_rules.fix_nvme_offload,
    "TL105": config_rules.fix_checkpoints,
    "TL201": config_rules.fix_unencrypted_offload,
    "TL202": config_rules.fix_shared_dir,
    "TL301": config_rules.fix_report_to,
}
YAML: dict[str, Fixer] = {rule: config_fixer(fix, False) for rule, fix in _CONFIG.items()}
JSON: dict[str, Fixer] = {rule: config_fixer(fix, True) for rule, fix in _CONFIG.items()}
# Notebooks get the Python fixes, run on their code cells (see tunelint.fix.notebook).
BY_KIND = {
    FileKind.PYTHON: PYTHON,
    FileKind.NOTEBOOK: PYTHON,
    FileKind.YAML: YAML,
    FileKind.JSON: JSON,
}


def fixer_for(rule_id: str, kind: FileKind) -> Fixer | None:
    return BY_KIND.get(kind, {}).get(rule_id)


def fixable_rules() -> frozenset[str]:
    """Rules some file kind has a fixer for (their YAML must say ``autofix``)."""
    return frozenset(rule for table in BY_KIND.values() for rule in table)
