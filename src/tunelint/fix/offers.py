"""Whether a Python fixer has something to change at a finding, read from the finding's own
line, without parsing the file.

A text report marks the findings ``--fix`` can fix. Working their edits out means parsing
each file again with a position for every node, which on real repositories costs more than
the whole check; the JSON and SARIF reports, which carry the edits, still do it. For the
text report this module answers from the line at the finding, the way each fixer looks at
it: a literal that is the value of a keyword the fixer rewrites (``output_dir="/tmp/x"``,
an item of ``report_to=[...]``), a ``torch.load(`` call, a ``.train()`` whose file builds a
Trainer; and the policy the fixer needs (approved services, encrypted paths). ``--diff`` and
``--fix`` then work the edit out for real and say how many findings they fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tunelint.findings import Finding
from tunelint.fix.model import FixContext
from tunelint.fix.paths import OFFLOAD_DIR_KEYS, SHARED_DIR_KEYS
from tunelint.rules.checks.device_map_offload_in_training import SPILLING_MAPS

_STRING = re.compile(r"""[rRbBuUfF]{0,2}(['"])""")
_TORCH_LOAD = re.compile(r"(?:[\w.]*\btorch\.load|load)\s*\(")
_TRAIN_CALL = re.compile(r"\.train\s*\(")
_FROM_TRAINERS = re.compile(
    r"\bfrom\s+(?:transformers|trl)(?:\.[\w.]+)?\s+import\s+(?P<names>\([^)]*\)|[^\n]*)"
)


def _keyword_before(finding: Finding, keywords: frozenset[str] | set[str]) -> str | None:
    """The keyword whose value (or an item of whose list value) starts at the finding."""
    line = finding.snippet.splitlines()[0] if finding.snippet else ""
    before = line[: max(finding.span.column - 1, 0)]
    found = re.search(r"\b(\w+)\s*=\s*(?:[\[(][^\[\]()=]*)?$", before)
    if found is None or found.group(1) not in keywords:
        return None
    return found.group(1)


def _at(finding: Finding) -> str:
    line = finding.snippet.splitlines()[0] if finding.snippet else ""
    return line[max(finding.span.column - 1, 0) :]


def _literal_at(finding: Finding) -> str | None:
    """The text of the string literal the finding starts at, without its quotes."""
    text = _at(finding)
    opening = _STRING.match(text)
    if opening is None:
        return None
    quote = opening.group(1)
    rest = text[opening.end() :]
    end = rest.find(quote)
    return rest[:end] if end >= 0 else None


def _device_map(finding: Finding, context: FixContext, text: str) -> bool:
    value = _literal_at(finding)
    return _keyword_before(finding, {"device_map"}) is not None and (
        value is not None and value.strip().lower() in SPILLING_MAPS
    )


def _checkpointing(finding: Finding, context: FixContext, text: str) -> bool:
    keyword = _keyword_before(finding, {"save_strategy", "save_steps"})
    if keyword == "save_strategy":
        return (_literal_at(finding) or "").lower() == "no"
    return keyword == "save_steps"


def _offload(finding: Finding, context: FixContext, text: str) -> bool:
    encrypted = context.get("data_protection.encrypted_paths", []) or []
    return (
        bool(encrypted)
        and _keyword_before(finding, set(OFFLOAD_DIR_KEYS)) is not None
        and _literal_at(finding) is not None
    )


def _shared_dir(finding: Finding, context: FixContext, text: str) -> bool:
    return (
        _keyword_before(finding, set(SHARED_DIR_KEYS)) is not None
        and _literal_at(finding) is not None
    )


def _report_to(finding: Finding, context: FixContext, text: str) -> bool:
    """A service name in ``report_to="..."`` or ``report_to=[...]``, or the list itself."""
    at = _at(finding)
    return (
        context.get("residency.allowed_services") is not None
        and _keyword_before(finding, {"report_to"}) is not None
        and (_literal_at(finding) is not None or at.startswith(("[", "(")))
    )


def _torch_load(finding: Finding, context: FixContext, text: str) -> bool:
    """``torch.load(...)`` without ``**kwargs`` on its line, or ``weights_only=False``."""
    at = _at(finding)
    if _keyword_before(finding, {"weights_only"}) is not None:
        return at.startswith("False")
    if _TORCH_LOAD.match(at) is None or "**" in at:
        return False
    return at.startswith("torch.") or "from torch import" in text


def _imported_from_trainers(name: str, text: str) -> bool:
    """``name`` is imported from transformers or TRL (``from trl import (A, SFTTrainer)``)."""
    for block in _FROM_TRAINERS.finditer(text):
        if re.search(rf"\b{re.escape(name)}\b", block.group("names")):
            return True
    return False


def _arguments(text: str, opening: int) -> str:
    """The text between the parenthesis at ``opening`` and its match (strings not parsed:
    a parenthesis inside a string argument only makes the answer shorter or longer)."""
    depth = 0
    for index in range(opening, len(text)):
        if text[index] == "(":
            depth += 1
        elif text[index] == ")":
            depth -= 1
            if depth == 0:
                return text[opening + 1 : index]
    return text[opening + 1 :]


def _thermal_guard(finding: Finding, context: FixContext, text: str) -> bool:
    """``trainer.train()`` (or ``Trainer(...).train()``) where the trainer is built, before
    it, by a transformers or TRL class called without ``**kwargs``: what the guard fixer
    adds ``callbacks=[ThermalGuardCallback()]`` to."""
    at = _at(finding)
    inline = re.match(r"(\w+)\s*\(", at)
    receiver = re.match(r"(\w+)\.train\s*\(", at)
    if inline is not None and _TRAIN_CALL.search(at):
        cls, opening = inline.group(1), text.find(at) + inline.end() - 1
    elif receiver is not None:
        line = finding.span.file_line or finding.span.line  # a notebook: its JSON's line
        name = re.escape(receiver.group(1))
        assigned = re.compile(rf'^[ \t]*"?[ \t]*{name}\s*=\s*([\w.]+)\s*\(', re.M)
        built = [m for m in assigned.finditer(text) if text.count("\n", 0, m.start()) < line]
        if not built:
            return False
        cls, opening = built[-1].group(1).rsplit(".", 1)[-1], built[-1].end() - 1
    else:
        return False
    if not cls.endswith("Trainer") or not _imported_from_trainers(cls, text):
        return False
    return "**" not in _arguments(text, opening)


Offer = Callable[[Finding, FixContext, str], bool]
# The Python fixers of tunelint.fix.registry, each with what it needs to find at the place.
PYTHON_OFFERS: dict[str, Offer] = {
    "TL102": _device_map,
    "TL104": _thermal_guard,
    "TL105": _checkpointing,
    "TL201": _offload,
    "TL202": _shared_dir,
    "TL301": _report_to,
    "TL403": _torch_load,
}


def offered(finding: Finding, context: FixContext, text: str) -> bool:
    """Does the Python fixer of the finding's rule have something to change there?
    ``text``: the file (or a notebook's code) the finding is in."""
    offer = PYTHON_OFFERS.get(finding.rule_id)
    return offer is not None and offer(finding, context, text)
