"""Which torch versions can run a file: the project's pins, and what a specifier admits.

Pins come from every file that declares dependencies: pin files (``sources.pins``:
requirements files with the files they include by ``-r``/``-c``, ``pyproject.toml``,
``setup.cfg``), conda environment files (``environment*.yml``, ``conda*.yml``: the YAML
source's ``dependencies[i]`` and ``dependencies[i].pip[j]`` items) and ``setup.py``
(``setup(install_requires=[...], extras_require={...})`` as the Python source reads the call).
The pins that apply to a file are those of the nearest folder at or above it, within its
repository, whose files name torch (``torch`` on PyPI, ``pytorch`` on conda).

A specifier is read as the range of versions it admits: PEP 440 (``==``, ``!=`` is ignored,
``<``, ``<=``, ``>``, ``>=``, ``~=``, ``==2.5.*``), poetry (``^2.5``, ``~2.5``) and conda
(``=2.5`` is ``2.5.*``, ``2.5.*``, a build string after a second ``=``). Anything else (``|``,
URLs) admits every version: a range is only ever narrowed by what is certain.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Final

from tunelint.facts import FileFacts, FileKind, Requirement, Span
from tunelint.project.modules import ancestors
from tunelint.sources.pins import normalise, parse_requirement

TORCH_NAMES: Final = frozenset({"torch", "pytorch"})
CONDA_FILE: Final = re.compile(r"(?:environment|conda)[-_.\w]*\.ya?ml", re.I)
CONDA_ITEM: Final = re.compile(r"dependencies\[\d+\](?:\.pip\[\d+\])?")
CLAUSE: Final = re.compile(r"\s*(===|==|!=|~=|<=|>=|<|>|=|\^|~)?\s*([^\s,]*)\s*")
VERSION: Final = re.compile(r"v?(\d+(?:\.\d+)*)")
MAX_INCLUDES: Final = 16

Version = tuple[int, ...]
Resolve = Callable[[str, str], str | None]


@dataclass(frozen=True, slots=True)
class Bound:
    version: Version
    inclusive: bool


@dataclass(frozen=True, slots=True)
class Range:
    """The versions a specifier admits; None on a side means unbounded."""

    lower: Bound | None = None
    upper: Bound | None = None

    def admits_below(self, version: Version) -> bool:
        """Does the range hold some version older than ``version``?"""
        return self.lower is None or _cmp(self.lower.version, version) < 0

    def admits_from(self, version: Version) -> bool:
        """Does the range hold ``version`` or a newer one?"""
        if self.upper is None:
            return True
        order = _cmp(self.upper.version, version)
        return order > 0 or (order == 0 and self.upper.inclusive)


def _cmp(left: Version, right: Version) -> int:
    width = max(len(left), len(right))
    a, b = left + (0,) * (width - len(left)), right + (0,) * (width - len(right))
    return (a > b) - (a < b)


def _version(text: str) -> Version | None:
    found = VERSION.match(text.strip())
    return tuple(int(part) for part in found.group(1).split(".")) if found else None


def _next(version: Version, depth: int) -> Version:
    """The first version past every ``version[:depth].*`` (``(2, 5)`` at 2 -> ``(2, 6)``)."""
    head = version[:depth] or (0,)
    return (*head[:-1], head[-1] + 1)


def _tighten(found: Range, lower: Bound | None = None, upper: Bound | None = None) -> Range:
    if lower is not None and (found.lower is None or _cmp(lower.version, found.lower.version) > 0):
        found = Range(lower, found.upper)
    if upper is not None and (found.upper is None or _cmp(upper.version, found.upper.version) < 0):
        found = Range(found.lower, upper)
    return found


def version_range(specifier: str) -> Range:
    """The range of versions ``specifier`` admits (everything, when it cannot be read)."""
    text = specifier.strip()
    if not text or "|" in text or text.startswith("@"):
        return Range()
    if text.count("=") >= 2 and text.startswith("=") and not text.startswith(("==", "===")):
        text = "=" + text[1:].split("=", 1)[0]  # conda: =2.5.1=py311_cuda121_0
    found = Range()
    for clause in text.split(","):
        parsed = CLAUSE.fullmatch(clause)
        if parsed is None:
            return Range()
        operator, raw = parsed.group(1) or "", parsed.group(2)
        star = raw.endswith(".*") or raw == "*"
        version = _version(raw.split("+", 1)[0])
        if version is None:
            if raw in {"", "*"}:
                continue
            return Range()
        found = _clause(found, operator, version, star)
    return found


def _clause(found: Range, operator: str, version: Version, star: bool) -> Range:
    if operator in {"", "=", "==", "==="} and (star or operator == "="):
        return _tighten(found, Bound(version, True), Bound(_next(version, len(version)), False))
    if operator in {"", "==", "==="}:
        return _tighten(found, Bound(version, True), Bound(version, True))
    if operator == ">=":
        return _tighten(found, lower=Bound(version, True))
    if operator == ">":
        return _tighten(found, lower=Bound(version, False))
    if operator == "<=":
        return _tighten(found, upper=Bound(version, True))
    if operator == "<":
        return _tighten(found, upper=Bound(version, False))
    if operator == "~=":  # ~=2.5.1 is >=2.5.1, ==2.5.*
        depth = max(1, len(version) - 1)
        return _tighten(found, Bound(version, True), Bound(_next(version, depth), False))
    if operator == "^":  # poetry: up to the next change of the first non-zero part
        depth = next((i + 1 for i, part in enumerate(version) if part), len(version))
        return _tighten(found, Bound(version, True), Bound(_next(version, depth), False))
    if operator == "~":  # poetry: ~2.5 and ~2.5.1 stay below 2.6; ~2 below 3
        depth = 2 if len(version) >= 2 else 1
        return _tighten(found, Bound(version, True), Bound(_next(version, depth), False))
    return found  # != excludes one version: the range stays as wide


# -- where the pins are ---------------------------------------------------------------------


def torch_pins(files: Mapping[str, FileFacts], resolve: Resolve) -> dict[str, list[Requirement]]:
    """Folder -> the torch requirements its files declare (computed once per run)."""
    found: dict[str, list[Requirement]] = {}
    for path in sorted(files):
        pins = [r for r in _declared(files, path, resolve, set()) if r.name in TORCH_NAMES]
        if pins:
            found.setdefault(_folder(path), []).extend(pins)
    return found


def nearest(
    pins: Mapping[str, list[Requirement]], path: str, repositories: Iterable[str]
) -> tuple[Requirement, ...]:
    """The pins of the nearest folder at or above ``path`` that has any, within its repository."""
    boundaries = set(repositories)
    for base in ancestors(_folder(path)):
        if base in pins:
            return tuple(dict.fromkeys(pins[base]))
        if base in boundaries:
            break
    return ()


def _folder(path: str) -> str:
    folder = posixpath.dirname(posixpath.normpath(path))
    return "" if folder == "." else folder


def _declared(
    files: Mapping[str, FileFacts], path: str, resolve: Resolve, seen: set[str]
) -> Iterator[Requirement]:
    facts = files.get(path)
    if facts is None or path in seen or len(seen) > MAX_INCLUDES:
        return
    seen.add(path)
    name = posixpath.basename(path)
    if facts.kind is FileKind.PINS:
        yield from facts.requirements
        for reference in facts.references:
            target = reference.target.as_str()
            included = (
                resolve(target, path) if reference.role == "requirements" and target else None
            )
            if included is not None:
                yield from _declared(files, included, resolve, seen)
    elif facts.kind is FileKind.YAML and CONDA_FILE.fullmatch(name):
        yield from _conda(facts)
    elif facts.kind is FileKind.PYTHON and name == "setup.py":
        yield from _setup_py(facts)


def _conda(facts: FileFacts) -> Iterator[Requirement]:
    for assignment in facts.assignments:
        text = assignment.value.as_str()
        if text is None or CONDA_ITEM.fullmatch(assignment.target) is None:
            continue
        if ".pip[" not in assignment.target:
            text = text.split("::", 1)[-1]  # a channel prefix: pytorch::pytorch=2.5
            name, _, spec = text.strip().partition(" ")
            text = f"{name}={spec.strip()}" if spec.strip() and spec.strip()[0].isdigit() else text
        parsed = parse_requirement(text)
        if parsed is not None:
            yield Requirement(parsed[0], parsed[1], assignment.value.span, parsed[2])


def _setup_py(facts: FileFacts) -> Iterator[Requirement]:
    for call in facts.calls:
        if call.short_name != "setup":
            continue
        for key in ("install_requires", "extras_require"):
            value = call.kwarg(key)
            if value is None:
                continue
            raw = value.raw
            groups = list(raw.values()) if isinstance(raw, dict) else [raw]
            for group in groups:
                for item in group if isinstance(group, list | tuple) else [group]:
                    parsed = parse_requirement(item) if isinstance(item, str) else None
                    if parsed is not None:
                        yield Requirement(parsed[0], parsed[1], value.span, parsed[2])


def describe(pin: Requirement) -> str:
    """``torch==2.5.1 in requirements.txt:3``."""
    return f"{pin.name}{pin.specifier or ' (any version)'} in {_where(pin.span)}"


def _where(span: Span) -> str:
    return f"{span.path}:{span.line}"


__all__ = ["Range", "describe", "nearest", "normalise", "torch_pins", "version_range"]
