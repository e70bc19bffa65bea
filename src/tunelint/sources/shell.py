"""Shell scripts (and notebook ``!`` lines): launch lines, their flags, configs and env.

A launch line is one that starts a training program: ``python x.py``, ``torchrun``,
``accelerate launch``, ``deepspeed``, ``llamafactory-cli train``, ``axolotl train``,
``tune run``, ``litgpt finetune``, ``trl sft``. Its launcher options (``--nproc_per_node``,
``--num_processes``, ``--mixed_precision``) and the program's ``--flag value`` pairs become
canonical settings through the alias table; the files it names become references so the
job can be assembled. ``$VAR`` resolves only to a value assigned earlier in the same file.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from tunelint.dialects import canonical_settings
from tunelint.facts import (
    Assignment,
    Diagnostic,
    FileFacts,
    FileKind,
    Launch,
    Reference,
    Setting,
    Span,
    Suppression,
    Value,
)
from tunelint.sources.comments import parse_ignore
from tunelint.sources.config import CONFIG_SUFFIXES, DATA_KEYS, DATA_SUFFIXES
from tunelint.sources.shellwords import (
    LogicalLine,
    Word,
    commands,
    logical_lines,
    split_lines,
    unquote,
)

_PYTHON = re.compile(r"python(\d+(\.\d+)?)?$")
_ASSIGN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_REDIRECT = re.compile(r"(\d*|&)(>>?\|?|<<<|<<-?|<>|<|>&|<&)(.*)$")
_OVERRIDE = re.compile(r"~?[A-Za-z_][\w.\-]*=")
LAUNCHERS = frozenset(
    {"torchrun", "accelerate", "deepspeed", "llamafactory-cli", "lmf", "axolotl", "tune"}
    | {"litgpt", "trl"}
)
_KEYWORDS = frozenset({"do", "then", "else", "if", "elif", "while", "until", "{", "!", "time"})
_SIMPLE_PREFIXES = _KEYWORDS | {"exec", "nohup", "command", "builtin"}
# Wrappers with options of their own: the program is the first launcher word after them.
_RUNNERS = frozenset(
    {"srun", "mpirun", "mpiexec", "numactl", "taskset", "nice", "ionice", "stdbuf", "timeout"}
    | {"xvfb-run", "sudo", "uv", "poetry", "pipenv", "conda", "pdm", "hatch", "pixi", "chrt"}
)
_NOT_TRAINING = frozenset({"pip", "venv", "ensurepip", "pytest", "http.server", "json.tool"})
_CONFIG_FLAGS = frozenset(
    {"deepspeed", "deepspeed_config", "deepspeed_config_file", "config", "config_file"}
    | {"config-file", "config_path", "cfg"}
)
_BARE = {
    "torchrun": frozenset({"standalone", "no_python", "no-python", "module", "m", "run_path"}),
    "accelerate": frozenset(
        {"cpu", "multi_gpu", "tpu", "ipex", "use_deepspeed", "use_fsdp", "use_megatron_lm"}
        | {"use_xpu", "m", "module", "no_python", "debug", "quiet", "q", "same_network"}
        | {"downcast_bf16", "dynamo_use_fullgraph", "dynamo_use_dynamic", "enable_cpu_affinity"}
    ),
    "deepspeed": frozenset(
        {"no_python", "module", "no_local_rank", "force_multi", "no_ssh_check", "elastic_training"}
        | {"bind_cores_to_rank", "no_ssh", "save_pid"}
    ),
}
_LITGPT_METHODS = frozenset({"lora", "qlora", "full", "adapter", "adapter_v2"})
_TRL_COMMANDS = frozenset({"sft", "dpo", "grpo", "kto", "orpo", "ppo", "reward", "rloo"})


@dataclass
class _Build:
    """A launch being read: what it starts, with which configs, flags and settings."""

    launcher: str
    script: Value | None = None
    module: str | None = None
    configs: list[Value] = field(default_factory=list)
    args: list[tuple[str, Value]] = field(default_factory=list)
    settings: list[Setting] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    positionals: list[Value] = field(default_factory=list)

    def config(self, value: Value, key: str) -> None:
        if isinstance(value.raw, bool):
            return
        self.configs.append(value)
        text = value.as_str()
        if text is not None and text.lower().endswith(CONFIG_SUFFIXES):
            self.references.append(Reference(value, "config", key))


class _Reader:
    """Reads one file's logical lines in order, remembering variables as it goes."""

    def __init__(self, path: str, cell: int | None, line_map: Sequence[int] | None) -> None:
        self.path = path
        self.cell = cell
        self.line_map = line_map
        self.facts = FileFacts(path, FileKind.SHELL)
        self.variables: dict[str, Value] = {}
        self.exported: list[str] = []
        self.logical: LogicalLine = LogicalLine(1)

    # --- positions and values -------------------------------------------------------------

    def span(self, start: int, end: int) -> Span:
        line, column, end_line, end_column = self.logical.where(start, end)
        file_line = None
        if self.line_map is not None and 0 < line <= len(self.line_map):
            file_line = self.line_map[line - 1]
        return Span(self.path, line, column, end_line, end_column, self.cell, file_line)

    def lookup(self, name: str) -> tuple[object, str] | None:
        value = self.variables.get(name)
        return None if value is None else (value.raw, value.origin)

    def value(self, word: Word, offset: int = 0) -> Value:
        raw, origin = unquote(word.raw[offset:], self.lookup)
        return Value(raw, self.span(word.start + offset, word.end), origin, word.raw[offset:])

    def literal(self, word: Word) -> str | None:
        return self.value(word).as_str()

    def name_of(self, word: Word) -> str:
        text = self.literal(word) or ""
        return PurePosixPath(text).name if "/" in text else text

    # --- lines and commands ---------------------------------------------------------------

    def read(self, text: str) -> FileFacts:
        lines = list(logical_lines(text))
        for logical in lines:
            self.logical = logical
            if not logical.code.strip():
                continue
            try:
                shlex.split(logical.code)
            except ValueError as error:
                message = f"cannot split shell line: {error}"
                self.facts.diagnostics.append(
                    Diagnostic(self.path, "parse-error", message, logical.first_line)
                )
                continue
            for words in commands(logical.code):
                self.command(words)
        self.facts.suppressions.extend(_suppressions(lines, self))
        return self.facts

    def assign(self, word: Word, *, store: bool, export: bool) -> tuple[str, Value]:
        name = word.raw.split("=", 1)[0]
        value = self.value(word, len(name) + 1)
        if value.origin == "cli":  # written in this file: a shell assignment
            value = Value(value.raw, value.span, "env", value.text)
        key_span = self.span(word.start, word.start + len(name))
        self.facts.assignments.append(Assignment(name, value, "env", key_span))
        self.facts.settings.extend(canonical_settings("env", name, value, key_span))
        if store:
            self.variables[name] = value
        if export and name not in self.exported:
            self.exported.append(name)
        return name, value

    def command(self, words: list[Word]) -> None:
        words = _without_redirects(words)
        if not words:
            return
        index = 0
        while index < len(words) and _ASSIGN.match(words[index].raw):
            index += 1
        prefix, rest = words[:index], words[index:]
        if not rest:
            for word in prefix:
                self.assign(word, store=True, export=False)
            return
        head = self.literal(rest[0])
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
            return
        env = [(name, self.variables[name]) for name in self.exported if name in self.variables]
        env += [self.assign(word, store=False, export=False) for word in prefix]
        self.launch(words, rest, env)

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
            elif name in _RUNNERS:
                found = [
                    later
                    for later in range(index + 1, len(words))
                    if _is_program(self.name_of(words[later]))
                ]
                return found[0] if found else None
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
        build: _Build | None = None
        if _PYTHON.fullmatch(name):
            build = self.python(words)
        elif name == "torchrun":
            build = self.launcher(_Build("torchrun"), words, 1, "torchrun")
        elif name == "accelerate" and sub == "launch":
            build = self.launcher(_Build("accelerate"), words, 2, "accelerate")
        elif name == "deepspeed":
            build = self.launcher(_Build("deepspeed"), words, 1, "deepspeed")
        elif name in {"llamafactory-cli", "lmf"} and sub == "train":
            build = self.cli_with_config(_Build("llamafactory-cli"), words[2:], "llamafactory")
        elif name == "axolotl" and sub == "train":
            build = self.cli_with_config(_Build("axolotl"), words[2:], "axolotl")
        elif name == "tune" and sub == "run":
            build = self.tune(words)
        elif name == "litgpt" and sub is not None and sub.startswith("finetune"):
            build = self.litgpt(words)
        elif name == "trl" and sub in _TRL_COMMANDS:
            build = self.arguments(_Build("trl"), words[2:], "trainer")
        elif name in {"bash", "sh", "source", "."} and sub and sub.endswith(".sh"):
            self.facts.references.append(Reference(self.value(words[1]), "other", name))
        if build is not None:
            self.record(build, segment, env)

    def record(self, build: _Build, segment: list[Word], env: list[tuple[str, Value]]) -> None:
        first, last = segment[0].start, segment[-1].end
        launch = Launch(
            build.launcher,
            self.span(first, last),
            build.script,
            build.module,
            tuple(build.configs),
            tuple(build.args),
            tuple(env),
            self.logical.code[first:last],
        )
        self.facts.launches.append(launch)
        script = build.script.as_str() if build.script is not None else None
        if build.script is not None and script is not None and script.endswith(".py"):
            self.facts.references.append(Reference(build.script, "script", build.launcher))
        self.facts.references.extend(build.references)
        self.facts.settings.extend(build.settings)

    # --- launchers ------------------------------------------------------------------------

    def python(self, words: list[Word]) -> _Build | None:
        index, module = 1, None
        while index < len(words):
            option = self.literal(words[index]) or ""
            if not option.startswith("-") or option == "-":
                break
            if option == "-c":
                return None
            if option.startswith("-m"):
                module = option[2:] or (
                    self.literal(words[index + 1]) if index + 1 < len(words) else None
                )
                index += 1 if option[2:] else 2
                break
            index += 2 if option in {"-W", "-X"} else 1
        if module is None:
            if index >= len(words) or self.literal(words[index]) == "-":
                return None
            return self.program(_Build("python"), words[index:], module_flag=False)
        rest = words[index:]
        if module in {"torch.distributed.run", "torch.distributed.launch"}:
            build = _Build("torchrun", module=module)
            return self.launcher(build, rest, 0, "torchrun", keep_module=True)
        if module == "accelerate.commands.launch":
            return self.launcher(_Build("accelerate"), rest, 0, "accelerate")
        if module.split(".")[0] in _NOT_TRAINING or module in _NOT_TRAINING:
            return None
        launcher = "axolotl" if module.startswith("axolotl.cli") else "python"
        build = _Build(launcher, module=module)
        return self.program_args(build, rest)

    def launcher(
        self, build: _Build, words: list[Word], index: int, dialect: str, keep_module: bool = False
    ) -> _Build | None:
        """Launcher options (settings in the launcher's dialect), then the program."""
        module_flag = False
        while index < len(words):
            word = words[index]
            option = self.literal(word) or ""
            if not option.startswith("-") or option in {"-", "--"}:
                index += 1 if option == "--" else 0
                break
            key, equals, _ = option.lstrip("-").partition("=")
            value: Value
            if equals:
                value = self.value(word, word.raw.find("=") + 1)
                index += 1
            elif (
                key in _BARE.get(dialect, frozenset())
                or index + 1 >= len(words)
                or _looks_like_start(self.literal(words[index + 1]))
            ):
                value = Value(True, self.span(word.start, word.end), "cli", word.raw)
                index += 1
            else:
                value = self.value(words[index + 1])
                index += 2
            module_flag = module_flag or key in {"m", "module"}
            key_span = self.span(word.start, word.end)
            if key in {"config_file", "deepspeed_config_file"}:
                build.config(value, key)
            build.settings.extend(canonical_settings(dialect, key, value, key_span))
        if index >= len(words):
            return build if keep_module else None
        return self.program(build, words[index:], module_flag)

    def program(self, build: _Build, words: list[Word], module_flag: bool) -> _Build:
        if module_flag:
            build.module = self.literal(words[0])
            if build.module and build.module.startswith("axolotl.cli"):
                build.launcher = "axolotl" if build.launcher == "python" else build.launcher
        else:
            build.script = self.value(words[0])
        return self.program_args(build, words[1:])

    def program_args(self, build: _Build, words: list[Word]) -> _Build:
        module = build.module or ""
        if build.launcher == "tune":
            return self.arguments(build, words, "torchtune", overrides=True)
        if module.startswith("axolotl.cli"):
            return self.cli_with_config(build, words, "axolotl")
        if module.startswith("llamafactory"):
            return self.cli_with_config(build, words, "llamafactory")
        return self.arguments(build, words, "trainer")

    def cli_with_config(self, build: _Build, words: list[Word], dialect: str) -> _Build:
        if words and not (self.literal(words[0]) or "").startswith("-"):
            build.config(self.value(words[0]), "config")
            words = words[1:]
        return self.arguments(build, words, dialect, overrides=True)

    def tune(self, words: list[Word]) -> _Build | None:
        """``tune run [torchrun options] <recipe> --config c [key=value ...]``."""
        return self.launcher(_Build("tune"), words, 2, "torchrun")

    def litgpt(self, words: list[Word]) -> _Build:
        build = _Build("litgpt")
        method_word, rest = words[1], words[2:]
        following = (self.literal(rest[0]) or "") if rest else ""
        if self.literal(method_word) == "finetune" and following in _LITGPT_METHODS:
            method_word, rest = rest[0], rest[1:]
        method = self.value(method_word)
        key_span = method.span
        build.settings.extend(canonical_settings("litgpt", "method", method, key_span))
        self.arguments(build, rest, "litgpt")
        if build.positionals:
            checkpoint = build.positionals[0]
            build.args.append(("checkpoint_dir", checkpoint))
            build.settings.extend(
                canonical_settings("litgpt", "checkpoint_dir", checkpoint, checkpoint.span)
            )
        return build

    def arguments(
        self, build: _Build, words: list[Word], dialect: str, overrides: bool = False
    ) -> _Build:
        """The program's ``--flag value`` / ``--flag=value`` / bare ``--flag`` (True)."""
        index = 0
        while index < len(words):
            word = words[index]
            text = self.literal(word) or ""
            override = _OVERRIDE.match(word.raw) is not None
            if _is_flag(text):
                key, equals, _ = text.lstrip("-").partition("=")
                index += 1
                if equals:
                    value = self.value(word, word.raw.find("=") + 1)
                else:
                    taken: list[Word] = []
                    while (
                        index < len(words)
                        and not _is_flag(self.literal(words[index]) or "")
                        and not _OVERRIDE.match(words[index].raw)
                    ):
                        taken.append(words[index])
                        index += 1
                    value = self.joined(word, taken)
                self.argument(build, key, value, self.span(word.start, word.end), dialect)
            elif override and overrides:
                key = word.raw.split("=", 1)[0]
                value = self.value(word, len(key) + 1)
                self.argument(
                    build, key, value, self.span(word.start, word.start + len(key)), dialect
                )
                index += 1
            else:
                build.positionals.append(self.value(word))
                index += 1
        return build

    def joined(self, flag: Word, taken: list[Word]) -> Value:
        if not taken:
            return Value(True, self.span(flag.start, flag.end), "cli", flag.raw)
        if len(taken) == 1:
            return self.value(taken[0])
        values = [self.value(word) for word in taken]
        span = self.span(taken[0].start, taken[-1].end)
        origin = next((value.origin for value in values if value.origin != "cli"), "cli")
        text = " ".join(word.raw for word in taken)
        return Value([value.raw for value in values], span, origin, text)

    def argument(self, build: _Build, key: str, value: Value, key_span: Span, dialect: str) -> None:
        build.args.append((key, value))
        if key in _CONFIG_FLAGS:
            build.config(value, key)
        text = value.as_str()
        if key in DATA_KEYS | {"dataset", "data"} and text and text.lower().endswith(DATA_SUFFIXES):
            build.references.append(Reference(value, "data", key))
        build.settings.extend(canonical_settings(dialect, key, value, key_span))


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
    return name in LAUNCHERS or _PYTHON.fullmatch(name) is not None


def _is_flag(text: str) -> bool:
    if not text.startswith("-") or text in {"-", "--"}:
        return False
    try:
        float(text)
    except ValueError:
        return True
    return False


def _looks_like_start(text: str | None) -> bool:
    """The next word begins the program (or another option), so this option is bare."""
    return text is None or text.startswith("-") or text.endswith(".py")


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
