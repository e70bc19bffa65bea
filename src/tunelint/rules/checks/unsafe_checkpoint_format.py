"""TL404: checkpoints written as pickle rather than safetensors.

Two kinds of finding. The settings that turn safetensors off (``save_safetensors=False``,
``safe_serialization=False``: the declarative tree ``SETTINGS``). And ``torch.save`` calls,
told apart by what they save, read statically from the first argument:

* a whole module (``torch.save(model, ...)``): the file can only be loaded with
  ``weights_only=False``, which runs whatever it holds (the rule's severity);
* a state_dict written to what looks like a model checkpoint (``.bin``, ``.pt``, ``.pth``,
  ``.ckpt``, or ``pytorch_model`` / ``adapter_model`` / ``checkpoint`` in the name): a pickle
  container that ``weights_only=True`` loads safely, but not a safe format (``low``);
* optimizer, scheduler and scaler state, tensors and anything not recognised: nothing.

A state_dict is an argument whose text calls ``.state_dict()`` or a function whose name ends in
``state_dict`` (``get_peft_model_state_dict(model)``), a dict literal with a model-looking key,
or a name bound to one of those (the nearest ``name = ...`` line above the call in the same
function), or a name that says so (``state_dict``, ``*_sd``, ``weights``, ``ckpt``). A module is
a name bound to a model constructor (``from_pretrained``, ``get_peft_model``, ``torch.nn.*``)
or named like one (``model``, ``self.model``, ``model_to_save``, ``model.module``, ``net``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from tunelint.facts import Call, FileFacts, Value
from tunelint.findings import Severity
from tunelint.rules.checks import CheckContext, register
from tunelint.rules.match import Hit

SETTINGS: Final = {
    "any": [
        {"setting": "save_safetensors", "equals": False},
        {"call": "*", "where": {"arg": "safe_serialization", "equals": False}},
    ]
}
SAVERS: Final = frozenset({"torch.save"})
OPTIMIZER: Final = re.compile(r"optim|sched|scaler|sampler|loader|rng|lr_|generator", re.I)
STATE_NAME: Final = re.compile(
    r"state_dict|(?:^|_)(?:sd|states?|weights?|ckpt|checkpoint|params|tensors)(?:$|_)", re.I
)
MODULE_NAME: Final = re.compile(r"(?:^|_)(?:model|net|network|module)(?:$|_)", re.I)
NOT_A_MODULE: Final = re.compile(r"path|dir|name|file|args|config|cfg|tokenizer|output|id$", re.I)
STATE_CALL: Final = re.compile(r"(?P<callee>[\w.\]\)]*?)state_dict\s*\(")
MODEL_CALL: Final = re.compile(
    r"\.from_pretrained\s*\(|get_peft_model\s*\(|\bnn\.\w+\s*\(|unwrap_model\s*\(|"
    r"torch\.compile\s*\("
)
NOT_MODEL_CALL: Final = re.compile(r"Tokenizer|Config|Processor|FeatureExtractor")
MODEL_KEY: Final = re.compile(r"model|state_dict|module|weight|net|lora|adapter|ema", re.I)
TAIL_CALLS: Final = re.compile(r"(?:\.(?:cpu|half|float|bfloat16|eval|to|cuda)\([^()]*\))+$")
CHECKPOINT: Final = re.compile(
    r"\.(?:bin|pt|pth|ckpt)\b|pytorch_model|adapter_model|checkpoint|WEIGHTS_NAME", re.I
)
NOT_WEIGHTS: Final = re.compile(r"optim|sched|rng_state|scaler|training_args|trainer_state", re.I)
BINDING_LOOKBACK: Final = 200

NEEDLES: Final = {"any": [*SETTINGS["any"], {"call": sorted(SAVERS)}]}


@register("unsafe-checkpoint-format", needles=NEEDLES)
def check(facts: FileFacts, context: CheckContext) -> Iterator[Hit]:
    for hit in context.matcher.hits(facts, SETTINGS):
        key = hit.values.get("key", "save_safetensors")
        hit.values["detail"] = (
            f"`{key}` is false: checkpoints are written as pickle files (`pytorch_model.bin`, "
            "`*.pt`), and whoever loads them runs any code they contain"
        )
        yield hit
    for call in facts.calls:
        if call.name in SAVERS:
            yield from _save(call, facts)


def _save(call: Call, facts: FileFacts) -> Iterator[Hit]:
    saved = call.arg(0, "obj")
    if saved is None or call.star_args:
        return
    kind = _kind(saved, facts, call)
    target = call.arg(1, "f")
    where = _target_text(target)
    if kind == "module":
        detail = (
            f"`torch.save({saved.text})` pickles the whole module object: loading it needs "
            "`torch.load(weights_only=False)`, which runs any code in the file; save its "
            "`state_dict()` with safetensors (`save_pretrained`, `safetensors.torch.save_file`)"
        )
        yield Hit(call.span, {"detail": detail}, "torch.save:module", call.scope)
    elif kind == "state" and CHECKPOINT.search(where) and not NOT_WEIGHTS.search(where):
        detail = (
            f"`torch.save` writes the weights to `{_short(where)}` as a pickle container, not "
            "safetensors: it loads with `torch.load(weights_only=True)`, but every consumer "
            "must pass that (older torch does not default to it); `safetensors.torch.save_file` "
            "holds tensors only"
        )
        low = Severity.LOW
        yield Hit(call.span, {"detail": detail}, "torch.save:state_dict", call.scope, severity=low)


def _kind(value: Value, facts: FileFacts, call: Call, depth: int = 0) -> str:
    """``module``, ``state``, ``optimizer`` or ``unknown``: what the saved argument holds."""
    if isinstance(value.raw, dict):
        keys = [str(key) for key in value.raw]
        if any(MODEL_KEY.search(key) for key in keys):
            return "state"
        return "optimizer" if any(OPTIMIZER.search(key) for key in keys) else "unknown"
    return _kind_of_text(value.text.strip(), facts, call, depth)


def _kind_of_text(text: str, facts: FileFacts, call: Call, depth: int) -> str:
    text = TAIL_CALLS.sub("", text)
    state = STATE_CALL.search(text)
    if state is not None:
        return "optimizer" if OPTIMIZER.search(state.group("callee")) else "state"
    if text.startswith("{"):
        return "state" if MODEL_KEY.search(text) else "unknown"
    name = re.fullmatch(r"([A-Za-z_][\w.]*)(?:\[[^\]]*\])*", text)
    if name is None:
        return "unknown"
    dotted = name.group(1)
    if depth == 0 and "." not in dotted:
        bound = _bound_text(facts, call, dotted)
        if bound is not None:
            found = _kind_of_text(bound.strip(), facts, call, depth + 1)
            if found != "unknown":
                return found
            if MODEL_CALL.search(bound) and not NOT_MODEL_CALL.search(bound):
                return "module"
    last = dotted.rsplit(".", 1)[-1]
    if OPTIMIZER.search(last):
        return "optimizer"
    if STATE_NAME.search(last):
        return "state"
    if MODULE_NAME.search(last) and not NOT_A_MODULE.search(last):
        return "module"
    return "unknown"


def _bound_text(facts: FileFacts, call: Call, name: str) -> str | None:
    """The right-hand side of the nearest ``name = ...`` above the call, in its function."""
    lines = facts.lines
    if call.span.cell is not None and 0 < call.span.cell <= len(facts.cell_lines):
        lines = facts.cell_lines[call.span.cell - 1]
    if not 0 < call.span.line <= len(lines):
        return None
    here = lines[call.span.line - 1]
    indent = len(here) - len(here.lstrip())
    binding = re.compile(rf"{re.escape(name)}\s*(?::[^=]+)?=(?!=)\s*(?P<rest>.+)")
    for index in range(call.span.line - 2, max(-1, call.span.line - 2 - BINDING_LOOKBACK), -1):
        line = lines[index]
        stripped = line.lstrip()
        depth = len(line) - len(stripped)
        if stripped.startswith(("def ", "async def ", "class ")) and depth < indent:
            return None
        found = binding.match(stripped)
        if found is not None and (indent > 0 or depth == 0):
            return found.group("rest")
    return None


def _target_text(target: Value | None) -> str:
    if target is None:
        return ""
    return target.as_str() or target.text


def _short(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."
