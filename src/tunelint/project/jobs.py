"""Jobs: one training run, as far as static reading can tell.

A job merges a script's settings, the configs it references and the launch line that
starts it. Each merged value keeps the setting that decided it, so a finding about the
job points at the exact line (the flag on the launch line, the key in the DeepSpeed
JSON). Precedence, lowest first: argparse/dataclass defaults, config files, launch-line
flags, values written literally in code. An Unknown value only stands when nothing known
exists for that setting.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from tunelint.facts import FileFacts, FileKind, Launch, Setting, Value

TRAINING_DIALECTS = {"axolotl", "llamafactory", "torchtune", "litgpt"}
TRAINING_LAUNCHERS = {"torchrun", "accelerate", "deepspeed", "llamafactory-cli", "axolotl", "tune"}
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
    """A training run: its entry file, its member files and its merged settings."""

    entry: str
    members: tuple[str, ...]
    settings: dict[str, Setting] = field(default_factory=dict)
    launch: Launch | None = None
    trains: bool = True

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


def file_trains(facts: FileFacts) -> bool:
    """Does this file start training itself: Trainer .train(), a backward pass, a CLI config?"""
    if any(dialect in TRAINING_DIALECTS for dialect in facts.dialects):
        return True
    for call in facts.calls:
        short = call.short_name
        if short == "backward":
            return True
        if short == "train" and ("Trainer" in call.name or call.name.startswith("trl.")):
            return True
        if call.name.endswith(("llamafactory.train.tuner.run_exp", "axolotl.train.train")):
            return True
    return any(launch.launcher in TRAINING_LAUNCHERS for launch in facts.launches)


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


class _Index:
    """Finds the member file a reference names, as the launch or script would open it."""

    def __init__(self, files: Mapping[str, FileFacts]) -> None:
        self.files = files
        self.by_name: dict[str, list[str]] = {}
        for path in files:
            self.by_name.setdefault(posixpath.basename(path), []).append(path)

    def resolve(self, name: str, referrer: str) -> str | None:
        cleaned = name.strip().removeprefix("./")
        if not cleaned or cleaned.startswith(("http://", "https://", "s3://", "gs://")):
            return None
        candidates = [
            posixpath.normpath(posixpath.join(posixpath.dirname(referrer), cleaned)),
            posixpath.normpath(cleaned),
        ]
        for candidate in candidates:
            if candidate in self.files:
                return candidate
        same_name = self.by_name.get(posixpath.basename(cleaned), [])
        return same_name[0] if len(same_name) == 1 else None


def _closure(start: Iterable[str], files: Mapping[str, FileFacts], index: _Index) -> list[str]:
    """The start files plus every config or script they reference, transitively."""
    ordered: list[str] = []
    pending = list(start)
    while pending:
        path = pending.pop(0)
        if path in ordered or path not in files:
            continue
        ordered.append(path)
        for reference in files[path].references:
            if reference.role not in {"config", "script"}:
                continue
            target = reference.target.as_str()
            found = index.resolve(target, path) if target else None
            if found is not None:
                pending.append(found)
    return ordered


def assemble(files: Mapping[str, FileFacts]) -> list[Job]:
    """Jobs from launch lines first; then scripts and CLI configs no launch line starts."""
    index = _Index(files)
    jobs: list[Job] = []
    covered: set[str] = set()
    for path in sorted(files):
        facts = files[path]
        for launch in facts.launches:
            starts: list[str] = []
            if launch.script is not None and launch.script.as_str():
                found = index.resolve(launch.script.as_str() or "", path)
                if found is not None:
                    starts.append(found)
            for config in launch.configs:
                found = index.resolve(config.as_str() or "", path) if config.as_str() else None
                if found is not None:
                    starts.append(found)
            members = _closure(starts, files, index)
            covered.update(members)
            launch_settings = [s for s in facts.settings if launch.span.line <= s.span.line]
            launch_settings = [s for s in launch_settings if s.span.line <= launch.span.end_line]
            merged = merge_settings(
                [s for member in members for s in files[member].settings] + launch_settings
            )
            trains = launch.launcher in TRAINING_LAUNCHERS or any(
                file_trains(files[m]) for m in members
            )
            jobs.append(Job(path, (path, *members), merged, launch, trains))
    for path in sorted(files):
        facts = files[path]
        if path in covered or facts.kind == FileKind.SHELL or not file_trains(facts):
            continue
        members = _closure([path], files, index)
        merged = merge_settings(s for member in members for s in files[member].settings)
        jobs.append(Job(path, tuple(members), merged, None, True))
    return jobs


def training_members(jobs: Iterable[Job]) -> set[str]:
    """Every file that belongs to a job that trains."""
    return {member for job in jobs if job.trains for member in job.members}
