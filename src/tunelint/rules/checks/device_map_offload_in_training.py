"""TL102: a model this process trains, placed with a ``device_map`` that spills to CPU or disk.

A load counts when its file trains in the same process: the file holds a training call, or
its code reaches one through the functions it calls (``project.training``). A notebook that
only launches training in a subprocess (``!torchrun finetune.py``) does not train its own
loads. Left out, because the model they load is not the one being trained:

* loads after the training call, in the same function or notebook (reloading the result to
  merge, evaluate or chat with it);
* frozen helpers: a load whose result is passed to a trainer as ``ref_model``,
  ``reward_model``, ``teacher_model`` and the like, or bound to a name that says so
  (``ref_model``, ``reward_model``, ``teacher``, ``embedder``, ``judge``);
* where the file builds a trainer, loads whose result never reaches the trainer's ``model``
  (models loaded for a side-by-side comparison, followed through ``get_peft_model`` and
  other wrappers);
* ``device_map="cpu"``: the whole model on the CPU on purpose, nothing spills silently.

Configs and launch lines that set ``device_map`` are reported when their job trains, and so
is an ms-swift training launch that leaves ``--device_map`` unset while each process sees two
or more GPUs: ms-swift then loads with ``device_map='auto'`` itself (``get_default_device_map``
and ``is_mp`` in ms-swift's ``swift/model/utils.py`` and ``swift/utils/env.py``, read
2026-12-04), unless DeepSpeed or FSDP is on.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterator
from typing import Any

from tunelint.facts import Call, FileFacts, FileKind, Launch, Value
from tunelint.findings import Related
from tunelint.globs import matches_any
from tunelint.project.index import Lookups
from tunelint.project.training import SWIFT_TRAINING, config_trains, training_call
from tunelint.rules.checks import CheckContext, register
from tunelint.rules.match import Hit, render

SPILLING_MAPS = frozenset({"auto", "balanced", "balanced_low_0", "sequential"})
LOADERS = (
    "transformers.*.from_pretrained",
    "peft.*.from_pretrained",
    "transformers.pipeline",
    "accelerate.*dispatch*",
    "unsloth.*.from_pretrained",
)
# Trainer keywords that take a model the trainer does not update.
FROZEN_ROLES = frozenset(
    {"ref_model", "reward_model", "teacher_model", "reward_funcs", "judge", "value_model"}
)
FROZEN_NAME = re.compile(
    r"(?:^|[._])(ref|reference|reward|rm|teacher|judge|embed\w*|encoder_model)"
)
POSITION = tuple[int, int, int]


def _spills(call: Call) -> tuple[str, Value, Value | None] | None:
    """The argument that lets layers leave the GPU, or None; with the alternative that spills
    when the argument is conditional (``"auto" if quantized else None``: it *may* spill)."""
    for key in ("device_map", "max_memory"):
        value = call.kwarg(key)
        if value is None:
            continue
        if value.known and _spilling(key, value.raw):
            return key, value, None
        for alternative in value.alternatives:
            if alternative.known and _spilling(key, alternative.raw):
                return key, value, alternative
    return None


def _spilling(key: str, raw: object) -> bool:
    if key == "device_map" and isinstance(raw, str) and raw.strip().lower() in SPILLING_MAPS:
        return True
    return _names_offload(raw)


def _one_line(text: str) -> str:
    """Code written over several lines, as one: comments dropped, blanks inside brackets
    too (``("auto" if q else None)``)."""
    if "\n" not in text:
        return text
    lines = text.split("\n")
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                row, column = token.start
                lines[row - 1] = lines[row - 1][:column]
    except (tokenize.TokenError, SyntaxError):
        pass
    joined = " ".join(" ".join(lines).split())
    return re.sub(r"\s+([)\]}])", r"\1", re.sub(r"([(\[{])\s+", r"\1", joined))


def _names_offload(raw: object) -> bool:
    """A map or budget that sends part of the model to ``cpu`` or ``disk``. A plain
    ``device_map="cpu"`` places the whole model there on purpose: nothing spills silently."""
    if isinstance(raw, str):
        return raw.strip().lower() == "disk"
    if isinstance(raw, dict):
        items = [*raw.keys(), *raw.values()]
    elif isinstance(raw, list | tuple):
        items = list(raw)
    else:
        return False
    return any(isinstance(item, str) and item.strip().lower() in {"cpu", "disk"} for item in items)


def _where(call: Call) -> POSITION:
    span = call.span
    return (span.cell or 0, span.line, span.column)


def _frozen(call: Call, facts: FileFacts) -> bool:
    """A helper model the trainer keeps frozen (see the module docstring)."""
    name = call.bound_to
    if not name:
        return False
    if FROZEN_NAME.search(name.lower()):
        return True
    return any(
        key in FROZEN_ROLES and value.text.strip() == name
        for other in facts.calls
        if "Trainer" in other.name or other.name.startswith("trl.")
        for key, value in other.kwargs
    )


_NAME = re.compile(r"[A-Za-z_][\w.]*")


def _trained_names(facts: FileFacts, project: Lookups) -> set[str] | None:
    """Names holding the model that is trained: given to a trainer built in this file
    (``Trainer(model=m)``), or to a project function that trains (``train(model, loader)``);
    followed back through wrappers (``m = get_peft_model(base, cfg)`` adds ``base``). None
    for a hand-written loop in this file, or an mmengine config that trains: every load
    before the training call counts."""
    if config_trains(facts):
        return None  # an mmengine config: its runner trains the model the config builds
    names: set[str] = set()
    for call in facts.calls:
        if "Trainer" in call.short_name and not training_call(call):
            model = call.arg(0, "model")
            if model is not None and _NAME.fullmatch(model.text.strip()):
                names.add(model.text.strip())
    if not names and any(training_call(call) for call in facts.calls):
        return None
    if not names:
        for call in facts.calls:
            if project.call_trains(facts, call):
                names.update(
                    value.text.strip()
                    for value in (*call.args, *(value for _, value in call.kwargs))
                    if _NAME.fullmatch(value.text.strip())
                )
    grew = True
    while grew:
        grew = False
        for call in facts.calls:
            if call.bound_to not in names:
                continue
            for value in (*call.args[:1], *(v for k, v in call.kwargs if k == "model")):
                text = value.text.strip()
                if _NAME.fullmatch(text) and text not in names:
                    names.add(text)
                    grew = True
    return names


def _after_training(call: Call, trainings: list[Call]) -> bool:
    """Loaded after the training call of the same function (or notebook): a reload."""
    same_scope = [t for t in trainings if t.scope == call.scope]
    return bool(same_scope) and _where(call) > max(_where(t) for t in same_scope)


def needles(options: dict[str, Any]) -> dict[str, Any]:
    return {"call": list(LOADERS)}


@register("device-map-offload-in-training", needles=needles)
def check(facts: FileFacts, context: CheckContext) -> Iterator[Hit]:
    if facts.kind in {FileKind.PYTHON, FileKind.NOTEBOOK}:
        yield from _loads(facts, context)
        return
    if not context.trains(facts.path):
        return
    yield from _swift_implicit(facts)
    for setting in facts.settings:
        raw = setting.value.raw
        if setting.name != "device_map" or not isinstance(raw, str):
            continue
        if raw.strip().lower() in SPILLING_MAPS:
            values: dict[str, object] = {
                "key": setting.key,
                "text": setting.value.text or render(raw),
                "may": "",
            }
            yield Hit(setting.span, values, anchor=f"{setting.dialect}:{setting.key}")


def _loads(facts: FileFacts, context: CheckContext) -> Iterator[Hit]:
    if not context.project.trains_in_process(facts.path):
        return  # nothing trains in this process (a subprocess may: it has its own loads)
    trainings = [call for call in facts.calls if training_call(call)]
    trained = _trained_names(facts, context.project)
    for call in facts.calls:
        if not matches_any(call.name, LOADERS):
            continue
        found = _spills(call)
        if found is None or _after_training(call, trainings) or _frozen(call, facts):
            continue
        if trained is not None and call.bound_to and call.bound_to not in trained:
            continue  # loaded for something else: a comparison, an evaluation, a judge
        key, value, alternative = found
        text = _one_line(value.text or render(value.raw))
        values: dict[str, object] = {"key": key, "text": text, "may": ""}
        related: tuple[Related, ...] = ()
        if alternative is not None:
            shown = alternative.text or render(alternative.raw)
            values["may"] = f" (may be {shown})"
            if alternative.span.line != value.span.line or alternative.span.cell != value.span.cell:
                related = (Related(alternative.span, f"`{key}` may be {shown}: set here"),)
        hit = Hit(value.span, values, f"{call.name}:{key}", call.scope, related=related)
        yield hit


def _visible_gpus(value: Value) -> int | None:
    raw = value.as_str() if value.known else None
    if raw is None or not re.fullmatch(r"\s*\d+(\s*,\s*\d+)*\s*", raw):
        return None
    return len(raw.split(","))


def _swift_implicit(facts: FileFacts) -> Iterator[Hit]:
    """``CUDA_VISIBLE_DEVICES=0,1 swift sft ...``: ms-swift's own ``device_map='auto'``."""
    for launch in facts.launches:
        if launch.launcher != "swift" or not (launch.module or "").startswith(SWIFT_TRAINING):
            continue
        flags = {name for name, _ in launch.args}
        if flags & {"device_map", "deepspeed", "fsdp"} or _env(launch, "ACCELERATE_USE_FSDP"):
            continue  # chosen, or ZeRO/FSDP, under which ms-swift picks no map
        devices = _env(launch, "CUDA_VISIBLE_DEVICES")
        if devices is None:
            continue  # how many GPUs the machine has is not written here
        visible = _visible_gpus(devices)
        processes = _env(launch, "NPROC_PER_NODE")
        per_node = processes.as_str() if processes is not None and processes.known else "1"
        if visible is None or not (per_node or "").isdigit() or int(per_node or 0) < 1:
            continue
        if visible // int(per_node or 1) < 2:
            continue
        model = next((value for name, value in launch.args if name == "model"), None)
        where = model.span if model is not None else launch.span
        text = f"'auto' (ms-swift's default with {visible} GPUs for {per_node} process"
        text += "es)" if per_node != "1" else ")"
        values: dict[str, object] = {"key": "device_map", "text": text, "may": ""}
        shown = Related(devices.span, f"CUDA_VISIBLE_DEVICES={devices.text or devices.raw}")
        yield Hit(where, values, anchor="swift:device_map", related=(shown,))


def _env(launch: Launch, name: str) -> Value | None:
    return next((value for key, value in launch.env if key == name), None)
