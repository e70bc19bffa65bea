"""Facts: the only things rules ever see.

Sources turn files into facts; rules read facts (and jobs assembled from them) and never a
syntax tree. Everything here is immutable, picklable and ordered, so facts can be cached
per file and sent between processes, and reports come out in a stable order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final


class FileKind(StrEnum):
    PYTHON = "python"
    NOTEBOOK = "notebook"
    YAML = "yaml"
    JSON = "json"
    SHELL = "shell"
    PINS = "pins"  # requirements files, pyproject.toml, setup.cfg, conda environment files


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """A region of a file: 1-based lines and columns, end inclusive of the last character.

    For notebooks, ``cell`` is the 1-based cell number and ``line`` counts within that cell;
    ``file_line`` is the physical line in the .ipynb file, for tools that can only point
    into the raw file (SARIF).
    """

    path: str
    line: int
    column: int = 1
    end_line: int = 0
    end_column: int = 0
    cell: int | None = None
    file_line: int | None = None

    def __post_init__(self) -> None:
        if self.end_line < self.line:
            object.__setattr__(self, "end_line", self.line)

    @property
    def physical_line(self) -> int:
        return self.file_line if self.file_line is not None else self.line

    def where(self) -> str:
        """Human form: ``path:line:col`` or ``path[cell 3]:line:col``."""
        cell = f"[cell {self.cell}]" if self.cell is not None else ""
        return f"{self.path}{cell}:{self.line}:{self.column}"


class _Unknown:
    """A value static reading cannot decide. Never guessed, never equal to a literal."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "Unknown"

    def __reduce__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Final = _Unknown()

# Python values a Value may hold: str, int, float, bool, None, tuples/lists and dicts of
# those, or UNKNOWN (also nested inside containers when only part is known).
Raw = object


@dataclass(frozen=True, slots=True)
class Value:
    """A statically resolved value and where it was decided.

    ``origin`` says how: ``literal``, ``constant`` (a name assigned once), ``argparse-default``,
    ``dataclass-default``, ``env-default`` (os.getenv with a default), ``fstring``, ``join``
    (os.path.join / Path of literals), ``cli`` (a launch-line flag), ``config`` (a YAML/JSON
    value), ``env`` (a shell assignment). ``text`` is the source text as written.

    A value written in one place and used in another (a config's ``${output_dir}``, a shell
    ``$MODEL`` or array expansion, a heredoc spliced into a launch line) keeps the span of
    where it is written, so that a problem is reported once, where a reviewer changes it;
    ``via`` is then the place that used it (None when used where written).

    ``alternatives`` are the values a conditional may take, each a Value of its own with the
    span where it is written: the branches of ``"auto" if cond else None``, or the assignments
    of a name bound in several branches (``device_map = None`` ... ``if q_lora: device_map =
    "auto"``) that reach the place it is read. The value itself is then Unknown (or, when
    every alternative is the same literal, that literal and no alternatives); an alternative
    that cannot be resolved is there as Unknown, so "may be 'auto'" is never "is 'auto'" and
    an absent alternative is never guessed. Empty for a value that is not conditional.
    """

    raw: Raw
    span: Span
    origin: str = "literal"
    text: str = ""
    via: Span | None = None
    alternatives: tuple[Value, ...] = ()

    @property
    def known(self) -> bool:
        return self.raw is not UNKNOWN

    def as_str(self) -> str | None:
        return self.raw if isinstance(self.raw, str) else None

    def as_bool(self) -> bool | None:
        """Booleans, also as config and CLI spell them ("true", "False", "1")."""
        if isinstance(self.raw, bool):
            return self.raw
        if isinstance(self.raw, str):
            lowered = self.raw.strip().lower()
            if lowered in {"true", "yes", "1", "on"}:
                return True
            if lowered in {"false", "no", "0", "off", ""}:
                return False
        if isinstance(self.raw, int):
            return bool(self.raw)
        return None

    def as_number(self) -> float | None:
        if isinstance(self.raw, bool):
            return None
        if isinstance(self.raw, int | float):
            return float(self.raw)
        if isinstance(self.raw, str):
            try:
                return float(self.raw.strip().replace("_", ""))
            except ValueError:
                return None
        return None


@dataclass(frozen=True, slots=True)
class Call:
    """A call site.

    ``name`` is the qualified callee resolved through imports and aliases
    (``transformers.AutoModelForCausalLM.from_pretrained``); a method on an instance whose
    class is known resolves through the class (``transformers.Trainer.train``). When the
    receiver cannot be resolved, ``name`` is the dotted text as written (``loss.backward``)
    and ``resolved`` is False. A hub download command on a shell line is a call too, named
    after the command (``huggingface-cli download``, ``tune download``; see
    ``tunelint.sources.downloads``), its repository id first.
    """

    name: str
    span: Span
    args: tuple[Value, ...] = ()
    kwargs: tuple[tuple[str, Value], ...] = ()
    resolved: bool = True
    scope: str = "<module>"
    star_args: bool = False
    text: str = ""
    # The name the call's result is assigned to (``model = X.from_pretrained(...)``), if any.
    bound_to: str = ""

    def kwarg(self, key: str) -> Value | None:
        for name, value in self.kwargs:
            if name == key:
                return value
        return None

    def arg(self, position: int, keyword: str | None = None) -> Value | None:
        """The argument at ``position``, or passed as ``keyword``."""
        if keyword is not None:
            found = self.kwarg(keyword)
            if found is not None:
                return found
        if 0 <= position < len(self.args):
            return self.args[position]
        return None

    @property
    def short_name(self) -> str:
        return self.name.rsplit(".", 1)[-1]


@dataclass(frozen=True, slots=True)
class Setting:
    """One training-job setting under its canonical name (see ``dialects.CANONICAL``).

    ``key`` is the key as written in its dialect (``zero_optimization.offload_param.device``,
    ``--per_device_train_batch_size``); ``dialect`` names the dialect that mapped it.
    """

    name: str
    value: Value
    key: str
    dialect: str
    key_span: Span

    @property
    def span(self) -> Span:
        return self.value.span


@dataclass(frozen=True, slots=True)
class Assignment:
    """A name bound to a value: a variable, an environment variable, or a config key.

    ``kind`` is ``variable`` (Python name or attribute), ``env`` (``os.environ[...] = ``,
    ``export X=``, ``X=... cmd``), or ``key`` (a YAML/JSON key path, dotted).
    Rules that look for secrets or endpoints anywhere read these.
    """

    target: str
    value: Value
    kind: str
    span: Span


@dataclass(frozen=True, slots=True)
class Launch:
    """A shell line that starts a training program.

    ``launcher`` is ``python``, ``torchrun``, ``accelerate``, ``deepspeed``,
    ``llamafactory-cli``, ``axolotl``, ``tune``, ``litgpt``, ``trl`` or ``swift`` (ms-swift;
    ``module`` is then the command's module, ``swift.cli.sft`` or ``swift.cli.infer``).
    ``script`` is the Python file (or ``-m`` module) it starts; ``configs`` are files it
    names as configs.
    """

    launcher: str
    span: Span
    script: Value | None = None
    module: str | None = None
    configs: tuple[Value, ...] = ()
    args: tuple[tuple[str, Value], ...] = ()
    env: tuple[tuple[str, Value], ...] = ()
    text: str = ""
    # The canonical settings the launch sets, also those whose flags or values are written
    # elsewhere in the file (a variable, a bash array, a heredoc): their spans may lie outside
    # ``span``. Every one of them is in the file's ``settings`` too.
    settings: tuple[Setting, ...] = ()


@dataclass(frozen=True, slots=True)
class Reference:
    """A path one file names that may be another member of the same job.

    ``role``: ``config`` (deepspeed json, accelerate yaml, a CLI's yaml), ``script``,
    ``data`` (a dataset file), ``requirements`` (a pin file another includes: ``-r``/``-c``),
    ``model-key`` (not a path: the config key a loader takes its model id from,
    ``from_pretrained(config["base_model"])``; ``key`` is the loader), ``other``.
    """

    target: Value
    role: str
    key: str = ""


@dataclass(frozen=True, slots=True)
class Requirement:
    """A dependency as a pin file declares it: ``torch>=2.6,<3`` in a requirements file,
    ``pyproject.toml``, ``setup.cfg``, ``setup.py`` or a conda environment file.

    ``name`` is normalised (lower case, ``_``/``.`` as ``-``); ``specifier`` is the version
    part as written (``==2.5.1``, ``>=2.6,<3``, poetry's ``^2.5``, conda's ``=2.5``; empty
    when unconstrained); ``marker`` the environment marker after ``;``, if any.
    """

    name: str
    specifier: str
    span: Span
    marker: str = ""


@dataclass(frozen=True, slots=True)
class Suppression:
    """An inline ``tunelint: ignore[...]`` comment and the lines of the statement it covers."""

    codes: tuple[str, ...]
    reason: str
    span: Span
    first_line: int
    last_line: int
    cell: int | None = None

    def covers(self, span: Span) -> bool:
        return span.cell == self.cell and self.first_line <= span.line <= self.last_line


@dataclass(frozen=True, slots=True, order=True)
class Diagnostic:
    """A file not checked, or checked only in part, and why. Never silent."""

    path: str
    code: str
    message: str
    line: int | None = None

    # codes: parse-error, decode-error, binary, too-large, too-deep, unreadable, not-a-file,
    # symlink-loop, outside-root, bad-notebook, limit, internal-error, not-found, unsupported

    @property
    def level(self) -> str:
        """``error`` when the file should have been read and could not be (it fails the run,
        as a syntax error does in ruff); ``warning`` for a limit or a file out of scope."""
        return "error" if self.code in ERROR_CODES else "warning"


# A file that does not parse, is not valid text, cannot be read, or was lost to a crash.
ERROR_CODES: Final = frozenset(
    {"parse-error", "bad-notebook", "decode-error", "unreadable", "not-found", "internal-error"}
)


@dataclass(slots=True)
class FileFacts:
    """Everything a source learnt from one file."""

    path: str
    kind: FileKind
    dialects: tuple[str, ...] = ()
    # Modules as imported, dotted; relative ones keep their dots (``..utils.io``). For
    # ``from pkg import name`` both ``pkg`` and ``pkg.name`` (which may be a submodule).
    imports: tuple[str, ...] = ()
    calls: list[Call] = field(default_factory=list)
    settings: list[Setting] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    launches: list[Launch] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    suppressions: list[Suppression] = field(default_factory=list)
    # Dependencies a pin file declares (FileKind.PINS only).
    requirements: list[Requirement] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # The file's text lines (notebooks: per cell), for code frames and fingerprints.
    lines: tuple[str, ...] = ()
    cell_lines: tuple[tuple[str, ...], ...] = ()
    # True when the prefilter found nothing any rule could read and the file was not parsed:
    # it counts as checked, with empty facts (see tunelint.extract.prefilter).
    prefiltered: bool = False

    def calls_named(self, *patterns: str) -> Iterator[Call]:
        from fnmatch import fnmatchcase

        for call in self.calls:
            if any(fnmatchcase(call.name, pattern) for pattern in patterns):
                yield call

    def setting(self, name: str) -> Setting | None:
        """The last setting of that canonical name in the file (later wins, as in a merge)."""
        found = None
        for setting in self.settings:
            if setting.name == name:
                found = setting
        return found

    def line_text(self, span: Span) -> str:
        lines = self.lines
        if span.cell is not None and 0 < span.cell <= len(self.cell_lines):
            lines = self.cell_lines[span.cell - 1]
        if 0 < span.line <= len(lines):
            return lines[span.line - 1]
        return ""
