"""Jobs: one training run, as far as static reading can tell.

A job merges a script's settings, the configs it references and the launch line that
starts it. Each merged value keeps the setting that decided it, so a finding about the
job points at the exact line (the flag on the launch line, the key in the DeepSpeed
JSON). Precedence, lowest first: argparse/dataclass defaults, config files, launch-line
flags, values written literally in code. An Unknown value only stands when nothing known
exists for that setting.

Assembly asks the project index how files relate (``Relations``); it never resolves a path
or a module itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from tunelint.facts import FileFacts, FileKind, Launch, Setting, Value
from tunelint.project.training import launch_trains

_ORIGIN_RANK = {
    "argparse-default": 0,
    "dataclass-default": 0,
    "config": 1,
    "cli": 2,
    "env": 2,
}
CODE_RANK = 3


@dataclass(slots=True)
class Job:
    """A training run: its entry file, its member files and its merged settings.

    ``members`` are the entry and the configs and scripts it names (transitively);
    ``launchers`` the files that start the entry (a shell script, the slurm file that runs
    that script, a notebook's ``!`` line), nearest first.
    """

    entry: str
    members: tuple[str, ...]
    settings: dict[str, Setting] = field(default_factory=dict)
    launch: Launch | None = None
    trains: bool = True
    launchers: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        if self.launch is not None:
            return f"{self.entry}:{self.launch.span.line}"
        return self.entry

    def value(self, name: str) -> Value | None:
        setting = self.settings.get(name)
        return setting.value if setting is not None else None

    def raw(self, name: str) -> object:
        value = self.value(name)
        return value.raw if value is not None and value.known else None


class Relations(Protocol):
    """What assembly needs to know about how files relate (the project index answers)."""

    def resolve_path(self, name: str, referrer: str) -> str | None: ...
    def resolve_module(self, module: str, importer: str) -> str | None: ...
    def trains(self, path: str) -> bool: ...
    def launchers_of(self, path: str) -> tuple[str, ...]: ...
    def import_closure(self, path: str) -> frozenset[str]: ...


def _rank(setting: Setting) -> int:
    if not setting.value.known:
        return -1
    return _ORIGIN_RANK.get(setting.value.origin, CODE_RANK)


def merge_settings(settings: Iterable[Setting]) -> dict[str, Setting]:
    merged: dict[str, Setting] = {}
    for setting in settings:
        current = merged.get(setting.name)
        if current is None or _rank(setting) >= _rank(current):
            merged[setting.name] = setting
    return merged


def _closure(start: Iterable[str], files: Mapping[str, FileFacts], relate: Relations) -> list[str]:
    """The start files plus every config or script they reference, transitively."""
    ordered: list[str] = []
    seen: set[str] = set()
    pending = list(start)
    while pending:
        path = pending.pop(0)
        if path in seen or path not in files:
            continue
        seen.add(path)
        ordered.append(path)
        for reference in files[path].references:
            if reference.role not in {"config", "script"}:
                continue
            target = reference.target.as_str()
            found = relate.resolve_path(target, path) if target else None
            if found is not None and found not in seen:
                pending.append(found)
    return ordered


def launch_starts(launch: Launch, path: str, relate: Relations) -> list[str]:
    """The project files a launch line starts: its script or ``-m`` module, its configs."""
    starts: list[str] = []
    script = launch.script.as_str() if launch.script is not None else None
    if script:
        found = relate.resolve_path(script, path)
        if found is not None:
            starts.append(found)
    if launch.module and not script:
        found = relate.resolve_module(launch.module, path)
        if found is not None:
            starts.append(found)
    for config in launch.configs:
        text = config.as_str()
        found = relate.resolve_path(text, path) if text else None
        if found is not None:
            starts.append(found)
    return starts


def _in_launch(setting: Setting, launch: Launch) -> bool:
    return launch.span.line <= setting.span.line <= launch.span.end_line and (
        setting.span.cell == launch.span.cell
    )


def assemble(files: Mapping[str, FileFacts], relate: Relations) -> list[Job]:
    """Jobs from launch lines first; then training files and CLI configs that no launch
    starts, neither directly nor through a module it imports (a script that a launched
    wrapper imports is run with the wrapper's arguments, never with its own defaults)."""
    jobs: list[Job] = []
    covered: set[str] = set()
    for path in sorted(files):
        facts = files[path]
        for launch in facts.launches:
            members = _closure(launch_starts(launch, path, relate), files, relate)
            covered.update(
                member_import for m in members for member_import in relate.import_closure(m)
            )
            # the launch's own settings, also those written outside its span (a variable
            # defined above it, a heredoc); older facts carry none: take those in its span
            launch_settings = list(launch.settings) or [
                s for s in facts.settings if _in_launch(s, launch)
            ]
            merged = merge_settings(
                [s for member in members for s in files[member].settings] + launch_settings
            )
            trains = launch_trains(launch) or any(relate.trains(m) for m in members)
            chain = (path, *relate.launchers_of(path))
            jobs.append(Job(path, (path, *members), merged, launch, trains, chain))
    for path in sorted(files):
        facts = files[path]
        if path in covered or facts.kind == FileKind.SHELL or not relate.trains(path):
            continue
        members = _closure([path], files, relate)
        merged = merge_settings(s for member in members for s in files[member].settings)
        jobs.append(Job(path, tuple(members), merged, None, True, relate.launchers_of(path)))
    return jobs


def training_members(jobs: Sequence[Job]) -> set[str]:
    """Every file that belongs to a job that trains."""
    return {member for job in jobs if job.trains for member in job.members}


# What a Python file must hold to name a config or script of its job (for the byte prefilter,
# in the vocabulary of a rule's ``match``).
NEEDLES = {
    "needles": [{"substring": [".json", ".yaml", ".yml"]}, {"substring": ["config", "deepspeed"]}]
}
