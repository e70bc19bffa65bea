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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal

from tunelint.facts import FileKind

if TYPE_CHECKING:
    from tunelint.facts import FileFacts
    from tunelint.rules.model import RuleMeta

Mode = Literal["substring", "token", "folded", "regex", "random", "suffix"]


@dataclass(frozen=True, slots=True)
class Needle:
    """One thing to look for in a file's bytes.

    ``substring``: anywhere. ``token``: as a whole identifier, not inside a longer one (bytes
    of 128 and above count as identifier characters, so a token next to a non-ASCII letter
    never counts); in notebooks, whose code sits in JSON strings with escapes (``\\nload``),
    a token is looked for as a substring. ``folded``: anywhere, in any case (``text`` is
    lower case). ``regex``: ``text`` is a regular expression. ``random``: a string literal
    that is all key characters, at least ``text`` (a number) of them with a digit, or 40
    without one. ``suffix``: a name
    (an identifier or a dashed flag, lower case, dashes read as underscores) that ends with
    one of the ``|``-separated ``text``.
    """

    text: bytes
    mode: Mode = "substring"

    def describe(self) -> str:
        text = self.text.decode("ascii", "backslashreplace")
        return {
            "substring": text,
            "token": f"<{text}>",
            "folded": f"{text} (any case)",
            "regex": f"/{text}/",
            "random": f"(a string of {text}+ key characters)",
            "suffix": f"(a name ending in {text})",
        }[self.mode]


def sub(text: str) -> Needle:
    return Needle(text.encode())


def token(text: str) -> Needle:
    return Needle(text.encode(), "token")


Group = tuple[Needle, ...]  # satisfied when any needle occurs
Clause = tuple[Group, ...]  # satisfied when every group is

FILTERED_KINDS: Final = frozenset({FileKind.PYTHON, FileKind.NOTEBOOK})

# Needs of the built-in Python checks, in the vocabulary of a rule's ``match``, plus one
# leaf only needs use: ``needles: [{MODE: [words]}, ...]``, a clause of groups (every group
# must occur; a group occurs when any of its words does), MODE one of substring, token,
# folded, regex. A value that is a string names a function here that builds the needs.
CHECK_NEEDS: Final[dict[str, dict[str, Any] | str]] = {
    # jobs, their settings and their members' dialects: always read (see ``_always``)
    "model-exceeds-vram": {"any": []},
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
    "hardcoded-credential": "_credential_needs",
    # destinations and the calls at them: always read
    "tracking-destination-not-allowed": {"any": []},
    # ... and buckets named to boto3 without a URI (``download_file("bucket", ...)``)
    "storage-region-not-allowed": {"call": ["boto3.*"]},
    "cleartext-endpoint": "_endpoint_needs",
    "public-hub-upload": "_hub_upload_needs",
    "unpinned-hub-revision": "_revision_needs",
    "no-thermal-guard": "_thermal_needs",
    # job settings (always read); the saves it looks for in a job's files matter only for job
    # members, which are parsed: training files by their markers, launched scripts by name
    "no-checkpointing": {"any": []},
}

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
TRAINING: Final[tuple[Clause, ...]] = (
    # ``loss.backward()``, also split over a line continuation
    ((Needle(rb"backward[\s\\]*\(", "regex"),),),
    ((sub("Trainer"), token("trl")), (token("train"),)),
    ((token("run_exp"),),),
    ((token("axolotl"),), (token("train"),)),
)
CONFIG_REFERENCE: Final[Clause] = (
    (sub(".json"), sub(".yaml"), sub(".yml")),
    (sub("config"), sub("deepspeed")),
)
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
# Every byte that cannot be part of an identifier becomes a space: split() gives the tokens.
_SEPARATORS = bytes(
    c if (c < 128 and (chr(c).isalnum() or c == ord("_"))) or c >= 128 else 32 for c in range(256)
)
_NAME_SEPARATORS = bytes(c if c == ord("-") else _SEPARATORS[c] for c in range(256))
_REGEX_CACHE: dict[bytes, re.Pattern[bytes]] = {}


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
class Needles:
    """When a file of one kind may hold a relevant fact: any clause whose groups all occur."""

    clauses: tuple[Clause, ...] = ()
    parse_all: bool = False
    reasons: tuple[str, ...] = ()
    tokens: bool = True  # False: tokens are looked for as substrings (JSON-escaped code)
    plan: _Plan = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "plan", _Plan(self.clauses, self.tokens))

    def wanted(self, data: bytes) -> bool:
        return True if self.parse_all else self.plan.wanted(data)

    def describe(self) -> list[str]:
        """Every needle, for documentation and the benchmark."""
        return sorted({n.describe() for clause in self.clauses for g in clause for n in g})


class _Plan:
    """The clauses compiled for speed.

    Tokens are looked up all at once, by intersecting the file's identifiers with the token
    needles. Every other needle is looked for only when a clause gets to it (cheap groups
    come first in a clause), at most once per file. Within a group, a needle that contains
    another of the same mode is dropped: the shorter one is found wherever it is.
    """

    __slots__ = ("clauses", "needles", "token_index", "token_words")

    def __init__(self, clauses: Sequence[Clause], tokens: bool) -> None:
        index: dict[Needle, int] = {}
        compiled = []
        for clause in clauses:
            groups = []
            for group in clause:
                kept = sorted(_minimal(group, tokens), key=lambda n: _MODE_COST[n.mode])
                number = {needle: index.setdefault(needle, len(index)) for needle in kept}
                token_part = frozenset(number[n] for n in kept if _is_token(n, tokens))
                rest = tuple(number[n] for n in kept if not _is_token(n, tokens))
                groups.append((token_part, rest))
            groups.sort(key=lambda g: (len(g[1]) > 0, len(g[1])))
            compiled.append(tuple(groups))
        self.needles = {number: needle for needle, number in index.items()}
        self.token_index = {
            needle.text: number for needle, number in index.items() if _is_token(needle, tokens)
        }
        self.token_words = frozenset(self.token_index)
        self.clauses: tuple[tuple[tuple[frozenset[int], tuple[int, ...]], ...], ...] = tuple(
            compiled
        )

    def wanted(self, data: bytes) -> bool:
        present: set[int] = set()
        if self.token_words:
            found = self.token_words.intersection(data.translate(_SEPARATORS).split())
            present.update(self.token_index[word] for word in found)
        probe = _Probe(data)
        for clause in self.clauses:
            for token_part, rest in clause:
                if token_part and not token_part.isdisjoint(present):
                    continue
                if not any(probe.has(number, self.needles[number]) for number in rest):
                    break
            else:
                return True
        return False


def _is_token(needle: Needle, tokens: bool) -> bool:
    return tokens and needle.mode == "token"


def _minimal(group: Group, tokens: bool) -> list[Needle]:
    """The group without needles that contain a shorter one of the same kind."""
    kept = []
    for needle in group:
        plain = needle.mode in {"substring", "folded"} or (needle.mode == "token" and not tokens)
        shadowed = plain and any(
            other != needle
            and other.mode == needle.mode
            and other.text in needle.text
            and (other.text != needle.text)
            for other in group
        )
        if not shadowed:
            kept.append(needle)
    return kept


class _Probe:
    """The non-token needles of one file, each looked for at most once."""

    __slots__ = ("data", "looked", "lowered")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.lowered: bytes | None = None
        self.looked: dict[int, bool] = {}

    def has(self, number: int, needle: Needle) -> bool:
        found = self.looked.get(number)
        if found is None:
            if needle.mode == "folded":
                if self.lowered is None:
                    self.lowered = self.data.lower()
                found = needle.text in self.lowered
            elif needle.mode in {"substring", "token"}:
                found = needle.text in self.data
            else:
                found = _look(needle, self.data)
            self.looked[number] = found
        return found


def _look(needle: Needle, data: bytes) -> bool:
    """An expensive needle: a pattern, a random-looking run, a name suffix."""
    if needle.mode == "random":
        return _random_run(data, int(needle.text))
    if needle.mode == "suffix":
        words = data.translate(_NAME_SEPARATORS).split()
        names = {w.strip(b"-").lower().replace(b"-", b"_") for w in words}
        endings = tuple(needle.text.split(b"|"))
        return any(name.endswith(endings) for name in names)
    pattern = _REGEX_CACHE.get(needle.text)
    if pattern is None:
        pattern = _REGEX_CACHE.setdefault(needle.text, re.compile(needle.text))
    return pattern.search(data) is not None


# A string whose whole content (``Bearer`` and blanks aside) is a run of key characters: a
# quote or the end of an f-string field before it, a quote, an escape (notebook JSON) or a
# field after it.
_QUOTED_RUN = rb"""(?:['"}]|['"]\s*[Bb]earer\s)\s*+([A-Za-z0-9_\-+/=.]{%d,}+)\s*+['"{\\]"""
_DIGIT = re.compile(rb"[0-9]")
_LONG_RUN = 40


def _random_run(data: bytes, shortest: int) -> bool:
    key = b"run:%d" % shortest
    pattern = _REGEX_CACHE.get(key)
    if pattern is None:
        pattern = _REGEX_CACHE.setdefault(key, re.compile(_QUOTED_RUN % shortest))
    for match in pattern.finditer(data):
        run = match.group(1)
        if len(run) >= _LONG_RUN or _DIGIT.search(run) is not None:
            return True
    return False


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


_MODE_COST: Final = {
    "token": 0,
    "substring": 1,
    "folded": 2,
    "regex": 3,
    "suffix": 4,
    "random": 5,
}


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
            clause = name_clause(glob)
            if clause is None:
                keywords = _where_keywords(node.get("where"))
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
        for glob in _as_list(node["assignment"]):
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


def _credential_needs(options: Mapping[str, Any]) -> dict[str, Any]:
    """TL204 reads every string; it fires on a secret's shape, or on a name that says secret
    holding a random-looking value (a digit in 16 or more key characters, or 40 of them).

    The names come from the check itself; the shapes are the literal parts of its patterns.
    """
    from tunelint.rules.checks import hardcoded_credential as creds

    def spelt(names: Iterable[str]) -> list[str]:
        # names are compared in lower case, with dashes read as underscores
        return sorted({form for name in names for form in (name, name.replace("_", "-"))})

    random_value = {"random": ["16"]}
    named = spelt(
        {
            *creds.WANDB_NAMES,
            *creds.AWS_SECRET_NAMES,
            *creds.AZURE_KEY_NAMES,
            *creds.GENERIC_NAMES,
            *creds.GENERIC_SUFFIXES,
        }
    )
    return {
        "any": [
            # hf_..., AKIA/ASIA key ids, private key blocks, Azure connection strings
            {"needles": [{"substring": ["hf_", "AKIA", "ASIA", "PRIVATE KEY", "AccountKey="]}]},
            # user:password@ in a URL, also when the URL is put together on one line
            {"needles": [{"substring": ["://"]}, {"regex": [r"://[^\n/:]*+:[^\n/@]*+@"]}]},
            {
                "needles": [
                    {"folded": named},
                    {"suffix": ["|".join(sorted(n.replace("-", "_") for n in named))]},
                    random_value,
                ]
            },
            # MLflow credentials count at any length
            {"needles": [{"folded": spelt(creds.MLFLOW_SECRET_NAMES)}]},
            {"needles": [{"token": ["wandb"]}, {"folded": ["key"]}, random_value]},
        ]
    }


def _endpoint_needs(options: Mapping[str, Any]) -> dict[str, Any]:
    """TL205: destinations (always read), plus ``http:`` URLs under endpoint keys or variables."""
    from tunelint.rules.checks import cleartext_endpoint as endpoints

    names = sorted({n.lower() for n in (*endpoints.ENDPOINT_KEYS, *endpoints.ENDPOINT_ENV)})
    return {"needles": [{"folded": ["http:"]}, {"folded": names}]}


def _hub_upload_needs(options: Mapping[str, Any]) -> dict[str, Any]:
    """TL303: push_to_hub settings (always read) and push or create-repo calls."""
    from tunelint.rules.checks import public_hub_upload as hub

    return {"call": ["*push_to_hub", *hub.CREATE_CALLS]}


def _revision_needs(options: Mapping[str, Any]) -> dict[str, Any]:
    """TL402: model settings and launch lines (always read) and the loader calls it knows."""
    from tunelint.rules.checks import unpinned_hub_revision as revisions

    return {"call": [loader.pattern for loader in revisions.LOADERS]}


def _thermal_needs(options: Mapping[str, Any]) -> dict[str, Any]:
    """TL104: training calls (always read); in the job's files and the project modules they
    import, the watch: NVML or ROCm calls, thermal callbacks (the rule's ``guard_callbacks``),
    ``nvidia-smi`` run from code."""
    from tunelint.rules.checks import no_thermal_guard as thermal

    callbacks = [str(c) for c in options.get("guard_callbacks") or thermal.DEFAULT_CALLBACKS]
    return {
        "any": [
            {"call": [*thermal.NVML_CALLS, *callbacks]},
            {"needles": [{"substring": ["nvidia-smi"]}]},
        ]
    }


def check_needs(name: str, options: Mapping[str, Any] | None = None) -> Any:
    """A check's needs in the ``match`` vocabulary, or None when it declares none."""
    if name in CHECK_NEEDS:
        needs = CHECK_NEEDS[name]
        if isinstance(needs, str):
            try:
                return globals()[needs](options or {})
            except Exception:  # the check changed shape: parse everything rather than guess
                return None
        return needs
    try:
        from tunelint.rules.checks import get_check

        return getattr(get_check(name), "prefilter_match", None)
    except Exception:  # an unloadable check fails later, with its own diagnostic
        return None


def _always(builder: _Builder) -> None:
    """Facts read whatever the rules: settings, jobs, destinations, suppressions."""
    from tunelint.project.destinations import (
        DESTINATION_ENV,
        HUB_CALLS,
        REGION_KEYS,
        STORAGE_URI,
        TRACKING_CALLS,
    )
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
    # training (jobs.file_trains) and config references (jobs._closure)
    for clause in TRAINING:
        builder.add(kinds, clause)
    builder.add(kinds, CONFIG_REFERENCE)
    # destinations
    for glob in (*TRACKING_CALLS, *HUB_CALLS):
        named = name_clause(glob)
        if named is not None:
            builder.add(kinds, named)
    for name in sorted({*REGION_KEYS, *DESTINATION_ENV}):
        builder.add(kinds, ((token(name),),))
    builder.add(kinds, ((sub("://"),), _schemes(STORAGE_URI)))


def _schemes(uri: re.Pattern[str]) -> Group:
    """``s3://``, ``gs://``, ... out of the storage-URI pattern; ``://`` if it changes shape."""
    head, separator, _ = uri.pattern.partition("://")
    names = head.lstrip("^").removeprefix("(").removesuffix(")").split("|")
    if separator and all(name.isalnum() for name in names):
        return tuple(Needle(name.lower().encode() + b"://", "folded") for name in names)
    return (sub("://"),)


def build(rules: Sequence[RuleMeta]) -> Prefilter:
    """Needles for these (enabled) rules."""
    builder = _Builder()
    _always(builder)
    for rule in rules:
        needs: Any = rule.match
        origin = f"rule {rule.id}"
        if needs is None and rule.check is not None:
            needs = check_needs(rule.check, rule.options)
            origin = f"rule {rule.id} (check {rule.check})"
            if needs is None:
                builder.block(FILTERED_KINDS, f"{origin} declares no prefilter needs")
                continue
        if needs is not None:
            _walk(needs, FILTERED_KINDS, origin, builder)
    return builder.build()


# -- the oracle the tests and the benchmark hold the prefilter to ---------------------------


def relevant(facts: FileFacts, rules: Sequence[RuleMeta]) -> list[str]:
    """What in these facts something reads (empty: skipping the file loses nothing).

    Computed from real facts, independently of the needles, so that tests can check that
    every file with a relevant fact passes the prefilter. Diagnostics do not count.
    """
    from fnmatch import fnmatchcase

    from tunelint.project.destinations import find_destinations
    from tunelint.project.jobs import file_trains

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
        if rule.match is None and rule.check is not None:
            reasons.extend(f"{rule.id}: fires" for _ in _check_hits(rule, facts))
            continue
        for leaf in _leaves(rule.match):
            if facts.kind not in _kinds(leaf, FILTERED_KINDS):
                continue
            if "call" in leaf:
                globs = _as_list(leaf["call"])
                named = [g for g in globs if glob_pieces(g)]
                keywords = _where_keywords(leaf.get("where")) or set()
                for call in facts.calls:
                    if any(fnmatchcase(call.name, g) for g in named) or (
                        len(named) < len(globs) and any(k in keywords for k, _ in call.kwargs)
                    ):
                        reasons.append(f"{rule.id}: call {call.name}")
            elif "assignment" in leaf:
                targets = _as_list(leaf["assignment"])
                for assignment in facts.assignments:
                    if any(fnmatchcase(assignment.target, t) for t in targets):
                        reasons.append(f"{rule.id}: assignment {assignment.target}")
    return reasons


def _check_hits(rule: RuleMeta, facts: FileFacts) -> list[object]:
    """The hits of a Python check on this one file, with no policy and no jobs."""
    from tunelint.rules.checks import CheckContext, get_check
    from tunelint.rules.match import Matcher

    matcher = Matcher(policy=lambda dotted: None)
    context = CheckContext(rule, {facts.path: facts}, [], matcher, dict(rule.options))
    return list(get_check(str(rule.check))(context))


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


__all__ = [
    "CHECK_NEEDS",
    "PASS_ALL",
    "Needle",
    "Needles",
    "Prefilter",
    "build",
    "check_needs",
    "glob_pieces",
    "name_clause",
    "relevant",
]
