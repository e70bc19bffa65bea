"""Skip parsing files that cannot produce a fact anything reads, decided on the raw bytes.

Parsing with libcst is the expensive step; most Python files in a repository (library code,
tests, tooling) never mention a training framework, a tracking client or a loader. Before a
Python file or notebook is parsed, its bytes are searched for *needles*: words without which
no fact that a rule, the job assembler, the destinations list or the suppression machinery
reads can come out of that file. When none are present the file is still counted as checked,
with empty facts and ``prefiltered=True``.

Why this is safe: rules, checks, ``jobs.assemble`` and ``destinations.find_destinations`` only
look at calls whose qualified names match globs, calls with certain keyword arguments,
settings, assignments to certain names, references and suppressions. A qualified call name
is made of identifiers that appear in the file (an import names the module and the imported
name; attribute access names the rest), so every literal piece of a glob
(``transformers.*.from_pretrained`` -> ``transformers``, ``from_pretrained``) must occur in
the bytes for a call to match it; a piece that is a whole name segment must occur as a whole
identifier (``load`` in ``pickle.load`` is not satisfied by ``payload``). A file whose
relevant facts would be empty gives the same findings, jobs and destinations as the empty
facts it gets instead.

The needles are derived, not kept by hand:

* every enabled rule's ``match`` tree: call-name globs, keyword arguments named in ``where``
  (for ``call: "*"``), assignment-target globs, ``when.kinds``;
* every enabled ``check``: its needs in ``CHECK_NEEDS`` (built in) or a ``prefilter_match``
  attribute on the check function (plugins), in the same vocabulary as ``match``; a check
  with no declared needs turns the prefilter off, it never guesses;
* what is read whatever the rules: settings (the Python source's constructors, argparse and
  dataclass fields, keyed by the dialect alias table), training markers (``jobs.file_trains``),
  config references, tracking/hub calls, region keys, destination environment variables and
  storage URIs (``tunelint.project.destinations``), and ``tunelint: ignore`` comments.

A Python file that a launch line, notebook or config names (``train.py``) is always parsed:
it may be a member of a job, and job-level checks read what its members do and do not hold
(TL105 looks for the calls that save checkpoints in every member). Files are named by their
base name, as ``jobs`` resolves them.

What the prefilter cannot see: names assembled at run time (``getattr``, string concatenation
across pieces of a keyword), and syntax errors in skipped files (they are not parsed, so not
reported). Notebooks with shell lines or magics, UTF-16 files and JSON with escaped ASCII are
always parsed. ``TUNELINT_PREFILTER=0`` turns the prefilter off.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from tunelint.extract.needles import (
    _MODE_COST,
    Clause,
    Group,
    Needle,
    Needles,
    sub,
    token,
)
from tunelint.facts import FileKind

if TYPE_CHECKING:
    pass

FILTERED_KINDS: Final = frozenset({FileKind.PYTHON, FileKind.NOTEBOOK})

# Python constructors whose keywords become settings, mirroring ``sources.python._dialect_of``
# (dialect -> the words of its constructors); argparse and dataclass fields are read through
# the Trainer table.
SETTING_CONSTRUCTORS: Final[dict[str, Group]] = {
    "trainer": (
        sub("TrainingArguments"),
        sub("Trainer"),
        token("add_argument"),
        token("dataclass"),
    ),
    "accelerate": (token("Accelerator"),),
}
# Calls that make settings whatever keywords they have (the model id is positional; PEFT's
# ``r`` is too short to look for).
SETTING_CALLS_ALONE: Final[Group] = (
    token("from_pretrained"),
    token("from_config"),
    token("gradient_checkpointing_enable"),
    sub("BitsAndBytesConfig"),
    sub("LoraConfig"),
    token("LoHaConfig"),
    token("IA3Config"),
)
# trl's configs (``trl.SFTConfig``) are read with the Trainer table.
TRL_CONFIG: Final[Clause] = ((token("trl"),), (sub("Config"),))
# Name pieces a resolved call name holds without the file spelling them: the result of
# ``parse_args()`` is typed ``argparse``.
SYNTHETIC_PIECES: Final[dict[str, tuple[str, ...]]] = {
    "argparse": ("argparse", "parse_args", "parse_intermixed_args", "parse_known_args"),
}
SUPPRESSION: Final = Needle(b"tunelint", "folded")
# A notebook line that is shell or a magic (``!cmd``, ``%%writefile``, ``x = !ls``), in the
# raw JSON: at the start of a source string or after an escaped newline. ``\u00`` means an
# escaped ASCII character could hide a needle.
NOTEBOOK_SHELL: Final = re.compile(rb'(?:"|\\[nr])(?:[ \t]|\\t)*[!%]|=(?:[ \t]|\\t)*!|\\u00')
UTF16_BOMS: Final = (b"\xff\xfe", b"\xfe\xff")
# Starts only where a name can start: without the look-behind, a long run of name characters
# with no ".py" in it is tried from every offset (quadratic: 10 MB of "x" never finished).
SCRIPT_NAME: Final = re.compile(rb"(?<![A-Za-z0-9_.\-])[A-Za-z0-9_.\-]+\.py\b")

_BRACKET = re.compile(r"\[[^\]]*\]")
_PIECE = re.compile(r"[A-Za-z0-9_]+")
_SEGMENT_EDGES = frozenset(".()")


def glob_pieces(glob: str) -> list[str]:
    """The identifier pieces a qualified name must contain to match ``glob``."""
    return [word for word, _ in _glob_words(glob)]


def _glob_words(glob: str) -> list[tuple[str, bool]]:
    """Pieces of a glob and whether each is a whole name segment (a token in the source)."""
    text = _BRACKET.sub("*", glob)
    words = []
    for match in _PIECE.finditer(text):
        start, end = match.span()
        left = text[start - 1] if start else "."
        right = text[end] if end < len(text) else "."
        words.append((match.group(), left in _SEGMENT_EDGES and right in _SEGMENT_EDGES))
    return words


def _piece_group(piece: str, whole: bool) -> Group:
    if piece in SYNTHETIC_PIECES:
        return tuple(token(word) for word in SYNTHETIC_PIECES[piece])
    return (token(piece) if whole else sub(piece),)


def name_clause(glob: str) -> Clause | None:
    """What a file must hold for a call (or dotted assignment target) to match ``glob``."""
    words = _glob_words(glob)
    if not words:
        return None
    return tuple(dict.fromkeys(_piece_group(piece, whole) for piece, whole in words))


@dataclass(frozen=True, slots=True)
class Prefilter:
    """The needles per file kind; kinds without needles are always parsed."""

    by_kind: Mapping[FileKind, Needles] = field(default_factory=dict)

    def wanted(self, kind: FileKind, data: bytes) -> bool:
        """Must this file be parsed? ``data`` is the file's raw bytes."""
        needles = self.by_kind.get(kind)
        if needles is None or needles.parse_all:
            return True
        if data.startswith(UTF16_BOMS):
            return True
        if kind is FileKind.NOTEBOOK and NOTEBOOK_SHELL.search(data) is not None:
            return True
        return needles.wanted(data)

    def named_scripts(self, data: bytes) -> set[str]:
        """Base names of the Python files a non-Python file names (launch lines, configs)."""
        if not self.by_kind:
            return set()
        return {name.decode("utf-8", "replace") for name in SCRIPT_NAME.findall(data)}

    @property
    def reasons(self) -> list[str]:
        """Why some kind is always parsed (a rule whose needs are unknown), if so."""
        return sorted({r for needles in self.by_kind.values() for r in needles.reasons})


PASS_ALL: Final = Prefilter()


# -- deriving the needles ----------------------------------------------------------------


@dataclass(slots=True)
class _Builder:
    clauses: dict[FileKind, dict[Clause, None]] = field(
        default_factory=lambda: {kind: {} for kind in FILTERED_KINDS}
    )
    blocked: dict[FileKind, list[str]] = field(
        default_factory=lambda: {kind: [] for kind in FILTERED_KINDS}
    )

    def add(self, kinds: Iterable[FileKind], clause: Clause) -> None:
        ordered = tuple(sorted(dict.fromkeys(clause), key=_group_cost))
        for kind in kinds:
            self.clauses[kind][ordered] = None

    def block(self, kinds: Iterable[FileKind], reason: str) -> None:
        for kind in kinds:
            self.blocked[kind].append(reason)

    def build(self) -> Prefilter:
        by_kind = {}
        for kind in FILTERED_KINDS:
            reasons = tuple(self.blocked[kind])
            ordered = sorted(self.clauses[kind], key=lambda clause: _group_cost(clause[0]))
            tokens = kind is not FileKind.NOTEBOOK
            by_kind[kind] = Needles(tuple(ordered), bool(reasons), reasons, tokens)
        return Prefilter(by_kind)


def _group_cost(group: Group) -> tuple[int, int, int]:
    """Look first at groups likely to fail fast: token lookups, few and long words."""
    worst = max(_MODE_COST[n.mode] for n in group)
    shortest = min(len(n.text) for n in group)
    return (worst, len(group), -shortest)


def _kinds(node: Mapping[str, Any], inherited: frozenset[FileKind]) -> frozenset[FileKind]:
    when = node.get("when")
    if isinstance(when, Mapping) and isinstance(when.get("kinds"), list):
        named = {str(k) for k in when["kinds"]}
        return frozenset(k for k in inherited if k.value in named)
    return inherited


def as_list(raw: Any) -> list[str]:
    return [str(item) for item in raw] if isinstance(raw, list | tuple) else [str(raw)]


def where_keywords(node: Any) -> set[str] | None:
    """Keywords one of which a call must carry to satisfy ``where``; None when unbounded."""
    if not isinstance(node, Mapping):
        return None
    if "all" in node or "any" in node:
        parts = node.get("all", node.get("any"))
        if not isinstance(parts, list) or not parts:
            return None
        found: set[str] = set()
        for part in parts:
            keywords = where_keywords(part)
            if keywords is None:
                return None
            found |= keywords
        return found
    if "not" in node or node.get("missing") is True or "arg" not in node:
        return None
    keywords = set()
    for part in str(node["arg"]).split("|"):
        if part.startswith("#"):
            return None  # a positional argument has no name in the source
        keywords.add(part)
    return keywords


def _walk(node: Any, kinds: frozenset[FileKind], origin: str, builder: _Builder) -> None:
    """Adds the needs of one match tree (``when.kinds`` counts on leaves, as in the matcher)."""
    if not isinstance(node, Mapping):
        builder.block(kinds, f"{origin}: match node is not a mapping")
        return
    for combinator in ("any", "all"):
        if combinator in node:
            for part in node[combinator] or []:
                _walk(part, kinds, origin, builder)
            return
    if "not" in node:
        _walk(node["not"], kinds, origin, builder)
        return
    kinds = _kinds(node, kinds)
    if not kinds:
        return
    if "call" in node:
        for glob in as_list(node["call"]):
            clause = name_clause(glob)
            if clause is None:
                keywords = where_keywords(node.get("where"))
                if not keywords:
                    builder.block(kinds, f"{origin}: call {glob!r} with no named argument")
                    continue
                clause = (tuple(token(k) for k in sorted(keywords)),)
            builder.add(kinds, clause)
    elif "needles" in node:
        clause = _needles_clause(node["needles"])
        if clause is None:
            builder.block(kinds, f"{origin}: needles leaf is malformed")
        else:
            builder.add(kinds, clause)
    elif "setting" in node:
        pass  # settings are always needed (jobs, destinations)
    elif "assignment" in node:
        for glob in as_list(node["assignment"]):
            clause = name_clause(glob)  # a dotted target is built like a call name
            if clause is None:
                builder.block(kinds, f"{origin}: assignment {glob!r} names nothing")
                continue
            builder.add(kinds, clause)
    else:
        builder.block(kinds, f"{origin}: match leaf the prefilter does not know: {sorted(node)}")


def _needles_clause(raw: Any) -> Clause | None:
    if not isinstance(raw, list) or not raw:
        return None
    groups = []
    for group in raw:
        if not isinstance(group, Mapping) or len(group) != 1:
            return None
        ((mode, words),) = group.items()
        if mode not in _MODE_COST or not isinstance(words, list) or not words:
            return None
        text = [str(w).lower() if mode == "folded" else str(w) for w in words]
        groups.append(tuple(Needle(w.encode(), mode) for w in text))
    return tuple(groups)


def _sources(builder: _Builder) -> None:
    """What the sources turn into facts whatever the rules: settings and suppressions."""
    from tunelint.sources.dialects import TABLES

    kinds = FILTERED_KINDS
    builder.add(kinds, ((SUPPRESSION,),))
    # settings: a constructor of a dialect together with one of that dialect's keys
    for dialect, constructors in SETTING_CONSTRUCTORS.items():
        keys: list[Needle] = []
        for key in sorted(TABLES[dialect]):
            if "." not in key and "[" not in key:
                keys.append(token(key))
                if "_" in key:  # an argparse flag spelt with dashes is no identifier
                    keys.append(sub(key.replace("_", "-")))
        builder.add(kinds, (constructors, tuple(keys)))
    trainer_keys = {k for k in TABLES["trainer"] if "." not in k}
    builder.add(kinds, (*TRL_CONFIG, tuple(token(k) for k in sorted(trainer_keys))))
    builder.add(kinds, (SETTING_CALLS_ALONE,))


def build(needs: Iterable[tuple[str, Any]]) -> Prefilter:
    """Needles from what the sources always read plus ``needs``: (origin, a tree in the
    vocabulary of a rule's ``match``), one per rule and one per later stage that reads facts
    whatever the rules; a tree that is None (needs unknown) turns the prefilter off."""
    builder = _Builder()
    _sources(builder)
    for origin, tree in needs:
        if tree is None:
            builder.block(FILTERED_KINDS, f"{origin} declares no prefilter needs")
            continue
        _walk(tree, FILTERED_KINDS, origin, builder)
    return builder.build()


def kinds_of(node: Mapping[str, Any]) -> frozenset[FileKind]:
    """The file kinds a match leaf applies to (``when.kinds``), among the filtered ones."""
    return _kinds(node, FILTERED_KINDS)


def leaves(node: Any) -> Iterator[Mapping[str, Any]]:
    """The leaves of a match tree."""
    if not isinstance(node, Mapping):
        return
    for combinator in ("any", "all"):
        if combinator in node:
            for part in node[combinator] or []:
                yield from leaves(part)
            return
    if "not" in node:
        yield from leaves(node["not"])
        return
    yield node


__all__ = [
    "FILTERED_KINDS",
    "PASS_ALL",
    "Needle",
    "Needles",
    "Prefilter",
    "as_list",
    "build",
    "glob_pieces",
    "kinds_of",
    "leaves",
    "name_clause",
    "where_keywords",
]
