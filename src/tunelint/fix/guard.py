"""The thermal guard fix (TL104): ``ThermalGuardCallback()`` from ``tunelint.guard.hf`` in
the ``callbacks`` of the Hugging Face or TRL trainer a job trains with, and its import."""

from __future__ import annotations

import libcst as cst

from tunelint.findings import Finding
from tunelint.fix.model import Change, FixContext
from tunelint.fix.python import (
    PyDoc,
    add_keyword,
    has_star_kwargs,
    import_index,
    imports_name,
    keyword,
    list_with,
    parse,
    qualified,
    statement_of,
    with_import,
)

GUARD_MODULE = "tunelint.guard.hf"
GUARD_CLASS = "ThermalGuardCallback"
GUARD_DEFAULT_C = 85.0
TRAINER_MODULES = ("transformers.", "trl.")


def fix_thermal_guard(text: str, finding: Finding, context: FixContext) -> Change | None:
    """``trainer.train()`` with no watch: ``ThermalGuardCallback()`` in the trainer's
    ``callbacks``, and its import."""
    doc = parse(text)
    if doc is None:
        return None
    calls = [n for n in doc.at(finding.span) if isinstance(n, cst.Call) and _is_train(n)]
    if not calls:
        return None
    trainer = _trainer_call(doc, calls[0])
    if trainer is None or has_star_kwargs(trainer):
        return None
    present = imports_name(doc.module, GUARD_MODULE, GUARD_CLASS)
    if present is None:
        return None
    guard = cst.parse_expression(f"{GUARD_CLASS}({_guard_arguments(context)})")
    existing = keyword(trainer, "callbacks")
    if existing is None:
        new_call = add_keyword(trainer, "callbacks", cst.List([cst.Element(guard)]))
    elif isinstance(existing.value, cst.List):
        if any(_is_guard(element.value) for element in existing.value.elements):
            return None
        new_list = list_with(existing.value, guard)
        new_call = trainer.with_changes(
            args=[
                arg.with_changes(value=new_list) if arg is existing else arg for arg in trainer.args
            ]
        )
    else:
        return None
    holder = statement_of(doc, trainer)
    module = doc.replaced(trainer, new_call)
    if not present:
        index = import_index(doc.module, holder)
        module = with_import(module, index, GUARD_MODULE, GUARD_CLASS)
    description = f"add `{GUARD_CLASS}` from `{GUARD_MODULE}` to the trainer's callbacks"
    return Change(module.code, description) if module.code != doc.module.code else None


def _is_train(node: cst.CSTNode) -> bool:
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == "train"
    )


def _is_guard(node: cst.BaseExpression) -> bool:
    func = node.func if isinstance(node, cst.Call) else node
    name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
    return name == GUARD_CLASS


def _guard_arguments(context: FixContext) -> str:
    limit = context.get("hardware.max_temperature_c")
    try:
        value = float(limit) if limit is not None else GUARD_DEFAULT_C
    except (TypeError, ValueError):
        return ""
    if value >= GUARD_DEFAULT_C:
        return ""
    return f"max_temp_c={value:g}"


def _trainer_call(doc: PyDoc, train: cst.Call) -> cst.Call | None:
    """The Hugging Face or TRL trainer that ``train`` trains: ``Trainer(...).train()``, or
    the call last assigned to the receiver's name above it in the same function or module."""
    assert isinstance(train.func, cst.Attribute)
    receiver = train.func.value
    if isinstance(receiver, cst.Call):
        return receiver if _is_trainer(doc, receiver) else None
    if not isinstance(receiver, cst.Name):
        return None
    scope = next(
        (a for a in doc.ancestors(train) if isinstance(a, cst.FunctionDef | cst.Module)), None
    )
    if scope is None:
        return None
    line = doc.line_of(train)
    wanted = receiver.value
    found: list[cst.Call] = []

    class Finder(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return node is scope

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            return False

        def visit_Assign(self, node: cst.Assign) -> None:
            targets = node.targets
            if len(targets) == 1 and isinstance(targets[0].target, cst.Name):
                self._take(targets[0].target.value, node.value, node)

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            if isinstance(node.target, cst.Name) and node.value is not None:
                self._take(node.target.value, node.value, node)

        def _take(self, name: str, value: cst.BaseExpression, node: cst.CSTNode) -> None:
            if name == wanted and node in doc.ranges and doc.line_of(node) < line:
                if isinstance(value, cst.Call):
                    found.append(value)
                else:
                    found.append(cst.Call(func=cst.Name("_")))  # rebound to something else

    scope.visit(Finder())
    last = max(found, key=lambda c: doc.line_of(c) if c in doc.ranges else -1, default=None)
    if last is None or last not in doc.ranges:
        return None
    return last if _is_trainer(doc, last) else None


def _is_trainer(doc: PyDoc, call: cst.Call) -> bool:
    for name in qualified(doc, call.func):
        if name.startswith(TRAINER_MODULES) and name.rsplit(".", 1)[-1].endswith("Trainer"):
            return True
    return False
