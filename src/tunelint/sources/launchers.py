"""Launch lines by launcher: which program they start, with which configs and flags.

Each launcher has its own options before the program (``torchrun --nproc_per_node 4``,
``accelerate launch --config_file f``) and a program whose ``--flag value`` pairs are read
in the program's dialect (Trainer flags for Python scripts, ``key=value`` overrides for
``tune run`` and ``llamafactory-cli``). An option takes the next word as its value unless
it is known to be bare or the next word is an option or a ``.py`` script.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tunelint.facts import Reference, Setting, Span, Value
from tunelint.sources.config_keys import CONFIG_SUFFIXES, DATA_KEYS, DATA_SUFFIXES
from tunelint.sources.dialect_stacks import OLMO_PREFIXES, SWIFT_DEEPSPEED, SWIFT_NOT_TRAINING
from tunelint.sources.dialects import canonical_settings, lookup_key
from tunelint.sources.shellvalues import WordReader
from tunelint.sources.shellwords import Word

PYTHON = re.compile(r"python(\d+(\.\d+)?)?$")
_OVERRIDE = re.compile(r"~?[A-Za-z_][\w.\-]*=")
LAUNCHERS = frozenset(
    {"torchrun", "accelerate", "deepspeed", "llamafactory-cli", "lmf", "axolotl", "tune"}
    | {"litgpt", "trl"}
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
# ms-swift commands (`swift sft`, `megatron sft`); the first three train.
SWIFT_TRAINING = frozenset({"sft", "pt", "rlhf"})
SWIFT_COMMANDS = SWIFT_TRAINING | {"infer", "export", "deploy", "eval", "sample", "merge-lora"}
_LITGPT_METHODS = frozenset({"lora", "qlora", "full", "adapter", "adapter_v2"})
_TRL_COMMANDS = frozenset({"sft", "dpo", "grpo", "kto", "orpo", "ppo", "reward", "rloo"})


@dataclass
class Build:
    """A launch being read: what it starts, with which configs, flags and settings."""

    launcher: str
    script: Value | None = None
    module: str | None = None
    configs: list[Value] = field(default_factory=list)
    args: list[tuple[str, Value]] = field(default_factory=list)
    settings: list[Setting] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    positionals: list[Value] = field(default_factory=list)
    # every option by its table spelling, with its key span: what linked settings read
    keyed: dict[str, tuple[Value, Span]] = field(default_factory=dict)

    def config(self, value: Value, key: str) -> None:
        if isinstance(value.raw, bool):
            return
        self.configs.append(value)
        text = value.as_str()
        if text is not None and text.lower().endswith(CONFIG_SUFFIXES):
            self.references.append(Reference(value, "config", key))


class LaunchReader(WordReader):
    """Reads the words of one launch line into a Build."""

    def option_text(self, word: Word) -> str:
        """The word as an option is read: its literal text, or for ``--nnodes=$N`` (value
        unknown) the word as written, so that it stays an option with an unknown value."""
        text = self.literal(word)
        if text is not None:
            return text
        name = word.raw.split("=", 1)[0]
        return word.raw if name.startswith("-") and "$" not in name else ""

    def build(self, words: list[Word]) -> Build | None:
        """The launch ``words`` (program word first) start, or None when not a launch."""
        name = self.name_of(words[0])
        sub = self.literal(words[1]) if len(words) > 1 else None
        build: Build | None = None
        if PYTHON.fullmatch(name):
            build = self.python(words)
        elif name == "torchrun":
            build = self.launcher(Build("torchrun"), words, 1, "torchrun")
        elif name == "accelerate" and sub == "launch":
            build = self.launcher(Build("accelerate"), words, 2, "accelerate")
        elif name == "deepspeed":
            build = self.launcher(Build("deepspeed"), words, 1, "deepspeed")
        elif name in {"llamafactory-cli", "lmf"} and sub == "train":
            build = self.cli_with_config(Build("llamafactory-cli"), words[2:], "llamafactory")
        elif name == "axolotl" and sub == "train":
            build = self.cli_with_config(Build("axolotl"), words[2:], "axolotl")
        elif name == "tune" and sub == "run":
            build = self.tune(words)
        elif name == "litgpt" and sub is not None and sub.startswith("finetune"):
            build = self.litgpt(words)
        elif name == "trl" and sub in _TRL_COMMANDS:
            build = self.arguments(Build("trl"), words[2:], "trainer")
        elif name in {"swift", "megatron"} and sub in SWIFT_COMMANDS:
            build = self.swift(words, name, sub)
        elif name.endswith(".py"):  # `./train.py ...`, `uv run train.py ...`: its shebang runs it
            build = self.program(Build("python"), words, module_flag=False)
        return build

    def swift(self, words: list[Word], name: str, sub: str) -> Build:
        """``swift sft|pt|rlhf|infer|export ... [args.yaml]``: the launch line is the config.

        The module is the one the command runs (``swift.cli.sft``); a command that does not
        train keeps only what it uploads or trusts.
        """
        package = "swift.cli" if name == "swift" else "swift.cli._megatron"
        build = Build("swift", module=f"{package}.{sub.replace('-', '_')}")
        self.cli_with_config(build, words[2:], "swift")
        if sub not in SWIFT_TRAINING:
            build.settings = [s for s in build.settings if lookup_key(s.key) in SWIFT_NOT_TRAINING]
        return build

    def python(self, words: list[Word]) -> Build | None:
        index, module = 1, None
        while index < len(words):
            option = self.option_text(words[index])
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
            return self.program(Build("python"), words[index:], module_flag=False)
        rest = words[index:]
        if module in {"torch.distributed.run", "torch.distributed.launch"}:
            build = Build("torchrun", module=module)
            return self.launcher(build, rest, 0, "torchrun", keep_module=True)
        if module == "accelerate.commands.launch":
            return self.launcher(Build("accelerate"), rest, 0, "accelerate")
        if module.split(".")[0] in _NOT_TRAINING or module in _NOT_TRAINING:
            return None
        launcher = "axolotl" if module.startswith("axolotl.cli") else "python"
        build = Build(launcher, module=module)
        return self.program_args(build, rest)

    def launcher(
        self, build: Build, words: list[Word], index: int, dialect: str, keep_module: bool = False
    ) -> Build | None:
        """Launcher options (settings in the launcher's dialect), then the program."""
        module_flag = False
        while index < len(words):
            word = words[index]
            option = self.option_text(word)
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
                value = Value(True, self.word_span(word), "cli", word.raw, word.via)
                index += 1
            else:
                value = self.value(words[index + 1])
                index += 2
            module_flag = module_flag or key in {"m", "module"}
            key_span = self.word_span(word)
            if key in {"config_file", "deepspeed_config_file"}:
                build.config(value, key)
            build.settings.extend(canonical_settings(dialect, key, value, key_span))
        if index >= len(words):
            return build if keep_module else None
        return self.program(build, words[index:], module_flag)

    def program(self, build: Build, words: list[Word], module_flag: bool) -> Build:
        if module_flag:
            build.module = self.literal(words[0])
            if build.module and build.module.startswith("axolotl.cli"):
                build.launcher = "axolotl" if build.launcher == "python" else build.launcher
        else:
            build.script = self.value(words[0])
        return self.program_args(build, words[1:])

    def program_args(self, build: Build, words: list[Word]) -> Build:
        module = build.module or ""
        script = (build.script.as_str() or "") if build.script is not None else ""
        if build.launcher == "tune":
            return self.arguments(build, words, "torchtune", overrides=True)
        if module.startswith("axolotl.cli"):
            return self.cli_with_config(build, words, "axolotl")
        if module.startswith("llamafactory"):
            return self.cli_with_config(build, words, "llamafactory")
        if module.startswith("openrlhf.") or "openrlhf/cli/" in script:
            return self.arguments(build, words, "openrlhf")
        if module.startswith("swift.cli") or "swift/cli/" in script:
            return self.arguments(build, words, "swift")  # ms-swift's entry points run directly
        if any((self.literal(word) or "").lstrip("-").startswith(OLMO_PREFIXES) for word in words):
            return self.arguments(build, words, "olmo-core")  # OLMo-core's own config tree
        return self.arguments(build, words, "trainer")

    def cli_with_config(self, build: Build, words: list[Word], dialect: str) -> Build:
        if words and not (self.literal(words[0]) or "").startswith("-"):
            build.config(self.value(words[0]), "config")
            words = words[1:]
        return self.arguments(build, words, dialect, overrides=True)

    def tune(self, words: list[Word]) -> Build | None:
        """``tune run [torchrun options] <recipe> --config c [key=value ...]``."""
        return self.launcher(Build("tune"), words, 2, "torchrun")

    def litgpt(self, words: list[Word]) -> Build:
        build = Build("litgpt")
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
        self, build: Build, words: list[Word], dialect: str, overrides: bool = False
    ) -> Build:
        """The program's ``--flag value`` / ``--flag=value`` / bare ``--flag`` (True)."""
        index = 0
        while index < len(words):
            word = words[index]
            text = self.option_text(word)
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
                        and not _is_flag(self.option_text(words[index]))
                        and not _OVERRIDE.match(words[index].raw)
                    ):
                        taken.append(words[index])
                        index += 1
                    value = self.joined(word, taken)
                self.argument(build, key, value, self.word_span(word), dialect)
            elif override and overrides:
                key = word.raw.split("=", 1)[0]
                value = self.value(word, len(key) + 1)
                self.argument(build, key, value, self.word_span(word, 0, len(key)), dialect)
                index += 1
            else:
                build.positionals.append(self.value(word))
                index += 1
        return build

    def joined(self, flag: Word, taken: list[Word]) -> Value:
        if not taken:
            return Value(True, self.word_span(flag), "cli", flag.raw, flag.via)
        if len(taken) == 1:
            return self.value(taken[0])
        values = [self.value(word) for word in taken]
        first, last = taken[0], taken[-1]
        same = first.home is last.home
        span = self.span(first.start, last.end, first.home) if same else values[0].span
        origin = next((value.origin for value in values if value.origin != "cli"), "cli")
        text = " ".join(word.raw for word in taken)
        return Value([value.raw for value in values], span, origin, text)

    def argument(self, build: Build, key: str, value: Value, key_span: Span, dialect: str) -> None:
        build.args.append((key, value))
        build.keyed[lookup_key(key)] = (value, key_span)
        builtin = dialect == "swift" and (value.as_str() or "").lower() in SWIFT_DEEPSPEED
        if key in _CONFIG_FLAGS and not builtin:
            build.config(value, key)
        text = value.as_str()
        if key in DATA_KEYS | {"dataset", "data"} and text and text.lower().endswith(DATA_SUFFIXES):
            build.references.append(Reference(value, "data", key))
        build.settings.extend(canonical_settings(dialect, key, value, key_span))


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


__all__ = ["LAUNCHERS", "PYTHON", "Build", "LaunchReader"]
