"""Which files to check, and what kind each is.

Honours .gitignore (at every level, through pathspec) and the policy's excludes, also for
files named on the command line: pre-commit passes names, and excludes must still hold.
Every file passed by name that is not checked gets a reason; nothing is skipped silently.

Like ruff, a walk never enters virtual environments (any directory holding ``pyvenv.cfg`` or
``conda-meta``), dependency, build and cache folders (``DEFAULT_EXCLUDES``), and never
follows a directory symlink unless asked. A path named on the command line is always entered,
whatever its name; below it the defaults hold again. What was left out and could hold code
is recorded (``Discovery.skipped_directories``) so the report can say how to include it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tunelint.facts import Diagnostic, FileKind

SUFFIX_KINDS = {
    ".py": FileKind.PYTHON,
    ".pyi": FileKind.PYTHON,
    ".ipynb": FileKind.NOTEBOOK,
    ".yaml": FileKind.YAML,
    ".yml": FileKind.YAML,
    ".json": FileKind.JSON,
    ".sh": FileKind.SHELL,
    ".bash": FileKind.SHELL,
    ".zsh": FileKind.SHELL,
    ".slurm": FileKind.SHELL,
    ".sbatch": FileKind.SHELL,
}
# Never entered unless named on the command line, and why. Reasons in QUIET_REASONS
# (version control, caches) never hold a project's code: always left out, never reported.
# The others are reported with how to include them, and --no-default-excludes enters them.
DEFAULT_EXCLUDES: dict[str, str] = {
    ".git": "vcs",
    ".hg": "vcs",
    ".svn": "vcs",
    ".bzr": "vcs",
    ".venv": "virtual-environment",
    "venv": "virtual-environment",
    ".tox": "virtual-environment",
    ".nox": "virtual-environment",
    "__pypackages__": "dependencies",
    "site-packages": "dependencies",
    "node_modules": "dependencies",
    ".eggs": "build",
    "build": "build",
    "dist": "build",
    "_build": "build",
    "buck-out": "build",
    "__pycache__": "cache",
    ".ipynb_checkpoints": "cache",
    ".mypy_cache": "cache",
    ".pytest_cache": "cache",
    ".pytype": "cache",
    ".ruff_cache": "cache",
    ".tunelint_cache": "cache",
    ".direnv": "cache",
}
QUIET_REASONS = frozenset({"vcs", "cache"})
# Words for each reported reason, singular and plural, for the report's summary.
SKIP_REASONS: dict[str, tuple[str, str]] = {
    "virtual-environment": ("virtual environment", "virtual environments"),
    "conda-environment": ("conda environment", "conda environments"),
    "dependencies": ("dependency folder", "dependency folders"),
    "build": ("build folder", "build folders"),
    "symlink": ("directory symlink", "directory symlinks"),
}
# Suffixes whose kind depends on the content: DeepSpeed configs are often JSON named `.conf`.
CONTENT_SUFFIXES = frozenset({".conf"})
_SNIFF_BYTES = 5_000_000  # larger `.conf` files are not parsed to be classified
REPOSITORY_MARKERS = frozenset({".git", "pyproject.toml", "setup.py", "setup.cfg"})
SHEBANG_KINDS = (("python", FileKind.PYTHON), ("bash", FileKind.SHELL), ("sh", FileKind.SHELL))


@dataclass(frozen=True, slots=True, order=True)
class SourceFile:
    path: str  # as displayed: relative to the working directory, POSIX separators
    kind: FileKind
    absolute: str = field(compare=False)


@dataclass(frozen=True, slots=True, order=True)
class SkippedDirectory:
    """A directory the walk did not enter though it may hold code: ``reason`` is a key of
    ``SKIP_REASONS``. ``path`` is as displayed (relative to the working directory)."""

    path: str
    reason: str


@dataclass(slots=True)
class Discovery:
    files: list[SourceFile] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    # Directories that hold a repository's root markers (``.git``, ``pyproject.toml``,
    # ``setup.py``, ``setup.cfg``), as displayed: the project index never resolves a path
    # across them.
    repositories: set[str] = field(default_factory=set)
    skipped_directories: list[SkippedDirectory] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Walk:
    """How to walk directories: ``default_excludes`` off enters virtual environments,
    dependency and build folders too; ``follow_symlinks`` enters directory symlinks (those
    leading out of the root are still refused, with a diagnostic)."""

    default_excludes: bool = True
    follow_symlinks: bool = False


def default_exclude(directory: Path, name: str) -> str | None:
    """Why the walk leaves ``directory`` out by default, or None to enter it."""
    reason = DEFAULT_EXCLUDES.get(name)
    if reason is not None:
        return reason
    if name.endswith(".egg-info"):
        return "build"
    if os.path.isfile(directory / "pyvenv.cfg"):
        return "virtual-environment"
    if os.path.isdir(directory / "conda-meta"):
        return "conda-environment"
    return None


def display_path(path: Path, cwd: Path) -> str:
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        return os.path.relpath(path, cwd).replace(os.sep, "/") if path.is_absolute() else str(path)


def kind_of(path: Path) -> FileKind | None:
    """By name (pin files), by extension, else by shebang for files without one (``train``,
    ``launch``); a ``.conf`` file that holds a JSON object is JSON (DeepSpeed), any other is
    not checked."""
    kind = kind_of_name(path)
    if path.suffix.lower() in CONTENT_SUFFIXES:
        return _json_object(path)
    if kind is not None or path.suffix:
        return kind
    try:
        with path.open("rb") as handle:
            first = handle.readline(200)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    interpreter = first.decode("latin-1").strip()
    for word, found in SHEBANG_KINDS:
        if word in interpreter.rsplit("/", 1)[-1] or f"env {word}" in interpreter:
            return found
    return None


def _json_object(path: Path) -> FileKind | None:
    """JSON when the first non-blank byte is ``{`` and the file parses as a JSON object."""
    import json

    try:
        with path.open("rb") as handle:
            data = handle.read(_SNIFF_BYTES + 1)
    except OSError:
        return None
    text = data.lstrip().removeprefix(b"\xef\xbb\xbf").lstrip()
    if not text.startswith(b"{") or len(data) > _SNIFF_BYTES:
        return None
    try:
        parsed = json.loads(text.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    return FileKind.JSON if isinstance(parsed, dict) else None


class _Ignores:
    """.gitignore files met while walking, plus the policy's exclude globs."""

    def __init__(self, root: Path, excludes: Sequence[str], use_gitignore: bool) -> None:
        self.root = root
        self.use_gitignore = use_gitignore
        self.exclude: Any = None
        if excludes:  # pathspec is imported only when there is something to match
            import pathspec

            self.exclude = pathspec.GitIgnoreSpec.from_lines(list(excludes))
        self.gitignores: dict[Path, object] = {}

    def _gitignore(self, directory: Path) -> object | None:
        if directory not in self.gitignores:
            spec = None
            candidate = directory / ".gitignore"
            if candidate.is_file():
                import pathspec

                try:
                    lines = candidate.read_text(encoding="utf-8", errors="replace").splitlines()
                    spec = pathspec.GitIgnoreSpec.from_lines(lines)
                except (OSError, ValueError):
                    spec = None
            self.gitignores[directory] = spec
        return self.gitignores[directory]

    def ignored(self, path: Path, is_dir: bool) -> bool:
        inside = True
        try:
            relative = path.relative_to(self.root).as_posix()
        except ValueError:  # a path named outside the project: only excludes can apply
            relative, inside = path.as_posix(), False
        suffix = "/" if is_dir else ""
        if self.exclude is not None and self.exclude.match_file(relative + suffix):
            return True
        if not self.use_gitignore or not inside:
            return False
        for parent in [self.root, *_parents_between(self.root, path)]:
            spec = self._gitignore(parent)
            if spec is None:
                continue
            local = path.relative_to(parent).as_posix() + suffix
            if spec.match_file(local):  # type: ignore[attr-defined]
                return True
        return False


def _parents_between(root: Path, path: Path) -> list[Path]:
    try:
        parts = path.parent.relative_to(root).parts
    except ValueError:
        return []
    return [root.joinpath(*parts[: i + 1]) for i in range(len(parts))]


def discover(
    paths: Iterable[str],
    *,
    root: Path,
    cwd: Path | None = None,
    excludes: Sequence[str] = (),
    respect_gitignore: bool = True,
    walk: Walk | None = None,
) -> Discovery:
    """Walk ``paths`` (files or directories) under ``root``; classify what is found."""
    cwd = cwd or Path.cwd()
    walk = walk or Walk()
    result = Discovery()
    ignores = _Ignores(root, excludes, respect_gitignore)
    seen: set[str] = set()
    for given in paths:
        path = Path(given)
        absolute = (cwd / path) if not path.is_absolute() else path
        shown = display_path(absolute, cwd) if path.is_absolute() else path.as_posix()
        if not os.path.lexists(absolute):
            result.diagnostics.append(Diagnostic(shown, "not-found", "no such file or directory"))
            continue
        if absolute.is_dir():
            _walk(absolute, root, cwd, ignores, result, seen, walk)
            continue
        if ignores.ignored(absolute.absolute(), is_dir=False):
            result.excluded.append(shown)
            continue
        _add_file(absolute, shown, result, seen, explicit=True)
    result.files.sort()
    result.diagnostics.sort()
    result.skipped_directories.sort()
    return result


def _walk(
    directory: Path,
    root: Path,
    cwd: Path,
    ignores: _Ignores,
    result: Discovery,
    seen: set[str],
    walk: Walk,
) -> None:
    visited: set[str] = set()
    stack = [directory]
    while stack:
        current = stack.pop()
        real = os.path.realpath(current)
        if real in visited:
            shown = display_path(current, cwd)
            result.diagnostics.append(
                Diagnostic(shown, "symlink-loop", "directory reached twice through symlinks")
            )
            continue
        visited.add(real)
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError as error:
            shown = display_path(current, cwd)
            result.diagnostics.append(Diagnostic(shown, "unreadable", error.strerror or "error"))
            continue
        if any(entry.name in REPOSITORY_MARKERS for entry in entries):
            result.repositories.add(display_path(current, cwd))
        for entry in entries:
            path = Path(entry.path)
            shown = display_path(path, cwd)
            try:
                is_link = entry.is_symlink()
            except OSError:
                is_link = False
            try:
                is_dir = entry.is_dir()
            except OSError:  # a symlink loop: not a directory; _add_file reports it
                is_dir = False
            if is_dir:
                if ignores.ignored(path, is_dir=True):
                    continue
                reason = default_exclude(path, entry.name)
                if reason not in QUIET_REASONS and not walk.default_excludes:
                    reason = None
                if reason is None and is_link and not walk.follow_symlinks:
                    reason = "symlink"
                if reason is not None:
                    if reason not in QUIET_REASONS:
                        result.skipped_directories.append(SkippedDirectory(shown, reason))
                    continue
                if is_link and not _inside(path, root):
                    result.diagnostics.append(
                        Diagnostic(shown, "outside-root", "symlink to a directory outside root")
                    )
                    continue
                stack.append(path)
                continue
            if kind_of_name(path) is None and path.suffix.lower() not in CONTENT_SUFFIXES | {""}:
                continue
            if ignores.ignored(path, is_dir=False):
                continue
            if is_link and not _inside(path, root):
                if kind_of_name(path) is not None:
                    result.diagnostics.append(
                        Diagnostic(shown, "outside-root", "symlink to a file outside root")
                    )
                continue
            _add_file(path, shown, result, seen, explicit=False)


def kind_of_name(path: Path) -> FileKind | None:
    from tunelint.sources.pins import is_pin_file

    if is_pin_file(path.name, path.parent.name):
        return FileKind.PINS
    return SUFFIX_KINDS.get(path.suffix.lower())


def _inside(path: Path, root: Path) -> bool:
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(root))
    except ValueError:
        return False
    return True


def _add_file(path: Path, shown: str, result: Discovery, seen: set[str], explicit: bool) -> None:
    if shown in seen:
        return
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        code = "symlink-loop" if error.errno == 40 else "unreadable"
        result.diagnostics.append(Diagnostic(shown, code, error.strerror or "cannot stat"))
        seen.add(shown)
        return
    if not stat.S_ISREG(mode):
        if explicit or kind_of_name(path) is not None:
            result.diagnostics.append(
                Diagnostic(shown, "not-a-file", "not a regular file (FIFO, device or socket)")
            )
        seen.add(shown)
        return
    kind = kind_of(path)
    if kind is None:
        if explicit:
            result.diagnostics.append(
                Diagnostic(shown, "unsupported", "not a Python, notebook, YAML, JSON or shell file")
            )
        return
    seen.add(shown)
    result.files.append(SourceFile(shown, kind, str(path)))
