"""How tunelint's cost grows with a real corpus, against Bandit in the same run.

    python bench/scale.py CORPUS_DIR [--runs 3] [--json OUT]

``CORPUS_DIR`` is a directory of real repositories (the development corpus, built outside
this repository by its own script). The corpus is copied once, twice and four times into a
temporary directory (each copy in its own folder, so nothing is shared between copies), and
for each size this measures, as whole processes:

* tunelint cold: an empty cache directory (``TUNELINT_CACHE_DIR``), all cores, the text
  report (``--output-format concise``); once at 1x also the JSON report, which works out
  every fix's edits;
* tunelint warm: the same command again, nothing changed;
* Bandit on the same tree (``bandit -r -q``; it reads ``.py`` files only);

plus one irrelevant file (the standard library's ``json/decoder.py``) and one training script
(``examples/risky/train.py``), each cold. Figures are medians of ``--runs`` (wall seconds),
with the peak resident memory of the tunelint process. Ratios are taken between figures of
this run only: cold / Bandit, warm / cold, and each size's cold time / the 1x time divided by
the size (1.00 is linear). Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TARGETS = {
    "cold / Bandit": 1.0,
    "warm / cold": 0.1,
    "2x / (2 x 1x)": 1.1,
    "4x / (4 x 1x)": 1.1,
    "irrelevant file (s)": 0.1,
    "training script (s)": 0.45,
}


@dataclass
class Sample:
    wall: float
    rss_mb: float
    code: int


def measure(command: list[str], cwd: Path, env: dict[str, str]) -> Sample:
    """One run as a child process: wall time and its own peak memory (``wait4``)."""
    started = time.perf_counter()
    child = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    return Sample(wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status))


def median(samples: list[Sample]) -> Sample:
    ordered = sorted(samples, key=lambda s: s.wall)
    middle = ordered[len(ordered) // 2]
    return Sample(statistics.median(s.wall for s in samples), middle.rss_mb, middle.code)


def tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} is not installed (pip install -e '.[bench]')")
    return found


def copies(corpus: Path, work: Path, times: int) -> Path:
    root = work / f"x{times}"
    for number in range(times):
        shutil.copytree(corpus, root / f"copy{number}", symlinks=True)
    (root / "tunelint.yaml").write_text("version: 1\n")
    return root


def run(corpus: Path, runs: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    # the text report a person or pre-commit reads; the JSON report also works out every
    # fix's edits, timed once below
    tunelint = [tool("tunelint"), "check", ".", "--exit-zero", "--output-format", "concise"]
    bandit = [tool("bandit"), "-r", ".", "-q", "-f", "json", "--exit-zero"]
    with tempfile.TemporaryDirectory(prefix="tunelint-scale-") as scratch:
        work = Path(scratch)
        for times in (1, 2, 4):
            root = copies(corpus, work, times)
            cold, warm = [], []
            for attempt in range(runs):
                cache = work / f"cache-{times}-{attempt}"
                env = {**os.environ, "TUNELINT_CACHE_DIR": str(cache)}
                cold.append(measure(tunelint, root, env))
                warm.append(measure(tunelint, root, env))
            base = median([measure(bandit, root, dict(os.environ)) for _ in range(runs)])
            if times == 1:
                env = {**os.environ, "TUNELINT_CACHE_DIR": str(work / "cache-json")}
                as_json = [*tunelint[:-1], "json"]
                figures["1x cold, JSON with fix edits (s)"] = measure(as_json, root, env).wall
            figures[f"{times}x files"] = float(sum(1 for p in root.rglob("*") if p.is_file()))
            figures[f"{times}x cold (s)"] = median(cold).wall
            figures[f"{times}x warm (s)"] = median(warm).wall
            figures[f"{times}x Bandit (s)"] = base.wall
            figures[f"{times}x peak memory (MB)"] = max(s.rss_mb for s in cold)
            shutil.rmtree(root)
        figures["cold / Bandit"] = figures["1x cold (s)"] / figures["1x Bandit (s)"]
        figures["warm / cold"] = figures["1x warm (s)"] / figures["1x cold (s)"]
        figures["2x / (2 x 1x)"] = figures["2x cold (s)"] / (2 * figures["1x cold (s)"])
        figures["4x / (4 x 1x)"] = figures["4x cold (s)"] / (4 * figures["1x cold (s)"])
        single = [tool("tunelint"), "check", "--no-cache", "--exit-zero"]
        one = work / "one"
        one.mkdir()
        (one / "tunelint.yaml").write_text("version: 1\n")
        decoder = Path(sysconfig.get_paths()["stdlib"]) / "json" / "decoder.py"
        shutil.copy(decoder, one / "decoder.py")
        shutil.copy(REPO / "examples" / "risky" / "train.py", one / "train.py")
        env = dict(os.environ)
        for name, label in (
            ("decoder.py", "irrelevant file (s)"),
            ("train.py", "training script (s)"),
        ):
            figures[label] = median([measure([*single, name], one, env) for _ in range(runs)]).wall
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path, help="directory of real repositories")
    parser.add_argument("--runs", type=int, default=3, help="repetitions per figure (median)")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args(argv)
    figures = run(args.corpus.resolve(), args.runs)
    width = max(len(name) for name in figures)
    missed = []
    for name, value in figures.items():
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            met = value <= target
            verdict = f"  (target <= {target:g}: {'met' if met else 'MISSED'})"
            if not met:
                missed.append(name)
        print(f"{name:<{width}}  {value:10.2f}{verdict}")
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
