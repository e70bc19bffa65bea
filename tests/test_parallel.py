"""Parallel extraction: the same report as a serial run; a crashing worker loses no file."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tunelint.api import Options, lint
from tunelint.discover import SourceFile, discover
from tunelint.extract import parallel
from tunelint.extract.parallel import extract_files, worker_count
from tunelint.facts import FileFacts, FileKind
from tunelint.report import render
from tunelint.rules.loader import load_rules
from tunelint.rules.needs import prefilter_for as build
from tunelint.sources.read import decode, read_bytes, read_text

sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))

from gen_corpus import generate


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    generate(root, projects=8, seed=11)
    (root / "tunelint.yaml").write_text("version: 1\n")
    return root


def _report(root: Path, jobs: int) -> str:
    options = Options(cwd=root, jobs=jobs, use_cache=False)
    return render(lint(["."], options), "json")


def test_parallel_report_equals_serial(corpus: Path) -> None:
    serial = _report(corpus, 1)
    assert '"rule_id": "TL401"' in serial or "TL401" in serial
    assert _report(corpus, 2) == serial
    assert _report(corpus, 3) == serial


def test_parallel_really_runs_in_workers(corpus: Path) -> None:
    files = discover(["."], root=corpus, cwd=corpus).files
    serial = extract_files(files, 5_000_000, jobs=1)
    fanned = extract_files(files, 5_000_000, jobs=2)
    assert serial.stats.workers == 1 and fanned.stats.workers == 2
    assert list(fanned.facts) == list(serial.facts) == [f.path for f in files]
    assert fanned.facts == serial.facts


def test_prefiltered_files_are_the_same_either_way(corpus: Path) -> None:
    files = discover(["."], root=corpus, cwd=corpus).files
    prefilter = build(load_rules())
    serial = extract_files(files, 5_000_000, jobs=1, prefilter=prefilter)
    fanned = extract_files(files, 5_000_000, jobs=2, prefilter=prefilter)
    assert fanned.facts == serial.facts
    assert fanned.stats.prefiltered == serial.stats.prefiltered > 0
    assert [p for p, f in serial.facts.items() if f.prefiltered]


def test_few_files_stay_in_process(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("import torch\nx = torch.load('a')\n")
    files = discover(["."], root=tmp_path, cwd=tmp_path).files
    run = extract_files(files, 100_000, jobs=4)
    assert run.stats.workers == 1
    assert run.facts["a.py"].calls


def _crash_on(path: str) -> object:
    original = parallel.parse

    def parse(name: str, kind: FileKind, text: str) -> FileFacts:
        if name == path:
            os._exit(3)  # the worker dies without a word, as on a native crash
        return original(name, kind, text)

    return parse


def test_a_worker_crash_becomes_a_diagnostic(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = discover(["."], root=corpus, cwd=corpus).files
    serial = extract_files(files, 5_000_000, jobs=1)
    victim = next(f.path for f in files if f.path.endswith("/prepare_data.py"))
    monkeypatch.setattr(parallel, "parse", _crash_on(victim))
    run = extract_files(files, 5_000_000, jobs=2)
    assert run.stats.crashed == 1
    assert list(run.facts) == list(serial.facts)
    crashed = run.facts[victim]
    assert [d.code for d in crashed.diagnostics] == ["internal-error"]
    assert "worker process" in crashed.diagnostics[0].message
    for path, facts in serial.facts.items():
        if path != victim:
            assert run.facts[path] == facts, path


def test_an_exception_in_a_source_becomes_a_diagnostic(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tunelint import sources

    original = sources.extractor

    def extractor(kind: FileKind) -> object:
        if kind is FileKind.JSON:

            def broken(text: str, path: str) -> FileFacts:
                raise ValueError("broken source")

            return broken
        return original(kind)

    monkeypatch.setattr(sources, "extractor", extractor)
    files = discover(["."], root=corpus, cwd=corpus).files
    run = extract_files(files, 5_000_000, jobs=2)
    json_files = [f.path for f in files if f.kind is FileKind.JSON]
    assert json_files
    for path in json_files:
        diagnostic = run.facts[path].diagnostics[0]
        assert diagnostic.code == "internal-error" and "broken source" in diagnostic.message


@pytest.mark.parametrize(
    "data",
    [
        b"x = 1\n",
        "x = 'caf\u00e9'\n".encode(),
        b"\xef\xbb\xbfx = 1\n",
        "x = 1\n".encode("utf-16"),
        b"\xff\xfe\x00",
        b"x = 1\x00\n",
        b"x = '\xff'\n",
        b"x" * 50,
    ],
)
def test_reading_agrees_with_read_text(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "f.py"
    path.write_bytes(data)
    file = SourceFile("f.py", FileKind.PYTHON, str(path))
    for limit in (10, 1_000):
        expected = read_text(file, limit)
        raw, problem = read_bytes(file, limit)
        got = decode(raw, file.path) if raw is not None else (None, problem)
        assert got == expected


def test_missing_file_agrees_with_read_text(tmp_path: Path) -> None:
    file = SourceFile("gone.py", FileKind.PYTHON, str(tmp_path / "gone.py"))
    assert read_bytes(file, 100) == read_text(file, 100)


def test_worker_count() -> None:
    assert worker_count(3) == 3
    assert worker_count(0) == parallel.cpu_count() >= 1
    assert worker_count(-1) == parallel.cpu_count()
