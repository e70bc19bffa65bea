"""The Python fixes, one codemod per rule: each finds the node at the finding's span, checks
that it is the very thing the fix is about, and rebuilds only that node (and, for the
thermal guard, adds one import)."""

from __future__ import annotations

import libcst as cst

from tunelint.findings import Finding
from tunelint.fix.model import Change, FixContext, int_literal
from tunelint.fix.paths import OFFLOAD_DIR_KEYS, SHARED_DIR_KEYS, encrypted_path, project_path
from tunelint.fix.python import (
    PyDoc,
    add_keyword,
    has_star_kwargs,
    keyword,
    keyword_values,
    list_without,
    parse,
    qualified,
    string_like,
    string_value,
)
from tunelint.fix.trackers import keep_services

DEVICE_MAPS = frozenset({"auto", "balanced", "balanced_low_0", "sequential"})
RANK_NAMES = ("local_rank", "LOCAL_RANK")
# Parents of a name that bind it: ``x = ``, ``x: int = ``, ``for x in``, ``import x``,
# ``as x``, ``(x := ...)``.
BINDERS = (cst.AssignTarget, cst.AnnAssign, cst.For, cst.ImportAlias, cst.AsName, cst.NamedExpr)


def _done(doc: PyDoc, module: cst.Module, description: str) -> Change | None:
    text = module.code
    return Change(text, description) if text != doc.module.code else None


# --------------------------------------------------------------------------- TL403


def fix_torch_load(text: str, finding: Finding, context: FixContext) -> Change | None:
    """``torch.load(path)`` -> ``torch.load(path, weights_only=True)``; ``False`` -> ``True``."""
    doc = parse(text)
    if doc is None:
        return None
    for node, _, _, name in keyword_values(doc, finding.span, (cst.Name,)):
        assert isinstance(node, cst.Name)
        if node.value == "False" and name == "weights_only":
            module = doc.replaced(node, node.with_changes(value="True"))
            return _done(doc, module, "turn `weights_only=False` into `weights_only=True`")
    for node in doc.at(finding.span):
        if not isinstance(node, cst.Call) or "torch.load" not in qualified(doc, node.func):
            continue
        if keyword(node, "weights_only") is not None or has_star_kwargs(node):
            return None
        if any(arg.star == "*" for arg in node.args):
            return None
        new = add_keyword(node, "weights_only", cst.Name("True"))
        return _done(doc, doc.replaced(node, new), "pass `weights_only=True` to `torch.load`")
    return None


# --------------------------------------------------------------------------- TL102


def fix_device_map(text: str, finding: Finding, context: FixContext) -> Change | None:
    """``device_map="auto"`` -> ``{"": local_rank}`` (a rank bound before) or ``{"": 0}``."""
    doc = parse(text)
    if doc is None:
        return None
    for node, _, _, key in keyword_values(doc, finding.span, (cst.SimpleString,)):
        assert isinstance(node, cst.SimpleString)
        if key != "device_map" or (string_value(node) or "").lower() not in DEVICE_MAPS:
            continue
        rank = _rank_name(doc, node)
        key = node.quote * 2 if len(node.quote) == 1 else '""'
        value = cst.parse_expression(f"{{{key}: {rank or '0'}}}")
        shown = f'{{"": {rank or 0}}}'
        description = f"load the whole model on one GPU: `device_map={shown}`"
        return _done(doc, doc.replaced(node, value), description)
    return None


def _rank_name(doc: PyDoc, node: cst.CSTNode) -> str | None:
    """``local_rank`` or ``LOCAL_RANK`` when bound above ``node`` in its function or module
    (an assignment, a parameter, a for target or an import)."""
    line = doc.line_of(node)
    scopes = [a for a in doc.ancestors(node) if isinstance(a, cst.FunctionDef | cst.Module)]
    for name in RANK_NAMES:
        for scope in scopes:
            if _binds(doc, scope, name, line):
                return name
    return None


def _binds(doc: PyDoc, scope: cst.CSTNode, name: str, line: int) -> bool:
    if isinstance(scope, cst.FunctionDef):
        params = scope.params
        every = [*params.posonly_params, *params.params, *params.kwonly_params]
        if any(param.name.value == name for param in every):
            return True
    found = False

    class Finder(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return node is scope

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            return False

        def visit_Name(self, node: cst.Name) -> None:
            nonlocal found
            if node.value != name or node not in doc.ranges or doc.line_of(node) >= line:
                return
            parent = doc.parent(node)
            if isinstance(parent, BINDERS):
                found = True

    scope.visit(Finder())
    return found


# --------------------------------------------------------------------------- TL105


def fix_checkpointing(text: str, finding: Finding, context: FixContext) -> Change | None:
    """``save_strategy="no"`` -> ``"steps"`` with ``save_steps`` added where absent; a
    ``save_steps`` above the interval lowered to it."""
    doc = parse(text)
    if doc is None:
        return None
    for node, call, arg, name in keyword_values(doc, finding.span):
        steps = context.checkpoint_interval(_int_keyword(call, "max_steps"))
        if name == "save_strategy" and isinstance(node, cst.SimpleString):
            if (string_value(node) or "").lower() != "no":
                return None
            new_arg = arg.with_changes(value=string_like(node, "steps"))
            args = [new_arg if a is arg else a for a in call.args]
            new_call = call.with_changes(args=args)
            described = '`save_strategy="steps"`'
            current = keyword(call, "save_steps")
            if current is None and not has_star_kwargs(call):
                new_call = add_keyword(new_call, "save_steps", cst.Integer(str(steps)))
                described += f" and `save_steps={steps}`"
            elif current is not None and (_int_of(current.value) or 0) > steps:
                new_call = _set_keyword(new_call, "save_steps", cst.Integer(str(steps)))
                described += f" and `save_steps={steps}`"
            return _done(doc, doc.replaced(call, new_call), f"save checkpoints: {described}")
        if name == "save_steps" and isinstance(node, cst.Integer):
            if (_int_of(node) or 0) <= steps:
                return None
            module = doc.replaced(node, cst.Integer(str(steps)))
            return _done(doc, module, f"save a checkpoint every {steps} steps")
    return None


def _int_of(node: cst.BaseExpression) -> int | None:
    return int_literal(node.value) if isinstance(node, cst.Integer) else None


def _int_keyword(call: cst.Call, name: str) -> int | None:
    arg = keyword(call, name)
    return _int_of(arg.value) if arg is not None else None


def _set_keyword(call: cst.Call, name: str, value: cst.BaseExpression) -> cst.Call:
    args = [
        arg.with_changes(value=value) if arg.keyword and arg.keyword.value == name else arg
        for arg in call.args
    ]
    return call.with_changes(args=args)


# --------------------------------------------------------------------------- TL201


def fix_unencrypted_offload(text: str, finding: Finding, context: FixContext) -> Change | None:
    """``offload_folder="./offload"`` -> ``"/mnt/secure/offload"`` (the first encrypted path)."""
    doc = parse(text)
    if doc is None:
        return None
    for node, _, _, key in keyword_values(doc, finding.span, (cst.SimpleString,)):
        assert isinstance(node, cst.SimpleString)
        current = string_value(node)
        if current is None:
            continue
        target = encrypted_path(current, context) if key in OFFLOAD_DIR_KEYS else None
        if target is None:
            return None
        module = doc.replaced(node, string_like(node, target))
        return _done(doc, module, f'offload to the encrypted volume: `{key}="{target}"`')
    return None


# --------------------------------------------------------------------------- TL202


def fix_shared_dir(text: str, finding: Finding, context: FixContext) -> Change | None:
    """``output_dir="/tmp/run"`` -> ``"./outputs/run"`` (offload and cache folders alike)."""
    doc = parse(text)
    if doc is None:
        return None
    for node, _, _, key in keyword_values(doc, finding.span, (cst.SimpleString,)):
        assert isinstance(node, cst.SimpleString)
        current = string_value(node)
        if key not in SHARED_DIR_KEYS or current is None:
            continue
        target = project_path(key, current, context)
        if target is None:
            return None
        module = doc.replaced(node, string_like(node, target))
        return _done(doc, module, f"write `{key}` under the project: `{target}`")
    return None


# --------------------------------------------------------------------------- TL301


def fix_report_to(text: str, finding: Finding, context: FixContext) -> Change | None:
    """Services the policy does not approve taken out of ``report_to``."""
    doc = parse(text)
    if doc is None:
        return None
    for node, _, _, key in keyword_values(doc, finding.span):
        if key != "report_to":
            continue
        if isinstance(node, cst.SimpleString):
            value = string_value(node)
            if value is None:
                return None
            kept = keep_services(value.split(","), context)
            if kept is None:
                return None
            new_text = ",".join(kept) if kept else "none"
            module = doc.replaced(node, string_like(node, new_text))
            return _done(doc, module, f'report to approved services only: `report_to="{new_text}"`')
        if isinstance(node, cst.List):
            values = [string_value(element.value) for element in node.elements]
            if any(
                v is None or not isinstance(e, cst.Element)
                for v, e in zip(values, node.elements, strict=True)
            ):
                return None
            kept = keep_services([v for v in values if v is not None], context)
            if kept is None:
                return None
            if not kept:
                first = node.elements[0].value
                assert isinstance(first, cst.SimpleString)
                module = doc.replaced(node, string_like(first, "none"))
                return _done(doc, module, 'report to no service: `report_to="none"`')
            keep = [i for i, v in enumerate(values) if v in kept]
            module = doc.replaced(node, list_without(node, keep))
            return _done(doc, module, "report to approved services only")
    return None
