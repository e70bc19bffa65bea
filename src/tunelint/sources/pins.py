"""Pin files: the dependency versions a project declares, read as text (never installed).

Reads requirements files (``requirements.txt``, ``requirements-dev.txt``, ``*.in``, any
``.txt`` under a ``requirements/`` folder), ``pyproject.toml`` (``[project]`` dependencies
and optional dependencies, PEP 735 ``[dependency-groups]``, poetry's dependency tables) and
``setup.cfg`` (``install_requires``, ``extras_require``) into ``Requirement`` facts. Files a
requirements file includes (``-r other.txt``, ``-c constraints.txt``) become references with
the role ``requirements``. Conda environment files stay YAML and ``setup.py`` stays Python:
the project index reads their facts (``project.pins``).

Why it matters: some risks depend on the library version a project runs (``torch.load``
unpickles by default only before torch 2.6), and the pins say which versions can run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Final

from tunelint.facts import Diagnostic, FileFacts, FileKind, Reference, Requirement, Span, Value

REQUIREMENTS_NAME: Final = re.compile(r"(?:.*[-_.])?requirements(?:[-_.].*)?\.(?:txt|in)", re.I)
REQUIREMENTS_DIRS: Final = frozenset({"requirements", "reqs"})
FIXED_NAMES: Final = frozenset({"pyproject.toml", "setup.cfg"})
# A PEP 508 requirement: name, extras, then the version part (with any marker after ";").
REQUIREMENT: Final = re.compile(
    r"\s*(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*(?P<rest>.*)"
)
INCLUDE: Final = re.compile(r"(?:-r|--requirement|-c|--constraint)(?:\s+|=)(?P<path>\S+)")
HASH_OPTION: Final = re.compile(r"\s--hash[=\s]\S+")
MAX_LINE: Final = 2_000
MAX_REQUIREMENTS: Final = 1_000
QUOTED: Final = re.compile(r'"([^"\\]*)"|\'([^\']*)\'')
TOML_KEY: Final = re.compile(r"\s*[\"']?([A-Za-z0-9._-]+)[\"']?\s*=")


def is_pin_file(name: str, parent: str = "") -> bool:
    """Is a file of this name (in a folder named ``parent``) a pin file this source reads?"""
    lowered = name.lower()
    if lowered in FIXED_NAMES or REQUIREMENTS_NAME.fullmatch(name) is not None:
        return True
    return parent.lower() in REQUIREMENTS_DIRS and lowered.endswith((".txt", ".in"))


def normalise(name: str) -> str:
    """A distribution name as PEP 503 compares them (``Torch_Vision`` -> ``torch-vision``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_requirement(text: str) -> tuple[str, str, str] | None:
    """``(name, specifier, marker)`` of one PEP 508 requirement string, or None."""
    if len(text) > MAX_LINE:
        return None
    found = REQUIREMENT.fullmatch(text.strip())
    if found is None:
        return None
    rest, _, marker = found.group("rest").partition(";")
    specifier = rest.strip().strip("()").strip()
    if specifier and not specifier.startswith(("=", "<", ">", "!", "~", "@", "^")):
        return None  # not a requirement (prose, a path, an option)
    return normalise(found.group("name")), specifier, marker.strip()


def extract_pins(text: str, path: str) -> FileFacts:
    """Facts of one pin file, chosen by its name."""
    facts = FileFacts(path, FileKind.PINS, lines=tuple(text.splitlines()))
    name = path.rsplit("/", 1)[-1].lower()
    if name == "pyproject.toml":
        _pyproject(text, facts)
    elif name == "setup.cfg":
        _setup_cfg(text, facts)
    else:
        _requirements(text, facts)
    return facts


# -- requirements files -------------------------------------------------------------------


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, text) with ``\\`` continuations joined and comments removed."""
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = re.sub(r"(^|\s)#.*", "", raw[:MAX_LINE])
        if not pending:
            start = number
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        pending.append(line)
        yield start, " ".join(pending).strip()
        pending = []
    if pending:
        yield start, " ".join(pending).strip()


def _requirements(text: str, facts: FileFacts) -> None:
    for number, line in _logical_lines(text):
        if not line:
            continue
        span = Span(facts.path, number, 1, number, len(line))
        include = INCLUDE.match(line)
        if include is not None:
            target = include.group("path")
            key = "-c" if include.group(0).startswith(("-c", "--constraint")) else "-r"
            facts.references.append(
                Reference(Value(target, span, text=target), "requirements", key)
            )
            continue
        if line.startswith("-"):
            continue  # -e, --index-url, -f: no version of a named distribution
        parsed = parse_requirement(HASH_OPTION.sub("", " " + line).strip())
        if parsed is not None and not _append(facts, Requirement(*parsed[:2], span, parsed[2])):
            return


# -- pyproject.toml and setup.cfg ---------------------------------------------------------


def _line_index(lines: tuple[str, ...]) -> dict[str, int]:
    """Where each requirement-like text first appears, built in one pass: TOML and INI
    parsers give no positions. Keys are stripped lines, the text after a line's first ``=``
    (``dev = pytest>=8``), quoted strings, and TOML keys (as ``key=``)."""
    index: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        texts = [stripped, stripped.partition("=")[2].strip()]
        texts += [a or b for a, b in QUOTED.findall(line)]
        key = TOML_KEY.match(line)
        if key is not None:
            texts.append(key.group(1) + "=")
        for text in texts:
            index.setdefault(text, number)
    return index


def _append(facts: FileFacts, requirement: Requirement) -> bool:
    """Add one requirement; False once the file holds ``MAX_REQUIREMENTS`` (a diagnostic)."""
    if len(facts.requirements) >= MAX_REQUIREMENTS:
        message = f"more than {MAX_REQUIREMENTS} requirements: the rest are not read"
        facts.diagnostics.append(Diagnostic(facts.path, "limit", message))
        return False
    facts.requirements.append(requirement)
    return True


def _span(facts: FileFacts, line: int) -> Span:
    return Span(facts.path, line, 1, line, len(facts.line_text(Span(facts.path, line))))


def _add(facts: FileFacts, texts: Iterable[object], index: dict[str, int]) -> bool:
    for text in texts:
        parsed = parse_requirement(text) if isinstance(text, str) else None
        if parsed is None or not isinstance(text, str):
            continue
        span = _span(facts, index.get(text.strip(), 1))
        if not _append(facts, Requirement(parsed[0], parsed[1], span, parsed[2])):
            return False
    return True


def _table(data: object, *keys: str) -> Mapping[str, object]:
    for key in keys:
        data = data.get(key) if isinstance(data, Mapping) else None
    return data if isinstance(data, Mapping) else {}


def _pyproject(text: str, facts: FileFacts) -> None:
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        facts.diagnostics.append(Diagnostic(facts.path, "parse-error", f"invalid TOML: {error}"))
        return
    index = _line_index(facts.lines)
    project = _table(data, "project")
    groups: list[object] = [project.get("dependencies")]
    groups += [*_table(project, "optional-dependencies").values()]
    groups += [*_table(data, "dependency-groups").values()]
    for items in groups:
        if not _add(facts, items if isinstance(items, list) else (), index):
            return
    poetry = _table(data, "tool", "poetry")
    tables = [_table(poetry, "dependencies"), _table(poetry, "dev-dependencies")]
    tables += [_table(g, "dependencies") for g in _table(poetry, "group").values()]
    for table in tables:
        if not _poetry(facts, table, index):
            return


def _poetry(facts: FileFacts, table: Mapping[str, object], index: dict[str, int]) -> bool:
    """``torch = "^2.5"`` or ``torch = {version = ">=2.6", ...}``; a bare version is exact."""
    for name, spec in table.items():
        if isinstance(spec, Mapping):
            spec = spec.get("version", "")
        if not isinstance(spec, str) or name.lower() == "python":
            continue
        version = spec.strip()
        if version and version[0].isdigit():
            version = "==" + version
        if version == "*":
            version = ""
        span = _span(facts, index.get(name + "=", 1))
        if not _append(facts, Requirement(normalise(name), version, span)):
            return False
    return True


def _setup_cfg(text: str, facts: FileFacts) -> None:
    import configparser

    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error as error:
        message = f"invalid setup.cfg: {type(error).__name__}"
        facts.diagnostics.append(Diagnostic(facts.path, "parse-error", message))
        return
    values: list[str] = []
    if parser.has_option("options", "install_requires"):
        values.append(parser.get("options", "install_requires"))
    if parser.has_section("options.extras_require"):
        values.extend(value for _, value in parser.items("options.extras_require"))
    index = _line_index(facts.lines)
    for value in values:
        if not _add(facts, (line for line in value.splitlines() if line.strip()), index):
            return
