"""Python checks: for rules the declarative matcher cannot express.

A check is a function taking a ``CheckContext`` and yielding ``Hit``s. It reads facts and
jobs, never a syntax tree. Built-in checks live in this package, one small module per rule;
third-party packages register theirs through the ``tunelint.checks`` entry point group.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from tunelint.facts import FileFacts
from tunelint.findings import Destination
from tunelint.project.jobs import Job
from tunelint.rules.match import Hit, Matcher
from tunelint.rules.model import RuleMeta


@dataclass(slots=True)
class CheckContext:
    """What a check may read: facts by path, assembled jobs, the policy, its own options."""

    rule: RuleMeta
    files: Mapping[str, FileFacts]
    jobs: list[Job]
    matcher: Matcher
    options: dict[str, Any] = field(default_factory=dict)
    budget: Any = None
    # Derived views that several checks read, computed once per run.
    shared: dict[str, Any] = field(default_factory=dict)

    def destinations(self) -> list[Destination]:
        """Every external destination in the checked files (``project.destinations``)."""
        if "destinations" not in self.shared:
            from tunelint.project.destinations import find_destinations

            self.shared["destinations"] = find_destinations(self.files)
        found: list[Destination] = self.shared["destinations"]
        return found

    def policy(self, dotted: str, default: Any = None) -> Any:
        found = self.matcher.policy(dotted)
        return default if found is None else found

    def trains(self, path: str) -> bool:
        return path in self.matcher.training_files


Check = Callable[[CheckContext], Iterable[Hit]]
_REGISTRY: dict[str, Check] = {}


def register(name: str) -> Callable[[Check], Check]:
    def decorate(function: Check) -> Check:
        _REGISTRY[name] = function
        return function

    return decorate


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
            _REGISTRY[name] = loaded
            return loaded  # type: ignore[no-any-return]
    raise KeyError(f"no check named {name!r} (built in, or under entry point tunelint.checks)")
