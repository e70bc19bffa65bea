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
the bytes for a call to match it. A file whose relevant facts would be empty gives the same
findings, jobs and destinations as the empty facts it gets instead.

The needles are derived, not kept by hand:

* every enabled rule's ``match`` tree: call-name globs, keyword arguments named in ``where``
  (for ``call: "*"``), assignment-target globs, ``when.kinds``;
* every enabled ``check``: its needs in ``CHECK_NEEDS`` (built in) or a ``prefilter_match``
  attribute on the check function (plugins), in the same vocabulary as ``match``; a check
  with no declared needs turns the prefilter off, it never guesses;
* what is read whatever the rules: settings (the Python source's constructors, argparse and
  dataclass fields, keyed by the dialect alias table), training markers (``jobs.file_trains``),
  config references, tracking/hub calls, region keys, destination environment variables and
  storage URIs (``tunelint.destinations``), and ``tunelint: ignore`` comments.

What the prefilter cannot see: names assembled at run time (``getattr``, string concatenation
across pieces of a keyword), and syntax errors in skipped files (they are not parsed, so not
reported). Notebooks with shell lines or magics, UTF-16 files and files with escaped
characters in JSON are always parsed. ``TUNELINT_PREFILTER=0`` turns it off.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from tunelint.facts import FileKind

if TYPE_CHECKING:
    from tunelint.facts import FileFacts
    from tunelint.rules.model import RuleMeta

Word = bytes | re.Pattern[bytes]
Group = tuple[Word, ...]  # satisfied when any word occurs
Clause = tuple[Group, ...]  # satisfied when every group is

FILTERED_KINDS: Final = frozenset({FileKind.PYTHON, FileKind.NOTEBOOK})

# Needs of the built-in Python checks, in the vocabulary of a rule's ``match``.
CHECK_NEEDS: Final[dict[str, dict[str, Any]]] = {
    "unsafe-deserialization": {
        "call": [
            "torch.load",
            "numpy.load",
            "pickle.load",
            "pickle.loads",
            "_pickle.load",
            "dill.load",
            "dill.loads",
            "cloudpickle.load",
            "cloudpickle.loads",
            "joblib.load",
            "pandas.read_pickle",
        ]
    },
}

# Python constructors whose keywords become settings (mirrors ``sources.python._dialect_of``),
# and the alias tables they read.
SETTING_CALL_WORDS: Final = (
    "from_pretrained",
    "from_config",
    "Config",  # LoraConfig, BitsAndBytesConfig, trl's SFTConfig, ...
    "Accelerator",
    "TrainingArguments",
    "Trainer",
    "add_argument",  # argparse defaults, read through the Trainer table
    "dataclass",  # dataclass field defaults, the same
)
PYTHON_DIALECTS: Final = ("trainer", "hf-loader", "peft", "bnb", "accelerate")
# Calls that make settings without any table key in the file.
SETTING_CALLS_ALONE: Final = ("from_pretrained", "from_config", "gradient_checkpointing_enable")
# Calls whose resolved name holds a word that need not be written: ``parse_args()`` results
# are typed ``argparse``.
SYNTHETIC_PIECES: Final[dict[str, tuple[str, ...]]] = {
    "argparse": ("argparse", "parse_args", "parse_intermixed_args", "parse_known_args"),
}
CONFIG_REFERENCE: Final[Clause] = (
    (b"config", b"deepspeed"),
    (b".json", b".yaml", b".yml"),
)
SUPPRESSION: Final = re.compile(rb"(?i)tunelint")
# ``loss.backward()``, also split over a line continuation.
BACKWARD: Final = re.compile(rb"backward[\s\\]*\(")
# A notebook line that is shell or a magic (``!cmd``, ``%%writefile``, ``x = !ls``), in the
# raw JSON: at the start of a source string or after an escaped newline. ``\u00`` means an
# escaped ASCII character could hide a needle.
NOTEBOOK_SHELL: Final = re.compile(rb'(?:"|\\[nr])(?:[ \t]|\\t)*[!%]|=(?:[ \t]|\\t)*!|\\u00')
UTF16_BOMS: Final = (b"\xff\xfe", b"\xfe\xff")

_BRACKET = re.compile(r"\[[^\]]*\]")
_PIECE = re.compile(r"[A-Za-z0-9_]+")


def glob_pieces(glob: str) -> list[str]:
    """The identifier pieces a qualified name must contain to match ``glob``."""
    return _PIECE.findall(_BRACKET.sub("*", glob))


def _piece_group(piece: str) -> Group:
    return tuple(word.encode() for word in SYNTHETIC_PIECES.get(piece, (piece,)))


def _call_clause(glob: str) -> Clause | None:
    pieces = glob_pieces(glob)
    if not pieces:
        return None
    return tuple(_piece_group(piece) for piece in dict.fromkeys(pieces))


@dataclass(frozen=True, slots=True)
class Needles:
    """When a file of one kind may hold a relevant fact: any clause whose groups all occur."""

    clauses: tuple[Clause, ...] = ()
    parse_all: bool = False
    reasons: tuple[str, ...] = ()

    def wanted(self, data: bytes) -> bool:
        if self.parse_all:
            return True
        seen: dict[Word, bool] = {}
        for clause in self.clauses:
            for group in clause:
                if not any(_present(word, data, seen) for word in group):
                    break
            else:
                return True
        return False

    def words(self) -> list[str]:
        """Every needle, for documentation and the benchmark."""
        found: dict[str, None] = {}
        for clause in self.clauses:
            for group in clause:
                for word in group:
                    text = word.pattern if isinstance(word, re.Pattern) else word
                    found[text.decode("ascii", "backslashreplace")] = None
        return sorted(found)


def _present(word: Word, data: bytes, seen: dict[Word, bool]) -> bool:
    known = seen.get(word)
    if known is None:
        known = word in data if isinstance(word, bytes) else word.search(data) is not None
        seen[word] = known
    return known


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

    @property
    def reasons(self) -> list[str]:
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
        for kind in kinds:
            self.clauses[kind][clause] = None

    def block(self, kinds: Iterable[FileKind], reason: str) -> None:
        for kind in kinds:
            self.blocked[kind].append(reason)

    def build(self) -> Prefilter:
        by_kind = {}
        for kind in FILTERED_KINDS:
            reasons = tuple(self.blocked[kind])
            ordered = sorted(self.clauses[kind], key=_cost)
            by_kind[kind] = Needles(tuple(ordered), bool(reasons), reasons)
        return Prefilter(by_kind)


def _cost(clause: Clause) -> tuple[int, int]:
    """Cheap, selective clauses first: long plain words fail fast on library code."""
    first = clause[0]
    shortest = min(len(w) if isinstance(w, bytes) else 4 for w in first)
    return (len(first), -shortest)


def _kinds(node: Mapping[str, Any], inherited: frozenset[FileKind]) -> frozenset[FileKind]:
    when = node.get("when")
    if isinstance(when, Mapping) and isinstance(when.get("kinds"), list):
        named = {str(k) for k in when["kinds"]}
        return frozenset(k for k in inherited if k.value in named)
    return inherited


def _as_list(raw: Any) -> list[str]:
    return [str(item) for item in raw] if isinstance(raw, list | tuple) else [str(raw)]


def _where_keywords(node: Any) -> set[str] | None:
    """Keywords one of which a call must carry to satisfy ``where``; None when unbounded."""
    if not isinstance(node, Mapping):
        return None
    if "all" in node or "any" in node:
        parts = node.get("all", node.get("any"))
        if not isinstance(parts, list) or not parts:
            return None
        found: set[str] = set()
        for part in parts:
            keywords = _where_keywords(part)
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
        for glob in _as_list(node["call"]):
            clause = _call_clause(glob)
            if clause is None:
                keywords = _where_keywords(node.get("where"))
                if not keywords:
                    builder.block(kinds, f"{origin}: call {glob!r} with no named argument")
                    continue
                clause = (tuple(k.encode() for k in sorted(keywords)),)
            builder.add(kinds, clause)
    elif "setting" in node:
        pass  # settings are always needed (jobs, destinations)
    elif "assignment" in node:
        for glob in _as_list(node["assignment"]):
            pieces = glob_pieces(glob)
            if not pieces:
                builder.block(kinds, f"{origin}: assignment {glob!r} names nothing")
                continue
            builder.add(kinds, tuple((p.encode(),) for p in dict.fromkeys(pieces)))
    else:
        builder.block(kinds, f"{origin}: match leaf the prefilter does not know: {sorted(node)}")


def _check_needs(name: str) -> Any:
    if name in CHECK_NEEDS:
        return CHECK_NEEDS[name]
    try:
        from tunelint.rules.checks import get_check

        return getattr(get_check(name), "prefilter_match", None)
    except Exception:  # an unloadable check fails later, with its own diagnostic
        return None


def _always(builder: _Builder) -> None:
    """Facts read whatever the rules: settings, jobs, destinations, suppressions."""
    from tunelint.destinations import (
        DESTINATION_ENV,
        HUB_CALLS,
        REGION_KEYS,
        STORAGE_URI,
        TRACKING_CALLS,
    )
    from tunelint.dialects import TABLES

    kinds = FILTERED_KINDS
    builder.add(kinds, ((SUPPRESSION,),))
    # settings
    keys: set[str] = set()
    for dialect in PYTHON_DIALECTS:
        for key in TABLES[dialect]:
            if "." not in key and "[" not in key:
                keys.update({key, key.replace("_", "-")})
    key_group = tuple(k.encode() for k in sorted(keys))
    call_group = tuple(w.encode() for w in SETTING_CALL_WORDS)
    builder.add(kinds, (call_group, key_group))
    for word in SETTING_CALLS_ALONE:
        builder.add(kinds, ((word.encode(),),))
    # training (jobs.file_trains) and config references (jobs._closure)
    builder.add(kinds, ((BACKWARD,),))
    builder.add(kinds, ((b"Trainer", b"trl"), (b"train",)))
    builder.add(kinds, ((b"run_exp",),))
    builder.add(kinds, ((b"axolotl",), (b"train",)))
    builder.add(kinds, CONFIG_REFERENCE)
    # destinations
    for glob in (*TRACKING_CALLS, *HUB_CALLS):
        clause = _call_clause(glob)
        if clause is not None:
            builder.add(kinds, clause)
    for name in sorted({*REGION_KEYS, *DESTINATION_ENV}):
        builder.add(kinds, ((name.encode(),),))
    builder.add(kinds, ((_scheme_pattern(STORAGE_URI),),))


def _scheme_pattern(uri: re.Pattern[str]) -> re.Pattern[bytes]:
    """``(s3|gs|...)://`` out of the anchored storage-URI pattern; ``://`` if it changes shape."""
    head, separator, _ = uri.pattern.partition("://")
    if separator:
        try:
            return re.compile((head.lstrip("^") + "://").encode(), re.IGNORECASE)
        except re.error:
            pass
    return re.compile(rb"://")


def build(rules: Sequence[RuleMeta]) -> Prefilter:
    """Needles for these (enabled) rules."""
    builder = _Builder()
    _always(builder)
    for rule in rules:
        needs: Any = rule.match
        origin = f"rule {rule.id}"
        if needs is None and rule.check is not None:
            needs = _check_needs(rule.check)
            origin = f"rule {rule.id} (check {rule.check})"
            if needs is None:
                builder.block(FILTERED_KINDS, f"{origin} declares no prefilter needs")
                continue
        if needs is None:
            continue
        _walk(needs, FILTERED_KINDS, origin, builder)
    return builder.build()


# -- the oracle the tests and the benchmark hold the prefilter to ---------------------------


def relevant(facts: FileFacts, rules: Sequence[RuleMeta]) -> list[str]:
    """What in these facts something reads (empty: skipping the file loses nothing).

    Computed from real facts, independently of the needles, so that tests can check that
    every file with a relevant fact passes the prefilter.
    """
    from fnmatch import fnmatchcase

    from tunelint.destinations import find_destinations
    from tunelint.jobs import file_trains

    reasons = []
    if facts.suppressions:
        reasons.append("suppression")
    if facts.settings:
        reasons.append("setting")
    if facts.launches:
        reasons.append("launch")
    if any(r.role in {"config", "script"} for r in facts.references):
        reasons.append("reference")
    if file_trains(facts):
        reasons.append("trains")
    if find_destinations({facts.path: facts}):
        reasons.append("destination")
    for rule in rules:
        needs: Any = rule.match if rule.match is not None else None
        if needs is None and rule.check is not None:
            needs = _check_needs(rule.check)
        for leaf in _leaves(needs):
            kinds = _kinds(leaf, FILTERED_KINDS)
            if facts.kind not in kinds:
                continue
            if "call" in leaf:
                globs = _as_list(leaf["call"])
                keywords = _where_keywords(leaf.get("where")) or set()
                for call in facts.calls:
                    if any(fnmatchcase(call.name, g) for g in globs if glob_pieces(g)) or (
                        any(not glob_pieces(g) for g in globs)
                        and any(name in keywords for name, _ in call.kwargs)
                    ):
                        reasons.append(f"{rule.id}: call {call.name}")
            elif "assignment" in leaf:
                targets = _as_list(leaf["assignment"])
                for assignment in facts.assignments:
                    if any(fnmatchcase(assignment.target, t) for t in targets):
                        reasons.append(f"{rule.id}: assignment {assignment.target}")
    return reasons


def _leaves(node: Any) -> Iterator[Mapping[str, Any]]:
    if not isinstance(node, Mapping):
        return
    for combinator in ("any", "all"):
        if combinator in node:
            for part in node[combinator] or []:
                yield from _leaves(part)
            return
    if "not" in node:
        yield from _leaves(node["not"])
        return
    yield node


__all__ = ["CHECK_NEEDS", "PASS_ALL", "Needles", "Prefilter", "build", "glob_pieces", "relevant"]
