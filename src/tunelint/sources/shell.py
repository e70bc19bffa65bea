"""Shell scripts (and notebook ``!`` lines): launch lines, their flags, configs and env.

A launch line is one that starts a training program: ``python x.py``, ``torchrun``,
``accelerate launch``, ``deepspeed``, ``llamafactory-cli train``, ``axolotl train``,
``tune run``, ``litgpt finetune``, ``trl sft``. Its launcher options (``--nproc_per_node``,
``--num_processes``, ``--mixed_precision``) and the program's ``--flag value`` pairs become
canonical settings through the alias table; the files it names become references so the
job can be assembled. ``$VAR`` resolves only to a value assigned earlier in the same file.

A hub download command (``tune download``, ``huggingface-cli download``, ``hf download``,
``modelscope download``) is no launch: it becomes a call and ``download_dir`` settings
(``tunelint.sources.downloads``).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence

from tunelint.facts import (
    Assignment,
    Call,
    Diagnostic,
    FileFacts,
    FileKind,
    Launch,
    Reference,
    Span,
    Suppression,
    Value,
)
from tunelint.sources.comments import parse_ignore
from tunelint.sources.dialects import canonical_settings, linked_settings
from tunelint.sources.downloads import PROGRAMS as DOWNLOADERS
from tunelint.sources.downloads import read_download
from tunelint.sources.launchers import LAUNCHERS, PYTHON, Build
from tunelint.sources.shellsplice import SHELLS, SpliceReader, extent
from tunelint.sources.shellwords import (
    MAX_LOGICAL_CHARS,
    Heredoc,
    LogicalLine,
    Word,
    commands,
    logical_lines,
    split_lines,
)

# shlex takes time quadratic in a word's length: longer logical lines are reported, not read.
MAX_LINE_CHARS = MAX_LOGICAL_CHARS
_ASSIGN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_HEREDOC_WORD = re.compile(r"\d*<<(?!<)")
MAX_NESTING = 4  # `bash -c` strings inside `bash -c` strings
_REDIRECT = re.compile(r"(\d*|&)(>>?\|?|<<<|<<-?|<>|<|>&|<&)(.*)$")
_KEYWORDS = frozenset({"do", "then", "else", "if", "elif", "while", "until", "{", "!", "time"})
_SIMPLE_PREFIXES = _KEYWORDS | {"exec", "nohup", "command", "builtin"}
# Wrappers with options of their own: the program is the first launcher word after them.
_RUNNERS = frozenset(
    {"srun", "mpirun", "mpiexec", "numactl", "taskset", "nice", "ionice", "stdbuf", "timeout"}
    | {"xvfb-run", "sudo", "uv", "poetry", "pipenv", "conda", "pdm", "hatch", "pixi", "chrt"}
)
# A value that is one of the script's own arguments: ``$1``, ``${2}``, ``"$@"``.
_ARGUMENT = re.compile(r"""^["']?\$\{?[0-9@*]""")


class _Reader(SpliceReader):
    """Reads one file's logical lines in order, remembering variables as it goes."""

    def __init__(self, path: str, cell: int | None, line_map: Sequence[int] | None) -> None:
        super().__init__(path, cell, line_map)
        self.facts = FileFacts(path, FileKind.SHELL)
        self.exported: list[str] = []
        self.heredocs: list[Heredoc] = []  # bodies the current line opens, not yet taken

    # --- lines and commands ---------------------------------------------------------------

    def read(self, text: str) -> FileFacts:
        lines = list(logical_lines(text))
        for logical in lines:
            self.logical = logical
            if not logical.code.strip():
                continue
            if len(logical.code) > MAX_LINE_CHARS:
                message = (
                    f"shell line not read: longer than the {MAX_LINE_CHARS} characters "
                    "the shell source splits"
                )
                self.facts.diagnostics.append(
                    Diagnostic(self.path, "limit", message, logical.first_line)
                )
                continue
            try:
                shlex.split(logical.code)
            except ValueError as error:
                message = f"cannot split shell line: {error}"
                self.facts.diagnostics.append(
                    Diagnostic(self.path, "parse-error", message, logical.first_line)
                )
                continue
            self.heredocs = list(logical.heredocs)
            for words in commands(logical.code):
                self.command(words)
        self.facts.suppressions.extend(_suppressions(lines, self))
        return self.facts

    def assign(self, word: Word, *, store: bool, export: bool) -> tuple[str, Value]:
        name = word.raw.split("=", 1)[0]
        value = self.value(word, len(name) + 1)
        if value.origin == "cli":  # written in this file: a shell assignment
            value = Value(value.raw, value.span, "env", value.text)
        if store:
            value = self.remember(name, word, len(name) + 1) or value
            earlier = self.variables.get(name)
            argument = _ARGUMENT.match(word.raw[len(name) + 1 :]) is not None
            if not value.known and argument and earlier is not None and earlier.known:
                # ``MODEL=$1`` in an option loop: the caller may pass one, else the script's
                # own default stands; the run a reader sees is the default's
                return name, earlier
        key_span = self.word_span(word, 0, len(name))
        self.facts.assignments.append(Assignment(name, value, "env", key_span))
        self.facts.settings.extend(canonical_settings("env", name, value, key_span))
        if store:
            self.variables[name] = value
        if export and name not in self.exported:
            self.exported.append(name)
        return name, value

    def command(self, words: list[Word]) -> None:
        taken = [
            self.heredocs.pop(0) for w in words if _HEREDOC_WORD.match(w.raw) and self.heredocs
        ]
        words = _without_redirects(words)
        if not words:
            return
        written = words
        words = _without_redirects(self.splice(words))
        index = 0
        while index < len(words) and _ASSIGN.match(words[index].raw):
            index += 1
        prefix, rest = words[:index], words[index:]
        if not rest:
            for word in prefix:
                self.assign(word, store=True, export=False)
            return
        head = self.literal(rest[0])
        if head == "read" and taken:
            self.remember_heredoc(rest, taken[0])
            return
        if head in {"export", "declare", "typeset", "local", "readonly"}:
            exporting = head == "export"
            for word in rest[1:]:
                if word.raw.startswith("-"):
                    exporting = exporting or "x" in word.raw
                elif _ASSIGN.match(word.raw):
                    self.assign(word, store=True, export=exporting)
                elif exporting and word.raw in self.variables and word.raw not in self.exported:
                    self.exported.append(word.raw)
            return
        if head == "unset":
            for word in rest[1:]:
                self.variables.pop(word.raw, None)
                self.forget(word.raw)
            return
        env = [(name, self.variables[name]) for name in self.exported if name in self.variables]
        env += [self.assign(word, store=False, export=False) for word in prefix]
        self.launch(written, rest, env)

    def program_start(self, words: list[Word], env: list[tuple[str, Value]]) -> int | None:
        """Index of the program word after ``nohup``, ``env X=1``, ``srun ...`` and such."""
        index = 0
        while index < len(words):
            name = self.name_of(words[index])
            if name in _SIMPLE_PREFIXES:
                index += 1
            elif name == "env":
                index += 1
                while index < len(words) and (
                    words[index].raw.startswith("-") or _ASSIGN.match(words[index].raw)
                ):
                    if _ASSIGN.match(words[index].raw):
                        env.append(self.assign(words[index], store=False, export=False))
                    index += 2 if words[index].raw in {"-u", "--unset"} else 1
            elif (
                name == "tunelint"
                and index + 1 < len(words)
                and (self.literal(words[index + 1]) == "guard")
            ):
                # ``tunelint guard [options] -- COMMAND``: the command is what runs
                ends = [i for i in range(index + 2, len(words)) if words[i].raw == "--"]
                if not ends:
                    return None
                index = ends[0] + 1
            elif name in _RUNNERS:
                found = [
                    later
                    for later in range(index + 1, len(words))
                    if _runs(self.name_of(words[later]))
                ]
                return found[0] if found else None
            elif name == "ray" and [self.literal(w) for w in words[index + 1 : index + 3]] == [
                "job",
                "submit",
            ]:
                cut = _inner(words[index:], self)
                return index + cut + 1 if cut is not None else None
            else:
                return index
        return None

    def launch(self, segment: list[Word], words: list[Word], env: list[tuple[str, Value]]) -> None:
        start = self.program_start(words, env)
        if start is None:
            return
        words = words[start:]
        name = self.name_of(words[0])
        sub = self.literal(words[1]) if len(words) > 1 else None
        if name in SHELLS and self.depth < MAX_NESTING:
            script = _command_string(words, self)
            if script is not None:  # `bash -c "..."`: its commands, each read as a line
                self.depth += 1
                try:
                    for command in self.command_string(script):
                        self.command(command)
                finally:
                    self.depth -= 1
                return
        if name in {"bash", "sh", "source", "."} and sub and sub.endswith(".sh"):
            self.facts.references.append(Reference(self.value(words[1]), "other", name))
        cut = _inner(words, self)
        if cut is not None:  # `python mason.py ... -- accelerate launch ...`: both run
            for piece in _pieces(words[cut + 1 :], self):
                self.launch(piece, piece, env)
            words = words[:cut]
        build = self.build(words)
        if build is not None:
            self.record(build, segment, env)
            return
        download = read_download(self, words)
        if download is not None:
            span, text = extent(self, segment)
            call = Call(download.name, span, download.args, download.kwargs, text=text)
            self.facts.calls.append(call)
            self.facts.settings.extend(download.settings)

    def record(self, build: Build, segment: list[Word], env: list[tuple[str, Value]]) -> None:
        span, text = extent(self, segment)
        keyed = dict(build.keyed) | {name: (value, value.span) for name, value in env}
        settings = linked_settings(build.settings, keyed)
        launch = Launch(
            build.launcher,
            span,
            build.script,
            build.module,
            tuple(build.configs),
            tuple(build.args),
            tuple(env),
            text,
            tuple(settings),
        )
        self.facts.launches.append(launch)
        script = build.script.as_str() if build.script is not None else None
        if build.script is not None and script is not None and script.endswith(".py"):
            self.facts.references.append(Reference(build.script, "script", build.launcher))
        self.facts.references.extend(build.references)
        self.facts.settings.extend(settings)


def _without_redirects(words: list[Word]) -> list[Word]:
    """Drop ``> log``, ``2>&1``, ``&>out``, ``<<EOF``: they are not arguments."""
    kept: list[Word] = []
    skip_next = False
    for word in words:
        if skip_next:
            skip_next = False
            continue
        match = _REDIRECT.match(word.raw)
        if match is None:
            kept.append(word)
        else:
            skip_next = not match.group(3)
    return kept


def _is_program(name: str) -> bool:
    return name in LAUNCHERS or name in SHELLS or PYTHON.fullmatch(name) is not None


def _runs(name: str) -> bool:
    """A program, or a Python script run by its own name (``./train.py``, ``uv run x.py``),
    or a hub download command (``srun huggingface-cli download ...``)."""
    return _is_program(name) or name.endswith(".py") or name in DOWNLOADERS


# Separators a wrapper receives as arguments (``-- setup.sh '&&' python train.py``) and
# hands to a shell on the machine that runs the command.
_SEPARATORS = frozenset({"&&", "||", ";"})


def _pieces(words: list[Word], reader: _Reader) -> list[list[Word]]:
    """``words`` split at escaped command separators: the commands a wrapper will run."""
    pieces: list[list[Word]] = [[]]
    for word in words:
        if reader.literal(word) in _SEPARATORS:
            pieces.append([])
        else:
            pieces[-1].append(word)
    return [piece for piece in pieces if piece]


def _inner(words: list[Word], reader: _Reader) -> int | None:
    """Index of a bare ``--`` followed by a command that runs a program: what a wrapper
    such as ``mason.py ... -- setup.sh '&&' python train.py`` runs."""
    for index in range(1, len(words) - 1):
        if words[index].raw != "--":
            continue
        heads = [reader.name_of(piece[0]) for piece in _pieces(words[index + 1 :], reader)]
        if any(_runs(head) or head in _RUNNERS for head in heads):
            return index
    return None


def _command_string(words: list[Word], reader: _Reader) -> Word | None:
    """The string of ``bash -c STRING`` (options such as ``-l``, ``-xc`` before it)."""
    for index in range(1, len(words) - 1):
        option = reader.literal(words[index]) or ""
        if not option.startswith("-") or option.startswith("--"):
            return None
        if "c" in option:
            return words[index + 1]
    return None


def _suppressions(lines: list[LogicalLine], reader: _Reader) -> list[Suppression]:
    """``# tunelint: ignore[...]`` on a command or alone above it: the whole logical line."""
    found: list[Suppression] = []
    for index, logical in enumerate(lines):
        for comment in logical.comments:
            parsed = parse_ignore(comment.text)
            if parsed is None:
                continue
            first, last = logical.first_line, logical.last_line
            if comment.alone:
                following = [later for later in lines[index + 1 :] if later.code.strip()]
                first, last = (
                    (following[0].first_line, following[0].last_line)
                    if following
                    else (comment.line, comment.line)
                )
            file_line = None
            if reader.line_map is not None and 0 < comment.line <= len(reader.line_map):
                file_line = reader.line_map[comment.line - 1]
            end = comment.column + len(comment.text.rstrip())
            span = Span(
                reader.path, comment.line, comment.column, comment.line, end, reader.cell, file_line
            )
            found.append(Suppression(parsed[0], parsed[1], span, first, last, reader.cell))
    return found


def extract_shell(
    text: str,
    path: str,
    *,
    cell: int | None = None,
    line_map: Sequence[int] | None = None,
    env: Sequence[tuple[str, Value]] = (),
) -> FileFacts:
    """Facts of a shell script, or of a notebook cell's shell lines (``cell``, ``line_map``).

    ``env`` is the environment the lines start with, exported (a notebook kernel's ``%env``).
    """
    reader = _Reader(path, cell, line_map)
    for name, value in env:
        reader.variables[name] = value
        reader.exported.append(name)
    facts = reader.read(text)
    facts.lines = tuple(split_lines(text))
    return facts


__all__ = ["LAUNCHERS", "extract_shell"]
