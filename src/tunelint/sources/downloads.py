"""Hub download commands on shell lines: a download is a load of what runs or trains next.

``tune download ORG/NAME --output-dir DIR`` (torchtune), ``huggingface-cli download`` and
``hf download ORG/NAME [FILES...] [--revision R] [--local-dir DIR] [--cache-dir DIR]
[--repo-type model|dataset|space]``, and ``modelscope download --model|--dataset ORG/NAME
[--revision R] [--local_dir DIR] [--cache_dir DIR]`` (or the id as the first word, typed by
``--repo-type``) fetch a repository before the lines after them use it.

Each becomes a call named after the command (``huggingface-cli download``, a name no Python
call has): the repository id is its first argument, and the options that say what is fetched
and where are keywords, named as the Python function the command runs names them
(``revision``, ``repo_type``, ``local_dir``, ``cache_dir``; ``tune download --output-dir`` is
``local_dir``, ``--source`` is ``source``). Each download folder is also a ``download_dir``
setting (dialect ``hub-download``, keyed by the option as written). A download is never a
launch: it starts no job and trains nothing. Values resolve through the file's variables as
launch flags do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from tunelint.facts import Setting, Value
from tunelint.sources.dialects import canonical_settings, lookup_key
from tunelint.sources.launchers import LaunchReader
from tunelint.sources.shellwords import Word


@dataclass(frozen=True, slots=True)
class _Command:
    """How one download command reads its words (option names in table spelling)."""

    name: str
    keywords: dict[str, str]  # option -> the call's keyword
    bare: frozenset[str] = frozenset()  # options that take no value
    many: frozenset[str] = frozenset()  # options that take every following word
    typed: dict[str, str] = field(default_factory=dict)  # option naming the id -> repo type


_KEYWORDS: Final = {
    "revision": "revision",
    "repo_type": "repo_type",
    "local_dir": "local_dir",
    "cache_dir": "cache_dir",
}
_HF_BARE: Final = frozenset({"force_download", "resume_download", "quiet", "dry_run", "h"})
_PATTERNS: Final = frozenset({"include", "exclude"})

COMMANDS: Final[dict[tuple[str, str], _Command]] = {
    ("tune", "download"): _Command(
        "tune download", {"output_dir": "local_dir", "source": "source"}, frozenset({"h"})
    ),
    ("huggingface-cli", "download"): _Command(
        "huggingface-cli download", _KEYWORDS, _HF_BARE, _PATTERNS
    ),
    ("hf", "download"): _Command("hf download", _KEYWORDS, _HF_BARE, _PATTERNS),
    ("modelscope", "download"): _Command(
        "modelscope download",
        _KEYWORDS,
        frozenset({"h"}),
        _PATTERNS,
        {"model": "model", "dataset": "dataset"},
    ),
}
PROGRAMS: Final = frozenset(program for program, _ in COMMANDS)


@dataclass
class Download:
    """A download command read: the call's name, arguments and the settings it makes."""

    name: str
    args: tuple[Value, ...] = ()
    kwargs: tuple[tuple[str, Value], ...] = ()
    settings: list[Setting] = field(default_factory=list)


def read_download(reader: LaunchReader, words: list[Word]) -> Download | None:
    """The download ``words`` (program word first) run, or None when they run none."""
    if len(words) < 2:
        return None
    command = COMMANDS.get((reader.name_of(words[0]), reader.literal(words[1]) or ""))
    if command is None:
        return None
    download = Download(command.name)
    kwargs: list[tuple[str, Value]] = []
    positionals: list[Value] = []
    repo: Value | None = None
    index, options = 2, True
    while index < len(words):
        word = words[index]
        text = reader.option_text(word)
        index += 1
        if options and text == "--":  # what follows is positional
            options = False
            continue
        if not options or not _is_option(text):
            positionals.append(reader.value(word))
            continue
        key, equals, _ = text.lstrip("-").partition("=")
        name = lookup_key(key)
        if equals:
            value = reader.value(word, word.raw.find("=") + 1)
        elif name in command.bare:
            continue
        elif name in command.many:  # patterns: nothing this reads
            while index < len(words) and not _is_option(reader.option_text(words[index])):
                index += 1
            continue
        elif index < len(words) and not _is_option(reader.option_text(words[index])):
            value = reader.value(words[index])
            index += 1
        else:
            continue  # a value-taking option with nothing after it
        key_span = reader.word_span(word, 0, len(word.raw.split("=", 1)[0]))
        if name in command.typed:
            repo = value
            kwargs.append(("repo_type", Value(command.typed[name], key_span, "cli", text)))
        elif name in command.keywords:
            kwargs.append((command.keywords[name], value))
        download.settings.extend(canonical_settings("hub-download", key, value, key_span))
    if repo is None and positionals:
        repo = positionals[0]  # the others name files of the repository
    if repo is not None:
        download.args = (repo,)
    download.kwargs = tuple(kwargs)
    return download


def _is_option(text: str) -> bool:
    return text.startswith("-") and text not in {"-", "--"}


__all__ = ["COMMANDS", "PROGRAMS", "Download", "read_download"]
