"""The YAML and JSON fixes, one per rule: each checks that the value at the finding's span is
the setting it is about, and replaces that value's characters only."""

from __future__ import annotations

from collections.abc import Callable

from yaml.nodes import ScalarNode, SequenceNode

from tunelint.findings import Finding
from tunelint.fix.config import (
    ConfigDoc,
    Located,
    add_sibling,
    bool_text,
    compose,
    replace_node,
    scalar_text,
    sibling,
    without_items,
)
from tunelint.fix.model import Change, FixContext, Fixer, int_literal
from tunelint.fix.paths import OFFLOAD_DIR_KEYS, SHARED_DIR_KEYS, encrypted_path, project_path
from tunelint.fix.text import TextEdit, apply_edits
from tunelint.fix.trackers import keep_services

OFFLOAD_SECTIONS = frozenset({"offload_optimizer", "offload_param"})
OFFLOAD_KEYS = frozenset({"offload_optimizer_device", "offload_param_device"})
STEP_KEYS = frozenset({"save_steps", "save_interval"})
# DeepSpeed's own tracker switches: section -> the service it sends to.
TRACKER_SWITCHES = {"wandb": "wandb", "comet": "comet_ml"}

ConfigFixer = Callable[[ConfigDoc, Located, FixContext], Change | None]


def config_fixer(fix: ConfigFixer, json_mode: bool) -> Fixer:
    """A fixer over the text of a YAML (or JSON) file, from one over a located value."""

    def run(text: str, finding: Finding, context: FixContext) -> Change | None:
        doc = compose(text, json_mode)
        if doc is None:
            return None
        located = doc.locate(finding.span)
        if located is None:
            return None
        change = fix(doc, located, context)
        if change is None or change.text == text:
            return None
        return change

    return run


def _scalar(located: Located) -> ScalarNode | None:
    node = located.node
    return node if isinstance(node, ScalarNode) else None


def fix_nvme_offload(doc: ConfigDoc, located: Located, context: FixContext) -> Change | None:
    """TL103: ``offload_param: {device: nvme}`` -> ``cpu``."""
    node = _scalar(located)
    if node is None or node.value.strip().lower() != "nvme":
        return None
    if not (
        (located.key == "device" and located.parent_key in OFFLOAD_SECTIONS)
        or located.key in OFFLOAD_KEYS
    ):
        return None
    written = scalar_text(doc, node, "cpu")
    if written is None:
        return None
    where = f"{located.parent_key}.device" if located.key == "device" else located.key
    return Change(replace_node(doc, node, written), f"offload to CPU RAM: `{where}: cpu`")


def fix_checkpoints(doc: ConfigDoc, located: Located, context: FixContext) -> Change | None:
    """TL105: ``save_strategy: "no"`` -> ``steps`` (``save_steps`` added where absent);
    a ``save_steps`` above the interval lowered to it."""
    node = _scalar(located)
    if node is None:
        return None
    max_steps = sibling(located, "max_steps")
    limit = int_literal(max_steps.value) if isinstance(max_steps, ScalarNode) else None
    steps = context.checkpoint_interval(limit)
    if located.key == "save_strategy":
        if node.value.strip().lower() != "no" or node.tag.endswith(":bool"):
            return None
        written = scalar_text(doc, node, "steps")
        if written is None:
            return None
        start, end = doc.region(node)
        edits = [TextEdit(start, end, written)]
        described = "`save_strategy: steps`"
        current = sibling(located, "save_steps")
        if current is None:
            added = add_sibling(doc, located, "save_steps", str(steps))
            if added is not None:
                edits.append(added)
                described += f" and `save_steps: {steps}`"
        elif isinstance(current, ScalarNode) and (int_literal(current.value) or 0) > steps:
            low, high = doc.region(current)
            edits.append(TextEdit(low, high, str(steps)))
            described += f" and `save_steps: {steps}`"
        return Change(apply_edits(doc.text, edits), f"save checkpoints: {described}")
    if located.key in STEP_KEYS:
        current_steps = int_literal(node.value)
        if current_steps is None or current_steps <= steps or node.style not in (None, ""):
            return None
        text = replace_node(doc, node, str(steps))
        return Change(text, f"save a checkpoint every {steps} steps: `{located.key}: {steps}`")
    return None


def fix_unencrypted_offload(doc: ConfigDoc, located: Located, context: FixContext) -> Change | None:
    """TL201: ``nvme_path: /local_nvme`` -> ``/mnt/secure/local_nvme``."""
    node = _scalar(located)
    if node is None or located.key not in OFFLOAD_DIR_KEYS:
        return None
    target = encrypted_path(node.value, context)
    written = scalar_text(doc, node, target) if target is not None else None
    if written is None:
        return None
    text = replace_node(doc, node, written)
    return Change(text, f"offload to the encrypted volume: `{located.key}: {target}`")


def fix_shared_dir(doc: ConfigDoc, located: Located, context: FixContext) -> Change | None:
    """TL202: ``output_dir: /tmp/run`` -> ``./outputs/run``."""
    node = _scalar(located)
    if node is None or located.key not in SHARED_DIR_KEYS:
        return None
    target = project_path(located.key, node.value, context)
    written = scalar_text(doc, node, target) if target is not None else None
    if written is None:
        return None
    text = replace_node(doc, node, written)
    return Change(text, f"write `{located.key}` under the project: `{target}`")


def fix_report_to(doc: ConfigDoc, located: Located, context: FixContext) -> Change | None:
    """TL301: services the policy does not approve taken out of ``report_to``; DeepSpeed's
    ``wandb: {enabled: true}`` turned off."""
    node = located.node
    none = '"none"' if doc.json_mode else "none"
    if located.key == "enabled" and located.parent_key in TRACKER_SWITCHES:
        if not isinstance(node, ScalarNode) or node.value.strip().lower() != "true":
            return None
        if keep_services([TRACKER_SWITCHES[located.parent_key]], context) != []:
            return None
        text = replace_node(doc, node, bool_text(doc, node, False))
        return Change(text, f"turn `{located.parent_key}` reporting off")
    if located.key != "report_to":
        return None
    if (
        isinstance(located.parent, SequenceNode)
        and located.path
        and isinstance(located.path[-1], int)
    ):
        # the finding names one item of the list: the fix edits the list
        located = Located(located.parent, located.path[:-1], None, located.key_node)
        node = located.node
    if isinstance(node, ScalarNode):
        names = [name for name in node.value.split(",") if name.strip()]
        kept = keep_services(names, context)
        if kept is None:
            return None
        value = ",".join(name.strip() for name in kept) or "none"
        written = scalar_text(doc, node, value)
        if written is None:
            return None
        shown = f"`{located.key}: {value}`"
        what = "report to no service" if value == "none" else "report to approved services only"
        return Change(replace_node(doc, node, written), f"{what}: {shown}")
    if isinstance(node, SequenceNode):
        items = [item.value if isinstance(item, ScalarNode) else "" for item in node.value]
        kept = keep_services(items, context)
        if kept is None:
            return None
        keep = [index for index, item in enumerate(items) if item in kept]
        fixed = without_items(doc, located, keep, none)
        if fixed is None:
            return None
        shown = ", ".join(kept) or "none"
        return Change(fixed, f"report to approved services only: {shown}")
    return None
