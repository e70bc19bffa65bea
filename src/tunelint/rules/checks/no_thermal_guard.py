"""TL104: local GPU training with no temperature or power watch, or a watch set too hot.

A training entry point is a Python file or notebook that runs ``Trainer.train()`` (also TRL's
trainers) or a ``backward()`` loop. Its watch may sit in any file of its jobs (scripts,
launch scripts) or in a project module it imports: NVML polling (``pynvml`` /
``nvidia-ml-py`` ``nvmlDeviceGetTemperature`` / ``nvmlDeviceGetPowerUsage``,
``torch.cuda.temperature``), ``nvidia-smi`` queried for temperature or power (from
``subprocess`` or a shell script, or a power limit set with ``nvidia-smi -pl``), or a callback
whose class name says so (rule option ``guard_callbacks``). A watch threshold (a number
compared with a temperature, or a constant, keyword or option named like one) above the
policy's ``hardware.max_temperature_c`` is reported too. tunelint's own guards count
(``tunelint guard -- ...`` on the launch line, ``tunelint.guard.ThermalGuard`` and its Trainer
and Lightning callbacks). The rule applies to jobs that run locally on CUDA (its YAML says
so): jobs submitted to a cluster scheduler are left to the cluster's monitoring, hosted
notebooks to their runtime, and other accelerators are not watched through NVML.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from tunelint.facts import Call, FileFacts, FileKind, Span, Value
from tunelint.globs import matches_any
from tunelint.project.index import Lookups
from tunelint.project.jobs import Job
from tunelint.project.training import training_call
from tunelint.rules.checks import CheckContext, register
from tunelint.rules.match import Hit

DEFAULT_MAX_C = 85.0
NVML_CALLS = (
    "*nvmlDeviceGetTemperature*",
    "*nvmlDeviceGetPowerUsage",
    "*nvmlDeviceGetEnforcedPowerLimit",
    "*nvmlDeviceGetClocksThrottleReasons",
    "*nvmlDeviceGetCurrentClocksThrottleReasons",
    "*nvmlDeviceGetCurrentClocksEventReasons",
    "torch.cuda.temperature",
    "torch.cuda.power_draw",
    "*amdsmi_get_temp_metric",
    "*amdsmi_get_power_info",
    "GPUtil.getGPUs",
)
# tunelint's own guards (``tunelint.guard``): the context manager and the Trainer and
# Lightning callbacks; counted whatever the rule's ``guard_callbacks`` say.
TUNELINT_GUARDS = ("tunelint.guard.*",)
DEFAULT_CALLBACKS = ("*Thermal*", "*Temperature*", "*TempGuard*", "*Overheat*", "*GpuTemp*")
RUNNERS = ("subprocess.*", "os.system", "os.popen", "sh.*")
SMI_QUERY = re.compile(r"nvidia-smi\b.*(temperature|power|-pl\b|--power-limit|-q\b)", re.I)
# A launch line run under tunelint's own guard (``tunelint guard [options] -- python ...``).
GUARD_LAUNCH = re.compile(r"(?:^|[\s;&|(!])tunelint\s+guard\b")
# Words of a name that say temperature (``max_temp_c``, ``GPU_TEMP``, ``maxTemp``), or a
# ``_c`` unit suffix; a word that merely holds the letters (``MAX_DOWNLOAD_ATTEMPTS``,
# ``template``) does not.
TEMP_WORDS = frozenset({"temp", "temps", "temperature", "temperatures", "thermal", "celsius"})
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def says_temperature(name: str) -> bool:
    if name.lower().endswith("_c"):
        return True
    return any(word.lower() in TEMP_WORDS for word in _WORD.findall(name))


# NVML bindings themselves (a vendored copy of ``pynvml``) are not a watch, and their
# constants are not thresholds.
NVML_BINDINGS = frozenset({"pynvml.py", "nvml.py", "py3nvml.py", "nvidia_smi.py"})
PLAUSIBLE = (30.0, 130.0)  # degrees Celsius a GPU threshold can mean
NUMBER = r"(\d+(?:\.\d+)?)"
NAME = r"([A-Za-z_][\w.\[\]\"']*)"
COMPARE = re.compile(rf"{NAME}\s*(?:>=|>|<=|<)\s*{NUMBER}|{NUMBER}\s*(?:>=|>|<=|<)\s*{NAME}")


@dataclass(frozen=True, slots=True)
class Threshold:
    value: float
    span: Span
    text: str


def _is_watch_call(call: Call, callbacks: Sequence[str]) -> bool:
    if matches_any(call.name, (*NVML_CALLS, *TUNELINT_GUARDS)):
        return True
    if matches_any(call.short_name, tuple(callbacks)):
        return True
    if matches_any(call.name, tuple(RUNNERS)):
        words = " ".join(_texts([*call.args, *(value for _, value in call.kwargs)]))
        return SMI_QUERY.search(words) is not None
    return False


def _texts(values: Sequence[Value]) -> list[str]:
    out: list[str] = []
    for value in values:
        raw = value.raw
        if isinstance(raw, str):
            out.append(raw)
        elif isinstance(raw, list | tuple):
            out.extend(str(item) for item in raw if isinstance(item, str))
    return out


def _code_lines(facts: FileFacts) -> Iterator[tuple[int | None, int, str]]:
    """(cell, line, text) of every line, comments cut off."""
    if facts.kind == FileKind.NOTEBOOK and facts.cell_lines:
        for cell, lines in enumerate(facts.cell_lines, start=1):
            for number, text in enumerate(lines, start=1):
                yield cell, number, text
        return
    for number, text in enumerate(facts.lines, start=1):
        yield None, number, text


def _shell_watch(facts: FileFacts) -> bool:
    for _, _, text in _code_lines(facts):
        code = text.split("#", 1)[0] if not text.lstrip().startswith("#!") else ""
        shell = facts.kind == FileKind.SHELL or code.lstrip().startswith("!")
        if shell and (SMI_QUERY.search(code) or GUARD_LAUNCH.search(code)):
            return True
    return False


def has_watch(facts: FileFacts, callbacks: Sequence[str]) -> bool:
    if PurePosixPath(facts.path).name in NVML_BINDINGS:
        return False
    return any(_is_watch_call(call, callbacks) for call in facts.calls) or _shell_watch(facts)


def _plausible(number: float) -> bool:
    return PLAUSIBLE[0] <= number <= PLAUSIBLE[1]


def thresholds(facts: FileFacts) -> list[Threshold]:
    """Temperatures a watch compares with: named constants, keywords, options, comparisons."""
    found: list[Threshold] = []
    for assignment in facts.assignments:
        number = assignment.value.as_number() if assignment.kind == "variable" else None
        if number is not None and says_temperature(assignment.target) and _plausible(number):
            found.append(Threshold(number, assignment.value.span, assignment.target))
    for call in facts.calls:
        flag = call.args[0].as_str() if call.short_name == "add_argument" and call.args else None
        for key, value in call.kwargs:
            name = flag if flag and key == "default" else key
            number = value.as_number() if isinstance(value.raw, int | float) else None
            if number is not None and says_temperature(name) and _plausible(number):
                found.append(Threshold(number, value.span, name))
    if facts.kind in {FileKind.PYTHON, FileKind.NOTEBOOK}:
        for cell, line, text in _code_lines(facts):
            code = text.split("#", 1)[0]
            for match in COMPARE.finditer(code):
                name = match.group(1) or match.group(4) or ""
                number = float(match.group(2) or match.group(3))
                if says_temperature(name) and _plausible(number):
                    column = match.start() + 1
                    span = Span(facts.path, line, column, line, match.end(), cell)
                    found.append(Threshold(number, span, match.group(0).strip()))
    return found


def needles(options: dict[str, Any]) -> dict[str, Any]:
    """Training calls are always read; besides them, the watch: NVML or ROCm calls, thermal
    callbacks (the rule's ``guard_callbacks``), ``nvidia-smi`` run from code."""
    callbacks = [str(c) for c in options.get("guard_callbacks") or DEFAULT_CALLBACKS]
    return {
        "any": [
            {"call": [*NVML_CALLS, *TUNELINT_GUARDS, *callbacks]},
            {"needles": [{"substring": ["nvidia-smi"]}]},
        ]
    }


@register("no-thermal-guard", per="job", needles=needles)
def check(job: Job, context: CheckContext) -> Iterator[Hit]:
    if not job.trains:
        return
    limit = float(context.policy("hardware.max_temperature_c", DEFAULT_MAX_C))
    callbacks = tuple(context.options.get("guard_callbacks") or DEFAULT_CALLBACKS)
    project = context.project
    scope = project.scope(job)
    watchers = [
        path for path in scope if project.per_file(("watch", callbacks), path, _watch(callbacks))
    ]
    if not watchers:
        call = _first_training_call(job, scope, project)
        if call is None:
            return
        detail = (
            f"`{call.text or call.name}()` trains on the local GPU with no temperature or "
            "power watch in the job's files (NVML polling, an `nvidia-smi` query, a thermal "
            "callback): a card that overheats throttles, errors or ages faster, unseen"
        )
        yield Hit(call.span, {"detail": detail}, anchor=f"{call.name}:no-watch", scope=call.scope)
        return
    for path in watchers:
        for threshold in project.per_file("thresholds", path, thresholds):
            if threshold.value <= limit:
                continue
            detail = (
                f"thermal watch threshold `{threshold.text}` ({threshold.value:g} °C) is above "
                f"the policy's hardware.max_temperature_c ({limit:g} °C): the guard lets the "
                "GPU run hotter than allowed before it acts"
            )
            yield Hit(threshold.span, {"detail": detail}, anchor=f"threshold:{threshold.text}")


def _watch(callbacks: Sequence[str]) -> Callable[[FileFacts], bool]:
    return lambda facts: has_watch(facts, callbacks)


def _first_training_call(job: Job, scope: Sequence[str], project: Lookups) -> Call | None:
    """Where the job trains: the first training call of its entry-most file."""
    ordered = [*job.members, *(path for path in scope if path not in job.members)]
    for path in ordered:
        facts = project.facts(path)
        if facts is None or facts.kind not in {FileKind.PYTHON, FileKind.NOTEBOOK}:
            continue
        calls = [call for call in facts.calls if training_call(call)]
        if calls:
            return calls[0]
    return None
