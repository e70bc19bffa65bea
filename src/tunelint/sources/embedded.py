"""Launch lines written inside YAML strings: job specs that run a training command.

Cluster job files (Beaker, Kubernetes, SkyPilot, dstack, CI workflows) hold the command in a
string: ``arguments: ['accelerate launch ... --report_to tensorboard']``, ``run: |``. The
config source hands such strings here; they are read by the shell source in place, so every
launch, flag and setting keeps its line and column in the YAML file. The environment the
same task declares (``envVars: [{name: WANDB_DISABLED, value: true}]``, ``env: {X: y}``) is
the command's exported environment.

Only strings that name a launcher are read, at most ``MAX_COMMANDS`` per document, and a
string is read only when it leads to a launch: anything else in it (a shell syntax the
reader does not follow, assignments) is dropped rather than reported against the YAML file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from yaml.nodes import ScalarNode

from tunelint.facts import Assignment, FileFacts, Value

MAX_COMMANDS = 64
LAUNCH_HINT = re.compile(
    r"(?<![\w./-])(?:accelerate\s+launch|torchrun|deepspeed|python[0-9.]*|tune\s+run"
    r"|swift\s+(?:sft|pt|rlhf)|llamafactory-cli|axolotl\s+train|litgpt\s+finetune|trl\s+\w)"
)
_ENV_KEYS = ("envVars", "env", "envs", "environment", "env_vars", "envs_vars")
# Keys whose strings are commands in job specs (Beaker, Kubernetes, SkyPilot, dstack, CI).
COMMAND_KEYS = frozenset(
    {"command", "commands", "cmd", "args", "arguments", "run", "script", "entrypoint"}
    | {"entry_point", "exec", "launch", "train_command", "setup"}
)
_INDEX = re.compile(r"\[\d+\]$")


@dataclass(frozen=True, slots=True)
class Command:
    """A YAML string that may hold a launch line, and the key path it is written at."""

    key: str
    node: ScalarNode


def shell_text(node: ScalarNode, lines: Sequence[str]) -> str:
    """The string's source as shell text placed at its own lines and columns (blank lines
    before it, spaces left of it). A string folded over several lines is one command (its
    lines continue); a literal block (``|``) keeps one command per line."""
    start, end = node.start_mark, node.end_mark
    first, last = start.line, end.line
    left, right = start.column, end.column
    if node.style in ("'", '"'):
        left, right = left + 1, right - 1
    if node.style in ("|", ">"):
        first, left = first + 1, 0
        if right == 0:
            last, right = last - 1, len(lines[last - 1]) if 0 < last <= len(lines) else 0
    out = [""] * first
    for index in range(first, min(last, len(lines) - 1) + 1):
        line = lines[index]
        begin = left if index == first else 0
        stop = right if index == last else len(line)
        text = " " * begin + line[begin:stop]
        if index < last and node.style != "|":
            text += " \\"
        out.append(text)
    return "\n".join(out) + "\n"


def task_env(key: str, assignments: Sequence[Assignment]) -> list[tuple[str, Value]]:
    """The environment declared next to ``key`` (nearest enclosing mapping first)."""
    parts = key.split(".")
    for depth in range(len(parts) - 1, -1, -1):
        prefix = ".".join(parts[:depth])
        found = _env_under(prefix, assignments)
        if found:
            return found
    return []


def _env_under(prefix: str, assignments: Sequence[Assignment]) -> list[tuple[str, Value]]:
    heads = tuple(f"{prefix}.{name}" if prefix else name for name in _ENV_KEYS)
    names: dict[str, str] = {}
    values: dict[str, Value] = {}
    found: list[tuple[str, Value]] = []
    for assignment in assignments:
        target = assignment.target
        if not target.startswith(heads):
            continue
        head = next(h for h in heads if target.startswith(h))
        rest = target[len(head) :]
        if rest.startswith("[") and rest.endswith((".name", ".value")):
            item, _, field = rest.rpartition(".")
            if field == "name" and isinstance(assignment.value.raw, str):
                names[item] = assignment.value.raw
            else:
                values[item] = assignment.value
        elif rest.startswith(".") and "." not in rest[1:] and not _INDEX.search(rest):
            found.append((rest[1:], assignment.value))
    found.extend((names[item], values[item]) for item in names if item in values)
    return found


def merge_launches(target: FileFacts, found: FileFacts) -> None:
    """Keep what a string's shell reading says about its launches (nothing when none)."""
    if not found.launches:
        return
    target.launches.extend(found.launches)
    target.settings.extend(found.settings)
    target.assignments.extend(found.assignments)
    target.references.extend(found.references)


def is_command_key(key: str) -> bool:
    """``tasks[0].arguments[0]``, ``run``: a key whose string is run as a command."""
    while _INDEX.search(key):
        key = _INDEX.sub("", key)
    return key.rsplit(".", 1)[-1] in COMMAND_KEYS


__all__ = [
    "COMMAND_KEYS",
    "LAUNCH_HINT",
    "MAX_COMMANDS",
    "Command",
    "is_command_key",
    "merge_launches",
    "shell_text",
    "task_env",
]
