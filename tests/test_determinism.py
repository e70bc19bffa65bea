"""Determinism and concurrency: the same input gives the same bytes, however it is run.

Serial and parallel runs, repeated runs, paths in another order, cold and warm caches all
give byte-identical reports. Two processes sharing one ``.tunelint_cache`` never corrupt
it, and a truncated or tampered entry is detected, ignored and rebuilt.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tunelint.api import Options, lint
from tunelint.discover import discover
from tunelint.extract import parallel
from tunelint.extract.cache import CACHE_DIR
from tunelint.extract.parallel import Extraction, extract_files
from tunelint.extract.run_cache import ENTRY
from tunelint.report import formats, render

REPO = Path(__file__).resolve().parents[1]
FORMAT_OPTIONS: dict[str, dict[str, object]] = {"text": {"color": False}}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Files of every kind; small, so the parallel path is forced on for it."""
    monkeypatch.setenv("TUNELINT_CACHE_KEY_FILE", str(tmp_path / "cache-key"))
    monkeypatch.delenv("TUNELINT_NO_CACHE", raising=False)
    # next to the project, where these tests look at its entries (the child processes too)
    monkeypatch.setenv("TUNELINT_CACHE_DIR", CACHE_DIR)
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    root = tmp_path / "project"
    shutil.copytree(REPO / "tests" / "fixtures" / "sources", root / "sources")
    shutil.copytree(REPO / "examples" / "risky", root / "risky")
    for rule in ("TL204", "TL401"):
        shutil.copytree(REPO / "tests" / "fixtures" / "rules" / rule, root / rule)
    return root


def run(root: Path, *, jobs: int = 1, cache: bool = False, paths: list[str] | None = None) -> str:
    report = lint(paths or ["."], Options(cwd=root, use_cache=cache, jobs=jobs))
    return "\n".join(render(report, fmt, **FORMAT_OPTIONS.get(fmt, {})) for fmt in formats())


def extraction(root: Path, *, jobs: int = 1, cache: bool = True) -> Extraction:
    files = discover(["."], root=root, cwd=root).files
    where = root / CACHE_DIR if cache else None
    return extract_files(files, 5_000_000, jobs=jobs, cache_dir=where)


def test_the_project_is_big_enough_to_go_parallel(project: Path) -> None:
    fanned = extraction(project, jobs=2, cache=False)
    assert fanned.stats.workers == 2, fanned.stats
    assert fanned.stats.parsed >= 4


def test_parallel_runs_report_exactly_what_serial_runs_do(project: Path) -> None:
    serial = run(project, jobs=1)
    assert serial == run(project, jobs=2)
    assert serial == run(project, jobs=4)
    assert serial == run(project, jobs=1), "the same input twice, different bytes"


def test_the_order_of_the_paths_does_not_matter(project: Path) -> None:
    """Findings, diagnostics and files in one order; the checklist names the paths as given."""
    names = sorted(p.name for p in project.iterdir())
    options = Options(cwd=project, use_cache=False, jobs=1)
    forward = lint(names, options)
    backward = lint(list(reversed(names)), options)
    for fmt in ("json", "sarif", "github", "text"):
        extra = FORMAT_OPTIONS.get(fmt, {})
        assert render(forward, fmt, **extra) == render(backward, fmt, **extra), fmt


def test_cold_and_warm_caches_report_the_same(project: Path) -> None:
    uncached = run(project)
    cold = run(project, cache=True)
    warm = run(project, cache=True, jobs=2)
    assert uncached == cold == warm
    extraction(project)  # every file, also those the rules' prefilter skips
    again = extraction(project)
    assert again.stats.parsed == 0 and again.stats.cache.hits == again.stats.files
    assert again.stats.cache.rejected == 0


def cli(root: Path, *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "tunelint", "check", "--format", "json", "--exit-zero"]
    return subprocess.Popen(
        [*command, *args, "."],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )


def test_two_processes_sharing_one_cache_never_corrupt_it(project: Path) -> None:
    baseline = cli(project, "--no-cache").communicate(timeout=120)[0]
    assert json.loads(baseline)["findings"]
    for round_ in range(3):
        runs = [cli(project, "--jobs", str(jobs)) for jobs in (1, 2, 1, 2)]
        outputs = [process.communicate(timeout=120) for process in runs]
        for process, (out, err) in zip(runs, outputs, strict=True):
            assert process.returncode == 0, err
            assert out == baseline, f"round {round_}: a shared cache changed the report"
    written = len(entries(project))
    check = extraction(project)
    assert check.stats.cache.rejected == 0, "an entry was left broken"
    assert check.stats.cache.hits == written > 0
    assert not list((project / CACHE_DIR).rglob(".tmp-*")), "a temporary file was left"


def entries(root: Path) -> list[Path]:
    return sorted(
        path
        for path in (root / CACHE_DIR).rglob("*")
        if path.is_file() and len(path.name) == 64 and not path.name.startswith(".")
    )


def tamper(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "flip":
        middle = len(data) // 2
        path.write_bytes(data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :])
    elif how == "header":
        path.write_bytes(b"X" + data[1:])
    elif how == "swap":  # a valid entry of another file under this key
        others = [p for p in entries(path.parents[3]) if p != path]
        path.write_bytes(others[0].read_bytes())
    else:
        path.write_bytes(b"\x80\x04garbage")


DAMAGE = ["truncate", "empty", "flip", "header", "swap", "garbage"]


def test_damaged_entries_are_detected_and_rebuilt(project: Path) -> None:
    expected = run(project)
    assert run(project, cache=True) == expected
    damaged = entries(project)
    assert len(damaged) >= len(DAMAGE)
    for index, path in enumerate(damaged):
        tamper(path, DAMAGE[index % len(DAMAGE)])
    # the last run's results are damaged too, or the next run would reuse them and never
    # read the facts entries
    (last_run,) = (project / CACHE_DIR).rglob(ENTRY)
    tamper(last_run, "flip")
    assert run(project, cache=True) == expected
    assert run(project, cache=True, jobs=2) == expected
    rebuilt = extraction(project)
    assert rebuilt.stats.cache.rejected == 0
    assert rebuilt.stats.cache.hits == len(damaged)
