"""The per-file stage: read, prefilter, cache, parse; across processes when it pays.

Two phases. The first runs here and is cheap: read each file once (``sources.read``), drop
files the prefilter says cannot matter, and take facts from the cache. The second parses what
is left, in this process when it is little, else in a ``ProcessPoolExecutor`` fed with
size-balanced chunks. Workers write their own cache entries. Results come back in the order
of the input, whatever the scheduling, so a parallel run reports exactly what a serial run
does.

A worker that dies (a crash in a native parser, the OOM killer) breaks the pool. The files of
the chunks that did not come back are retried one at a time in a single-worker pool; the
file that breaks that pool is reported with an ``internal-error`` diagnostic, and the rest
carry on. No file is ever lost.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

from tunelint import sources
from tunelint.discover import SourceFile
from tunelint.extract.cache import CacheStats, FactsCache
from tunelint.extract.prefilter import PASS_ALL, Prefilter
from tunelint.facts import Diagnostic, FileFacts, FileKind
from tunelint.sources import parse
from tunelint.sources.read import decode, read_bytes

if TYPE_CHECKING:
    from concurrent.futures import Future
    from multiprocessing.context import BaseContext

    from tunelint.sources.config_limits import ConfigLimits

# Below this much text to parse, starting worker processes costs more than it saves
# (measured on 2 cores; see docs/performance.md).
PARALLEL_MIN_BYTES: Final = 24_000
PARALLEL_MIN_FILES: Final = 4
CHUNKS_PER_WORKER: Final = 4


# (stage, done, total): how far a long run has come, for a progress display.
Progress = Callable[[str, int, int], None]


@dataclass(slots=True)
class Stats:
    """What the stage did, for the benchmark and for tests."""

    files: int = 0
    prefiltered: int = 0
    parsed: int = 0
    parsed_bytes: int = 0
    unread: int = 0
    crashed: int = 0
    workers: int = 1
    cache: CacheStats = field(default_factory=CacheStats)
    seconds: float = 0.0


@dataclass(slots=True)
class Extraction:
    facts: dict[str, FileFacts]
    stats: Stats


@dataclass(frozen=True, slots=True)
class _Task:
    """One file to parse: everything a worker needs, so it never reads the file again."""

    path: str
    kind: FileKind
    text: str
    key: str | None
    limits: ConfigLimits | None = None


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def worker_count(jobs: int) -> int:
    """``--jobs``: 0 (or less) means every core available to this process."""
    return cpu_count() if jobs <= 0 else jobs


# -- phase 1: read, decode, prefilter, cache ------------------------------------------------


def _compiles(file: SourceFile, text: str) -> bool:
    """Python's own parser accepts the file (anything else: True).

    A file the prefilter would skip is still syntax-checked, far more cheaply than by the
    full parse (docs/performance.md), so a syntax error anywhere fails the run as in ruff.
    One that does not compile is parsed in full, and the full parse decides and reports.
    Nothing is run: only the syntax tree is built.
    """
    if file.kind is not FileKind.PYTHON:
        return True
    import ast
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the checked file's SyntaxWarnings are not ours
        try:
            ast.parse(text, filename=file.path)
        except Exception:  # SyntaxError, ValueError (NUL), RecursionError, MemoryError
            return False
    return True


def _skipped(file: SourceFile, text: str) -> FileFacts:
    """Empty facts for a prefiltered file; line 1 kept for a rule that fires on absence."""
    lines = tuple(text.partition("\n")[0].splitlines()[:1]) if file.kind is FileKind.PYTHON else ()
    return FileFacts(file.path, file.kind, lines=lines, prefiltered=True)


# -- phase 2: parse ---------------------------------------------------------------------------


def _parse_chunk(
    tasks: Sequence[_Task], cache: FactsCache | None, progress: Progress | None = None
) -> tuple[list[FileFacts], CacheStats]:
    """In this process: parse each task and store what is worth keeping."""
    if cache is not None:
        cache.stats = CacheStats()
    results = []
    for number, task in enumerate(tasks, start=1):
        if progress is not None:
            progress("parsing", number - 1, len(tasks))
        facts = _parse_task(task)
        if cache is not None and task.key is not None and _cacheable(facts):
            # an entry that cannot be written is only a miss next time
            with contextlib.suppress(Exception):
                cache.put(task.key, facts)
        results.append(facts)
    return results, cache.stats if cache is not None else CacheStats()


def _parse_remote(
    tasks: Sequence[_Task], cache: FactsCache | None
) -> tuple[list[bytes], CacheStats]:
    """In a worker: parse each task; send back the same bytes the cache stores."""
    from tunelint.extract.cache import dumps

    if cache is not None:
        cache.stats = CacheStats()
    results = []
    for task in tasks:
        facts = _parse_task(task)
        payload = dumps(facts)
        if cache is not None and task.key is not None and _cacheable(facts):
            with contextlib.suppress(Exception):
                cache.put(task.key, facts, payload)
        results.append(payload)
    return results, cache.stats if cache is not None else CacheStats()


def _parse_task(task: _Task) -> FileFacts:
    if task.limits is None:
        return parse(task.path, task.kind, task.text)
    return parse(task.path, task.kind, task.text, task.limits)


def _cacheable(facts: FileFacts) -> bool:
    return not any(d.code in {"internal-error", "too-deep"} for d in facts.diagnostics)


def _crashed(task: _Task, detail: str) -> FileFacts:
    message = f"internal error: the worker process reading this file died ({detail})"
    diagnostic = Diagnostic(task.path, "internal-error", message)
    return FileFacts(task.path, task.kind, diagnostics=[diagnostic])


def _preload(kinds: Iterable[FileKind]) -> None:
    """Import the sources before forking: workers share them instead of each importing."""
    for kind in kinds:
        sources.extractor(kind)


def _chunks(tasks: Sequence[_Task], count: int) -> list[list[_Task]]:
    """Greedy size balancing: biggest file first into the lightest chunk."""
    bins: list[list[_Task]] = [[] for _ in range(max(1, min(count, len(tasks))))]
    loads = [0] * len(bins)
    for task in sorted(tasks, key=lambda t: (-len(t.text), t.path)):
        lightest = loads.index(min(loads))
        bins[lightest].append(task)
        loads[lightest] += len(task.text) + 1
    return [chunk for chunk in bins if chunk]


def _context() -> BaseContext:
    """``fork`` where it is safe (Linux, one thread): workers start in milliseconds."""
    import multiprocessing
    import threading

    if sys.platform == "linux" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def _run_pool(
    chunks: Sequence[Sequence[_Task]],
    workers: int,
    cache: FactsCache | None,
    done: dict[str, FileFacts],
    stats: Stats,
    progress: Progress | None = None,
) -> list[_Task]:
    """Run the chunks; returns the tasks whose results were lost to a broken pool."""
    from concurrent.futures import ProcessPoolExecutor

    from tunelint.extract.cache import loads

    lost: list[_Task] = []
    context = _context()
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures: list[tuple[Future[tuple[list[bytes], CacheStats]], Sequence[_Task]]] = [
            (pool.submit(_parse_remote, chunk, cache), chunk) for chunk in chunks
        ]
        for future, chunk in futures:
            try:
                payloads, cache_stats = future.result()
                results = [loads(payload) for payload in payloads]
            except Exception:  # BrokenProcessPool, or a result that could not come back
                lost.extend(chunk)
                continue
            stats.cache.add(cache_stats)
            for facts in results:
                done[facts.path] = facts
            if progress is not None:
                progress("parsing", len(done), sum(len(chunk) for chunk in chunks))
    return lost


def _isolate(
    tasks: Sequence[_Task], cache: FactsCache | None, done: dict[str, FileFacts], stats: Stats
) -> None:
    """One worker, one file per call, in order: the first lost task is the culprit."""
    pending = list(tasks)
    while pending:
        lost = _run_pool([[task] for task in pending], 1, cache, done, stats)
        if not lost:
            return
        culprit = lost[0]
        done[culprit.path] = _crashed(culprit, "it crashed or was killed")
        stats.crashed += 1
        pending = lost[1:]


def parse_all(
    tasks: Sequence[_Task],
    workers: int,
    cache: FactsCache | None,
    stats: Stats,
    progress: Progress | None = None,
) -> dict[str, FileFacts]:
    done: dict[str, FileFacts] = {}
    size = sum(len(task.text) for task in tasks)
    parallel = workers > 1 and len(tasks) >= PARALLEL_MIN_FILES and size >= PARALLEL_MIN_BYTES
    if not parallel:
        results, cache_stats = _parse_chunk(tasks, cache, progress)
        stats.cache.add(cache_stats)
        stats.workers = 1
        return {facts.path: facts for facts in results}
    stats.workers = workers
    _preload({task.kind for task in tasks})
    chunks = _chunks(tasks, workers * CHUNKS_PER_WORKER)
    try:
        lost = _run_pool(chunks, workers, cache, done, stats, progress)
    except (OSError, RuntimeError):  # no processes here (sandbox, limits): do it in-process
        results, cache_stats = _parse_chunk([t for t in tasks if t.path not in done], cache)
        stats.cache.add(cache_stats)
        stats.workers = 1
        done.update((facts.path, facts) for facts in results)
        return done
    if lost:
        _isolate(lost, cache, done, stats)
    return done


# -- the stage ---------------------------------------------------------------------------------


def extract_files(
    files: Sequence[SourceFile],
    max_bytes: int,
    *,
    jobs: int = 1,
    prefilter: Prefilter = PASS_ALL,
    cache_dir: Path | None = None,
    open_cache: Callable[[Path], FactsCache | None] = FactsCache.open,
    limits: ConfigLimits | None = None,
    progress: Progress | None = None,
) -> Extraction:
    """Facts for every file, keyed by its displayed path, in the order given.

    ``cache_dir``: the cache directory (``.tunelint_cache``), None for no cache.
    ``limits``: the config source's bounds (default ones when None); part of the cache key.
    """
    started = time.perf_counter()
    stats = Stats(files=len(files))
    found: dict[str, FileFacts] = {}
    tasks: list[_Task] = []
    cache: FactsCache | None = None
    cache_tried = False
    own_limits = limits if limits is not None and limits != _default_limits() else None
    # Python files last: the others name the scripts that must be parsed whatever they hold.
    launched: set[str] = set()
    ordered = [f for f in files if f.kind is not FileKind.PYTHON]
    ordered += [f for f in files if f.kind is FileKind.PYTHON]
    for number, file in enumerate(ordered):
        if progress is not None:
            progress("reading", number, len(ordered))
        data, problem = read_bytes(file, max_bytes)
        text = None
        if data is not None:
            text, problem = decode(data, file.path)
        if text is None or data is None:
            assert problem is not None
            found[file.path] = FileFacts(file.path, file.kind, diagnostics=[problem])
            stats.unread += 1
            continue
        if file.kind is not FileKind.PYTHON:
            launched |= prefilter.named_scripts(data)
        named = file.kind is FileKind.PYTHON and file.path.rsplit("/", 1)[-1] in launched
        if not named and not prefilter.wanted(file.kind, data) and _compiles(file, text):
            found[file.path] = _skipped(file, text)
            stats.prefiltered += 1
            continue
        if cache_dir is not None and not cache_tried:
            cache_tried = True
            cache = open_cache(cache_dir)
        key = None
        if cache is not None:
            key = cache.key(file.path, file.kind, data)
            if own_limits is not None:
                key = hashlib.sha256(f"{key}\0{own_limits!r}".encode()).hexdigest()
            hit = cache.get(key, file.path, file.kind)
            if hit is not None:
                found[file.path] = hit
                continue
        tasks.append(_Task(file.path, file.kind, text, key, own_limits))
    if cache is not None:
        stats.cache.add(cache.stats)
    stats.parsed = len(tasks)
    stats.parsed_bytes = sum(len(task.text) for task in tasks)
    found.update(parse_all(tasks, worker_count(jobs), cache, stats, progress))
    stats.seconds = time.perf_counter() - started
    return Extraction({file.path: found[file.path] for file in _unique(files)}, stats)


def _default_limits() -> ConfigLimits:
    from tunelint.sources.config_limits import ConfigLimits

    return ConfigLimits()


def _unique(files: Iterable[SourceFile]) -> list[SourceFile]:
    seen: dict[str, SourceFile] = {}
    for file in files:
        seen.setdefault(file.path, file)
    return list(seen.values())


__all__ = ["Extraction", "Stats", "extract_files", "parse", "worker_count"]
