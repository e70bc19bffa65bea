"""Python checks: for rules the declarative matcher cannot express.

A check is a small function that receives one file's facts (``per="file"``) or one job
(``per="job"``) and a ``CheckContext``, and yields ``Hit``s. It reads facts, jobs and the
project index's lookups; it never sees a syntax tree, never reads the disk and never walks
the project (the engine hands it each file or job in turn). Built-in checks live in this
package, one small module per rule, and declare the words a file must hold for them to find
anything (``needles``, for the byte prefilter). Third-party packages register theirs through
the ``tunelint.checks`` entry point group (a plain ``check(context)`` function there is
called once per file).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from tunelint.project.index import Lookups
from tunelint.rules.match import Hit, Matcher
from tunelint.rules.model import RuleMeta

Per = Literal["file", "job"]


@dataclass(slots=True)
class CheckContext:
    """What a check may read besides its file or job: the index's lookups, the policy, its
    own options and the GPU budget request."""

    rule: RuleMeta
    project: Lookups
    matcher: Matcher
    options: dict[str, Any] = field(default_factory=dict)
    budget: Any = None
    # The check's own scratch space for this run (a value computed once for all jobs).
    state: dict[str, Any] = field(default_factory=dict)

    def policy(self, dotted: str, default: Any = None) -> Any:
        found = self.matcher.policy(dotted)
        return default if found is None else found

    def trains(self, path: str) -> bool:
        """Is ``path`` a member of a job that trains?"""
        return path in self.matcher.training_files


Function = Callable[[Any, CheckContext], Iterable[Hit]]
# A check's prefilter needs, in the vocabulary of a rule's ``match`` (see extract.prefilter),
# or a function of the rule's options that returns them.
Needles = dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    parts: tuple[tuple[Per, Function], ...]
    needles: Needles | None = None

    def needs(self, options: dict[str, Any]) -> dict[str, Any] | None:
        """The prefilter needs for these options; None: parse every file."""
        if self.needles is None or isinstance(self.needles, dict):
            return self.needles
        return self.needles(options)


_REGISTRY: dict[str, Check] = {}


def register(
    name: str, *, per: Per = "file", needles: Needles | None = None
) -> Callable[[Function], Function]:
    """Register ``function`` as (part of) the check ``name``; a check may have a part per
    file and a part per job. ``needles`` may be given on any part."""

    def decorate(function: Function) -> Function:
        known = _REGISTRY.get(name)
        parts = (*(known.parts if known else ()), (per, function))
        declared = needles if needles is not None else (known.needles if known else None)
        _REGISTRY[name] = Check(name, parts, declared)
        return function

    return decorate


def entry_points(group: str) -> Any:
    """Installed plugins' entry points (importlib.metadata is loaded only when a check is not
    built in)."""
    from importlib.metadata import entry_points as installed

    return installed(group=group)


def get_check(name: str) -> Check:
    """A built-in check (module of the same name in this package) or an installed plugin."""
    if name in _REGISTRY:
        return _REGISTRY[name]
    module = name.replace("-", "_")
    try:
        importlib.import_module(f"{__name__}.{module}")
    except ModuleNotFoundError as error:
        if error.name != f"{__name__}.{module}":
            raise
    if name in _REGISTRY:
        return _REGISTRY[name]
    for entry in entry_points(group="tunelint.checks"):
        if entry.name == name:
            loaded = entry.load()
            if isinstance(loaded, Check):
                _REGISTRY[name] = loaded
            else:
                per: Per = "job" if getattr(loaded, "per", "file") == "job" else "file"
                declared = getattr(loaded, "prefilter_match", None)
                _REGISTRY[name] = Check(name, ((per, loaded),), declared)
            return _REGISTRY[name]
    raise KeyError(f"no check named {name!r} (built in, or under entry point tunelint.checks)")
