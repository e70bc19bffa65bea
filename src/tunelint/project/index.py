"""The project index: built once per run from every file's facts, the only place that knows
how files relate.

It answers, each in one place and each computed once: which file a path or module names
(``resolve_path``, ``resolve_module``), which project files a file imports and which files
launch it (shell scripts, slurm files, notebooks' ``!`` lines, launch lines that only name
a script inside a variable), which files start training, the jobs, and per-file summaries
that rules ask about again and again (``per_file``). Every structure is built in one pass
over the facts (or lazily, then memoised), so the cost grows with files plus edges.

Rules see it through ``Lookups``: questions about one file or one job, never a way to walk
the whole project.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

from tunelint.facts import Call, FileFacts, FileKind, Requirement
from tunelint.findings import Destination
from tunelint.project.environment import CLUSTER, CUDA, HOSTED, LOCAL, environment_of
from tunelint.project.jobs import Job, assemble, launch_starts
from tunelint.project.modules import Modules, ancestors
from tunelint.project.training import (
    MODULE,
    CallGraph,
    config_trains,
    file_trains,
    training_call,
)

T = TypeVar("T")
_SCRIPT_MENTION = re.compile(r"(?<![\w.\-/])((?:[\w.\-]+/)*[\w\-]+\.(?:py|sh))\b")
_MODULE_MENTION = re.compile(r"(?:^|\s)(?:-m|--module)\s+([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)")
_SHELL_RUNNERS = frozenset({"bash", "sh", "source", ".", "sbatch", "zsh"})
_REMOTE = ("http://", "https://", "s3://", "gs://", "hf://")
# Folders a project writes models to by a saver call or an output setting.
SAVERS = frozenset({"save_pretrained", "save_model", "save_to_disk", "save_state"})


def _directory(path: str) -> str:
    normal = posixpath.normpath(path) if path else ""
    return "" if normal == "." else normal


def path_key(text: str) -> str:
    """A folder named in code, as compared with other mentions of it."""
    return text.strip().removeprefix("./").rstrip("/")


class ProjectIndex:
    """How the checked files relate; read-only once built."""

    def __init__(self, files: Mapping[str, FileFacts], repositories: Iterable[str] = ()) -> None:
        self._files = MappingProxyType(dict(files))
        self.modules = Modules(self._files)
        self.repositories = frozenset(_directory(r) for r in repositories)
        self._by_name: dict[str, list[str]] = {}
        for path in sorted(self._files):
            self._by_name.setdefault(posixpath.basename(path), []).append(path)
        self._imports: dict[str, tuple[str, ...]] = {}
        self._importers: dict[str, set[str]] = {}
        for path in sorted(self._files):
            found = self._resolve_imports(path)
            self._imports[path] = found
            for module in found:
                self._importers.setdefault(module, set()).add(path)
        self._launchers: dict[str, set[str]] = {}
        for path in sorted(self._files):
            for target in self._launched_by(path):
                if target != path:
                    self._launchers.setdefault(target, set()).add(path)
        self.calls = CallGraph(self._files, self.modules.resolve)
        self._trains: dict[str, bool] = {}
        self._chains: dict[str, tuple[str, ...]] = {}
        self._memo: dict[tuple[Any, str], Any] = {}
        self._closures: dict[str, frozenset[str]] = {}
        self.jobs: tuple[Job, ...] = tuple(assemble(self._files, self))
        self._jobs_of: dict[str, list[Job]] = {}
        for job in self.jobs:
            for member in dict.fromkeys((*job.members, *job.launchers)):
                self._jobs_of.setdefault(member, []).append(job)
        self._destinations: dict[str, list[Destination]] | None = None
        self._written: frozenset[str] | None = None
        self._model_keys: dict[str, frozenset[str]] | None = None
        self._training_scope: frozenset[str] | None = None
        self._reaching: dict[str, tuple[Job, ...]] | None = None

    # -- files --------------------------------------------------------------------------
    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(sorted(self._files))

    def facts(self, path: str) -> FileFacts | None:
        return self._files.get(path)

    def __contains__(self, path: object) -> bool:
        return path in self._files

    # -- what names what ----------------------------------------------------------------
    def resolve_module(self, module: str, importer: str) -> str | None:
        return self.modules.resolve(module, importer)

    def resolve_path(self, name: str, referrer: str) -> str | None:
        """The project file a path in ``referrer`` names, as the program would open it.

        Relative to the referrer's directory, else to a directory above it (launch scripts
        run from the repository root), else the one file whose path ends with the name as
        written, under the nearest enclosing directory that has exactly one (never across a
        repository boundary).
        """
        cleaned = name.strip().strip("'\"").removeprefix("./")
        if not cleaned or cleaned.startswith(_REMOTE) or "$" in cleaned or "{" in cleaned:
            return None
        if cleaned.startswith("/"):
            return None
        directory = posixpath.dirname(posixpath.normpath(referrer))
        for base in ancestors(directory):
            candidate = (
                posixpath.normpath(posixpath.join(base, cleaned))
                if base
                else (posixpath.normpath(cleaned))
            )
            if candidate in self._files:
                return candidate
            if base in self.repositories:
                break
        # the one file whose path ends with what was written (``configs/ds.json`` never
        # matches ``other/ds.json``)
        tail = "/" + posixpath.normpath(cleaned)
        same_name = [
            p
            for p in self._by_name.get(posixpath.basename(cleaned), [])
            if ("/" + p).endswith(tail)
        ]
        if not same_name:
            return None
        for base in ancestors(directory):
            inside = [p for p in same_name if not base or p.startswith(base + "/")]
            if len(inside) == 1:
                return inside[0]
            if len(inside) > 1 or base in self.repositories:
                return None
        return None

    def _resolve_imports(self, path: str) -> tuple[str, ...]:
        facts = self._files[path]
        if facts.kind not in {FileKind.PYTHON, FileKind.NOTEBOOK}:
            return ()
        found = {self.modules.resolve(module, path) for module in facts.imports}
        found.discard(None)
        found.discard(path)
        return tuple(sorted(f for f in found if f is not None))

    def _launched_by(self, path: str) -> Iterator[str]:
        """Files this file starts: launch lines' scripts, modules and configs; shell scripts
        it runs (``bash x.sh``, ``sbatch x.slurm``); scripts a shell file only names."""
        facts = self._files[path]
        for launch in facts.launches:
            yield from launch_starts(launch, path, self)
        for reference in facts.references:
            target = reference.target.as_str()
            if not target:
                continue
            if reference.role == "script" or (
                reference.role == "other" and reference.key in _SHELL_RUNNERS
            ):
                found = self.resolve_path(target, path)
                if found is not None:
                    yield found
        for code in _command_text(facts):
            for match in _SCRIPT_MENTION.finditer(code):
                found = self.resolve_path(match.group(1), path)
                if found is not None:
                    yield found
            for match in _MODULE_MENTION.finditer(code):
                found = self.modules.resolve(match.group(1), path)
                if found is not None:
                    yield found

    def imports_of(self, path: str) -> tuple[str, ...]:
        """Project files ``path`` imports (directly)."""
        return self._imports.get(path, ())

    def importers_of(self, path: str) -> tuple[str, ...]:
        return tuple(sorted(self._importers.get(path, ())))

    def launchers_of(self, path: str) -> tuple[str, ...]:
        """Files that start ``path``, directly or through other launchers, nearest first."""
        if path in self._chains:
            return self._chains[path]
        self._chains[path] = ()  # a launch cycle ends here
        ordered: list[str] = []
        pending = sorted(self._launchers.get(path, ()))
        while pending:
            current = pending.pop(0)
            if current in ordered or current == path:
                continue
            ordered.append(current)
            pending.extend(sorted(self._launchers.get(current, ())))
        self._chains[path] = tuple(ordered)
        return self._chains[path]

    def import_closure(self, path: str) -> frozenset[str]:
        """``path`` and every project file it imports, transitively (memoised per file)."""
        if path in self._closures:
            return self._closures[path]
        seen: set[str] = set()
        pending = [path]
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            known = self._closures.get(current)
            if known is not None:
                seen |= known
                continue
            seen.add(current)
            pending.extend(self._imports.get(current, ()))
        closure = frozenset(seen)
        self._closures[path] = closure
        return closure

    # -- training and jobs --------------------------------------------------------------
    def trains(self, path: str) -> bool:
        """Does this file start training itself (``project.training``)?"""
        if path not in self._trains:
            facts = self._files.get(path)
            launched = bool(self._launchers.get(path))
            self._trains[path] = facts is not None and file_trains(facts, self.calls, launched)
        return self._trains[path]

    def trains_in_process(self, path: str) -> bool:
        """Does this file's own Python train (a training call in it, or reached from its
        module-level code), rather than only launch training in another process?"""
        facts = self._files.get(path)
        if facts is None or facts.kind not in {FileKind.PYTHON, FileKind.NOTEBOOK}:
            return False
        if config_trains(facts):  # an mmengine config: its runner builds it in-process
            return True
        return any(training_call(c) for c in facts.calls) or self.calls.reaches((path, MODULE))

    def jobs_of(self, path: str) -> tuple[Job, ...]:
        """The jobs ``path`` is a member or a launcher of."""
        return tuple(self._jobs_of.get(path, ()))

    def scope(self, job: Job) -> tuple[str, ...]:
        """Every file that takes part in ``job``: its members, the project modules they
        import (transitively) and the files that launch it."""
        found: set[str] = set(job.launchers)
        for member in job.members:
            found |= self.import_closure(member)
        return tuple(sorted(found & set(self._files)))

    def runs_on(self, job: Job) -> tuple[str, str]:
        """(accelerator, runtime) of ``job``: what its files and launchers say, else CUDA,
        locally (``project.environment``)."""
        accelerator, runtime = CUDA, LOCAL
        for path in self.scope(job):
            found = self.per_file("environment", path, environment_of)
            if found.accelerator is not None and accelerator == CUDA:
                accelerator = found.accelerator
            if found.cluster:
                runtime = CLUSTER
            elif found.hosted and runtime == LOCAL:
                runtime = HOSTED
        return accelerator, runtime

    def jobs_reaching(self, path: str) -> tuple[Job, ...]:
        """The jobs ``path`` takes part in: as a member, or as a module a member imports."""
        if self._reaching is None:
            reaching: dict[str, list[Job]] = {}
            for job in self.jobs:
                for member in dict.fromkeys(
                    p for m in job.members for p in sorted(self.import_closure(m))
                ):
                    reaching.setdefault(member, []).append(job)
            self._reaching = {key: tuple(value) for key, value in reaching.items()}
        return self._reaching.get(path, ())

    def in_training_job(self, path: str) -> bool:
        """Is ``path`` a member of a training job, or a project module one imports?"""
        if self._training_scope is None:
            found: set[str] = set()
            for job in self.jobs:
                if job.trains:
                    for member in job.members:
                        found |= self.import_closure(member)
            self._training_scope = frozenset(found)
        return path in self._training_scope

    def training_files(self) -> frozenset[str]:
        """Files that are members of a job that trains (the entry, its configs and scripts)."""
        return frozenset(path for job in self.jobs if job.trains for path in job.members)

    # -- memoised per-file answers --------------------------------------------------------
    def per_file(self, key: Any, path: str, compute: Callable[[FileFacts], T]) -> T:
        """``compute(facts of path)``, once per (key, path) for the whole run."""
        slot = (key, path)
        if slot not in self._memo:
            facts = self._files.get(path)
            self._memo[slot] = compute(facts) if facts is not None else None
        found: T = self._memo[slot]
        return found

    # -- project-wide facts, computed once ------------------------------------------------
    def destinations_in(self, path: str) -> list[Destination]:
        """Where data goes, as named in ``path`` (``project.destinations``)."""
        if self._destinations is None:
            from tunelint.project.destinations import find_destinations

            grouped: dict[str, list[Destination]] = {}
            for destination in find_destinations(self._files):
                grouped.setdefault(destination.span.path, []).append(destination)
            self._destinations = grouped
        return list(self._destinations.get(path, ()))

    def all_destinations(self) -> list[Destination]:
        """For the review checklist: every destination, in file order."""
        return [d for path in self.paths for d in self.destinations_in(path)]

    def model_keys_read(self, path: str) -> frozenset[str]:
        """Config keys that code loads a model id from (``from_pretrained(config["k"])``),
        code in the config's folder or a folder above it within its repository (a trainer
        at the top and its ``configs/``): a config that sets one names a model it loads."""
        if self._model_keys is None:
            grouped: dict[str, set[str]] = {}
            for source, facts in self._files.items():
                for reference in facts.references:
                    key = reference.target.as_str() if reference.role == "model-key" else None
                    if key:
                        grouped.setdefault(_folder_of(source), set()).add(key)
            self._model_keys = {base: frozenset(keys) for base, keys in grouped.items()}
        found: set[str] = set()
        for base in ancestors(_folder_of(path)):
            found |= self._model_keys.get(base, frozenset())
            if base in self.repositories:
                break
        return frozenset(found)

    def written_here(self, folder: str) -> bool:
        """Does the project write models or data to ``folder`` (a saver's directory, an
        ``output_dir``)? Loading such a folder back reads local files, not the hub."""
        if self._written is None:
            self._written = frozenset(self._written_folders())
        return path_key(folder) in self._written

    def _written_folders(self) -> Iterator[str]:
        for facts in self._files.values():
            for call in facts.calls:
                if call.short_name in SAVERS:
                    value = call.arg(0, "save_directory") or call.kwarg("output_dir")
                    text = value.as_str() if value is not None else None
                    if text:
                        yield path_key(text)
                local_dir = call.kwarg("local_dir")
                if local_dir is not None and local_dir.as_str():
                    yield path_key(local_dir.as_str() or "")
            for setting in facts.settings:
                if setting.name == "output_dir" and setting.value.as_str():
                    yield path_key(setting.value.as_str() or "")

    def is_directory(self, name: str, referrer: str) -> bool:
        """Is ``name`` a folder of the project, relative to ``referrer`` or a folder above it?"""
        cleaned = path_key(name)
        if not cleaned:
            return False
        for base in ancestors(posixpath.dirname(posixpath.normpath(referrer))):
            joined = posixpath.normpath(posixpath.join(base, cleaned)) if base else cleaned
            if joined in self.modules.directories:
                return True
        return False

    # -- dependency pins ------------------------------------------------------------------
    def torch_versions(self, path: str) -> tuple[Requirement, ...]:
        """The torch requirements that apply to ``path``: those of the nearest folder at or
        above it, within its repository, whose pin files name torch (``project.pins``)."""
        slot = ("torch-pins", "")
        if slot not in self._memo:
            from tunelint.project.pins import torch_pins

            self._memo[slot] = torch_pins(self._files, self.resolve_path)
        from tunelint.project.pins import nearest

        return nearest(self._memo[slot], path, self.repositories)


_DATABRICKS_SHELL = re.compile(r"^# MAGIC\s+(?:%sh\b|!)")


def _command_text(facts: FileFacts) -> Iterator[str]:
    """Lines that may name a script to run, comments cut off: a shell file's lines (also a
    command kept in a variable, ``CMD="python train.py"``), and the ``!`` commands and
    ``%sh`` cells of a Databricks notebook exported as a ``.py`` file, with their
    continuation lines."""
    if facts.kind is FileKind.SHELL:
        for line in facts.lines:
            yield line.split("#", 1)[0]
        return
    if facts.kind is not FileKind.PYTHON or not facts.lines:
        return
    if not facts.lines[0].startswith("# Databricks notebook source"):
        return
    continued = False
    for line in facts.lines:
        stripped = line.strip()
        command = stripped.startswith("!") or _DATABRICKS_SHELL.match(stripped) is not None
        if command or continued:
            yield stripped
        continued = (command or continued) and stripped.endswith("\\")


class Lookups:
    """What a rule may ask the index: about one file or one job, never the whole project."""

    __slots__ = ("_index",)

    def __init__(self, index: ProjectIndex) -> None:
        self._index = index

    def facts(self, path: str) -> FileFacts | None:
        return self._index.facts(path)

    def trains(self, path: str) -> bool:
        return self._index.trains(path)

    def jobs_of(self, path: str) -> tuple[Job, ...]:
        return self._index.jobs_of(path)

    def call_trains(self, facts: FileFacts, call: Call) -> bool:
        """Does this call site run training, itself or through the functions it calls?"""
        return self._index.calls.call_trains(facts, call)

    def trains_in_process(self, path: str) -> bool:
        return self._index.trains_in_process(path)

    def scope(self, job: Job) -> tuple[str, ...]:
        return self._index.scope(job)

    def in_training_job(self, path: str) -> bool:
        return self._index.in_training_job(path)

    def jobs_reaching(self, path: str) -> tuple[Job, ...]:
        return self._index.jobs_reaching(path)

    def runs_on(self, job: Job) -> tuple[str, str]:
        return self._index.runs_on(job)

    def member_facts(self, job: Job) -> list[FileFacts]:
        return [f for m in job.members if (f := self._index.facts(m)) is not None]

    def per_file(self, key: Any, path: str, compute: Callable[[FileFacts], T]) -> T:
        return self._index.per_file(key, path, compute)

    def destinations_in(self, path: str) -> list[Destination]:
        return self._index.destinations_in(path)

    def written_here(self, folder: str) -> bool:
        return self._index.written_here(folder)

    def model_keys_read(self, path: str) -> frozenset[str]:
        return self._index.model_keys_read(path)

    def is_directory(self, name: str, referrer: str) -> bool:
        return self._index.is_directory(name, referrer)

    def resolve_module(self, module: str, importer: str) -> str | None:
        return self._index.resolve_module(module, importer)

    def torch_versions(self, path: str) -> tuple[Requirement, ...]:
        """The torch pins that apply to ``path`` (``ProjectIndex.torch_versions``)."""
        return self._index.torch_versions(path)


def _folder_of(path: str) -> str:
    folder = posixpath.dirname(posixpath.normpath(path))
    return "" if folder == "." else folder
