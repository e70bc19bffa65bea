"""tunelint's speed, measured against Bandit and Semgrep on the same files.

    python bench/run.py                # everything, about 6-9 minutes on 2 cores
    python bench/run.py --quick        # fewer repetitions, smaller scaling series, no stdlib
    python bench/run.py --json out.json
    python bench/run.py --floor ~/src/corpus   # only extraction / libcst parse floor

Every tool runs as a subprocess, process start included. Times are medians over ``--runs``
repetitions (wall clock; CPU time of the process tree alongside); every ratio in the table is
taken between figures measured in this same run. Corpora:

* ``corpus``: ``bench/gen_corpus.py`` (fine-tuning projects plus ordinary library code),
  written to a temporary directory;
* ``stdlib``: the running interpreter's standard library (``*.py`` under
  ``sysconfig.get_paths()["stdlib"]``, site-packages left out), copied to a temporary
  directory so that no cache is written next to the interpreter.

``--floor PATH`` measures only the Python source: its extraction of every ``.py`` file under
PATH and under the stdlib against ``libcst.parse_module`` of the same texts (the parse floor),
in-process CPU time, min and median of ``--runs``.

Exits 1 when the findings of ``--jobs 1`` and of the parallel run differ (or those of a
cached run differ from an uncached one), 2 when a tool is missing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gen_corpus import generate  # noqa: E402

BIN = Path(sys.executable).parent
SEMGREP_RULES = HERE / "semgrep-rules.yaml"
POLICY = "version: 1\n"
# Extra environment for every tunelint run (set in main: the snapshot's PYTHONPATH).
TUNELINT_ENV: dict[str, str] = {}


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_mb: float
    code: int


@dataclass
class Figure:
    name: str
    samples: list[Sample] = field(default_factory=list)
    note: str = ""

    @property
    def wall(self) -> float:
        return statistics.median(s.wall for s in self.samples) if self.samples else float("nan")

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples) if self.samples else float("nan")

    @property
    def rss(self) -> float:
        return max(s.rss_mb for s in self.samples) if self.samples else float("nan")


def measure(command: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> Sample:
    """Run one command; wall time, CPU time and the largest resident set of its process tree."""
    started = time.perf_counter()
    extra = TUNELINT_ENV if Path(command[0]).name == "tunelint" else {}
    process = subprocess.Popen(
        list(command),
        cwd=cwd,
        env={**os.environ, **extra, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    code = process.returncode
    if code not in (0, 1):
        sys.stderr.write(f"bench: {command[0]} exited {code}:\n{errors.decode(errors='replace')}\n")
    # ru_maxrss is in KiB on Linux: the largest process of the tree, not their sum
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, code)


def repeat(
    name: str,
    runs: int,
    command: Sequence[str],
    cwd: Path,
    before: Callable[[], None] = lambda: None,
    env: dict[str, str] | None = None,
    note: str = "",
) -> Figure:
    figure = Figure(name, note=note)
    for _ in range(runs):
        before()
        figure.samples.append(measure(command, cwd, env))
    return figure


def tunelint(*arguments: str) -> list[str]:
    return [str(BIN / "tunelint"), "check", *arguments, "--exit-zero"]


def snapshot(work: Path) -> dict[str, str]:
    """Run tunelint from a copy of its sources.

    The cache keys its entries by a hash of tunelint's code, so a checkout that changes while
    the benchmark runs (an editor saving, a pull) would turn warm runs into cold ones.
    """
    import tunelint

    package = Path(tunelint.__file__).resolve().parent
    root = work / "snapshot"
    shutil.copytree(
        package, root / "src" / "tunelint", ignore=shutil.ignore_patterns("__pycache__")
    )
    rules = package.parents[1] / "rules"  # a checkout; a wheel carries tunelint/_rules
    if rules.is_dir():
        shutil.copytree(rules, root / "rules")
    env = {"PYTHONPATH": str(root / "src")}
    subprocess.run([str(BIN / "tunelint"), "rules"], env={**os.environ, **env}, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    return env


def findings_of(report: Path) -> list[tuple[object, ...]]:
    data = json.loads(report.read_text())
    return [
        (f["path"], f["cell"], f["line"], f["column"], f["rule_id"], f["message"])
        for f in data["findings"]
    ]


def python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if ".tunelint_cache" not in p.parts)


# -- the floor ----------------------------------------------------------------------------------


def parse_floor(root: Path, cores: int) -> tuple[float, int, int]:
    """libcst parse time of the files the prefilter lets through, divided by the cores.

    The files are parsed on ``cores`` processes; the sum of their parse times (each timed
    inside its worker) divided by the cores is the floor: what any libcst-based checker that
    parses those files has to spend, with nothing else done.
    """
    from concurrent.futures import ProcessPoolExecutor

    from tunelint.discover import discover
    from tunelint.facts import FileKind
    from tunelint.rules.loader import load_rules
    from tunelint.rules.needs import prefilter_for as build

    prefilter = build(load_rules())
    files = discover(["."], root=root, cwd=root).files
    launched: set[str] = set()
    for file in files:
        if file.kind is not FileKind.PYTHON:
            launched |= prefilter.named_scripts(Path(file.absolute).read_bytes())
    chosen = []
    size = 0
    for file in files:
        if file.kind not in {FileKind.PYTHON, FileKind.NOTEBOOK}:
            continue
        data = Path(file.absolute).read_bytes()
        named = file.kind is FileKind.PYTHON and Path(file.path).name in launched
        if named or prefilter.wanted(file.kind, data):
            chosen.append((file.absolute, file.kind is FileKind.NOTEBOOK))
            size += len(data)
    with ProcessPoolExecutor(max_workers=cores) as pool:
        total = sum(pool.map(_parse_time, chosen, chunksize=8))
    return total / cores, len(chosen), size


def _parse_time(item: tuple[str, bool]) -> float:
    import libcst

    path, notebook = item
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        return 0.0
    total = 0.0
    for source in _notebook_code(text) if notebook else [text]:
        started = time.perf_counter()
        with contextlib.suppress(Exception):  # a syntax error still took parse time
            libcst.parse_module(source)
        total += time.perf_counter() - started
    return total


def extraction_floor(root: Path, runs: int) -> dict[str, float]:
    """The Python source's time on every ``.py`` file under ``root`` against the floor:
    ``libcst.parse_module`` of the same texts.

    Both in this one process, as CPU time; each repetition times the parse, then the
    extraction, so that other load on the machine falls on both. Figures are min and median.
    """
    import gc

    import libcst

    from tunelint.sources.python import extract_python

    texts = []
    for path in python_files(root):
        if "site-packages" in path.relative_to(root).parts:
            continue
        try:
            texts.append((path.relative_to(root).as_posix(), path.read_bytes().decode("utf-8-sig")))
        except (OSError, UnicodeDecodeError):
            continue

    def parse_all() -> None:
        for _, text in texts:
            with contextlib.suppress(Exception):  # a syntax error still took parse time
                libcst.parse_module(text)

    def extract_all() -> None:
        for path, text in texts:
            extract_python(text, path)

    for path, text in texts[:20]:  # warm: imports, compiled patterns
        extract_python(text, path)
    parse: list[float] = []
    extract: list[float] = []
    for _ in range(runs):
        for step, times in ((parse_all, parse), (extract_all, extract)):
            gc.collect()
            started = time.process_time()
            step()
            times.append(time.process_time() - started)
    return {
        "files": len(texts),
        "bytes": sum(len(text.encode()) for _, text in texts),
        "parse_min": min(parse),
        "parse_median": statistics.median(parse),
        "extract_min": min(extract),
        "extract_median": statistics.median(extract),
        "ratio": statistics.median(extract) / statistics.median(parse),
        "ratio_min": min(extract) / min(parse),
    }


def floor_main(roots: list[Path], runs: int, json_path: Path | None) -> int:
    """``--floor``: extraction / libcst parse floor, for each corpus given and the stdlib."""
    print(f"Python extraction against libcst's parse floor (CPU s in one process, {runs} runs)")
    print("| corpus | .py files | MB | parse floor min / median | extraction min / median |")
    print("| --- | ---: | ---: | ---: | ---: |")
    found: dict[str, dict[str, float]] = {}
    for root in roots:
        figures = found[str(root)] = extraction_floor(root, runs)
        print(
            f"| {root} | {figures['files']:.0f} | {figures['bytes'] / 1e6:.1f} "
            f"| {figures['parse_min']:.2f} / {figures['parse_median']:.2f} "
            f"| {figures['extract_min']:.2f} / {figures['extract_median']:.2f} |",
            flush=True,
        )
    print()
    for root, figures in found.items():
        met = "yes" if figures["ratio"] <= 1.5 else "no"
        print(
            f"extraction / parse floor ({root}): {figures['ratio']:.2f} median, "
            f"{figures['ratio_min']:.2f} min (target <= 1.5: {met})"
        )
    print(f"machine: {machine()}")
    if json_path is not None:
        json_path.write_text(json.dumps(found, indent=2) + "\n")
    return 0


def _notebook_code(text: str) -> list[str]:
    try:
        cells = json.loads(text).get("cells", [])
    except (ValueError, AttributeError):
        return []
    code = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            joined = "".join(source) if isinstance(source, list) else str(source)
            lines = [line for line in joined.splitlines() if line.lstrip()[:1] not in {"!", "%"}]
            code.append("\n".join(lines) + "\n")
    return code


# -- corpora --------------------------------------------------------------------------------


def make_corpus(directory: Path, projects: int, seed: int) -> Path:
    generate(directory, projects=projects, seed=seed)
    (directory / "tunelint.yaml").write_text(POLICY)
    (directory / ".semgrepignore").write_text("# scan everything, like the other tools\n")
    return directory


def copy_stdlib(directory: Path) -> Path:
    source = Path(sysconfig.get_paths()["stdlib"])
    for path in sorted(source.rglob("*.py")):
        relative = path.relative_to(source)
        if "site-packages" in relative.parts or "__pycache__" in relative.parts:
            continue
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    (directory / "tunelint.yaml").write_text(POLICY)
    (directory / ".semgrepignore").write_text("# scan everything, like the other tools\n")
    return directory


# -- the run ----------------------------------------------------------------------------------


@dataclass
class Results:
    figures: dict[str, Figure] = field(default_factory=dict)
    values: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)

    def add(self, key: str, figure: Figure) -> Figure:
        self.figures[key] = figure
        print(
            f"  {figure.name:58s} {figure.wall:8.3f} s wall {figure.cpu:8.3f} s cpu "
            f"{figure.rss:7.1f} MB",
            flush=True,
        )
        return figure


def have(tool: str) -> bool:
    return (BIN / tool).exists() or shutil.which(tool) is not None


def tool(name: str) -> str:
    return str(BIN / name) if (BIN / name).exists() else str(shutil.which(name))


def bench_corpus(results: Results, root: Path, runs: int, cores: int, work: Path) -> None:
    print(f"corpus: {len(list(root.rglob('*')))} paths under {root}", flush=True)
    cache = root / ".tunelint_cache"

    def clear() -> None:
        shutil.rmtree(cache, ignore_errors=True)

    serial_report = work / "corpus-j1.json"
    parallel_report = work / "corpus-jN.json"
    cached_report = work / "corpus-cached.json"
    results.add(
        "cold_serial",
        repeat(
            "cold, --no-cache, --jobs 1",
            runs,
            tunelint(
                ".", "--no-cache", "--jobs", "1", "--format", "json", "-o", str(serial_report)
            ),
            root,
        ),
    )
    results.add(
        "cold",
        repeat(
            f"cold, --no-cache, --jobs {cores}",
            runs,
            tunelint(
                ".",
                "--no-cache",
                "--jobs",
                str(cores),
                "--format",
                "json",
                "-o",
                str(parallel_report),
            ),
            root,
        ),
    )
    results.add(
        "cold_noprefilter",
        repeat(
            "cold, --no-cache, prefilter off (TUNELINT_PREFILTER=0)",
            max(1, runs // 2),
            tunelint(".", "--no-cache", "--jobs", str(cores)),
            root,
            env={"TUNELINT_PREFILTER": "0"},
        ),
    )
    results.add(
        "cold_cache",
        repeat(
            "cold cache (empty .tunelint_cache, entries written)",
            runs,
            tunelint(".", "--format", "json", "-o", str(cached_report)),
            root,
            before=clear,
        ),
    )
    if findings_of(serial_report) != findings_of(parallel_report):
        results.mismatches.append("corpus: --jobs 1 and the parallel run report different findings")
    if findings_of(serial_report) != findings_of(cached_report):
        results.mismatches.append("corpus: the cached and uncached runs report different findings")
    results.values["corpus_findings"] = len(findings_of(serial_report))
    results.add(
        "warm",
        repeat(
            "warm re-check, nothing changed",
            runs + 2,
            tunelint(".", "--format", "json", "-o", str(cached_report)),
            root,
        ),
    )
    if findings_of(serial_report) != findings_of(cached_report):
        results.mismatches.append("corpus: the warm run reports different findings")
    changed = sorted(root.glob("*/train.py"))[0]
    original = changed.read_text()
    counter = iter(range(10_000))

    def touch() -> None:
        changed.write_text(original + f"# edit {next(counter)}\n")

    results.add(
        "one_changed",
        repeat(
            "re-check after one training script changed", runs, tunelint("."), root, before=touch
        ),
    )
    changed.write_text(original)
    library = sorted(p for p in root.glob("*/*/*.py") if p.name != "__init__.py")[0]
    script = sorted(root.glob("*/train.py"))[0]
    for key, path, label in (
        ("one_plain", library, "irrelevant file"),
        ("one_training", script, "training script"),
    ):
        shown = str(path.relative_to(root))
        results.add(
            f"{key}_nocache",
            repeat(
                f"pre-commit style: one {label}, --no-cache",
                runs + 2,
                tunelint(shown, "--no-cache"),
                root,
            ),
        )
        results.add(
            key,
            repeat(f"pre-commit style: one {label}, cache warm", runs + 2, tunelint(shown), root),
        )
    floor, count, size = parse_floor(root, cores)
    results.values["corpus_floor"] = floor
    results.values["corpus_floor_files"] = count
    results.values["corpus_floor_bytes"] = size
    print(f"  libcst parse floor: {floor:.3f} s ({count} files, {size} bytes, /{cores} cores)")
    if have("bandit"):
        results.add(
            "bandit",
            repeat(
                "Bandit (bandit -r)",
                runs,
                [tool("bandit"), "-r", "-q", "-f", "json", "-o", str(work / "bandit.json"), "."],
                root,
            ),
        )
    else:
        results.notes.append("Bandit is not installed (pip install -e '.[bench]'): not measured")
    if have("semgrep"):
        results.add(
            "semgrep",
            repeat(
                "Semgrep (bench/semgrep-rules.yaml)",
                runs,
                [
                    tool("semgrep"),
                    "scan",
                    "--metrics=off",
                    "--disable-version-check",
                    "--quiet",
                    "--no-git-ignore",
                    "--config",
                    str(SEMGREP_RULES),
                    "--json",
                    "-o",
                    str(work / "semgrep.json"),
                    ".",
                ],
                root,
                env={"SEMGREP_SEND_METRICS": "off"},
            ),
        )
    else:
        results.notes.append("Semgrep is not installed (pip install -e '.[bench]'): not measured")


def bench_scaling(results: Results, base: int, seed: int, cores: int, work: Path) -> None:
    for factor in (1, 4, 16):
        root = make_corpus(work / f"scale-{factor}", base * factor, seed)
        files = sum(1 for p in root.rglob("*") if p.is_file())
        results.values[f"scale_{factor}_files"] = files
        runs = 3 if factor < 16 else 1
        results.add(
            f"scale_{factor}",
            repeat(
                f"scaling: {factor}x ({files} files), cold, --no-cache",
                runs,
                tunelint(".", "--no-cache", "--jobs", str(cores)),
                root,
            ),
        )
        shutil.rmtree(root, ignore_errors=True)


def bench_stdlib(results: Results, root: Path, cores: int, work: Path, semgrep: bool) -> None:
    """One cold run (the cache written as it goes), warm re-checks, the floor, the peers.

    Bandit alone takes minutes here, so each figure is one run, except the cheap warm one.
    """
    print(f"stdlib: {len(python_files(root))} Python files under {root}", flush=True)
    report = work / "stdlib-cold.json"
    warm_report = work / "stdlib-warm.json"
    results.add(
        "std_cold_cache",
        repeat(
            f"stdlib: cold (empty cache), --jobs {cores}",
            1,
            tunelint(".", "--jobs", str(cores), "--format", "json", "-o", str(report)),
            root,
            before=lambda: shutil.rmtree(root / ".tunelint_cache", ignore_errors=True),
        ),
    )
    results.add(
        "std_warm",
        repeat(
            "stdlib: warm re-check, nothing changed",
            3,
            tunelint(".", "--format", "json", "-o", str(warm_report)),
            root,
        ),
    )
    if findings_of(report) != findings_of(warm_report):
        results.mismatches.append("stdlib: the warm run reports different findings")
    results.values["std_findings"] = len(findings_of(report))
    floor, count, size = parse_floor(root, cores)
    results.values["std_floor"] = floor
    results.values["std_floor_files"] = count
    results.values["std_floor_bytes"] = size
    print(f"  libcst parse floor: {floor:.3f} s ({count} files, {size} bytes, /{cores} cores)")
    if have("bandit"):
        results.add(
            "std_bandit",
            repeat(
                "stdlib: Bandit (bandit -r)",
                1,
                [
                    tool("bandit"),
                    "-r",
                    "-q",
                    "-f",
                    "json",
                    "-o",
                    str(work / "std-bandit.json"),
                    ".",
                ],
                root,
            ),
        )
    if semgrep and have("semgrep"):
        results.add(
            "std_semgrep",
            repeat(
                "stdlib: Semgrep",
                1,
                [
                    tool("semgrep"),
                    "scan",
                    "--metrics=off",
                    "--disable-version-check",
                    "--quiet",
                    "--no-git-ignore",
                    "--config",
                    str(SEMGREP_RULES),
                    "--json",
                    "-o",
                    str(work / "std-semgrep.json"),
                    ".",
                ],
                root,
                env={"SEMGREP_SEND_METRICS": "off"},
            ),
        )


# -- the table --------------------------------------------------------------------------------


def ratio(results: Results, a: str, b: str) -> float | None:
    first, second = results.figures.get(a), results.figures.get(b)
    if first is None or second is None or not second.wall:
        return None
    return first.wall / second.wall


def table(results: Results) -> str:
    rows = [
        "| figure | median wall (s) | CPU (s) | peak RSS (MB) | runs |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for figure in results.figures.values():
        rows.append(
            f"| {figure.name} | {figure.wall:.3f} | {figure.cpu:.3f} | {figure.rss:.0f} | "
            f"{len(figure.samples)} |"
        )
    for key in ("corpus_floor", "std_floor"):
        if key in results.values:
            prefix = "corpus" if key.startswith("corpus") else "std"
            rows.append(
                f"| libcst parse floor ({prefix}: {results.values[key + '_files']:.0f} files "
                f"the prefilter passes, / cores) | {results.values[key]:.3f} | | | 1 |"
            )
    return "\n".join(rows)


def targets(results: Results) -> list[tuple[str, str, bool | None]]:
    checks: list[tuple[str, str, bool | None]] = []

    def add(label: str, value: float | None, limit: float, unit: str = "x") -> None:
        if value is None:
            checks.append((label, "not measured", None))
        else:
            checks.append((label, f"{value:.3f}{unit} (target <= {limit}{unit})", value <= limit))

    add("cold full check / Semgrep (corpus)", ratio(results, "cold", "semgrep"), 0.5)
    add("cold full check / Bandit (corpus)", ratio(results, "cold", "bandit"), 1.0)
    floor = results.values.get("corpus_floor")
    cold = results.figures.get("cold")
    add("cold / libcst parse floor (corpus)", cold.wall / floor if cold and floor else None, 1.5)
    std_floor = results.values.get("std_floor")
    std = results.figures.get("std_cold_cache")
    add(
        "cold / libcst parse floor (stdlib)",
        std.wall / std_floor if std and std_floor else None,
        1.5,
    )
    add("warm re-check / cold full check (corpus)", ratio(results, "warm", "cold_cache"), 0.10)
    add(
        "warm re-check / cold full check (stdlib)",
        ratio(results, "std_warm", "std_cold_cache"),
        0.10,
    )
    bandit_std = ratio(results, "std_cold_cache", "std_bandit")
    add("stdlib: tunelint / Bandit", bandit_std, 0.2)
    plain = results.figures.get("one_plain_nocache")
    add("one irrelevant file, wall", plain.wall if plain else None, 0.1, " s")
    script = results.figures.get("one_training_nocache")
    add("one training script, wall", script.wall if script else None, 0.45, " s")
    peers = ("bandit", "semgrep", "std_bandit", "std_semgrep")
    peak = max((f.rss for k, f in results.figures.items() if k not in peers), default=None)
    add("peak memory (tunelint, any run)", peak, 300, " MB")
    scale = [results.figures.get(f"scale_{n}") for n in (1, 4, 16)]
    if all(scale):
        assert scale[0] and scale[2]
        files = results.values["scale_16_files"] / results.values["scale_1_files"]
        growth = scale[2].wall / scale[0].wall
        checks.append(
            (
                "time at 16x / time at 1x",
                f"{growth:.2f} for {files:.1f}x the files (target: at most linear)",
                growth <= files,
            )
        )
    return checks


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = os.getloadavg()[0]
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}; load average at the "
        f"end {load:.2f}"
    )


def versions() -> str:
    found = []
    for name in ("bandit", "semgrep"):
        if have(name):
            done = subprocess.run([tool(name), "--version"], capture_output=True, text=True)
            first = (done.stdout or done.stderr).strip().splitlines()
            found.append(f"{name} {first[0] if first else '?'}")
    import tunelint

    return ", ".join([f"tunelint {tunelint.__version__}", *found])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="repetitions per figure (median)")
    parser.add_argument("--projects", type=int, default=45, help="corpus size (13 files each)")
    parser.add_argument("--scale-base", type=int, default=8, help="projects in the 1x series")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="1 run each, no stdlib")
    parser.add_argument("--no-stdlib", action="store_true")
    parser.add_argument(
        "--stdlib-semgrep", action="store_true", help="also time Semgrep on the stdlib (minutes)"
    )
    parser.add_argument("--json", type=Path, help="write all figures here too")
    parser.add_argument(
        "--floor",
        type=Path,
        metavar="PATH",
        help="only this: Python extraction against libcst's parse floor on the .py files "
        "under PATH and the stdlib's (unless --no-stdlib), --runs times",
    )
    args = parser.parse_args(argv)
    if args.floor is not None:
        stdlib = [] if args.no_stdlib else [Path(sysconfig.get_paths()["stdlib"])]
        return floor_main([args.floor.expanduser(), *stdlib], args.runs, args.json)
    if not (BIN / "tunelint").exists():
        sys.stderr.write(
            f"bench: no tunelint next to {sys.executable}: pip install -e '.[bench]'\n"
        )
        return 2
    runs = 1 if args.quick else args.runs
    cores = os.cpu_count() or 1
    results = Results()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tunelint-bench-") as temporary:
        work = Path(temporary)
        key = work / "cache-key"
        os.environ["TUNELINT_CACHE_KEY_FILE"] = str(key)  # never touch the user's key
        # The cache next to each checked tree, where the cold runs delete it (by default it
        # lives in the user's cache directory).
        os.environ["TUNELINT_CACHE_DIR"] = ".tunelint_cache"
        TUNELINT_ENV.update(snapshot(work))
        corpus = make_corpus(work / "corpus", args.projects, args.seed)
        bench_corpus(results, corpus, runs, cores, work)
        bench_scaling(results, 2 if args.quick else args.scale_base, args.seed, cores, work)
        if not (args.quick or args.no_stdlib):
            stdlib = copy_stdlib(work / "stdlib")
            bench_stdlib(results, stdlib, cores, work, semgrep=args.stdlib_semgrep)
    elapsed = time.perf_counter() - started
    print()
    print(f"machine: {machine()}")
    print(f"tools: {versions()}")
    print(f"command: python bench/run.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    print(f"benchmark took {elapsed:.0f} s")
    print()
    print(table(results))
    print()
    print("| target | measured | met |")
    print("| --- | --- | --- |")
    for label, measured, met in targets(results):
        print(f"| {label} | {measured} | {'yes' if met else 'no' if met is False else '-'} |")
    for note in results.notes:
        print(f"note: {note}")
    if args.json is not None:
        data = {
            "machine": machine(),
            "figures": {
                k: {
                    "name": f.name,
                    "wall": f.wall,
                    "cpu": f.cpu,
                    "rss_mb": f.rss,
                    "samples": [s.wall for s in f.samples],
                }
                for k, f in results.figures.items()
            },
            "values": results.values,
            "targets": [{"target": t, "measured": m, "met": ok} for t, m, ok in targets(results)],
            "mismatches": results.mismatches,
        }
        args.json.write_text(json.dumps(data, indent=2) + "\n")
    if results.mismatches:
        for mismatch in results.mismatches:
            sys.stderr.write(f"bench: MISMATCH: {mismatch}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
